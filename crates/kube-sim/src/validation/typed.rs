//! Decoding a request body into its built-in type, as kube-apiserver's JSON
//! decoder does, to learn what it would refuse or drop.
//!
//! The body stays JSON (kube-sim stores what was sent); it is only *read*
//! through the matching `k8s-openapi` type by a `serde::Deserializer` over
//! the `serde_json::Value`. That deserializer knows where it is, so it can
//! report what Go's `encoding/json` (the sigs.k8s.io/json fork) reports:
//! unknown fields with their strict-decoding path
//! (`spec.template.spec.containers[0].imagePullPolicyy`), and type
//! mismatches worded as Go words them (`json: cannot unmarshal string into
//! Go struct field DeploymentSpec.spec.replicas of type int32`), for which it
//! needs the name of the struct holding the field (serde hands it over in
//! `deserialize_struct`). Secret `data` is checked as Go's base64 decoder
//! checks it. Null fields are skipped, as Go leaves them zero.

use super::go;
use serde::de::{self, DeserializeSeed, Expected, MapAccess, SeqAccess, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;
use std::cell::RefCell;
use std::fmt;

/// One step of a path inside an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    /// A field of a struct (`go_struct` is the Go type holding it).
    Field {
        name: String,
        go_struct: &'static str,
    },
    /// A key of a map (labels, data).
    Key(String),
    Index(usize),
}

/// The strict-decoding path Go reports: `spec.containers[0].name`,
/// `data.key`.
pub fn strict_path(segs: &[Seg]) -> String {
    let mut out = String::new();
    for seg in segs {
        match seg {
            Seg::Field { name, .. } | Seg::Key(name) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(name);
            }
            Seg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// What decoding found.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// No built-in type for this kind (a custom resource, or unknown).
    Untyped,
    /// Decoded; these fields are unknown to the type (document order).
    Fine { unknown: Vec<Vec<Seg>> },
    /// Refused (the first error, as Go's decoder keeps only that).
    Failed(Failure),
}

/// A value the type refuses.
#[derive(Debug, PartialEq)]
pub struct Failure {
    /// Go's `encoding/json` message.
    pub message: String,
    /// Where, and what the type wanted there (None for bad base64).
    pub path: Vec<Seg>,
    pub expected: Option<String>,
    pub value: Value,
}

#[derive(Debug)]
pub struct DecodeError {
    message: String,
    expected: Option<String>,
    located: bool,
    path: Vec<Seg>,
    value: Value,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DecodeError {}

impl DecodeError {
    fn new(message: String, expected: Option<String>) -> Self {
        DecodeError {
            message,
            expected,
            located: false,
            path: Vec::new(),
            value: Value::Null,
        }
    }
}

impl de::Error for DecodeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DecodeError::new(msg.to_string(), None)
    }

    fn invalid_type(unexp: Unexpected, exp: &dyn Expected) -> Self {
        DecodeError::new(
            format!("invalid type: {unexp}, expected {exp}"),
            Some(exp.to_string()),
        )
    }

    fn invalid_value(unexp: Unexpected, exp: &dyn Expected) -> Self {
        DecodeError::new(
            format!("invalid value: {unexp}, expected {exp}"),
            Some(exp.to_string()),
        )
    }
}

/// A [`Seg`] borrowed from the value being walked (no allocation per field).
#[derive(Clone, Copy)]
enum Step<'v> {
    Field(&'v str, &'static str),
    Key(&'v str),
    Index(usize),
}

fn owned(steps: &[Step]) -> Vec<Seg> {
    steps
        .iter()
        .map(|s| match *s {
            Step::Field(name, go_struct) => Seg::Field {
                name: name.to_string(),
                go_struct,
            },
            Step::Key(name) => Seg::Key(name.to_string()),
            Step::Index(i) => Seg::Index(i),
        })
        .collect()
}

struct Walk<'v> {
    segs: Vec<Step<'v>>,
    unknown: Vec<Vec<Seg>>,
    /// The top-level map field whose values are base64 (`[]byte` in Go).
    bytes_field: Option<&'static str>,
}

#[derive(Clone, Copy)]
struct Node<'a, 'v> {
    value: &'v Value,
    walk: &'a RefCell<Walk<'v>>,
    /// A `[]byte` value: checked as Go's base64 decoder would, then read as "".
    bytes: bool,
}

impl<'a, 'v> Node<'a, 'v> {
    /// Gives a visitor's error its place and Go's wording, once, where it
    /// happened.
    fn locate(&self, mut e: DecodeError) -> DecodeError {
        if e.located {
            return e;
        }
        e.located = true;
        e.path = owned(&self.walk.borrow().segs);
        e.value = self.value.clone();
        if let Some(expected) = &e.expected {
            e.message = self.type_message(expected);
        }
        e
    }

    fn type_message(&self, expected: &str) -> String {
        let walk = self.walk.borrow();
        let mut fields: Vec<&str> = Vec::new();
        let mut holder: Option<&'static str> = None;
        for seg in &walk.segs {
            if let Step::Field(name, go_struct) = *seg {
                fields.push(name);
                holder = Some(go_struct);
            }
        }
        let integer = matches!(
            expected,
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64"
        );
        let what = match self.value {
            Value::String(_) => "string".to_string(),
            Value::Bool(_) => "bool".to_string(),
            Value::Number(n) if integer => format!("number {n}"),
            Value::Number(_) => "number".to_string(),
            Value::Array(_) => "array".to_string(),
            Value::Object(_) => "object".to_string(),
            Value::Null => "null".to_string(),
        };
        let ty = go_type(expected, fields.last().copied());
        match holder {
            Some(s) => format!(
                "json: cannot unmarshal {what} into Go struct field {s}.{} of type {ty}",
                fields.join(".")
            ),
            None => format!("json: cannot unmarshal {what} into Go value of type {ty}"),
        }
    }

    fn child(&self, value: &'v Value, bytes: bool) -> Node<'a, 'v> {
        Node {
            value,
            walk: self.walk,
            bytes,
        }
    }
}

/// The Go type behind what a k8s-openapi visitor expected.
fn go_type(expected: &str, field: Option<&str>) -> String {
    let scalar = match expected {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" => {
            let bits = &expected[1..];
            return if expected.starts_with('u') {
                format!("uint{bits}")
            } else {
                format!("int{bits}")
            };
        }
        "f32" => "float32",
        "f64" => "float64",
        "a boolean" => "bool",
        "a string" | "a base64-encoded string" => "string",
        "IntOrString" => "int32",
        "a map" => "map[string]string",
        _ => "",
    };
    if !scalar.is_empty() {
        return scalar.to_string();
    }
    if expected == "a sequence" {
        let element = match field {
            Some("containers" | "initContainers") => "v1.Container",
            Some("ephemeralContainers") => "v1.EphemeralContainer",
            Some("env") => "v1.EnvVar",
            Some("envFrom") => "v1.EnvFromSource",
            Some("volumes") => "v1.Volume",
            Some("volumeMounts") => "v1.VolumeMount",
            Some("imagePullSecrets") => "v1.LocalObjectReference",
            Some("tolerations") => "v1.Toleration",
            Some("rules") => "v1.PolicyRule",
            Some("subjects") => "v1.Subject",
            Some("ownerReferences") => "v1.OwnerReference",
            Some("managedFields") => "v1.ManagedFieldsEntry",
            Some("conditions") => "v1.Condition",
            _ => "string",
        };
        return format!("[]{element}");
    }
    if expected.chars().next().is_some_and(char::is_uppercase) && !expected.contains(' ') {
        return format!("v1.{expected}");
    }
    expected.to_string()
}

impl<'de, 'a> de::Deserializer<'de> for Node<'a, 'de> {
    type Error = DecodeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let r = match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    visitor.visit_f64(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::String(s) => {
                if self.bytes {
                    if let Some(at) = go::base64_error(s) {
                        let e = DecodeError::new(
                            format!("illegal base64 data at input byte {at}"),
                            None,
                        );
                        return Err(self.locate(e));
                    }
                    visitor.visit_borrowed_str("")
                } else {
                    visitor.visit_borrowed_str(s)
                }
            }
            Value::Array(items) => visitor.visit_seq(Seq {
                node: self,
                items: items.iter(),
                index: 0,
            }),
            Value::Object(map) => visitor.visit_map(Map {
                node: self,
                entries: map.iter(),
                pending: None,
                fields: None,
                bytes_children: false,
            }),
        };
        r.map_err(|e| self.locate(e))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
        .map_err(|e| self.locate(e))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        match self.value {
            Value::Object(map) => visitor
                .visit_map(Map {
                    node: self,
                    entries: map.iter(),
                    pending: None,
                    fields: Some((name, fields)),
                    bytes_children: false,
                })
                .map_err(|e| self.locate(e)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        let bytes_children = {
            let walk = self.walk.borrow();
            matches!((walk.bytes_field, walk.segs.as_slice()),
                (Some(f), [Step::Field(name, _)]) if *name == f)
        };
        match self.value {
            Value::Object(map) => visitor
                .visit_map(Map {
                    node: self,
                    entries: map.iter(),
                    pending: None,
                    fields: None,
                    bytes_children,
                })
                .map_err(|e| self.locate(e)),
            _ => self.deserialize_any(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DecodeError> {
        // Timestamps are parsed by Go's time package, not checked here:
        // the type reads a fixed one instead.
        if matches!(name, "Time" | "MicroTime") {
            static EPOCH: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
            let epoch = EPOCH.get_or_init(|| Value::String("1970-01-01T00:00:00Z".into()));
            return visitor
                .visit_newtype_struct(self.child(epoch, false))
                .map_err(|e| self.locate(e));
        }
        visitor
            .visit_newtype_struct(self)
            .map_err(|e| self.locate(e))
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DecodeError> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct enum identifier
    }
}

struct Seq<'a, 'v> {
    node: Node<'a, 'v>,
    items: std::slice::Iter<'v, Value>,
    index: usize,
}

impl<'de, 'a> SeqAccess<'de> for Seq<'a, 'de> {
    type Error = DecodeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DecodeError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let i = self.index;
        self.index += 1;
        self.node.walk.borrow_mut().segs.push(Step::Index(i));
        let r = seed.deserialize(self.node.child(item, false));
        self.node.walk.borrow_mut().segs.pop();
        r.map(Some)
    }
}

struct Map<'a, 'v> {
    node: Node<'a, 'v>,
    entries: serde_json::map::Iter<'v>,
    pending: Option<(&'v String, &'v Value)>,
    /// For a struct: its Go name and its fields.
    fields: Option<(&'static str, &'static [&'static str])>,
    bytes_children: bool,
}

impl<'de, 'a> MapAccess<'de> for Map<'a, 'de> {
    type Error = DecodeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DecodeError> {
        for (key, value) in self.entries.by_ref() {
            if let Some((go_struct, fields)) = self.fields {
                if !fields.contains(&key.as_str()) {
                    let mut walk = self.node.walk.borrow_mut();
                    let mut path = owned(&walk.segs);
                    path.push(Seg::Field {
                        name: key.clone(),
                        go_struct,
                    });
                    walk.unknown.push(path);
                    continue;
                }
            }
            if value.is_null() {
                continue;
            }
            self.pending = Some((key, value));
            return seed
                .deserialize(de::value::BorrowedStrDeserializer::new(key.as_str()))
                .map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, DecodeError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(de::Error::custom("value without a key"));
        };
        let seg = match self.fields {
            Some((go_struct, _)) => Step::Field(key.as_str(), go_struct),
            None => Step::Key(key.as_str()),
        };
        self.node.walk.borrow_mut().segs.push(seg);
        let r = seed.deserialize(self.node.child(value, self.bytes_children));
        self.node.walk.borrow_mut().segs.pop();
        r
    }
}

fn run<T: de::DeserializeOwned>(value: &Value, bytes_field: Option<&'static str>) -> Decoded {
    run_at::<T>(value, bytes_field, Vec::new())
}

fn run_at<'v, T: de::DeserializeOwned>(
    value: &'v Value,
    bytes_field: Option<&'static str>,
    segs: Vec<Step<'v>>,
) -> Decoded {
    let walk = RefCell::new(Walk {
        segs,
        unknown: Vec::new(),
        bytes_field,
    });
    let node = Node {
        value,
        walk: &walk,
        bytes: false,
    };
    match T::deserialize(node) {
        Ok(_) => Decoded::Fine {
            unknown: walk.into_inner().unknown,
        },
        Err(e) => Decoded::Failed(Failure {
            message: e.message,
            path: e.path,
            expected: e.expected,
            value: e.value,
        }),
    }
}

/// The unknown fields of a custom resource's `metadata` (an `ObjectMeta`
/// like any other; the rest of a custom resource follows its CRD's schema).
pub fn unknown_in_metadata(metadata: &Value) -> Vec<Vec<Seg>> {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
    let at = vec![Step::Field("metadata", "")];
    match run_at::<ObjectMeta>(metadata, None, at) {
        Decoded::Fine { unknown } => unknown,
        _ => Vec::new(),
    }
}

/// Decodes `value` as the built-in type of (group, version, kind).
pub fn decode(group: &str, version: &str, kind: &str, value: &Value) -> Decoded {
    struct Decode<'v> {
        value: &'v Value,
        bytes_field: Option<&'static str>,
    }
    impl crate::builtin_types::KindVisitor for Decode<'_> {
        type Out = Decoded;
        fn visit<T: de::DeserializeOwned + schemars::JsonSchema>(self) -> Decoded {
            run::<T>(self.value, self.bytes_field)
        }
    }
    let bytes_field = match (group, version, kind) {
        ("", "v1", "Secret") => Some("data"),
        ("", "v1", "ConfigMap") => Some("binaryData"),
        _ => None,
    };
    crate::builtin_types::with_type(group, version, kind, Decode { value, bytes_field })
        .unwrap_or(Decoded::Untyped)
}
