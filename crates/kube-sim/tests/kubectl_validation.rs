//! Field validation as the real kubectl meets it (1.27, 1.32, 1.33):
//! kubectl sends `fieldValidation=Strict` on create and apply by default,
//! `Warn` for `--validate=warn` and `Ignore` for `--validate=false`. Each
//! refused case must print what kubectl prints against a kube-apiserver.

mod common;

use common::kubectl::Env;

each_version!(
    strict_refuses_unknown_fields,
    warn_and_ignore,
    type_errors_are_bad_requests,
    value_rules_are_invalid,
);

fn deployment(extra_spec: &str, container_extra: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
{extra_spec}  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.27
{container_extra}"#
    )
}

const CM_TYPO: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: flags
  namespace: default
datta:
  a: "1"
"#;

/// The first line of kubectl's stderr for a refused file.
fn first_line(stderr: &str) -> &str {
    stderr.lines().next().unwrap_or("")
}

async fn strict_refuses_unknown_fields(minor: u32) {
    let env = Env::start(minor).await;
    let typo = env.file("typo.yaml", &deployment("  replica: 2\n", ""));
    let out = env.kubectl(&["create", "-f", &typo]).await;
    out.failed_with(1);
    assert_eq!(
        first_line(&out.stderr),
        format!("Error from server (BadRequest): error when creating \"{typo}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\""),
        "{out}"
    );
    // The dry-run of the same create is refused the same way.
    let out = env
        .kubectl(&["apply", "--dry-run=server", "-f", &typo])
        .await;
    out.failed_with(1);
    assert_eq!(
        first_line(&out.stderr),
        format!("Error from server (BadRequest): error when creating \"{typo}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\""),
        "{out}"
    );
    // Two problems, one of them in a list item: joined as the apiserver does.
    let two = env.file(
        "two.yaml",
        &deployment("  replica: 2\n", "        imagePullPolicyy: Always\n"),
    );
    let out = env.kubectl(&["apply", "-f", &two]).await;
    out.failed_with(1);
    assert_eq!(
        first_line(&out.stderr),
        format!("Error from server (BadRequest): error when creating \"{two}\": Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replica\", unknown field \"spec.template.spec.containers[0].imagePullPolicyy\""),
        "{out}"
    );
    assert!(env
        .sim
        .get("apps/v1", "Deployment", "default", "web")
        .is_none());

    // Server-side apply types the configuration before any directive.
    let out = env.kubectl(&["apply", "--server-side", "-f", &typo]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim_end(),
        "Error from server: failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.replica: field not declared in schema",
        "{out}"
    );
    assert!(env
        .sim
        .get("apps/v1", "Deployment", "default", "web")
        .is_none());

    // An existing object, patched by client-side apply (strategic merge).
    let good = env.file("good.yaml", &deployment("", ""));
    env.kubectl(&["apply", "-f", &good]).await.ok();
    let out = env.kubectl(&["apply", "-f", &typo]).await;
    out.failed_with(1);
    // kubectl words a 422 without a kind as "The request is invalid".
    let line = first_line(&out.stderr);
    assert!(
        line.starts_with("The request is invalid: patch: Invalid value: \"map[metadata:map[annotations:map[kubectl.kubernetes.io/last-applied-configuration:{\\\"apiVersion\\\":\\\"apps/v1\\\""),
        "{out}"
    );
    assert!(
        line.ends_with(
            "]] spec:map[replica:2]]\": strict decoding error: unknown field \"spec.replica\""
        ),
        "{out}"
    );
    let stored = env
        .sim
        .get("apps/v1", "Deployment", "default", "web")
        .expect("stored");
    assert!(stored.pointer("/spec/replica").is_none());
}

async fn warn_and_ignore(minor: u32) {
    let env = Env::start(minor).await;
    let cm = env.file("cm.yaml", CM_TYPO);
    let out = env.kubectl(&["apply", "--validate=warn", "-f", &cm]).await;
    out.ok().stdout_has("configmap/flags created");
    assert_eq!(
        out.stderr.trim_end(),
        "Warning: unknown field \"datta\"",
        "{out}"
    );
    let stored = env
        .sim
        .get("v1", "ConfigMap", "default", "flags")
        .expect("stored");
    assert!(stored.get("datta").is_none(), "unknown fields are dropped");
    // A strategic merge patch with no directive (Warn) is warned alike.
    let out = env
        .kubectl(&[
            "patch",
            "configmap",
            "flags",
            "--type",
            "strategic",
            "-p",
            r#"{"data":{"b":"2"},"datta":{"a":"2"}}"#,
        ])
        .await;
    out.ok().stdout_has("configmap/flags patched");
    assert_eq!(
        out.stderr.trim_end(),
        "Warning: unknown field \"datta\"",
        "{out}"
    );
    let stored = env
        .sim
        .get("v1", "ConfigMap", "default", "flags")
        .expect("stored");
    assert_eq!(stored["data"], serde_json::json!({"b": "2"}));
    assert!(stored.get("datta").is_none());

    let typo = env.file("typo.yaml", &deployment("  replica: 2\n", ""));
    let out = env
        .kubectl(&["apply", "--validate=false", "-f", &typo])
        .await;
    out.ok().stdout_has("deployment.apps/web created");
    assert_eq!(out.stderr, "", "Ignore says nothing: {out}");
    let stored = env
        .sim
        .get("apps/v1", "Deployment", "default", "web")
        .expect("stored");
    assert!(stored.pointer("/spec/replica").is_none());
    assert_eq!(
        stored.pointer("/spec/replicas"),
        Some(&serde_json::json!(1))
    );
}

async fn type_errors_are_bad_requests(minor: u32) {
    let env = Env::start(minor).await;
    let cases = [
        (
            "replicas.yaml",
            deployment("  replicas: two\n", ""),
            "Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32",
        ),
        (
            "secret.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\ndata:\n  password: hello\n".to_string(),
            "Secret in version \"v1\" cannot be handled as a Secret: illegal base64 data at input byte 4",
        ),
        (
            "string-data.yaml",
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: default\nstringData:\n  password:\n    nested: x\n".to_string(),
            "Secret in version \"v1\" cannot be handled as a Secret: json: cannot unmarshal object into Go struct field Secret.stringData of type string",
        ),
        (
            "port.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: default\ndata:\n  port: 8080\n".to_string(),
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string",
        ),
    ];
    for (file, body, message) in cases {
        let path = env.file(file, &body);
        // The directive does not matter: a type error is never let through.
        for validate in ["--validate=strict", "--validate=false"] {
            let out = env.kubectl(&["create", validate, "-f", &path]).await;
            out.failed_with(1);
            assert_eq!(
                first_line(&out.stderr),
                format!(
                    "Error from server (BadRequest): error when creating \"{path}\": {message}"
                ),
                "{out}"
            );
        }
    }
}

async fn value_rules_are_invalid(minor: u32) {
    let env = Env::start(minor).await;
    let pull = env.file(
        "pull.yaml",
        &deployment("", "        imagePullPolicy: Sometimes\n"),
    );
    let out = env.kubectl(&["apply", "-f", &pull]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim_end(),
        "The Deployment \"web\" is invalid: spec.template.spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"IfNotPresent\", \"Never\"",
        "{out}"
    );
    let mismatch = env.file(
        "mismatch.yaml",
        &deployment("", "").replace("        app: web\n    spec:", "        app: api\n    spec:"),
    );
    let out = env
        .kubectl(&["apply", "--server-side", "-f", &mismatch])
        .await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim_end(),
        "The Deployment \"web\" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{\"app\":\"api\"}: `selector` does not match template `labels`",
        "{out}"
    );
    let svc = env.file(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: default\nspec:\n  type: Internal\n  ports:\n  - port: 80\n    protocol: HTTP\n",
    );
    let out = env.kubectl(&["apply", "-f", &svc]).await;
    out.failed_with(1);
    assert_eq!(
        out.stderr.trim_end(),
        "The Service \"web\" is invalid: \n* spec.type: Unsupported value: \"Internal\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"\n* spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", \"UDP\"",
        "{out}"
    );
}
