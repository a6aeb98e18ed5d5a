//! OpenAPI as real kubectl (1.27, 1.32, 1.33) reads it: `kubectl explain` at
//! any depth from OpenAPI v3 and, with `--output plaintext-openapiv2`, from
//! the protobuf v2 document; custom resources explained from their CRD's
//! schema; and client-side apply computing its patches from the published
//! merge keys (a container's `env` merges by name, so a variable another
//! manager added survives an apply that removes one of the file's own).

mod common;

use common::kubectl::Env;

each_version!(
    explain_built_in_kinds_at_depth,
    explain_from_openapi_v2,
    explain_custom_resources,
    client_side_apply_merges_by_published_keys,
);

async fn explain_built_in_kinds_at_depth(minor: u32) {
    let env = Env::start(minor).await;
    env.kubectl(&["explain", "deployment.spec.replicas"])
        .await
        .ok()
        .stdout_has("KIND:       Deployment")
        .stdout_has("FIELD: replicas <integer>")
        .stdout_has("Number of desired pods.");
    env.kubectl(&[
        "explain",
        "deploy.spec.template.spec.containers.livenessProbe.httpGet.port",
    ])
    .await
    .ok()
    .stdout_has("FIELD: port <IntOrString>")
    .stdout_has("Name or number of the port to access on the container.");
    let out = env
        .kubectl(&["explain", "pod.spec.containers.imagePullPolicy"])
        .await;
    out.ok().stdout_has("FIELD: imagePullPolicy <string>");
    if minor > 27 {
        // kubectl 1.27's template prints no enums.
        out.stdout_has("ENUM:").stdout_has("IfNotPresent");
    }
    let out = env
        .kubectl(&["explain", "cronjob.spec.jobTemplate", "--recursive"])
        .await;
    out.ok()
        .stdout_has("backoffLimit\t<integer>")
        .stdout_has("containers\t<[]Container> -required-");
    // A field that is not there is refused as kubectl refuses it.
    let out = env.kubectl(&["explain", "deployment.spec.replica"]).await;
    out.failed_with(1);
    assert!(
        out.stderr.contains("field \"replica\" does not exist"),
        "{out}"
    );
}

async fn explain_from_openapi_v2(minor: u32) {
    let env = Env::start(minor).await;
    env.kubectl(&[
        "explain",
        "service.spec.ports.targetPort",
        "--output",
        "plaintext-openapiv2",
    ])
    .await
    .ok()
    .stdout_has("KIND:     Service")
    .stdout_has("FIELD:    targetPort <string>")
    .stdout_has("Number or name of the port to access on the pods");
}

const WIDGET_CRD: &str = r#"apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [sourceRef]
            properties:
              sourceRef:
                type: object
                description: Where the widget comes from.
                properties:
                  kind:
                    type: string
                    description: Kind of the referent.
                    enum: [GitRepository, OCIRepository]
"#;

async fn explain_custom_resources(minor: u32) {
    let env = Env::start(minor).await;
    env.apply("crd.yaml", WIDGET_CRD).await;
    let found = common::kubectl::eventually(std::time::Duration::from_secs(10), || async {
        env.kubectl(&["explain", "widget.spec"]).await.code == 0
    })
    .await;
    assert!(found, "the CRD's kind is never explained");
    let out = env
        .kubectl(&["explain", "widget.spec.sourceRef.kind"])
        .await;
    out.ok()
        .stdout_has("GROUP:      example.com")
        .stdout_has("FIELD: kind <string>")
        .stdout_has("Kind of the referent.");
    if minor > 27 {
        out.stdout_has("OCIRepository");
    }
    // metadata is ObjectMeta, as in every kind.
    env.kubectl(&["explain", "widget.metadata.ownerReferences.uid"])
        .await
        .ok()
        .stdout_has("FIELD: uid <string>");
}

fn web(env: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web, namespace: default}}\n\
         spec:\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n\
         \x20   spec:\n      containers:\n      - name: c\n        image: nginx:1\n        env: {env}\n"
    )
}

async fn client_side_apply_merges_by_published_keys(minor: u32) {
    let env = Env::start(minor).await;
    env.apply(
        "web.yaml",
        &web(r#"[{name: A, value: "1"}, {name: B, value: "2"}]"#),
    )
    .await;
    env.kubectl(&["set", "env", "deployment/web", "C=3"])
        .await
        .ok();
    env.apply("web.yaml", &web(r#"[{name: A, value: "1"}]"#))
        .await;
    let d = env.get_json(&["deployment", "web"]).await;
    let vars: Vec<(String, String)> = d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .expect("env")
        .iter()
        .map(|e| {
            (
                e["name"].as_str().unwrap_or_default().to_string(),
                e["value"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        vars,
        vec![("A".into(), "1".into()), ("C".into(), "3".into())],
        "B (removed from the file) is gone and C (added by kubectl set env) stays"
    );
}
