//! The JSONPath subset CRD printer columns use (`additionalPrinterColumns`
//! `jsonPath`), evaluated as the apiserver's table convertor does: fields
//! (`.a.b`, `['a.b']`), indexes (`[0]`, `[-1]`), wildcards (`[*]`) and
//! filters (`[?(@.type=="Ready")]`, `!=`), as Flux's Ready/Status columns
//! need. Kept apart from `table` so the column code stays about columns.

use serde_json::Value;

#[derive(Debug, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    All,
    Filter {
        path: Vec<String>,
        equal: bool,
        value: String,
    },
}

fn parse(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    let s = path.trim().trim_start_matches('{').trim_end_matches('}');
    let mut rest = s.strip_prefix('$').unwrap_or(s);
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            if end > 0 {
                steps.push(Step::Field(r[..end].to_string()));
            }
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            // A filter may hold ']' only inside quotes; paths here do not.
            let inner = r[..end].trim();
            rest = &r[end + 1..];
            if inner == "*" {
                steps.push(Step::All);
            } else if let Some(f) = inner.strip_prefix("?(").and_then(|f| f.strip_suffix(')')) {
                let (lhs, rhs, equal) = match f.split_once("!=") {
                    Some((l, r)) => (l, r, false),
                    None => {
                        let (l, r) = f.split_once("==")?;
                        (l, r, true)
                    }
                };
                let lhs = lhs.trim().strip_prefix('@')?;
                let path = lhs
                    .split('.')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
                let value = rhs
                    .trim()
                    .trim_matches(|c| c == '"' || c == '\'')
                    .to_string();
                steps.push(Step::Filter { path, equal, value });
            } else if let Some(q) = inner
                .strip_prefix('\'')
                .and_then(|q| q.strip_suffix('\''))
                .or_else(|| inner.strip_prefix('"').and_then(|q| q.strip_suffix('"')))
            {
                steps.push(Step::Field(q.to_string()));
            } else {
                steps.push(Step::Index(inner.parse().ok()?));
            }
        } else {
            return None;
        }
    }
    Some(steps)
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Every value `path` selects in `obj` (none for a path it cannot parse).
pub fn find(obj: &Value, path: &str) -> Vec<Value> {
    let Some(steps) = parse(path) else {
        return Vec::new();
    };
    let mut current = vec![obj.clone()];
    for step in &steps {
        let mut next = Vec::new();
        for v in current {
            match step {
                Step::Field(f) => next.extend(v.get(f).cloned()),
                Step::Index(i) => {
                    if let Some(a) = v.as_array() {
                        let idx = if *i < 0 { a.len() as i64 + i } else { *i };
                        if idx >= 0 {
                            next.extend(a.get(idx as usize).cloned());
                        }
                    }
                }
                Step::All => match v {
                    Value::Array(a) => next.extend(a),
                    Value::Object(m) => next.extend(m.into_iter().map(|(_, v)| v)),
                    _ => {}
                },
                Step::Filter { path, equal, value } => {
                    for item in v.as_array().into_iter().flatten() {
                        let mut at = Some(item);
                        for p in path {
                            at = at.and_then(|x| x.get(p));
                        }
                        let hit = at.is_some_and(|x| text(x) == *value);
                        if hit == *equal && (at.is_some() || !*equal) {
                            next.push(item.clone());
                        }
                    }
                }
            }
        }
        current = next;
    }
    current
}

/// A printer column's cell: nothing, the one value, or several joined by
/// spaces (as the apiserver prints a multi-valued result).
pub fn cell(obj: &Value, path: &str) -> Value {
    let found = find(obj, path);
    match found.len() {
        0 => Value::Null,
        1 => found.into_iter().next().unwrap_or(Value::Null),
        _ => Value::String(found.iter().map(text).collect::<Vec<_>>().join(" ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn printer_column_paths_select_as_the_apiserver_does() {
        let o = json!({"status": {"conditions": [
            {"type": "Reconciling", "status": "True"},
            {"type": "Ready", "status": "False", "message": "boom"},
        ], "sync": {"status": "Synced"}}, "spec": {"ports": [{"port": 80}, {"port": 443}]}});
        assert_eq!(
            cell(&o, ".status.conditions[?(@.type==\"Ready\")].status"),
            json!("False")
        );
        assert_eq!(
            cell(&o, ".status.conditions[?(@.type==\"Ready\")].message"),
            json!("boom")
        );
        assert_eq!(cell(&o, ".status.sync.status"), json!("Synced"));
        assert_eq!(cell(&o, ".spec.ports[0].port"), json!(80));
        assert_eq!(cell(&o, ".spec.ports[-1].port"), json!(443));
        assert_eq!(cell(&o, ".spec.ports[*].port"), json!("80 443"));
        assert_eq!(
            cell(&o, ".status.conditions[?(@.type!=\"Ready\")].type"),
            json!("Reconciling")
        );
        assert_eq!(cell(&o, ".status['sync'].status"), json!("Synced"));
        assert_eq!(cell(&o, ".status.missing"), Value::Null);
        assert_eq!(
            cell(&o, ".status.conditions[?(@.type==\"Stalled\")].status"),
            Value::Null
        );
    }
}
