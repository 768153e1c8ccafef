//! A server's text as it reads once its escapes are undone, layer by layer: a gateway may echo a
//! secret percent-encoded, JSON-escaped, as HTML entities or `\xNN`, folded, or all stacked.

use std::ops::Range;

/// Each character of a layer, with the bytes of the original text it stands for.
pub(crate) type Layer = Vec<(char, Range<usize>)>;

/// How many stacked encodings are undone at most (each is another pass; no gateway nests more).
const DEPTH: usize = 6;

/// The text itself, then each layer that undoing one more level of escapes changes; each with a
/// `+` read as itself and, beside it, as a form-encoded space (a raw `+` next to an escape is
/// either, and reading it as one only would break the run of a secret that holds it).
pub(crate) fn layers(text: &str) -> Vec<Layer> {
    let mut layer: Layer = text.char_indices().map(|(at, c)| (c, at..at + c.len_utf8())).collect();
    let mut layers = Vec::new();
    for depth in 0..=DEPTH {
        let next = undo(&layer);
        let unchanged = next.iter().map(|(c, _)| c).eq(layer.iter().map(|(c, _)| c));
        if layer.iter().any(|(c, _)| *c == '+') {
            let spaced =
                layer.iter().map(|(c, span)| (if *c == '+' { ' ' } else { *c }, span.clone()));
            layers.push(spaced.collect());
        }
        layers.push(layer);
        if unchanged || depth == DEPTH {
            break;
        }
        layer = next;
    }
    layers
}

/// One level of escapes undone: `%XX` (a UTF-8 sequence too), `%uXXXX`, `\uXXXX` (surrogate pairs
/// joined), `\u{X}`, `\xNN`, JSON's one-letter escapes, HTML references, and a folded line.
fn undo(layer: &[(char, Range<usize>)]) -> Layer {
    let chars: Vec<char> = layer.iter().map(|(c, _)| *c).collect();
    let mut out = Vec::with_capacity(layer.len());
    let mut at = 0;
    while at < chars.len() {
        let (c, len) = escape_at(&chars[at..]).unwrap_or((chars[at], 1));
        let span = layer[at].1.start..layer[at + len - 1].1.end;
        match c {
            // A fold stands for nothing: its bytes go with the next character.
            FOLD => {}
            c => out.push((c, span)),
        }
        at += len;
    }
    out
}

/// Marks a folded line's break, which reads as nothing.
const FOLD: char = '\u{0}';

/// The character an escape at the start of `chars` stands for, and how many characters it takes.
fn escape_at(chars: &[char]) -> Option<(char, usize)> {
    let hex = |from: usize, len: usize| number(chars.get(from..from + len)?, 16);
    match chars {
        // IIS's `%uXXXX`, before the `%XX` of a byte.
        ['%', 'u', ..] => char::from_u32(hex(2, 4)?).zip(Some(6)),
        ['%', ..] => percent(chars),
        // JavaScript's `\u{X...}`.
        ['\\', 'u', '{', ..] => {
            let len = chars[3..].iter().take(7).position(|c| *c == '}')?;
            char::from_u32(number(&chars[3..3 + len], 16)?).zip(Some(len + 4))
        }
        ['\\', 'u', ..] => {
            let high = hex(2, 4)?;
            let low = (chars.get(6..8) == Some(&['\\', 'u'])).then(|| hex(8, 4)).flatten();
            match (high, low) {
                (0xD800..=0xDBFF, Some(low @ 0xDC00..=0xDFFF)) => {
                    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)).zip(Some(12))
                }
                (high, _) => char::from_u32(high).zip(Some(6)),
            }
        }
        ['\\', 'x', ..] => char::from_u32(hex(2, 2)?).zip(Some(4)),
        ['\\', letter, ..] => json_escape(*letter).zip(Some(2)),
        ['&', ..] => entity(chars),
        ['\r', '\n', ' ' | '\t', ..] => Some((FOLD, 3)),
        ['\n', ' ' | '\t', ..] => Some((FOLD, 2)),
        _ => None,
    }
}

/// `%XX`, or the `%XX%XX...` of one UTF-8 sequence.
fn percent(chars: &[char]) -> Option<(char, usize)> {
    let byte = |index: usize| {
        let at = 3 * index;
        (chars.get(at) == Some(&'%')).then(|| number(chars.get(at + 1..at + 3)?, 16)).flatten()
    };
    let first = byte(0)?;
    let len = match first {
        0x00..=0x7F => return char::from_u32(first).zip(Some(3)),
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => return None,
    };
    let bytes: Option<Vec<u8>> =
        (0..len).map(|i| byte(i).and_then(|b| u8::try_from(b).ok())).collect();
    let text = String::from_utf8(bytes?).ok()?;
    text.chars().next().zip(Some(3 * len))
}

/// An HTML character reference, read as browsers read it: `&#NN` or `&#xNN`, or the name of an
/// ASCII punctuation mark in any case, the `;` optional.
fn entity(chars: &[char]) -> Option<(char, usize)> {
    let numeric = chars.get(1) == Some(&'#');
    let hex = numeric && matches!(chars.get(2), Some('x' | 'X'));
    let start = 1 + usize::from(numeric) + usize::from(hex);
    let radix = if hex { 16 } else { 10 };
    let body = &chars[start.min(chars.len())..];
    let (c, len) = match numeric {
        true => {
            // Leading zeros are allowed, as browsers read them.
            let len = body.iter().take(24).take_while(|c| c.is_digit(radix)).count();
            (char::from_u32(number(&body[..len], radix)?)?, len)
        }
        // The longest name that is one: `&ampWm` is `&` and `Wm`, as browsers read it.
        false => {
            let letters = body.iter().take(8).take_while(|c| c.is_ascii_alphabetic()).count();
            let name = |len: usize| body[..len].iter().collect::<String>().to_ascii_lowercase();
            (1..=letters).rev().find_map(|len| named(&name(len)).zip(Some(len)))?
        }
    };
    let end = start + len;
    Some((c, end + usize::from(chars.get(end) == Some(&';'))))
}

/// The ASCII punctuation an HTML entity name stands for.
fn named(name: &str) -> Option<char> {
    const NAMES: [(&str, char); 28] = [
        ("amp", '&'),
        ("lt", '<'),
        ("gt", '>'),
        ("quot", '"'),
        ("apos", '\''),
        ("sol", '/'),
        ("plus", '+'),
        ("equals", '='),
        ("lowbar", '_'),
        ("colon", ':'),
        ("semi", ';'),
        ("comma", ','),
        ("period", '.'),
        ("excl", '!'),
        ("quest", '?'),
        ("num", '#'),
        ("dollar", '$'),
        ("percnt", '%'),
        ("lpar", '('),
        ("rpar", ')'),
        ("ast", '*'),
        ("commat", '@'),
        ("verbar", '|'),
        ("bsol", '\\'),
        ("lsqb", '['),
        ("rsqb", ']'),
        ("lcub", '{'),
        ("rcub", '}'),
    ];
    NAMES.iter().find(|(known, _)| *known == name).map(|(_, c)| *c)
}

/// The number these digits write in `radix`; `None` for no digits or another character.
fn number(digits: &[char], radix: u32) -> Option<u32> {
    let valid = !digits.is_empty() && digits.iter().all(|c| c.is_digit(radix));
    let text: String = digits.iter().collect();
    valid.then(|| u32::from_str_radix(&text, radix).ok()).flatten()
}

/// The character a one-letter JSON escape stands for.
fn json_escape(letter: char) -> Option<char> {
    let at = "/\\\"bfnrt".chars().position(|c| c == letter)?;
    ['/', '\\', '"', '\u{8}', '\u{c}', '\n', '\r', '\t'].get(at).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn readings(text: &str) -> Vec<String> {
        layers(text).iter().map(|layer| layer.iter().map(|(c, _)| *c).collect()).collect()
    }

    #[test]
    fn each_escape_and_their_stacks() {
        let cases = [
            ("a%2bb%2Bc", "a+b+c"),
            ("%C3%A9t%C3%A9", "été"),
            ("\\u0041\\ud83d\\ude00", "A😀"),
            ("\\x41\\x42", "AB"),
            ("&#65;&#x42;&amp;&lt;", "AB&<"),
            ("ab\r\n cd\n\tef", "abcdef"),
            // JSON inside a JSON string, and percent-encoding inside JSON.
            ("\\\\u0041", "A"),
            ("\\u0025\\u0034\\u0031", "A"),
            ("50% off & more", "50% off & more"),
            ("correct+horse", "correct horse"),
            ("&AMP;&amp&sol;&#47x&plus;&Equals;", "&&//x+="),
            // Six encodings stacked.
            ("%252525252541", "A"),
            ("&#0000000065;", "A"),
            // A raw `+` beside an escape: one reading keeps it, one reads a space.
            ("a+b\\/c", "a+b/c"),
            ("Zq&ampWm%u002FKx\\u{2f}", "Zq&Wm/Kx/"),
        ];
        for (text, wanted) in cases {
            assert!(readings(text).contains(&wanted.to_string()), "{text:?}: {:?}", readings(text));
        }
        let layer = &layers("x%41y")[1];
        assert_eq!(layer[1], ('A', 1..4));
    }
}
