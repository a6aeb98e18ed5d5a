//! How Go prints things, where kube-apiserver's messages embed Go values:
//! `strconv.Quote`, `fmt`'s `%+v` of a decoded JSON map (strategic merge
//! patch errors) and `%#v` of a `map[string]string` (field errors), and
//! `encoding/base64`'s error positions (Secret data that is not base64).

use serde_json::Value;
use std::fmt::Write;

/// Go's `strconv.Quote` for the printable text found in field paths and
/// values: backslash and double quote escaped, control characters as `\n`,
/// `\t` or `\x..`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `fmt.Sprintf("%+v", v)` of what `json.Unmarshal` makes of `v` (maps with
/// sorted keys, `int64` kept for integers as the apiserver's decoder does).
pub fn plus_v(v: &Value) -> String {
    let mut out = String::new();
    write_plus_v(v, &mut out);
    out
}

fn write_plus_v(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("<nil>"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&go_number(n)),
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                write_plus_v(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push_str("map[");
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                write_plus_v(&map[k.as_str()], out);
            }
            out.push(']');
        }
    }
}

/// A JSON number as Go's `%v` prints the `int64` or `float64` it decodes to.
fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{f:.0}")
    } else if f.abs() >= 1e21 || (f != 0.0 && f.abs() < 1e-4) {
        // %v of a float64 is %g: exponent form with at least two digits.
        let s = format!("{f:e}");
        match s.split_once('e') {
            Some((m, e)) => {
                let (sign, digits) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                format!("{m}e{sign}{digits:0>2}")
            }
            None => s,
        }
    } else {
        f.to_string()
    }
}

/// `%T` of what a JSON value decodes to in an `interface{}`.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// `%#v` of what a JSON value decodes to in an `interface{}`.
pub fn sharp_v(v: &Value) -> String {
    match v {
        Value::Null => "interface {}(nil)".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => go_number(n),
        Value::String(s) => quote(s),
        Value::Array(items) => {
            let inner: Vec<String> = items.iter().map(sharp_v).collect();
            format!("[]interface {{}}{{{}}}", inner.join(", "))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .iter()
                .map(|k| format!("{}:{}", quote(k), sharp_v(&map[k.as_str()])))
                .collect();
            format!("map[string]interface {{}}{{{}}}", inner.join(", "))
        }
    }
}

/// `fmt.Sprintf("%#v", m)` of a `map[string]string`:
/// `map[string]string{"a":"1", "b":"2"}`, keys sorted.
pub fn sharp_v_string_map(m: &serde_json::Map<String, Value>) -> String {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort();
    let entries: Vec<String> = keys
        .iter()
        .map(|k| {
            let v = m[k.as_str()].as_str().unwrap_or("");
            format!("{}:{}", quote(k), quote(v))
        })
        .collect();
    format!("map[string]string{{{}}}", entries.join(", "))
}

fn base64_value(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'+' || c == b'/'
}

/// Whether Go's `base64.StdEncoding.DecodeString` accepts `s`; if not, the
/// byte offset its `CorruptInputError` names (`illegal base64 data at input
/// byte N`). Like Go (and unlike a strict decoder) it skips `\r` and `\n`
/// and accepts non-zero trailing bits.
pub fn base64_error(s: &str) -> Option<usize> {
    let src = s.as_bytes();
    let newline = |c: u8| c == b'\n' || c == b'\r';
    let mut si = 0;
    loop {
        // One quantum of up to four symbols.
        let mut j = 0;
        while j < 4 {
            if si == src.len() {
                return match j {
                    0 => None,
                    _ => Some(si - j),
                };
            }
            let c = src[si];
            si += 1;
            if base64_value(c) {
                j += 1;
                continue;
            }
            if newline(c) {
                continue;
            }
            if c != b'=' {
                return Some(si - 1);
            }
            // Padding: only after two or three symbols, then the end.
            match j {
                0 | 1 => return Some(si - 1),
                2 => {
                    while si < src.len() && newline(src[si]) {
                        si += 1;
                    }
                    if si == src.len() {
                        return Some(src.len());
                    }
                    if src[si] != b'=' {
                        return Some(si - 1);
                    }
                    si += 1;
                }
                _ => {}
            }
            while si < src.len() && newline(src[si]) {
                si += 1;
            }
            return (si < src.len()).then_some(si);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base64_errors_name_the_byte_go_names() {
        for ok in ["", "aGVsbG8=", "aGVsbG8h", "aGVs\nbG8=", "aGk=", "YQ=="] {
            assert_eq!(base64_error(ok), None, "{ok:?}");
        }
        // Values Go's decoder answers with these positions.
        assert_eq!(base64_error("hello"), Some(4));
        assert_eq!(base64_error("not base64"), Some(3));
        assert_eq!(base64_error("a"), Some(0));
        assert_eq!(base64_error("aGk"), Some(0));
        assert_eq!(base64_error("YQ="), Some(3));
        assert_eq!(base64_error("YQ==YQ=="), Some(4));
        assert_eq!(base64_error("=abc"), Some(0));
        assert_eq!(base64_error("ab=c"), Some(2));
    }

    #[test]
    fn maps_print_as_go_prints_them() {
        let v = json!({"spec": {"replica": 2, "b": [1, "x", true], "f": 1.5, "n": null}});
        assert_eq!(
            plus_v(&v),
            "map[spec:map[b:[1 x true] f:1.5 n:<nil> replica:2]]"
        );
        assert_eq!(plus_v(&json!(1e21)), "1e+21");
        let m = json!({"b": "2", "a": "x\"y"});
        assert_eq!(
            sharp_v_string_map(m.as_object().expect("map")),
            r#"map[string]string{"a":"x\"y", "b":"2"}"#
        );
        assert_eq!(quote("a\"b\\c"), r#""a\"b\\c""#);
    }
}
