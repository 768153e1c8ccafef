//! What a secret is and how it is hidden: the one place that writes `** redacted **`. Only what
//! is shown is scrubbed, escaped and bounded (decisions read the answer as received).

use std::collections::HashSet;
use std::fmt::Write as _;
use std::sync::{Arc, OnceLock};

use crate::unescape;

/// What a hidden secret reads as.
pub(crate) const REDACTED: &str = "** redacted **";

/// Shorter secrets are not searched for in server text, as they would match ordinary words; secret
/// headers and URL passwords are redacted by position whatever their length.
pub(crate) const MIN_SCRUBBED_LEN: usize = 8;

/// The most characters of one server text that are shown; the rest becomes `…`.
pub(crate) const SHOWN_CHARS: usize = 512;

/// The most characters of one server text that are scrubbed (and so can be shown).
const SCRUBBED_CHARS: usize = 8 * 1024;

/// Headers whose values are secrets, in lower case.
const SECRET_HEADERS: [&str; 4] =
    ["x-security-token", "x-auth-token", "x-metadata-token", "proxy-authorization"];

/// A header value as it may be shown: secret headers whole, the `Authorization` signature.
pub(crate) fn header(name: &str, value: &str) -> String {
    match secret_in_header(name, value) {
        Some(secret) => format!("{}{REDACTED}", &value[..value.len() - secret.len()]),
        None => value.to_string(),
    }
}

/// The secret a header carries, if any: a secret header's value, the `Authorization` signature.
pub(crate) fn secret_in_header<'a>(name: &str, value: &'a str) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    if SECRET_HEADERS.contains(&lower.as_str()) {
        return Some(value);
    }
    let signature = value.split_once("Signature=").map(|(_, signature)| signature);
    signature.filter(|_| lower == "authorization")
}

/// The canonical request with the values of secret headers (the security token) redacted.
pub(crate) fn canonical_request(canonical: &str) -> String {
    canonical
        .split('\n')
        .map(|line| match line.split_once(':') {
            Some((name, _)) if SECRET_HEADERS.contains(&name) => format!("{name}:{REDACTED}"),
            _ => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A URL with everything between `://` and the last `@` redacted (a password may hold `/` or `@`).
pub(crate) fn userinfo(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), url),
    };
    match rest.rfind('@') {
        Some(at) => format!("{scheme}{REDACTED}{}", &rest[at..]),
        None => url.to_string(),
    }
}

/// A server's text as it is shown: [`escape_for_terminal`] at [`SHOWN_CHARS`]. Scrub secrets first.
pub(crate) fn shown(text: &str) -> String {
    escape_for_terminal(text, SHOWN_CHARS)
}

/// A server's text as one line that cannot forge another on a terminal, as the crate shows its
/// errors' texts: control characters, and those that reorder or hide text (bidirectional marks,
/// Unicode's default-ignorables but the variation selectors of emoji, line and paragraph
/// separators) escaped (`\n`, `\u{1b}`); at most `max_chars` characters of `text`, then
/// `…`. For a program that prints a [`Job`](crate::Job)'s fields.
///
/// ```
/// assert_eq!(dbss_jobs::escape_for_terminal("a\u{202e}b\n", 10), "a\\u{202e}b\\n");
/// assert_eq!(dbss_jobs::escape_for_terminal("abcdef", 3), "abc…");
/// ```
pub fn escape_for_terminal(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars.saturating_add(8)));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        let invisible = matches!(c, '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}')
            || matches!(c, '\u{17B4}' | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{3164}')
            || matches!(c, '\u{FEFF}' | '\u{FFA0}' | '\u{200B}'..='\u{200F}')
            || matches!(c, '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}')
            || matches!(c, '\u{FFF0}'..='\u{FFFB}' | '\u{1BCA0}'..='\u{1BCA3}')
            || matches!(c, '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}');
        if c.is_control() || invisible {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// A path as a refusal shows it: one line, control characters escaped (a CRLF `.env` file's `\r`).
pub(crate) fn shown_path(path: &std::path::Path) -> String {
    shown(&path.display().to_string())
}

/// A value that `Debug` shows as `"** redacted **"`, so that a type holding it can derive `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Redacted<T>(pub(crate) T);

impl<T> std::fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(REDACTED, f)
    }
}

/// A URL that `Debug` shows without its user info (which may hold a password).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Url(pub(crate) String);

impl std::fmt::Debug for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&userinfo(&self.0), f)
    }
}

/// Bytes that `Debug` shows by their size only (a PEM text: long, and nothing to read in a log).
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct SizeOnly(pub(crate) Vec<u8>);

impl std::fmt::Debug for SizeOnly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} bytes", self.0.len())
    }
}

/// Runs of this many characters of a secret are scrubbed wherever they appear: a proxy or gateway
/// that truncates or re-encodes a token must not show most of it.
pub(crate) const SCRUBBED_RUN: usize = 12;

/// The secrets one request carried, to scrub from every text shown from its answer. Cheap to
/// clone; the runs to look for are made on the first scrub, never on a success path.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Arc<SecretsInner>);

#[derive(Default)]
struct SecretsInner {
    secrets: Vec<Vec<char>>,
    runs: OnceLock<Runs>,
}

/// What [`Secrets::scrub`] looks for: the hash of every run of the longer secrets (a collision
/// could only hide 12 harmless characters), and the shorter secrets whole.
struct Runs {
    windows: HashSet<u64>,
    whole: Vec<Vec<char>>,
}

/// A rolling polynomial hash of a run's characters, ASCII case ignored.
fn run_hash(run: &[char]) -> u64 {
    run.iter().fold(0, |hash, c| hash.wrapping_mul(BASE).wrapping_add(code(*c)))
}

const BASE: u64 = 0x0100_0000_01b3;

fn code(c: char) -> u64 {
    u64::from(u32::from(c.to_ascii_lowercase()))
}

impl Secrets {
    /// The secrets of one request; those shorter than [`MIN_SCRUBBED_LEN`] are not searched for.
    pub(crate) fn of<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Secrets {
        Secrets::default().with(secrets)
    }

    /// These secrets and `more`.
    pub(crate) fn with<'a>(&self, more: impl IntoIterator<Item = &'a str>) -> Secrets {
        let mut secrets = self.0.secrets.clone();
        for secret in more {
            let chars: Vec<char> = secret.chars().collect();
            if chars.len() >= MIN_SCRUBBED_LEN && !secrets.contains(&chars) {
                secrets.push(chars);
            }
        }
        Secrets(Arc::new(SecretsInner { secrets, runs: OnceLock::new() }))
    }

    /// These secrets and those a secret body holds: its text, and every string in it if JSON.
    pub(crate) fn with_body(&self, body: &[u8]) -> Secrets {
        let text = String::from_utf8_lossy(body);
        let mut found = vec![text.trim().to_string()];
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
            strings_in(&value, &mut found);
        }
        self.with(found.iter().map(String::as_str))
    }

    fn runs(&self) -> &Runs {
        self.0.runs.get_or_init(|| {
            let (long, short): (Vec<&Vec<char>>, Vec<&Vec<char>>) =
                self.0.secrets.iter().partition(|secret| secret.len() >= SCRUBBED_RUN);
            let windows =
                long.iter().flat_map(|secret| secret.windows(SCRUBBED_RUN).map(run_hash)).collect();
            Runs { windows, whole: short.into_iter().cloned().collect() }
        })
    }

    /// `text` with every run of a secret, in any layer of escapes ([`unescape`]), replaced by
    /// `** redacted **`; the text around them is kept as written.
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.secrets.is_empty() || text.len() < MIN_SCRUBBED_LEN {
            return text.to_string();
        }
        // Which bytes of `text` write a character of a secret's run, in any layer.
        let mut covered = vec![false; text.len()];
        for layer in unescape::layers(text) {
            let chars: Vec<char> = layer.iter().map(|(c, _)| *c).collect();
            for (hit, (_, span)) in self.covered(&chars).into_iter().zip(&layer) {
                if hit {
                    covered[span.clone()].fill(true);
                }
            }
        }
        if !covered.contains(&true) {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        for (at, c) in text.char_indices() {
            match covered[at] {
                false => out.push(c),
                true if at == 0 || !covered[at - 1] => out.push_str(REDACTED),
                true => {}
            }
        }
        out
    }

    /// Which characters of `chars` belong to a run of a secret.
    fn covered(&self, chars: &[char]) -> Vec<bool> {
        let runs = self.runs();
        let mut covered = vec![false; chars.len()];
        let mut mark = |at: usize, len: usize| covered[at..at + len].fill(true);
        if !runs.windows.is_empty() && chars.len() >= SCRUBBED_RUN {
            // BASE to the power of the run's length less one: what the leaving character weighs.
            let top = (1..SCRUBBED_RUN).fold(1u64, |power, _| power.wrapping_mul(BASE));
            let mut hash = run_hash(&chars[..SCRUBBED_RUN]);
            for at in 0..=chars.len() - SCRUBBED_RUN {
                if at > 0 {
                    let leaving = code(chars[at - 1]).wrapping_mul(top);
                    let entering = code(chars[at + SCRUBBED_RUN - 1]);
                    hash = hash.wrapping_sub(leaving).wrapping_mul(BASE).wrapping_add(entering);
                }
                if runs.windows.contains(&hash) {
                    mark(at, SCRUBBED_RUN);
                }
            }
        }
        for secret in &runs.whole {
            for (at, window) in chars.windows(secret.len()).enumerate() {
                let same = |(a, b): (&char, &char)| a.eq_ignore_ascii_case(b);
                if window.iter().zip(secret).all(same) {
                    mark(at, secret.len());
                }
            }
        }
        covered
    }

    /// A server's text as it may be shown: scrubbed, then one bounded line ([`shown`]).
    pub(crate) fn show(&self, text: &str) -> String {
        shown(&self.scrub_bounded(text))
    }

    /// [`Secrets::scrub`] of the first [`SCRUBBED_CHARS`] characters, then `…`: scrubbing all of a
    /// 64 KiB answer in layers of escapes would cost a debug build's call its deadline. A secret
    /// cut at the end leaves fewer than a run's characters, or is scrubbed as the runs it holds.
    pub(crate) fn scrub_bounded(&self, text: &str) -> String {
        match text.char_indices().nth(SCRUBBED_CHARS) {
            Some((at, _)) => self.scrub(&text[..at]) + "…",
            None => self.scrub(text),
        }
    }

    /// A server's headers as a hook may see them, names scrubbed too (a name can echo a secret).
    pub(crate) fn headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| (self.show(name), self.show(&header(name, value))))
            .collect()
    }
}

/// Every string in a JSON value.
fn strings_in(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => found.push(text.clone()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings_in(item, found)),
        serde_json::Value::Object(fields) => fields.values().for_each(|v| strings_in(v, found)),
        _ => {}
    }
}

/// Debug lists how many secrets there are, never one of them.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({})", self.0.secrets.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_userinfo_is_redacted_up_to_the_last_at() {
        assert_eq!(
            userinfo("http://alice:S3cret@proxy:8080/x"),
            "http://** redacted **@proxy:8080/x"
        );
        assert_eq!(
            userinfo("http://alice:pw/S3cret@proxy:3128"),
            "http://** redacted **@proxy:3128"
        );
        assert_eq!(userinfo("alice:a@b#c@proxy:8080"), "** redacted **@proxy:8080");
        assert_eq!(userinfo("http://proxy:8080"), "http://proxy:8080");
    }

    #[test]
    fn server_text_is_one_bounded_line() {
        assert_eq!(shown("a\nb\x1b[2Jc\u{202E}d"), "a\\nb\\u{1b}[2Jc\\u{202e}d");
        let long = shown(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), SHOWN_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(shown("café 资源"), "café 资源");
        for hidden in [
            '\u{061C}',
            '\u{2060}',
            '\u{206A}',
            '\u{E0001}',
            '\u{E007F}',
            '\u{AD}',
            '\u{180E}',
            '\u{3164}',
            '\u{FFF9}',
            '\u{1BCA1}',
        ] {
            assert_eq!(shown(&format!("a{hidden}b")), format!("a{}b", hidden.escape_default()));
        }
    }

    #[test]
    fn short_secrets_are_matched_whole_and_tiny_ones_not_at_all() {
        let secrets = Secrets::of(["1", "short-se"]);
        assert_eq!(secrets.scrub("APIGW.0101"), "APIGW.0101");
        assert_eq!(secrets.scrub("x short-se y"), format!("x {REDACTED} y"));
        assert_eq!(secrets.scrub("x short-s y"), "x short-s y");
    }

    #[test]
    fn every_run_of_a_long_secret_is_scrubbed_as_decoded() {
        let token = "MIIEtoken+abc/def=ghiJKLmnoPQRstuVWXyz0123456789";
        let secrets = Secrets::of([token]);
        // Whole, cut at either end, and any 12 characters of it.
        assert_eq!(secrets.scrub(&format!("a {token} b")), format!("a {REDACTED} b"));
        assert_eq!(secrets.scrub(&format!("[{}]", &token[5..30])), format!("[{REDACTED}]"));
        assert_eq!(secrets.scrub(&token[20..32]), REDACTED);
        assert_eq!(secrets.scrub(&token[20..31]), &token[20..31]);
        // Re-encoded: percent-encoding and JSON escapes are read through, the rest kept.
        let percent = token.replace('+', "%2B").replace('/', "%2F");
        assert_eq!(secrets.scrub(&format!("q=%20{percent}&")), format!("q=%20{REDACTED}&"));
        let json = token.replace('+', "\\u002B").replace('/', "\\/");
        assert_eq!(secrets.scrub(&format!("\\n{json}\\n")), format!("\\n{REDACTED}\\n"));
        // Two runs apart stay two.
        let two = format!("{} and {}", &token[..14], &token[30..]);
        assert_eq!(secrets.scrub(&two), format!("{REDACTED} and {REDACTED}"));
        assert_eq!(secrets.show("€%"), "€%");
    }
}
