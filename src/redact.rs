//! What a secret is and how it is hidden: the one place that writes `** redacted **`.
//!
//! The rule: decisions (error codes, the newer-path fallback, predicates, clock skew) are made on
//! an answer as it was received; only what is shown (`Display`, `Debug`, hooks, the CLI) is
//! scrubbed. Every text that came from a server is shown scrubbed of the secrets its request
//! carried, with control characters escaped and its length bounded, so that it is one line that
//! cannot forge another or move a terminal's cursor.
//!
//! Secrets shorter than [`MIN_SCRUBBED_LEN`] characters are not searched for in server text: they
//! would match ordinary words and codes (a proxy password `1` would turn `APIGW.0101` into
//! nonsense). Secret headers and URL passwords are redacted by position whatever their length.

use std::fmt::Write as _;

/// What a hidden secret reads as.
pub(crate) const REDACTED: &str = "** redacted **";

/// Shorter secrets are not searched for in server text (see the module docs).
pub(crate) const MIN_SCRUBBED_LEN: usize = 8;

/// The most characters of one server text that are shown; the rest becomes `…`.
pub(crate) const SHOWN_CHARS: usize = 512;

/// Headers whose values are secrets, in lower case.
const SECRET_HEADERS: [&str; 3] = ["x-security-token", "x-auth-token", "x-metadata-token"];

/// A header value as it may be shown: secret headers whole, the `Authorization` signature.
pub(crate) fn header(name: &str, value: &str) -> String {
    let lower = name.to_ascii_lowercase();
    if SECRET_HEADERS.contains(&lower.as_str()) {
        return REDACTED.to_string();
    }
    if lower == "authorization"
        && let Some((head, _)) = value.split_once("Signature=")
    {
        return format!("{head}Signature={REDACTED}");
    }
    value.to_string()
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

/// A URL with everything between `://` and the last `@` redacted (a user name, a password that
/// holds `/`, `?`, `#` or `@` unencoded); a URL without `@` unchanged.
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

/// A server's text as it is shown: control and invisible formatting characters escaped
/// (`\n`, `\u{1b}`), at most [`SHOWN_CHARS`] characters, then `…`. Scrub secrets first.
pub(crate) fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SHOWN_CHARS + 8));
    for (count, c) in text.chars().enumerate() {
        if count == SHOWN_CHARS {
            out.push('…');
            break;
        }
        if c.is_control() || is_invisible_format(c) {
            let _ = write!(out, "{}", c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Characters that reorder or hide text on a terminal: bidirectional overrides and isolates,
/// zero-width characters, line and paragraph separators.
fn is_invisible_format(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// A value that `Debug` shows as `"** redacted **"`, whatever it holds, so that a type holding a
/// secret can derive `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Redacted<T>(pub(crate) T);

impl<T> std::fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(REDACTED, f)
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

/// The secrets one request carried (its signature, the token that travelled, the proxy's
/// password, the metadata session token), to scrub from every text built from its answer.
#[derive(Clone, Default)]
pub(crate) struct Secrets(Vec<String>);

impl Secrets {
    /// Adds a secret; one shorter than [`MIN_SCRUBBED_LEN`] is not searched for.
    pub(crate) fn add(&mut self, secret: &str) {
        if secret.chars().count() >= MIN_SCRUBBED_LEN && !self.0.iter().any(|s| s == secret) {
            self.0.push(secret.to_string());
        }
    }

    /// Every secret in `text` replaced with `** redacted **`.
    pub(crate) fn text(&self, text: &str) -> String {
        let mut text = text.to_string();
        for secret in &self.0 {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), REDACTED);
            }
        }
        text
    }

    /// Every secret in raw bytes (an error body) replaced, before anything is parsed or cut.
    pub(crate) fn bytes(&self, body: &[u8]) -> Vec<u8> {
        let mut body = body.to_vec();
        for secret in &self.0 {
            body = replace_bytes(&body, secret.as_bytes(), REDACTED.as_bytes());
        }
        body
    }

    /// A server's header values as a hook may see them: secret headers by name, then scrubbed
    /// and escaped.
    pub(crate) fn headers(&self, headers: &[(String, String)]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|(name, value)| (name.clone(), shown(&self.text(&header(name, value)))))
            .collect()
    }
}

/// Debug lists how many secrets there are, never one of them.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({})", self.0.len())
    }
}

fn replace_bytes(haystack: &[u8], needle: &[u8], with: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(at) = rest
        .windows(needle.len())
        .position(|window| window == needle)
    {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(with);
        rest = &rest[at + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
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
        assert_eq!(
            userinfo("alice:a@b#c@proxy:8080"),
            "** redacted **@proxy:8080"
        );
        assert_eq!(userinfo("http://proxy:8080"), "http://proxy:8080");
    }

    #[test]
    fn server_text_is_one_bounded_line() {
        assert_eq!(shown("a\nb\x1b[2Jc\u{202E}d"), "a\\nb\\u{1b}[2Jc\\u{202e}d");
        let long = shown(&"x".repeat(10_000));
        assert_eq!(long.chars().count(), SHOWN_CHARS + 1);
        assert!(long.ends_with('…'));
        assert_eq!(shown("café 资源"), "café 资源");
    }

    #[test]
    fn short_secrets_are_not_searched_for() {
        let mut secrets = Secrets::default();
        secrets.add("1");
        secrets.add("long-enough-secret");
        assert_eq!(secrets.text("APIGW.0101"), "APIGW.0101");
        assert_eq!(
            secrets.text("x long-enough-secret y"),
            format!("x {REDACTED} y")
        );
        assert_eq!(
            secrets.bytes(b"[long-enough-secret]"),
            format!("[{REDACTED}]").into_bytes()
        );
    }
}
