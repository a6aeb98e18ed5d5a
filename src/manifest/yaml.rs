//! Turning one file's text into documents: the YAML parser finds the
//! documents (we never split on `---` ourselves), and a careful scan of
//! column-0 document markers gives each document's first line, which the
//! parser does not expose. Also the conversion to JSON values, which is where
//! tags are dropped and non-string keys are caught.

use serde::Deserialize;
use serde_yaml::Value;

/// One parsed document and the 1-based line where it starts.
pub(crate) struct Doc {
    pub line: usize,
    pub value: Result<Value, YamlError>,
}

#[derive(Debug, Clone)]
pub(crate) struct YamlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// A safety net against a parser that keeps yielding documents.
const MAX_DOCUMENTS: usize = 200_000;

/// Parses every document of `text`, stopping after the first error (the
/// parser cannot resynchronise after one).
pub(crate) fn parse_documents(text: &str) -> Vec<Doc> {
    let starts = document_starts(text);
    let mut docs = Vec::new();
    for (index, de) in serde_yaml::Deserializer::from_str(text).enumerate() {
        let fallback = starts.last().copied().unwrap_or(1);
        let line = starts.get(index).copied().unwrap_or(fallback);
        if index >= MAX_DOCUMENTS {
            docs.push(Doc {
                line,
                value: Err(YamlError {
                    line,
                    column: 0,
                    message: format!("more than {MAX_DOCUMENTS} documents in one file"),
                }),
            });
            break;
        }
        match Value::deserialize(de) {
            Ok(value) => docs.push(Doc {
                line,
                value: Ok(value),
            }),
            Err(err) => {
                let (eline, column) = err
                    .location()
                    .map(|l| (l.line(), l.column()))
                    .unwrap_or((line, 0));
                docs.push(Doc {
                    line,
                    value: Err(YamlError {
                        line: eline,
                        column,
                        message: err.to_string(),
                    }),
                });
                break;
            }
        }
    }
    docs
}

fn is_marker(line: &str, marker: &str) -> bool {
    match line.strip_prefix(marker) {
        Some(rest) => rest.is_empty() || rest.starts_with([' ', '\t']),
        None => false,
    }
}

/// The 1-based first line of every document, in order. A `---` or `...` at
/// column 0 followed by a space, tab or end of line is always a marker (YAML
/// forbids such lines inside scalars); a document without `---` starts at
/// its first line that is not blank, a comment or a directive.
pub(crate) fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut in_doc = false;
    for (i, raw) in text.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if is_marker(line, "---") {
            starts.push(i + 1);
            in_doc = true;
            continue;
        }
        if is_marker(line, "...") {
            in_doc = false;
            continue;
        }
        if !in_doc {
            let trimmed = line.trim();
            let content =
                !trimmed.is_empty() && !trimmed.starts_with('#') && !line.starts_with('%');
            if content {
                starts.push(i + 1);
                in_doc = true;
            }
        }
    }
    if starts.is_empty() {
        starts.push(1);
    }
    starts
}

/// YAML → JSON as the API server expects it: tags are dropped (their value
/// kept), number and boolean keys become strings, and anything JSON cannot
/// hold is an error.
pub(crate) fn to_json(value: &Value) -> Result<serde_json::Value, String> {
    Ok(match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into()
            } else if let Some(u) = n.as_u64() {
                u.into()
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                match serde_json::Number::from_f64(f) {
                    Some(num) => serde_json::Value::Number(num),
                    None => return Err(format!("number {n} cannot be represented in JSON")),
                }
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => {
            serde_json::Value::Array(items.iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Value::Mapping(map) => {
            let mut out = serde_json::Map::with_capacity(map.len());
            for (k, v) in map {
                let key = match k {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => "null".to_string(),
                    Value::Tagged(t) => match &t.value {
                        Value::String(s) => s.clone(),
                        _ => return Err("a mapping key is not a string".to_string()),
                    },
                    Value::Sequence(_) | Value::Mapping(_) => {
                        return Err("a mapping key is not a string".to_string())
                    }
                };
                out.insert(key, to_json(v)?);
            }
            serde_json::Value::Object(out)
        }
        Value::Tagged(tagged) => to_json(&tagged.value)?,
    })
}

/// True when a document carries SOPS encryption: a top-level `sops` key or
/// any `ENC[AES256_GCM,...]` value.
pub(crate) fn is_sops(value: &Value) -> bool {
    fn has_enc(value: &Value) -> bool {
        match value {
            Value::String(s) => s.contains("ENC[AES256_GCM,"),
            Value::Sequence(items) => items.iter().any(has_enc),
            Value::Mapping(map) => map.values().any(has_enc),
            Value::Tagged(t) => has_enc(&t.value),
            _ => false,
        }
    }
    let top_level_sops = value.as_mapping().is_some_and(|m| m.contains_key("sops"));
    top_level_sops || has_enc(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_ignore_indented_markers_and_comments() {
        let text = "# c\n\na: 1\n---\nb: |\n  ---\n  x\n--- # c\n---\n";
        assert_eq!(document_starts(text), vec![3, 4, 8, 9]);
        assert_eq!(document_starts("---\na: 1\n"), vec![1]);
        assert_eq!(document_starts(""), vec![1]);
        assert_eq!(document_starts("a: 1\n...\n# x\nb: 2"), vec![1, 4]);
        assert_eq!(document_starts("%YAML 1.2\n---\na: 1"), vec![2]);
        assert_eq!(document_starts("a: 1\r\n---\r\nb: 2"), vec![1, 2]);
    }
}
