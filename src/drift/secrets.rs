//! Secret masking for diffs: a diff of a Secret must show *that* a value
//! changed, and which key, without ever printing a value.
//!
//! Argo CD's scheme: per key, each distinct value seen across both sides gets
//! its own run of `+` (8, then 12, 16, ...). Equal values get equal masks, so an
//! unchanged key shows no diff line; a changed value gets a mask of another
//! length, so the changed key shows as a `-`/`+` pair. Masks depend only on
//! which values are equal, never on the values themselves (no hashes, which
//! could be brute-forced for short passwords).
//!
//! Masking runs after comparison and after `stringData` was folded into `data`
//! (normalize.rs), so equality is decided on the real, base64-encoded values.
//! The last-applied annotation embeds the whole Secret and is masked as one value.

use std::collections::HashMap;

use serde_json::Value;

use super::normalize::{is_secret, LAST_APPLIED};

const FIRST_MASK_LEN: usize = 8;
const MASK_STEP: usize = 4;

/// Hands out masks per key, in order of first sighting.
#[derive(Default)]
struct Masks {
    by_key: HashMap<String, HashMap<String, String>>,
}

impl Masks {
    fn mask(&mut self, key: &str, value: &Value) -> Value {
        let text = match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let seen = self.by_key.entry(key.to_string()).or_default();
        let next_len = FIRST_MASK_LEN + MASK_STEP * seen.len();
        let mask = seen.entry(text).or_insert_with(|| "+".repeat(next_len));
        Value::String(mask.clone())
    }
}

/// Masks Secret values in all of `objects` with one consistent mapping; objects
/// that are not core Secrets (or are `Null`, for one-sided diffs) are left as is.
pub fn mask_secrets(objects: &mut [&mut Value]) {
    let mut masks = Masks::default();
    for obj in objects.iter_mut() {
        if !is_secret(obj) {
            continue;
        }
        for field in ["data", "stringData"] {
            if let Some(map) = obj.get_mut(field).and_then(Value::as_object_mut) {
                for (key, value) in map.iter_mut() {
                    // stringData and data share a key space once applied.
                    *value = masks.mask(key, value);
                }
            }
        }
        if let Some(annotation) = obj
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
            .and_then(|a| a.get_mut(LAST_APPLIED))
        {
            // Not a valid data key (data keys cannot contain a space), so the
            // annotation's masks never collide with a data key's.
            *annotation = masks.mask(" last-applied", annotation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn secret(data: Value) -> Value {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data})
    }

    #[test]
    fn equal_values_equal_masks_changed_values_changed_masks() {
        let mut old = secret(json!({"user": "YWRtaW4=", "password": "aHVudGVyMg=="}));
        let mut new = secret(json!({"user": "YWRtaW4=", "password": "czNjcjN0"}));
        mask_secrets(&mut [&mut old, &mut new]);
        assert_eq!(old["data"]["user"], new["data"]["user"]);
        assert_ne!(old["data"]["password"], new["data"]["password"]);
        assert_eq!(old["data"]["password"], "++++++++");
        assert_eq!(new["data"]["password"], "++++++++++++");
        let text = format!("{old}{new}");
        for value in ["YWRtaW4=", "aHVudGVyMg==", "czNjcjN0"] {
            assert!(!text.contains(value));
        }
    }

    #[test]
    fn masks_last_applied_and_leaves_other_kinds() {
        let mut s = secret(json!({"k": "dg=="}));
        s["metadata"]["annotations"] = json!({LAST_APPLIED: "{\"data\":{\"k\":\"dg==\"}}"});
        let mut cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"k": "v"}});
        mask_secrets(&mut [&mut s, &mut cm]);
        assert_eq!(s["metadata"]["annotations"][LAST_APPLIED], "++++++++");
        assert!(!s.to_string().contains("dg=="));
        assert_eq!(cm["data"]["k"], "v");
    }
}
