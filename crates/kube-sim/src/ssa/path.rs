//! Path elements of a field path, as structured-merge-diff names them.
//!
//! A managed field is addressed by a path of elements: a map field (`f:name`),
//! a map-list item identified by its key fields (`k:{"name":"nginx"}`), a set
//! value (`v:"x"`) or a list index (`i:0`). The apiserver writes these in
//! FieldsV1 and prints them in conflict messages (`.spec.containers[name="nginx"]`);
//! both spellings, and the order SMD sorts them in, live here so that what we
//! write matches what kubectl and kube-rs read back from a real cluster.

use serde_json::Value;
use std::cmp::Ordering;

/// A JSON value with the total order SMD's `value.Compare` uses: numbers, then
/// strings, booleans, lists, maps and finally null.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonValue(pub Value);

fn rank(v: &Value) -> u8 {
    match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    }
}

/// Total order over JSON values, consistent with `Value`'s equality (an
/// integer and an equal float are ordered integer first so that they stay
/// distinct, as `Value` considers them different).
pub fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                return i.cmp(&j);
            }
            if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                return i.cmp(&j);
            }
            let (fx, fy) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            fx.total_cmp(&fy)
                .then_with(|| x.is_f64().cmp(&y.is_f64()))
                .then_with(|| x.to_string().cmp(&y.to_string()))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (l, r) in x.iter().zip(y.iter()) {
                let c = compare_values(l, r);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            // Key order inside a JSON object carries no meaning; compare sorted.
            let mut xs: Vec<_> = x.iter().collect();
            let mut ys: Vec<_> = y.iter().collect();
            xs.sort_by(|l, r| l.0.cmp(r.0));
            ys.sort_by(|l, r| l.0.cmp(r.0));
            for ((lk, lv), (rk, rv)) in xs.iter().zip(ys.iter()) {
                let c = lk.cmp(rk).then_with(|| compare_values(lv, rv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            xs.len().cmp(&ys.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

impl PartialOrd for JsonValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for JsonValue {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_values(&self.0, &other.0)
    }
}

/// One step of a field path. The variant order is SMD's sort order (fields,
/// then keys, values, indexes), which is also the order of FieldsV1 output.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum PathElement {
    /// A field of a map: `f:name`.
    Field(String),
    /// A map-list item by its key fields, sorted by field name: `k:{...}`.
    Key(Vec<(String, JsonValue)>),
    /// A member of a set-list: `v:json`.
    Value(JsonValue),
    /// A position in a list: `i:N` (only ever read, never produced here).
    Index(usize),
}

/// A path from the object's root.
pub type Path = Vec<PathElement>;

/// Writes a JSON value compactly, with object keys sorted, as Go's
/// `encoding/json` does for maps (the apiserver's `k:` keys depend on it).
pub fn canonical_json(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .into_iter()
                .map(|k| {
                    format!(
                        "{}:{}",
                        Value::String(k.clone()),
                        m.get(k).map(canonical_json).unwrap_or_default()
                    )
                })
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => {
            let parts: Vec<String> = a.iter().map(canonical_json).collect();
            format!("[{}]", parts.join(","))
        }
        other => other.to_string(),
    }
}

impl PathElement {
    pub fn field(name: &str) -> Self {
        PathElement::Field(name.to_string())
    }

    /// The FieldsV1 spelling: `f:name`, `k:{"name":"x"}`, `v:"x"`, `i:0`.
    pub fn to_fields_v1_key(&self) -> String {
        match self {
            PathElement::Field(name) => format!("f:{name}"),
            PathElement::Key(fields) => {
                let obj: serde_json::Map<String, Value> = fields
                    .iter()
                    .map(|(k, v)| (k.clone(), v.0.clone()))
                    .collect();
                format!("k:{}", canonical_json(&Value::Object(obj)))
            }
            PathElement::Value(v) => format!("v:{}", canonical_json(&v.0)),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// Parses a FieldsV1 key (anything but `.`).
    pub fn from_fields_v1_key(s: &str) -> Result<Self, String> {
        let (prefix, rest) = s
            .split_once(':')
            .ok_or_else(|| format!("invalid field path element {s:?}"))?;
        match prefix {
            "f" => Ok(PathElement::Field(rest.to_string())),
            "k" => {
                let v: Value =
                    serde_json::from_str(rest).map_err(|e| format!("invalid key in {s:?}: {e}"))?;
                let Value::Object(m) = v else {
                    return Err(format!("key of {s:?} is not a JSON object"));
                };
                if m.is_empty() {
                    return Err(format!("key of {s:?} is empty"));
                }
                let mut fields: Vec<(String, JsonValue)> =
                    m.into_iter().map(|(k, v)| (k, JsonValue(v))).collect();
                fields.sort_by(|a, b| a.0.cmp(&b.0));
                Ok(PathElement::Key(fields))
            }
            "v" => serde_json::from_str(rest)
                .map(|v| PathElement::Value(JsonValue(v)))
                .map_err(|e| format!("invalid value in {s:?}: {e}")),
            "i" => rest
                .parse()
                .map(PathElement::Index)
                .map_err(|e| format!("invalid index in {s:?}: {e}")),
            _ => Err(format!("invalid field path element {s:?}")),
        }
    }
}

impl std::fmt::Display for PathElement {
    /// The spelling of SMD's `PathElement.String()`, used in conflict messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathElement::Field(name) => write!(f, ".{name}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", canonical_json(&v.0)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", canonical_json(&v.0)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A path as the apiserver prints it: `.spec.containers[name="nginx"].image`.
pub fn path_to_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_v1_keys_round_trip() {
        for s in [
            "f:image",
            r#"k:{"containerPort":80,"protocol":"TCP"}"#,
            r#"v:"example.com/x""#,
            "i:3",
        ] {
            let pe = PathElement::from_fields_v1_key(s).expect("parses");
            assert_eq!(pe.to_fields_v1_key(), s);
        }
        // Keys are written sorted whatever order they were read in.
        let pe = PathElement::from_fields_v1_key(r#"k:{"protocol":"TCP","containerPort":80}"#)
            .expect("parses");
        assert_eq!(
            pe.to_fields_v1_key(),
            r#"k:{"containerPort":80,"protocol":"TCP"}"#
        );
        assert!(PathElement::from_fields_v1_key("x:1").is_err());
        assert!(PathElement::from_fields_v1_key("k:[1]").is_err());
    }

    #[test]
    fn paths_print_like_the_apiserver() {
        let path = vec![
            PathElement::field("spec"),
            PathElement::field("containers"),
            PathElement::Key(vec![("name".into(), JsonValue(json!("nginx")))]),
            PathElement::field("image"),
        ];
        assert_eq!(
            path_to_string(&path),
            r#".spec.containers[name="nginx"].image"#
        );
        let fin = vec![
            PathElement::field("metadata"),
            PathElement::field("finalizers"),
            PathElement::Value(JsonValue(json!("x"))),
        ];
        assert_eq!(path_to_string(&fin), r#".metadata.finalizers[="x"]"#);
    }

    #[test]
    fn elements_sort_fields_before_keys_and_values() {
        let mut v = [
            PathElement::Value(JsonValue(json!("a"))),
            PathElement::Key(vec![("name".into(), JsonValue(json!("a")))]),
            PathElement::field("z"),
            PathElement::field("a"),
        ];
        v.sort();
        assert_eq!(v[0], PathElement::field("a"));
        assert_eq!(v[1], PathElement::field("z"));
        assert!(matches!(v[2], PathElement::Key(_)));
        assert_eq!(
            compare_values(&json!(2), &json!("1")),
            Ordering::Less,
            "numbers sort before strings"
        );
    }
}
