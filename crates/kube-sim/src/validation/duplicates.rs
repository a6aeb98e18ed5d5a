//! Duplicate keys in a JSON body, which `serde_json::Value` silently folds
//! (the last one wins, as in Go) but kube-apiserver's strict decoder names:
//! `duplicate field "metadata.name"`. Read from the raw bytes, once, only
//! when the request asks for Strict or Warn.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

/// Every duplicated key in `body` (a JSON document), as strict-decoding
/// messages in document order. A body that is not JSON yields none.
pub fn duplicates(body: &[u8]) -> Vec<String> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if !matches!(first, Some(b'{')) {
        return Vec::new();
    }
    let mut found = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let scan = Scan {
        path: String::new(),
        found: &mut found,
    };
    if scan.deserialize(&mut de).is_err() {
        return Vec::new();
    }
    found
}

struct Scan<'a> {
    path: String,
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
            if !seen.insert(key) {
                self.found
                    .push(format!("duplicate field {}", super::go::quote(&path)));
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            map.next_value_seed(Scan {
                path,
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
}
