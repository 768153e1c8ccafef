//! A server's text as it reads once its escapes are undone, layer by layer: a gateway may echo a
//! secret percent-encoded, JSON-escaped, as HTML entities or `\xNN`, folded across lines, or
//! several of these stacked (JSON inside a JSON string). `redact` looks for secrets in every
//! layer, and keeps the text around them as it was written.

use std::ops::Range;

/// Each character of a layer, with the bytes of the original text it stands for.
pub(crate) type Layer = Vec<(char, Range<usize>)>;

/// How many layers of escapes are undone at most.
const DEPTH: usize = 4;

/// The text itself, then each layer that undoing one more level of escapes changes.
pub(crate) fn layers(text: &str) -> Vec<Layer> {
    let mut layer: Layer = text.char_indices().map(|(at, c)| (c, at..at + c.len_utf8())).collect();
    let mut layers = Vec::new();
    for _ in 0..DEPTH {
        // Every escape is shorter than what it stands for: no escape, no new layer.
        let next = undo(&layer);
        let unchanged = next.len() == layer.len();
        layers.push(layer);
        if unchanged {
            return layers;
        }
        layer = next;
    }
    layers.push(layer);
    layers
}

/// One level of escapes undone: `%XX` (a UTF-8 sequence of them too), `\uXXXX` (surrogate pairs
/// joined), `\xNN`, the one-letter JSON escapes, `&#NN;`, `&#xNN;`, the five named HTML entities,
/// and a line folded with a line end and white space.
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
        ['%', ..] => percent(chars),
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

/// `&#NN;`, `&#xNN;`, `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`.
fn entity(chars: &[char]) -> Option<(char, usize)> {
    let end = chars.iter().take(10).position(|c| *c == ';')?;
    let name: String = chars[1..end].iter().collect();
    let c = match name.as_str() {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => {
            let digits: Vec<char> = name.strip_prefix('#')?.chars().collect();
            let code = match digits.split_first()? {
                ('x' | 'X', hex) => number(hex, 16)?,
                _ => number(&digits, 10)?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
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

    fn deepest(text: &str) -> String {
        layers(text).last().unwrap().iter().map(|(c, _)| *c).collect()
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
        ];
        for (text, wanted) in cases {
            assert_eq!(deepest(text), wanted, "{text:?}");
        }
        let layer = &layers("x%41y")[1];
        assert_eq!(layer[1], ('A', 1..4));
    }
}
