//! Decoder tests: real kubectl bodies against the JSON kubectl would have
//! sent, and hand-built messages (a tiny encoder below) for what kubectl's
//! generators never set.

use super::schema_types::{Message, Ty, INLINE};
use super::*;
use serde_json::json;

/// A minimal protobuf encoder, enough to build test messages.
#[derive(Default, Clone)]
struct Enc(Vec<u8>);

impl Enc {
    fn new() -> Self {
        Enc::default()
    }
    fn raw_varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, n: u32, wire: u8) {
        self.raw_varint(u64::from(n) << 3 | u64::from(wire));
    }
    fn varint(mut self, n: u32, v: i64) -> Self {
        self.key(n, 0);
        self.raw_varint(v as u64);
        self
    }
    fn bytes(mut self, n: u32, b: &[u8]) -> Self {
        self.key(n, 2);
        self.raw_varint(b.len() as u64);
        self.0.extend_from_slice(b);
        self
    }
    fn str(self, n: u32, s: &str) -> Self {
        self.bytes(n, s.as_bytes())
    }
    fn msg(self, n: u32, m: Enc) -> Self {
        self.bytes(n, &m.0)
    }
    fn entry(self, n: u32, k: &str, v: &str) -> Self {
        self.msg(n, Enc::new().str(1, k).str(2, v))
    }
    fn fixed32(mut self, n: u32, v: u32) -> Self {
        self.key(n, 5);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn fixed64(mut self, n: u32, v: u64) -> Self {
        self.key(n, 1);
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
}

fn quantity(s: &str) -> Enc {
    Enc::new().str(1, s)
}

fn int_or_string_int(v: i32) -> Enc {
    Enc::new().varint(1, 0).varint(2, i64::from(v)).str(3, "")
}

fn int_or_string_str(s: &str) -> Enc {
    Enc::new().varint(1, 1).varint(2, 0).str(3, s)
}

/// ObjectMeta as gogo-protobuf writes it: every non-pointer field, even empty.
fn meta(name: &str) -> Enc {
    Enc::new()
        .str(1, name)
        .str(2, "")
        .str(3, "")
        .str(4, "")
        .str(5, "")
        .str(6, "")
        .varint(7, 0)
        .msg(8, Enc::new())
}

fn envelope(api_version: &str, kind: &str, raw: Enc) -> Vec<u8> {
    let unknown = Enc::new()
        .msg(1, Enc::new().str(1, api_version).str(2, kind))
        .msg(2, raw)
        .str(3, "")
        .str(4, "");
    let mut body = b"k8s\0".to_vec();
    body.extend(unknown.0);
    body
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

include!("tests_fixtures.rs");

#[test]
fn kubectl_bodies_decode_to_kubectls_json() {
    for (name, body, want) in KUBECTL_BODIES {
        let want: Value = serde_json::from_str(want).expect("fixture json");
        let got = decode(&hex(body)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn configmap_fields_and_key_order() {
    let raw = Enc::new()
        .msg(1, meta("cm").entry(11, "app", "web").entry(12, "note", "x"))
        .entry(2, "a", "b")
        .msg(3, Enc::new().str(1, "blob").bytes(2, &[0, 1, 2, 255]))
        .varint(4, 0);
    let got = decode(&envelope("v1", "ConfigMap", raw)).expect("decode");
    assert_eq!(
        got,
        json!({
            "kind": "ConfigMap", "apiVersion": "v1",
            "metadata": {"name": "cm", "creationTimestamp": null,
                         "labels": {"app": "web"}, "annotations": {"note": "x"}},
            "data": {"a": "b"},
            "binaryData": {"blob": "AAEC/w=="},
            // *bool: a set false is kept.
            "immutable": false,
        })
    );
    let keys: Vec<&str> = got
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "apiVersion",
            "metadata",
            "data",
            "binaryData",
            "immutable"
        ]
    );
}

#[test]
fn secret_string_data_and_missing_map_values() {
    let raw = Enc::new()
        .msg(1, meta("s").str(3, "ns1"))
        .msg(2, Enc::new().str(1, "empty"))
        .str(3, "kubernetes.io/basic-auth")
        .entry(4, "username", "admin");
    let got = decode(&envelope("v1", "Secret", raw)).expect("decode");
    assert_eq!(got["metadata"]["namespace"], "ns1");
    assert_eq!(got["data"], json!({"empty": ""}));
    assert_eq!(got["type"], "kubernetes.io/basic-auth");
    assert_eq!(got["stringData"], json!({"username": "admin"}));
}

#[test]
fn metadata_time_owner_references_and_finalizers() {
    let owner = Enc::new()
        .str(1, "ReplicaSet")
        .str(3, "rs")
        .str(4, "uid-1")
        .str(5, "apps/v1")
        .varint(6, 1)
        .varint(7, 0);
    let m = Enc::new()
        .str(1, "")
        .str(2, "web-")
        .msg(8, Enc::new().varint(1, 1_700_000_000).varint(2, 123))
        .msg(9, Enc::new().varint(1, 0).varint(2, 0))
        .varint(10, 30)
        .msg(13, owner)
        .str(14, "a/b")
        .str(14, "c/d");
    let got = decode(&envelope("v1", "Namespace", Enc::new().msg(1, m))).expect("decode");
    assert_eq!(
        got["metadata"],
        json!({
            "generateName": "web-",
            "creationTimestamp": "2023-11-14T22:13:20Z",
            "deletionTimestamp": "1970-01-01T00:00:00Z",
            "deletionGracePeriodSeconds": 30,
            "ownerReferences": [{"kind": "ReplicaSet", "name": "rs", "uid": "uid-1",
                                 "apiVersion": "apps/v1", "controller": true,
                                 "blockOwnerDeletion": false}],
            "finalizers": ["a/b", "c/d"],
        })
    );
}

#[test]
fn pod_with_volumes_probes_resources_and_pointers() {
    let container = Enc::new()
        .str(1, "app")
        .str(2, "nginx:1.27")
        .str(3, "nginx")
        .str(4, "-g")
        .msg(
            6,
            Enc::new()
                .str(1, "http")
                .varint(2, 0)
                .varint(3, 8080)
                .str(4, "TCP")
                .str(5, ""),
        )
        .msg(7, Enc::new().str(1, "LEVEL").str(2, "debug"))
        .msg(
            7,
            Enc::new().str(1, "PASSWORD").str(2, "").msg(
                3,
                Enc::new().msg(
                    4,
                    Enc::new()
                        .msg(1, Enc::new().str(1, "creds"))
                        .str(2, "pw")
                        .varint(3, 0),
                ),
            ),
        )
        .msg(
            8,
            Enc::new()
                .msg(1, Enc::new().str(1, "cpu").msg(2, quantity("500m")))
                .msg(2, Enc::new().str(1, "memory").msg(2, quantity("64Mi"))),
        )
        .msg(
            9,
            Enc::new()
                .str(1, "config")
                .varint(2, 1)
                .str(3, "/etc/app")
                .str(4, ""),
        )
        .msg(
            10,
            // Probe: ProbeHandler (inline) = 1 { httpGet = 2 }, periodSeconds = 4.
            Enc::new()
                .msg(
                    1,
                    Enc::new().msg(
                        2,
                        Enc::new()
                            .str(1, "/healthz")
                            .msg(2, int_or_string_str("http"))
                            .str(4, "HTTP"),
                    ),
                )
                .varint(2, 0)
                .varint(4, 10),
        )
        .msg(
            11,
            Enc::new().msg(
                1,
                Enc::new().msg(1, Enc::new().str(1, "cat").str(1, "/tmp/ok")),
            ),
        )
        .str(14, "IfNotPresent");
    let spec = Enc::new()
        .msg(
            1,
            // Volume: name = 1, VolumeSource (inline) = 2 { configMap = 19 }.
            Enc::new().str(1, "config").msg(
                2,
                Enc::new().msg(
                    19,
                    Enc::new()
                        .msg(1, Enc::new().str(1, "app-config"))
                        .varint(3, 0o644),
                ),
            ),
        )
        .msg(
            1,
            Enc::new().str(1, "scratch").msg(
                2,
                Enc::new().msg(2, Enc::new().str(1, "").msg(2, quantity("1Gi"))),
            ),
        )
        .msg(2, container)
        .str(3, "Always")
        .varint(4, 0)
        .str(6, "ClusterFirst")
        .entry(7, "disk", "ssd")
        .str(8, "")
        .msg(14, Enc::new().varint(2, 0).varint(3, 0))
        .msg(
            22,
            Enc::new()
                .str(1, "dedicated")
                .str(2, "Equal")
                .str(3, "gpu")
                .str(4, "NoSchedule"),
        );
    let got = decode(&envelope(
        "v1",
        "Pod",
        Enc::new().msg(1, meta("p")).msg(2, spec).msg(3, Enc::new()),
    ))
    .expect("decode");
    assert_eq!(
        got,
        json!({
            "kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "creationTimestamp": null},
            "spec": {
                "volumes": [
                    {"name": "config", "configMap": {"name": "app-config", "defaultMode": 420}},
                    {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
                ],
                "containers": [{
                    "name": "app",
                    "image": "nginx:1.27",
                    "command": ["nginx"],
                    "args": ["-g"],
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [
                        {"name": "LEVEL", "value": "debug"},
                        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "pw", "optional": false}}},
                    ],
                    "resources": {"limits": {"cpu": "500m"}, "requests": {"memory": "64Mi"}},
                    "volumeMounts": [{"name": "config", "readOnly": true, "mountPath": "/etc/app"}],
                    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"}, "periodSeconds": 10},
                    "readinessProbe": {"exec": {"command": ["cat", "/tmp/ok"]}},
                    "imagePullPolicy": "IfNotPresent",
                }],
                "restartPolicy": "Always",
                // *int64: a set 0 is kept.
                "terminationGracePeriodSeconds": 0,
                "dnsPolicy": "ClusterFirst",
                "nodeSelector": {"disk": "ssd"},
                "securityContext": {"runAsUser": 0, "runAsNonRoot": false},
                "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}],
            },
            "status": {},
        })
    );
}

#[test]
fn deployment_replicas_zero_is_kept_and_strategy_int_or_string() {
    let rolling = Enc::new()
        .msg(1, int_or_string_int(0))
        .msg(2, int_or_string_str("25%"));
    let spec = Enc::new()
        .varint(1, 0)
        .msg(2, Enc::new().entry(1, "app", "web"))
        .msg(
            3,
            Enc::new()
                .msg(1, meta("").entry(11, "app", "web"))
                .msg(2, Enc::new()),
        )
        .msg(4, Enc::new().str(1, "RollingUpdate").msg(2, rolling))
        .varint(5, 0)
        .varint(7, 0);
    let got = decode(&envelope(
        "apps/v1",
        "Deployment",
        Enc::new().msg(1, meta("web")).msg(2, spec),
    ))
    .expect("decode");
    assert_eq!(
        got["spec"],
        json!({
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                         "spec": {"containers": null}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": "25%"}},
        })
    );
}

#[test]
fn service_ports_and_target_ports() {
    let port = |name: &str, p: i64, target: Enc| {
        Enc::new()
            .str(1, name)
            .str(2, "TCP")
            .varint(3, p)
            .msg(4, target)
            .varint(5, 0)
    };
    let spec = Enc::new()
        .msg(1, port("http", 80, int_or_string_int(8080)))
        .msg(1, port("https", 443, int_or_string_str("https")))
        .entry(2, "app", "web")
        .str(4, "ClusterIP");
    let got = decode(&envelope(
        "v1",
        "Service",
        Enc::new().msg(1, meta("web")).msg(2, spec),
    ))
    .expect("decode");
    assert_eq!(
        got["spec"],
        json!({
            "ports": [
                {"name": "http", "protocol": "TCP", "port": 80, "targetPort": 8080},
                {"name": "https", "protocol": "TCP", "port": 443, "targetPort": "https"},
            ],
            "selector": {"app": "web"},
            "type": "ClusterIP",
        })
    );
}

#[test]
fn negative_int32_and_delete_options() {
    let got = decode(&envelope(
        "scheduling.k8s.io/v1",
        "PriorityClass",
        Enc::new().msg(1, meta("low")).varint(2, -5),
    ))
    .expect("decode");
    assert_eq!(got["value"], -5);

    let opts = Enc::new()
        .varint(1, 0)
        .msg(2, Enc::new().str(1, "uid-1").str(2, "7"))
        .str(4, "Foreground")
        .str(5, "All");
    let got = decode(&envelope("v1", "DeleteOptions", opts)).expect("decode");
    assert_eq!(
        got,
        json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
               "preconditions": {"uid": "uid-1", "resourceVersion": "7"},
               "propagationPolicy": "Foreground", "dryRun": ["All"]})
    );
}

#[test]
fn unknown_fields_of_every_wire_type_are_skipped() {
    let mut m = meta("cm")
        .str(99, "future")
        .fixed32(100, 7)
        .fixed64(101, 9)
        .varint(102, 3);
    // A group (field 103: start 3, a varint inside, end 4).
    m.0.extend([0xbb, 0x06, 0x08, 0x01, 0xbc, 0x06]);
    let raw = Enc::new()
        .msg(1, m)
        .entry(2, "a", "b")
        .msg(50, Enc::new().str(1, "x"));
    let got = decode(&envelope("v1", "ConfigMap", raw)).expect("decode");
    assert_eq!(
        got["metadata"],
        json!({"name": "cm", "creationTimestamp": null})
    );
    assert_eq!(got["data"], json!({"a": "b"}));
}

#[test]
fn repeated_message_field_occurrences_merge() {
    let raw = Enc::new()
        .msg(1, Enc::new().str(1, "cm"))
        .msg(1, Enc::new().entry(11, "a", "1"))
        .varint(4, 1);
    let got = decode(&envelope("v1", "ConfigMap", raw)).expect("decode");
    assert_eq!(got["metadata"], json!({"name": "cm", "labels": {"a": "1"}}));
    assert_eq!(got["immutable"], true);
}

#[test]
fn packed_repeated_varints() {
    // PodFailurePolicyOnExitCodesRequirement.values (repeated int32 = 3), packed.
    let mut packed = Enc::new();
    for v in [1i64, 42, -1] {
        packed.raw_varint(v as u64);
    }
    let req = Enc::new().str(1, "main").str(2, "In").bytes(3, &packed.0);
    let rule = Enc::new().str(1, "FailJob").msg(2, req);
    let spec = Enc::new().msg(11, Enc::new().msg(1, rule));
    let got = decode(&envelope("batch/v1", "Job", Enc::new().msg(2, spec))).expect("decode");
    assert_eq!(
        got["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"],
        json!([1, 42, -1])
    );
}

#[test]
fn errors() {
    assert_eq!(decode(b"{\"kind\":\"Pod\"}"), Err(DecodeError::NoMagic));
    let mut truncated = envelope("v1", "ConfigMap", Enc::new().msg(1, meta("cm")));
    truncated.truncate(truncated.len() - 3);
    assert_eq!(decode(&truncated), Err(DecodeError::Truncated));

    let err = decode(&envelope("example.com/v1", "Widget", Enc::new())).expect_err("unknown kind");
    assert!(err.is_unsupported_media());
    assert!(err.to_string().contains("Widget (example.com/v1)"), "{err}");

    let mut gzip = b"k8s\0".to_vec();
    gzip.extend(
        Enc::new()
            .msg(1, Enc::new().str(1, "v1").str(2, "ConfigMap"))
            .str(3, "gzip")
            .0,
    );
    assert_eq!(
        decode(&gzip),
        Err(DecodeError::ContentEncoding("gzip".into()))
    );
    assert!(decode(&gzip).expect_err("gzip").is_unsupported_media());

    // metadata (a message) sent as a varint.
    let err = decode(&envelope("v1", "ConfigMap", Enc::new().varint(1, 5))).expect_err("wire");
    assert!(
        matches!(err, DecodeError::WrongWireType { field: 1, .. }),
        "{err}"
    );
    assert!(!err.is_unsupported_media());

    // The depth bound (the schema has no cycles, so only a bug could reach it).
    let mut out = Map::new();
    let err = decode_into(&[], &schema::CORE_V1_POD, MAX_DEPTH + 1, &mut out).expect_err("deep");
    assert_eq!(err, DecodeError::TooDeep);

    // Deeply nested unknown groups are skipped without recursion.
    let mut groups = meta("cm");
    groups
        .0
        .extend(std::iter::repeat_n([0xbb, 0x06], 100_000).flatten());
    groups
        .0
        .extend(std::iter::repeat_n([0xbc, 0x06], 100_000).flatten());
    let got = decode(&envelope("v1", "ConfigMap", Enc::new().msg(1, groups))).expect("groups");
    assert_eq!(got["metadata"]["name"], "cm");
}

#[test]
fn media_type_matching() {
    assert!(is_protobuf("application/vnd.kubernetes.protobuf"));
    assert!(is_protobuf(
        "application/vnd.kubernetes.protobuf; charset=utf-8"
    ));
    assert!(!is_protobuf("application/json"));
}

/// Every message reachable from the kinds: fields sorted and unique (the
/// decoder binary-searches them), inline fields are messages with no name,
/// and every other field has a JSON name.
#[test]
fn schema_is_well_formed() {
    fn check(m: &'static Message, seen: &mut Vec<&'static str>) {
        if seen.contains(&m.name) {
            return;
        }
        seen.push(m.name);
        assert!(
            m.fields.windows(2).all(|w| w[0].number < w[1].number),
            "{} not sorted",
            m.name
        );
        for f in m.fields {
            if f.has(INLINE) {
                assert!(
                    matches!(f.ty, Ty::Msg(_)) && f.json.is_empty(),
                    "{}.{}",
                    m.name,
                    f.number
                );
            } else {
                assert!(!f.json.is_empty(), "{}.{}", m.name, f.number);
            }
            match f.ty {
                Ty::Msg(inner) => check(inner, seen),
                Ty::Map(Ty::Msg(inner)) => check(inner, seen),
                _ => {}
            }
        }
    }
    let mut seen = Vec::new();
    for (_, _, m) in schema::KINDS {
        check(m, &mut seen);
    }
    assert!(seen.len() > 200, "{}", seen.len());
}
