//! Duplicate keys as go-yaml v2's strict mode reports them, which is how
//! kube-apiserver words them for YAML bodies and for every server-side apply
//! body (sigs.k8s.io/yaml reads JSON as YAML): `line 10: key "paused"
//! already set in map`, one line per duplicate, in go-yaml's order (a
//! key's value is decoded before the key is stored, so duplicates nested in
//! a value come before the duplicate key holding them), with the line where
//! the duplicate's *value* starts.
//!
//! serde_yaml tells positions only in errors, so each duplicate is located by
//! a scan that fails on purpose at its value; the next scan knows the ones
//! found and fails at the next. Bodies without duplicates take one scan
//! (JSON bodies none: [`super::duplicates`] checks them first).

use serde::de::{DeserializeSeed, Deserializer, Error as _, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;
use std::fmt;

/// Beyond this many duplicates the rest are not located (each costs a scan).
const MAX_LOCATED: usize = 100;

/// go-yaml's message for each duplicate key in `body`, in its order. A body
/// that is not one YAML document yields none (it is refused elsewhere).
pub fn duplicate_keys(body: &[u8]) -> Vec<String> {
    let mut lines: Vec<usize> = Vec::new();
    loop {
        let state = RefCell::new(State {
            located: lines.len(),
            seen: 0,
            failed_on_purpose: false,
            found: Vec::new(),
        });
        let de = serde_yaml::Deserializer::from_slice(body);
        let result = Scan(&state).deserialize(de);
        let state = state.into_inner();
        match result {
            Ok(()) => {
                return state
                    .found
                    .into_iter()
                    .filter_map(|(i, key)| {
                        let line = lines.get(i)?;
                        Some(format!("line {line}: key {key} already set in map"))
                    })
                    .collect();
            }
            Err(e) if state.failed_on_purpose && lines.len() < MAX_LOCATED => match e.location() {
                Some(at) => lines.push(at.line()),
                None => return Vec::new(),
            },
            Err(_) => return Vec::new(),
        }
    }
}

struct State {
    /// How many duplicates earlier scans located (their lines are known).
    located: usize,
    /// Duplicates met so far in this scan, in the order met.
    seen: usize,
    failed_on_purpose: bool,
    /// (duplicate number, key as Go's `%#v`) in go-yaml's order.
    found: Vec<(usize, String)>,
}

#[derive(Clone, Copy)]
struct Scan<'s>(&'s RefCell<State>);

impl<'de> DeserializeSeed<'de> for Scan<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

/// Refuses any value: the error carries the value's position.
struct Locate;

impl<'de> DeserializeSeed<'de> for Locate {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Locate {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("nothing (locating a duplicate key)")
    }
}

/// A key as go-yaml's `%#v` prints it (strings quoted, numbers bare).
fn go_key(key: &serde_yaml::Value) -> String {
    match key {
        serde_yaml::Value::String(s) => super::go::quote(s),
        serde_yaml::Value::Number(n) => n.to_string(),
        serde_yaml::Value::Bool(b) => b.to_string(),
        serde_yaml::Value::Null => "<nil>".into(),
        other => format!("{other:?}"),
    }
}

impl<'de> Visitor<'de> for Scan<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
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
        while seq.next_element_seed(self)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys: Vec<serde_yaml::Value> = Vec::new();
        while let Some(key) = map.next_key::<serde_yaml::Value>()? {
            if !keys.contains(&key) {
                keys.push(key);
                map.next_value_seed(self)?;
                continue;
            }
            let number = {
                let mut s = self.0.borrow_mut();
                s.seen += 1;
                s.seen - 1
            };
            if number >= self.0.borrow().located {
                self.0.borrow_mut().failed_on_purpose = true;
                map.next_value_seed(Locate)?;
                return Err(A::Error::custom("duplicate key not located"));
            }
            map.next_value_seed(self)?;
            self.0.borrow_mut().found.push((number, go_key(&key)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_reported_as_go_yaml_does() {
        // kube-apiserver's field validation test body (an apply of JSON).
        let body = "{\n\t\"apiVersion\": \"apps/v1\",\n\t\"kind\": \"Deployment\",\n\t\"metadata\": {\n\t\t\"name\": \"x\",\n\t\t\"labels\": {\"app\": \"nginx\"}\n\t},\n\t\"spec\": {\n\t\t\"paused\": false,\n\t\t\"paused\": true,\n\t\t\"selector\": {\"matchLabels\": {\"app\": \"nginx\"}},\n\t\t\"template\": {\"spec\": {\"containers\": [{\n\t\t\t\"name\": \"nginx\",\n\t\t\t\"imagePullPolicy\": \"Never\",\n\t\t\t\"imagePullPolicy\": \"Always\"\n\t\t}]}}\n\t}\n}";
        assert_eq!(
            duplicate_keys(body.as_bytes()),
            vec![
                "line 10: key \"paused\" already set in map",
                "line 15: key \"imagePullPolicy\" already set in map",
            ]
        );
        // Block YAML: a mapping value starts on the line of its first key,
        // and duplicates inside a duplicated key's value come first.
        let yaml = "a: 1\nb:\n  c: 1\nb:\n  d: 2\n  d: 3\n1: x\n1: y\n";
        assert_eq!(
            duplicate_keys(yaml.as_bytes()),
            vec![
                "line 6: key \"d\" already set in map",
                "line 5: key \"b\" already set in map",
                "line 8: key 1 already set in map",
            ]
        );
        assert!(duplicate_keys(b"{\"a\": {\"a\": 1}, \"b\": [1, 1]}").is_empty());
        assert!(duplicate_keys(b"a: [").is_empty());
        assert!(duplicate_keys(b"a: 1\n---\na: 2\n").is_empty());
    }
}
