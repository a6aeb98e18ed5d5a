//! `/openapi/v2` as protobuf: the form kubectl asks for.
//!
//! kubectl (and client-go's `OpenAPISchema`) request the Swagger document as
//! `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and read it
//! as gnostic's `openapi.v2.Document`, with no fallback to JSON. This writes
//! that message from the JSON document: the document's `swagger`, `info`
//! and `definitions`, and in each schema every field kube-openapi's reader
//! looks at (`$ref`, type, format, description, required, enum, items,
//! allOf, properties, additionalProperties, bounds and the `x-` vendor
//! extensions, which gnostic carries as YAML text; JSON is YAML).
//! Field numbers are those of gnostic's `OpenAPIv2.proto`.

use serde_json::{Map, Value};

/// Appends protobuf fields to a buffer.
#[derive(Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }

    fn bytes(&mut self, field: u32, data: &[u8]) {
        self.key(field, 2);
        self.varint(data.len() as u64);
        self.0.extend_from_slice(data);
    }

    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn message(&mut self, field: u32, m: Writer) {
        self.bytes(field, &m.0);
    }

    fn bool(&mut self, field: u32, b: bool) {
        if b {
            self.key(field, 0);
            self.varint(1);
        }
    }

    fn int64(&mut self, field: u32, v: i64) {
        self.key(field, 0);
        self.varint(v as u64);
    }

    fn double(&mut self, field: u32, v: f64) {
        self.key(field, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
    }
}

/// The protobuf `openapi.v2.Document` of a JSON Swagger document.
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut w = Writer::default();
    w.string(1, doc["swagger"].as_str().unwrap_or("2.0"));
    let mut info = Writer::default();
    info.string(1, doc["info"]["title"].as_str().unwrap_or_default());
    info.string(2, doc["info"]["version"].as_str().unwrap_or_default());
    w.message(2, info);
    if let Some(defs) = doc["definitions"].as_object() {
        let mut d = Writer::default();
        for (name, schema) in defs {
            d.message(1, named_schema(name, schema));
        }
        w.message(9, d);
    }
    w.0
}

fn named_schema(name: &str, schema: &Value) -> Writer {
    let mut n = Writer::default();
    n.string(1, name);
    n.message(2, self::schema(schema));
    n
}

/// gnostic's `Any`: the value as YAML text.
fn any(v: &Value) -> Writer {
    let mut a = Writer::default();
    a.string(2, &v.to_string());
    a
}

fn schema(s: &Value) -> Writer {
    let mut w = Writer::default();
    let Some(obj) = s.as_object() else {
        return w;
    };
    let text = |k: &str| obj.get(k).and_then(Value::as_str).unwrap_or_default();
    w.string(1, text("$ref"));
    w.string(2, text("format"));
    w.string(3, text("title"));
    w.string(4, text("description"));
    if let Some(d) = obj.get("default") {
        w.message(5, any(d));
    }
    for (field, key) in [(6, "multipleOf"), (7, "maximum"), (9, "minimum")] {
        if let Some(v) = obj.get(key).and_then(Value::as_f64) {
            w.double(field, v);
        }
    }
    w.bool(8, obj.get("exclusiveMaximum") == Some(&Value::Bool(true)));
    w.bool(10, obj.get("exclusiveMinimum") == Some(&Value::Bool(true)));
    for (field, key) in [
        (11, "maxLength"),
        (12, "minLength"),
        (14, "maxItems"),
        (15, "minItems"),
        (17, "maxProperties"),
        (18, "minProperties"),
    ] {
        if let Some(v) = obj.get(key).and_then(Value::as_i64) {
            w.int64(field, v);
        }
    }
    w.string(13, text("pattern"));
    w.bool(16, obj.get("uniqueItems") == Some(&Value::Bool(true)));
    for r in strings(obj.get("required")) {
        w.string(19, r);
    }
    for e in obj
        .get("enum")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        w.message(20, any(e));
    }
    match obj.get("additionalProperties") {
        Some(Value::Bool(b)) => {
            let mut a = Writer::default();
            a.key(2, 0);
            a.varint(u64::from(*b));
            w.message(21, a);
        }
        Some(v @ Value::Object(_)) => {
            let mut a = Writer::default();
            a.message(1, schema(v));
            w.message(21, a);
        }
        _ => {}
    }
    let types: Vec<&str> = match obj.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        other => strings(other).collect(),
    };
    if !types.is_empty() {
        let mut t = Writer::default();
        for ty in types {
            t.string(1, ty);
        }
        w.message(22, t);
    }
    if let Some(items) = obj.get("items") {
        let mut i = Writer::default();
        match items {
            Value::Array(list) => list.iter().for_each(|s| i.message(1, schema(s))),
            one => i.message(1, schema(one)),
        }
        w.message(23, i);
    }
    for s in obj
        .get("allOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        w.message(24, schema(s));
    }
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        w.message(25, properties(props));
    }
    w.bool(27, obj.get("readOnly") == Some(&Value::Bool(true)));
    for (k, v) in obj.iter().filter(|(k, _)| k.starts_with("x-")) {
        let mut n = Writer::default();
        n.string(1, k);
        n.message(2, any(v));
        w.message(31, n);
    }
    w
}

fn properties(props: &Map<String, Value>) -> Writer {
    let mut p = Writer::default();
    for (name, s) in props {
        p.message(1, named_schema(name, s));
    }
    p
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = &str> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Reads (field, wire type, payload) triples back, enough to check the
    /// encoding against protobuf's wire format.
    fn fields(mut b: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
        fn varint(b: &mut &[u8]) -> u64 {
            let mut v = 0u64;
            for shift in (0..64).step_by(7) {
                let byte = b[0];
                *b = &b[1..];
                v |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    break;
                }
            }
            v
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = varint(&mut b);
            let (field, wire) = (key >> 3, key & 7);
            let payload = match wire {
                0 => varint(&mut b).to_le_bytes().to_vec(),
                1 => {
                    let p = b[..8].to_vec();
                    b = &b[8..];
                    p
                }
                2 => {
                    let n = varint(&mut b) as usize;
                    let p = b[..n].to_vec();
                    b = &b[n..];
                    p
                }
                other => panic!("wire type {other}"),
            };
            out.push((field, wire, payload));
        }
        out
    }

    #[test]
    fn a_definition_round_trips_through_the_wire_format() {
        let doc = json!({
            "swagger": "2.0",
            "info": {"title": "Kubernetes", "version": "v1.32.0"},
            "definitions": {"io.k8s.api.apps.v1.DeploymentSpec": {
                "type": "object",
                "required": ["selector", "template"],
                "properties": {"replicas": {"type": "integer", "format": "int32"}},
                "x-kubernetes-group-version-kind": [{"group": "apps", "kind": "Deployment", "version": "v1"}],
            }},
        });
        let top = fields(&encode(&doc));
        assert_eq!(top[0], (1, 2, b"2.0".to_vec()));
        let defs = top.iter().find(|f| f.0 == 9).expect("definitions");
        let named = fields(&defs.2);
        let entry = fields(&named[0].2);
        assert_eq!(entry[0].2, b"io.k8s.api.apps.v1.DeploymentSpec");
        let schema = fields(&entry[1].2);
        let required: Vec<_> = schema
            .iter()
            .filter(|f| f.0 == 19)
            .map(|f| f.2.clone())
            .collect();
        assert_eq!(required, vec![b"selector".to_vec(), b"template".to_vec()]);
        let ty = schema.iter().find(|f| f.0 == 22).expect("type");
        assert_eq!(fields(&ty.2)[0].2, b"object");
        let ext = schema.iter().find(|f| f.0 == 31).expect("vendor extension");
        let ext = fields(&ext.2);
        assert_eq!(ext[0].2, b"x-kubernetes-group-version-kind");
        let yaml = fields(&ext[1].2);
        let parsed: Value = serde_json::from_slice(&yaml[0].2).expect("yaml text");
        assert_eq!(parsed[0]["kind"], "Deployment");
        let props = schema.iter().find(|f| f.0 == 25).expect("properties");
        let replicas = fields(&fields(&props.2)[0].2);
        assert_eq!(replicas[0].2, b"replicas");
    }
}
