//! The JSON auto-escaping of template output, written as minijinja writes it (compact,
//! its string escapes) but straight from the maps and lists contexts are made of,
//! without minijinja's per-value intermediate string and per-entry value clones.
//! Anything else goes to minijinja's own formatter.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write;

use minijinja::value::{Value, ValueKind};
use minijinja::{AutoEscape, Error, Output, State};

/// The environment's formatter: what minijinja's default one writes, faster for the
/// values clawctl's contexts hold.
pub fn formatter(out: &mut Output, state: &mut State, value: &Value) -> Result<(), Error> {
    if matches!(state.auto_escape(), AutoEscape::Json) && !value.is_safe() {
        thread_local! {
            static BUF: RefCell<String> = const { RefCell::new(String::new()) };
        }
        let written = BUF.with(|buf| {
            let mut buf = buf.borrow_mut();
            buf.clear();
            write_value(&mut buf, value).then(|| out.write_str(&buf))
        });
        if let Some(result) = written {
            return result.map_err(Error::from);
        }
    }
    minijinja::escape_formatter(out, state, value)
}

/// Writes `value` as compact JSON; `false` when it holds something this writer leaves
/// to minijinja (floats, bytes, other objects, undefined).
fn write_value(out: &mut String, value: &Value) -> bool {
    match value.kind() {
        ValueKind::None => out.push_str("null"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        ValueKind::Number if value.is_integer() => match i128::try_from(value.clone()) {
            Ok(n) => {
                let _ = write!(out, "{n}");
            }
            Err(_) => return false,
        },
        ValueKind::String => match value.as_str() {
            Some(s) => write_str(out, s),
            None => return false,
        },
        ValueKind::Seq => {
            let Some(items) = value.downcast_object_ref::<Vec<Value>>() else {
                return false;
            };
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                if !write_value(out, item) {
                    return false;
                }
            }
            out.push(']');
        }
        ValueKind::Map => {
            let Some(map) = value.downcast_object_ref::<BTreeMap<Value, Value>>() else {
                return false;
            };
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                let Some(key) = key.as_str().filter(|_| key.kind() == ValueKind::String) else {
                    return false;
                };
                write_str(out, key);
                out.push(':');
                if !write_value(out, item) {
                    return false;
                }
            }
            out.push('}');
        }
        _ => return false,
    }
    true
}

/// A JSON string literal with minijinja's escapes: `"`, `\` and control characters.
fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\x08' => out.push_str("\\b"),
            b'\x0c' => out.push_str("\\f"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                out.push_str("\\u00");
                out.push(HEX[usize::from(b >> 4)] as char);
                out.push(HEX[usize::from(b & 0xf)] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use minijinja::Environment;

    fn both(value: Value) -> (String, String) {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|_| AutoEscape::Json);
        env.add_template("t.j2", "{{ v }}|{{ v }}")
            .expect("template");
        let ours = {
            let mut env = env.clone();
            env.set_formatter(formatter);
            let t = env.get_template("t.j2").expect("template");
            t.render(minijinja::context! { v => value.clone() })
                .expect("renders")
        };
        let t = env.get_template("t.j2").expect("template");
        let theirs = t
            .render(minijinja::context! { v => value })
            .expect("renders");
        (ours, theirs)
    }

    #[test]
    fn writes_what_minijinja_writes() {
        let every_byte: String = (0u8..0x80).map(char::from).collect();
        let tricky = format!("{every_byte}é ✓ 日本 \u{2028}\u{85}\u{FEFF} 😀 </script> '&'");
        let value = serde_json::json!({
            "s": tricky,
            "n": [0, 1, -5, 18446744073709551615u64, -9223372036854775808i64],
            "b": [true, false, null],
            "empty": {"m": {}, "l": []},
            "nested": {"z": [{"a": "b"}], "a": [[["deep"]]]},
            "f": 1.5,
        });
        let from_json = Value::from(minijinja::value::Serde(value));
        let values = [
            from_json.clone(),
            Value::from("plain"),
            Value::from(tricky.as_str()),
            Value::from_safe_string("{raw: \"safe\"}".to_string()),
            Value::from(Vec::<Value>::new()),
            Value::from(42u16),
            Value::from(-1.25),
            Value::from(()),
            Value::from(minijinja::value::Serde(std::collections::BTreeMap::from([
                (1, "x"),
            ]))),
            from_json.get_attr("nested").expect("nested"),
        ];
        for value in values {
            let (ours, theirs) = both(value);
            assert_eq!(ours, theirs);
        }
    }
}
