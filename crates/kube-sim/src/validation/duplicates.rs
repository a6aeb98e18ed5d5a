//! Duplicate (and, in one pass, unknown) keys in a JSON body, which
//! `serde_json::Value` silently folds (the last one wins, as in Go) but
//! kube-apiserver's strict decoder (sigs.k8s.io/json) names in document
//! order: `duplicate field "metadata.name"`, `unknown field "spec.x"`. Read
//! from the raw bytes, once, only when the request asks for Strict or Warn.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Every duplicated key in `body` (a JSON document), as strict-decoding
/// messages in document order. A body that is not JSON yields none.
pub fn duplicates(body: &[u8]) -> Vec<String> {
    strict_problems(body, "", &|_| false).unwrap_or_default()
}

/// What Go's strict decoder reports for `body`, in document order: each
/// field `unknown` says the type lacks (its value is skipped, as Go skips
/// it: a duplicate of an unknown field is only unknown) and each duplicate,
/// every message led by `prefix`. `None` if `body` is not a JSON object or
/// array.
pub fn strict_problems(
    body: &[u8],
    prefix: &str,
    unknown: &dyn Fn(&str) -> bool,
) -> Option<Vec<String>> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{' | b'[')) {
        return None;
    }
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let scan = Scan {
        path: String::new(),
        prefix,
        unknown,
        found: &mut found,
    };
    scan.deserialize(&mut de).ok()?;
    let mut seen = HashSet::new();
    found.retain(|m| seen.insert(m.clone()));
    Some(found)
}

/// The ops of a JSON patch as kube-apiserver decodes them strictly (into
/// `{op, path, from, value}`): `json patch unknown field "[0].foo"`, `json
/// patch duplicate field "[1].path"`. Duplicates the patch *makes* (two ops
/// adding one field) are not the decoder's business.
pub fn json_patch_problems(patch: &[u8]) -> Vec<String> {
    let unknown = |path: &str| {
        let Some(rest) = path.strip_prefix('[') else {
            return false;
        };
        match rest.split_once("].") {
            Some((index, field)) => {
                index.bytes().all(|b| b.is_ascii_digit())
                    && !matches!(field, "op" | "path" | "from" | "value")
                    && !field.contains(['.', '['])
            }
            None => false,
        }
    };
    strict_problems(patch, "json patch ", &unknown).unwrap_or_default()
}

struct Scan<'a> {
    path: String,
    prefix: &'a str,
    unknown: &'a dyn Fn(&str) -> bool,
    found: &'a mut Vec<String>,
}

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let path = format!("{}[{i}]", self.path);
            let scan = Scan {
                path,
                prefix: self.prefix,
                unknown: self.unknown,
                found: &mut *self.found,
            };
            if seq.next_element_seed(scan)?.is_none() {
                return Ok(());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let path = if self.path.is_empty() {
                key.clone()
            } else {
                format!("{}.{key}", self.path)
            };
            let quoted = super::go::quote(&path);
            if (self.unknown)(&path) {
                self.found
                    .push(format!("{}unknown field {quoted}", self.prefix));
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            if !seen.insert(key) {
                self.found
                    .push(format!("{}duplicate field {quoted}", self.prefix));
            }
            // The value is decoded again (the last one wins), its own
            // duplicates with it.
            map.next_value_seed(Scan {
                path,
                prefix: self.prefix,
                unknown: self.unknown,
                found: &mut *self.found,
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_keys_are_named_with_their_path() {
        let body = br#"{"metadata": {"name": "a", "name": "b"},
            "spec": {"containers": [{"name": "x", "image": "i", "image": "j"}]}}"#;
        assert_eq!(
            duplicates(body),
            vec![
                r#"duplicate field "metadata.name""#.to_string(),
                r#"duplicate field "spec.containers[0].image""#.to_string(),
            ]
        );
        assert!(duplicates(br#"{"a": 1, "b": {"a": 2}}"#).is_empty());
        assert!(duplicates(b"a: 1\na: 2\n").is_empty());
    }

    #[test]
    fn unknown_and_duplicate_fields_come_in_document_order() {
        // kube-apiserver's own field validation case, for a typed object.
        let body = br#"{"metadata": {"name": "a", "name": "b", "unknownMeta": 1},
            "spec": {"unknown1": "v", "unknownDupe": "x", "unknownDupe": "y",
                "paused": true, "paused": false,
                "template": {"spec": {"containers": [{"unknownNested": {"z": 1, "z": 2},
                    "imagePullPolicy": "Always", "imagePullPolicy": "Never"}]}}}}"#;
        let unknown = |p: &str| {
            [
                "metadata.unknownMeta",
                "spec.unknown1",
                "spec.unknownDupe",
                "spec.template.spec.containers[0].unknownNested",
            ]
            .contains(&p)
        };
        assert_eq!(
            strict_problems(body, "", &unknown).expect("json"),
            vec![
                r#"duplicate field "metadata.name""#,
                r#"unknown field "metadata.unknownMeta""#,
                r#"unknown field "spec.unknown1""#,
                r#"unknown field "spec.unknownDupe""#,
                r#"duplicate field "spec.paused""#,
                r#"unknown field "spec.template.spec.containers[0].unknownNested""#,
                r#"duplicate field "spec.template.spec.containers[0].imagePullPolicy""#,
            ]
        );
    }

    #[test]
    fn json_patch_ops_are_decoded_strictly() {
        let patch = br#"[{"op": "add", "path": "/spec/unknown1", "value": "val1", "foo": "bar"},
            {"op": "add", "path": "/spec/unknown2", "path": "/spec/unknown3", "value": "val1"},
            {"op": "add", "path": "/spec/unknownDupe", "value": "valDupe"},
            {"op": "add", "path": "/spec/unknownDupe", "value": {"k": 1, "k": 2}}]"#;
        assert_eq!(
            json_patch_problems(patch),
            vec![
                r#"json patch unknown field "[0].foo""#,
                r#"json patch duplicate field "[1].path""#,
                r#"json patch duplicate field "[3].value.k""#,
            ]
        );
        assert!(json_patch_problems(br#"[{"op": "remove", "path": "/a"}]"#).is_empty());
    }
}
