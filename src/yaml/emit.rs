//! A block-style YAML emitter for parsed documents (and, through them, JSON values).
//!
//! Mappings and sequences in block style (2-space indentation, a sequence's `- ` at the
//! column of the key it is the value of), empty ones as `{}` and `[]`. A string is plain
//! only when every YAML 1.1 and 1.2 reader takes it for that string
//! ([`super::fast::classify_plain`]), a literal block when it spans lines of printable
//! characters, and a JSON double-quoted string otherwise.

use std::fmt::Write;

use super::doc::Doc;
use super::fast::{Plain, classify_plain};

/// Keys longer than this would need YAML's explicit-key syntax; `None` leaves such
/// values to serde-saphyr's serializer.
const MAX_KEY_CHARS: usize = 512;

/// `value` as one YAML document ending in a line break, or `None` when it holds a key
/// too long for an implicit key.
#[cfg(test)]
pub(super) fn to_yaml(value: &serde_json::Value) -> Option<String> {
    doc_to_yaml(&Doc::borrow_value(value), 1024)
}

/// `doc` as one YAML document ending in a line break (`capacity` the expected size),
/// or `None` when it holds a key too long for an implicit key.
pub(super) fn doc_to_yaml(value: &Doc, capacity: usize) -> Option<String> {
    let mut out = String::with_capacity(capacity);
    match value {
        Doc::Map(map) if !map.is_empty() => mapping(&mut out, map, 0)?,
        Doc::Seq(items) if !items.is_empty() => sequence(&mut out, items, 0)?,
        _ => {
            scalar(&mut out, value, 0);
            out.push('\n');
        }
    }
    // Callers may keep many of these: no spare capacity.
    out.shrink_to_fit();
    Some(out)
}

fn indent(out: &mut String, n: usize) {
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > SPACES.len() {
        out.push_str(SPACES);
        n -= SPACES.len();
    }
    out.push_str(&SPACES[..n]);
}

/// A non-empty mapping at column `n`; the first key goes where `out` stands.
fn mapping(out: &mut String, map: &[(std::borrow::Cow<str>, Doc)], n: usize) -> Option<()> {
    for (i, (key, value)) in map.iter().enumerate() {
        if i > 0 {
            indent(out, n);
        }
        if key.len() > MAX_KEY_CHARS && key.chars().count() > MAX_KEY_CHARS {
            return None;
        }
        string(out, key, None);
        out.push(':');
        match value {
            Doc::Map(m) if !m.is_empty() => {
                out.push('\n');
                indent(out, n + 2);
                mapping(out, m, n + 2)?;
            }
            Doc::Seq(items) if !items.is_empty() => {
                out.push('\n');
                indent(out, n);
                sequence(out, items, n)?;
            }
            _ => {
                out.push(' ');
                scalar(out, value, n);
                out.push('\n');
            }
        }
    }
    Some(())
}

/// A non-empty sequence at column `n`; the first `- ` goes where `out` stands.
fn sequence(out: &mut String, items: &[Doc], n: usize) -> Option<()> {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            indent(out, n);
        }
        out.push_str("- ");
        match item {
            Doc::Map(m) if !m.is_empty() => mapping(out, m, n + 2)?,
            Doc::Seq(inner) if !inner.is_empty() => sequence(out, inner, n + 2)?,
            _ => {
                scalar(out, item, n);
                out.push('\n');
            }
        }
    }
    Some(())
}

/// A scalar or empty collection that is a value in a collection at column `n`.
fn scalar(out: &mut String, value: &Doc, n: usize) {
    match value {
        Doc::Null => out.push_str("null"),
        Doc::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Doc::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Doc::UInt(u) => {
            let _ = write!(out, "{u}");
        }
        // As serde_json writes it (a non-finite float is no JSON number: null).
        Doc::Float(f) => match serde_json::Number::from_f64(*f) {
            Some(num) => {
                let _ = write!(out, "{num}");
            }
            None => out.push_str("null"),
        },
        Doc::Str(s) => string(out, s, Some(n)),
        Doc::Seq(_) => out.push_str("[]"),
        Doc::Map(_) => out.push_str("{}"),
    }
}

/// A string: plain, a literal block (only for values, `block` being the column of
/// their collection), or JSON double-quoted.
fn string(out: &mut String, s: &str, block: Option<usize>) {
    if classify_plain(s) == Some(Plain::Str) {
        out.push_str(s);
    } else if let Some(n) = block.filter(|_| literal_ok(s)) {
        literal(out, s, n);
    } else {
        quoted(out, s);
    }
}

/// Characters a literal block may hold as they are.
fn printable(c: char) -> bool {
    matches!(c as u32, 0x20..=0x7E | 0xA0..=0xD7FF | 0xE000..=0xFFFD | 0x10000..)
        && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
        || c == '\t'
        || c == '\n'
}

/// A string spanning lines, every character printable, the first line not blank (so
/// indentation is never ambiguous).
fn literal_ok(s: &str) -> bool {
    let Some(end) = s.find('\n') else {
        return false;
    };
    !s[..end].trim_matches([' ', '\t']).is_empty()
        && (s
            .bytes()
            .all(|b| (0x20..0x7F).contains(&b) || b == b'\n' || b == b'\t')
            || s.chars().all(printable))
}

/// `s` as a literal block in a collection at column `n`: content at `n + 2`.
fn literal(out: &mut String, s: &str, n: usize) {
    let body = s.strip_suffix('\n').unwrap_or(s);
    out.push('|');
    if s.starts_with([' ', '\t']) {
        out.push('2');
    }
    if !s.ends_with('\n') {
        out.push('-');
    } else if body.ends_with('\n') {
        out.push('+');
    }
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, n + 2);
            out.push_str(line);
        }
    }
    // The caller writes the final line break.
}

/// `s` as a JSON string, escaping everything a YAML reader might not take literally.
fn quoted(out: &mut String, s: &str) {
    out.push('"');
    // Runs of characters that stay as they are go in whole.
    let mut rest = s;
    while let Some(at) = rest
        .bytes()
        .position(|b| b < 0x20 || b == b'"' || b == b'\\' || b >= 0x7F)
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let Some(c) = rest.chars().next() else {
            break;
        };
        rest = &rest[c.len_utf8()..];
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20
                || (0x7F..=0x9F).contains(&(c as u32))
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{FEFF}' | '\u{FFFE}' | '\u{FFFF}'
                ) =>
            {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push_str(rest);
    out.push('"');
}
