//! "Real-client acceptance" items 1–7 of `shared/design/kube-sim.md`: the
//! real `kubectl` against an in-process kube-sim, once per kubectl version the
//! list asks for (1.27, the default 1.32, and 1.33). Items 8–14 are in
//! `kubectl_acceptance_more.rs`.

mod common;

use common::kubectl::{deploy_with_image, Env, CM_X, DEPLOY};
use serde_json::{json, Value};

// One `#[tokio::test]` per kubectl version for each item function.
each_version!(
    item01_discovery_and_gets,
    item02_server_side_apply_defaults,
    item03_diff,
    item04_conflicts,
    item05_server_dry_run,
    item06_client_side_apply_and_migration,
    item07_selectors_and_chunks,
);

fn yaml(text: &str) -> Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("not YAML ({e}):\n{text}"))
}

/// The first column of each row of a `kubectl get` table, header skipped.
fn names(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

fn managed<'a>(obj: &'a Value, manager: &str, operation: &str) -> Option<&'a Value> {
    obj["metadata"]["managedFields"]
        .as_array()?
        .iter()
        .find(|e| e["manager"] == manager && e["operation"] == operation)
}

async fn item01_discovery_and_gets(minor: u32) {
    let env = Env::start(minor).await;

    // The dispatcher picked kubectl.1.<minor> from the server's /version.
    let v = env.kubectl(&["version", "-o", "json"]).await;
    v.ok();
    let v = v.json();
    // The dispatcher is itself a 1.32 build and reports "32+" when it runs.
    let client_minor = v["clientVersion"]["minor"].as_str().unwrap_or("");
    assert_eq!(client_minor.trim_end_matches('+'), minor.to_string(), "{v}");
    assert_eq!(v["serverVersion"]["minor"], minor.to_string(), "{v}");
    assert_eq!(v["serverVersion"]["gitVersion"], format!("v1.{minor}.0"));

    let out = env.kubectl(&["api-resources"]).await;
    out.ok();
    for (name, short, api_version, namespaced, kind) in [
        ("configmaps", "cm", "v1", "true", "ConfigMap"),
        ("namespaces", "ns", "v1", "false", "Namespace"),
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        (
            "customresourcedefinitions",
            "crd,crds",
            "apiextensions.k8s.io/v1",
            "false",
            "CustomResourceDefinition",
        ),
    ] {
        let row = out
            .stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("api-resources lacks {name}:\n{out}"));
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells, [name, short, api_version, namespaced, kind], "{row}");
    }

    let out = env.kubectl(&["get", "ns"]).await;
    out.ok();
    assert_eq!(
        names(&out.stdout),
        ["default", "kube-node-lease", "kube-public", "kube-system"],
        "{out}"
    );
    for line in out.stdout.lines().skip(1) {
        assert_eq!(line.split_whitespace().nth(1), Some("Active"), "{out}");
    }

    // Nothing in the `all` category yet but the cluster's own `kubernetes`
    // Service, as in a new cluster.
    let out = env.kubectl(&["get", "all", "-A"]).await;
    out.ok();
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .filter(|r: &Vec<&str>| !r.is_empty())
        .collect();
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(
        rows[0][..4],
        ["default", "service/kubernetes", "ClusterIP", "10.96.0.1"],
        "{out}"
    );

    env.sim.seed(yaml(DEPLOY)).expect("deployment seeded");
    env.sim
        .seed(json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "kube-public"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}))
        .expect("service seeded");
    env.sim
        .seed(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "not-in-all", "namespace": "default"}}))
        .expect("configmap seeded");
    let out = env.kubectl(&["get", "all", "-A"]).await;
    out.ok();
    let deploy = out
        .stdout
        .lines()
        .find(|l| l.contains("deployment.apps/web"))
        .unwrap_or_else(|| panic!("get all lacks the deployment:\n{out}"));
    assert!(deploy.starts_with("default "), "{out}");
    let svc = out
        .stdout
        .lines()
        .find(|l| l.contains("service/web"))
        .unwrap_or_else(|| panic!("get all lacks the service:\n{out}"));
    assert!(svc.starts_with("kube-public "), "{out}");
    assert!(svc.contains("ClusterIP"), "service columns: {out}");
    assert!(!out.stdout.contains("not-in-all"), "{out}");
}

async fn item02_server_side_apply_defaults(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("deploy.yaml", DEPLOY);
    let out = env.kubectl(&["apply", "--server-side", "-f", &f]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "deployment.apps/web serverside-applied");

    let out = env.kubectl(&["get", "deploy", "web", "-o", "yaml"]).await;
    out.ok();
    let d = yaml(&out.stdout);
    assert!(
        d["metadata"].get("managedFields").is_none(),
        "kubectl hides managedFields by default"
    );
    let spec = &d["spec"];
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(spec["progressDeadlineSeconds"], 600);
    assert_eq!(
        spec["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}})
    );
    let pod = &spec["template"]["spec"];
    assert_eq!(pod["restartPolicy"], "Always");
    assert_eq!(pod["dnsPolicy"], "ClusterFirst");
    assert_eq!(pod["schedulerName"], "default-scheduler");
    assert_eq!(pod["securityContext"], json!({}));
    assert_eq!(pod["terminationGracePeriodSeconds"], 30);
    let c = &pod["containers"][0];
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["resources"], json!({}));
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(
        c["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    assert_eq!(d["metadata"]["generation"], 1);
    assert!(d["metadata"]["uid"].as_str().is_some_and(|u| !u.is_empty()));

    let out = env
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-o",
            "yaml",
            "--show-managed-fields",
        ])
        .await;
    out.ok();
    let d = yaml(&out.stdout);
    let entry = managed(&d, "kubectl", "Apply")
        .unwrap_or_else(|| panic!("no Apply entry for kubectl:\n{out}"));
    assert_eq!(entry["apiVersion"], "apps/v1");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert!(entry["time"].as_str().is_some_and(|t| t.ends_with('Z')));
    let container = &entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
        ["k:{\"name\":\"web\"}"];
    assert_eq!(container["f:image"], json!({}), "{entry}");
    assert_eq!(
        container["f:ports"]["k:{\"containerPort\":80,\"protocol\":\"TCP\"}"]["f:containerPort"],
        json!({}),
        "{entry}"
    );
    // Defaults are not the applier's.
    assert!(container.get("f:imagePullPolicy").is_none(), "{entry}");
    assert!(entry["fieldsV1"]["f:spec"].get("f:replicas").is_none());
}

async fn item03_diff(minor: u32) {
    let env = Env::start(minor).await;
    let same = env.file("deploy.yaml", DEPLOY);
    env.kubectl(&["apply", "--server-side", "-f", &same])
        .await
        .ok();
    // Compare once the controllers are done with it: a status written
    // between kubectl's read of the live object and its dry-run is a real
    // difference (on a real cluster too), not the one this test is about.
    let settled = common::kubectl::eventually(std::time::Duration::from_secs(20), || async {
        let d = env.get_json(&["deployment", "web"]).await;
        d["status"]["availableReplicas"] == d["spec"]["replicas"]
            && d["status"]["observedGeneration"] == d["metadata"]["generation"]
    })
    .await;
    assert!(settled, "the Deployment never became available");

    let out = env.kubectl(&["diff", "--server-side", "-f", &same]).await;
    assert_eq!(out.code, 0, "no difference:\n{out}");
    assert_eq!(out.stdout, "", "{out}");

    let changed = env.file("changed.yaml", &deploy_with_image("nginx:1.26"));
    let out = env
        .kubectl(&["diff", "--server-side", "-f", &changed])
        .await;
    assert_eq!(out.code, 1, "a difference:\n{out}");
    out.stdout_has("-      - image: nginx:1.25")
        .stdout_has("+      - image: nginx:1.26")
        .stdout_has("-  generation: 1")
        .stdout_has("+  generation: 2");
    let hunk_lines: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| {
            (l.starts_with('+') || l.starts_with('-'))
                && !l.starts_with("+++")
                && !l.starts_with("---")
        })
        .collect();
    assert_eq!(
        hunk_lines.len(),
        4,
        "only image and generation differ:\n{out}"
    );

    // diff is a dry run: the live object is unchanged.
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );
    assert_eq!(d["metadata"]["generation"], 1);

    let missing = env.dir.path().join("no-such.yaml");
    let out = env
        .kubectl(&["diff", "--server-side", "-f", &missing.to_string_lossy()])
        .await;
    assert!(out.code > 1, "an error is exit > 1:\n{out}");
    out.stderr_has("does not exist");
}

async fn item04_conflicts(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("deploy.yaml", DEPLOY);
    env.kubectl(&["apply", "--server-side", "-f", &f])
        .await
        .ok();
    let changed = env.file("changed.yaml", &deploy_with_image("nginx:1.26"));

    let out = env
        .kubectl(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "-f",
            &changed,
        ])
        .await;
    out.failed_with(1).stderr_has(
        "Apply failed with 1 conflict: conflict with \"kubectl\": \
         .spec.template.spec.containers[name=\"web\"].image",
    );
    let d = env.get_json(&["deploy", "web"]).await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.25"
    );

    let out = env
        .kubectl(&[
            "apply",
            "--server-side",
            "--field-manager=other",
            "--force-conflicts",
            "-f",
            &changed,
        ])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "deployment.apps/web serverside-applied");
    let d = env
        .get_json(&["deploy", "web", "--show-managed-fields"])
        .await;
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1.26"
    );
    assert_eq!(d["metadata"]["generation"], 2);
    let image_of = |manager: &str| {
        managed(&d, manager, "Apply").map(|e| {
            e["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]["k:{\"name\":\"web\"}"]
                .get("f:image")
                .is_some()
        })
    };
    assert_eq!(image_of("other"), Some(true), "other took the image: {d}");
    assert_eq!(
        image_of("kubectl"),
        Some(false),
        "kubectl lost the image: {d}"
    );

    // Applying the old image as kubectl now conflicts with "other".
    let out = env.kubectl(&["apply", "--server-side", "-f", &f]).await;
    out.failed_with(1).stderr_has("conflict with \"other\"");
}

async fn item05_server_dry_run(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("deploy.yaml", DEPLOY);
    env.kubectl(&["apply", "--server-side", "-f", &f])
        .await
        .ok();
    // Let the simulated controller settle, so nothing else writes meanwhile.
    env.kubectl(&["rollout", "status", "deploy/web", "--timeout=30s"])
        .await
        .ok();
    let rv = || {
        env.sim
            .get("apps/v1", "Deployment", "default", "web")
            .map(|d| d["metadata"]["resourceVersion"].clone())
    };
    // ...and stop writing: the version holds for half a second.
    let mut last = rv();
    let mut settled = false;
    for _ in 0..20 {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let now = rv();
        if now == last {
            settled = true;
            break;
        }
        last = now;
    }
    assert!(settled, "the controller keeps writing the deployment");
    let before = env
        .get_json(&["deploy", "web", "--show-managed-fields"])
        .await;

    let changed = env.file("changed.yaml", &deploy_with_image("nginx:1.27"));
    let out = env
        .kubectl(&["apply", "--server-side", "--dry-run=server", "-f", &changed])
        .await;
    out.ok();
    assert_eq!(
        out.stdout.trim(),
        "deployment.apps/web serverside-applied (server dry run)"
    );
    let out = env
        .kubectl(&[
            "apply",
            "--server-side",
            "--dry-run=server",
            "-f",
            &changed,
            "-o",
            "json",
        ])
        .await;
    out.ok();
    let dry = out.json();
    assert_eq!(
        dry["spec"]["template"]["spec"]["containers"][0]["image"], "nginx:1.27",
        "the dry run shows the result"
    );
    assert_eq!(dry["metadata"]["generation"], 2);
    assert_eq!(
        dry["metadata"]["resourceVersion"], before["metadata"]["resourceVersion"],
        "a dry run keeps the live resourceVersion"
    );

    let after = env
        .get_json(&["deploy", "web", "--show-managed-fields"])
        .await;
    assert_eq!(after, before, "the live object is unchanged");

    // A dry-run conflict is still reported.
    let out = env
        .kubectl(&[
            "apply",
            "--server-side",
            "--dry-run=server",
            "--field-manager=other",
            "-f",
            &changed,
        ])
        .await;
    out.failed_with(1).stderr_has("conflict with \"kubectl\"");
}

async fn item06_client_side_apply_and_migration(minor: u32) {
    let env = Env::start(minor).await;
    let f = env.file("cm.yaml", CM_X);
    let out = env.kubectl(&["apply", "-f", &f]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x created");
    let cm = env.get_json(&["cm", "x", "--show-managed-fields"]).await;
    let last = cm["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
        .as_str()
        .unwrap_or_else(|| panic!("no last-applied annotation: {cm}"));
    let last: Value = serde_json::from_str(last).expect("last-applied is JSON");
    assert_eq!(last["data"], json!({"a": "1", "b": "2"}));
    assert!(
        managed(&cm, "kubectl-client-side-apply", "Update").is_some(),
        "{cm}"
    );

    // Client-side to server-side migration.
    let out = env.kubectl(&["apply", "--server-side", "-f", &f]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/x serverside-applied");
    let cm = env.get_json(&["cm", "x", "--show-managed-fields"]).await;
    let apply = managed(&cm, "kubectl", "Apply")
        .unwrap_or_else(|| panic!("no Apply entry after migration: {cm}"));
    assert!(apply["fieldsV1"]["f:data"].get("f:b").is_some(), "{cm}");
    let csa_owns_b = managed(&cm, "kubectl-client-side-apply", "Update")
        .is_some_and(|e| e["fieldsV1"]["f:data"].get("f:b").is_some());
    assert!(!csa_owns_b, "client-side apply no longer owns data.b: {cm}");

    // Ownership moved: a server-side apply that drops b removes it.
    let without_b = env.file("cm-without-b.yaml", &CM_X.replace("  b: \"2\"\n", ""));
    env.kubectl(&["apply", "--server-side", "-f", &without_b])
        .await
        .ok();
    let cm = env.get_json(&["cm", "x"]).await;
    assert_eq!(cm["data"], json!({"a": "1"}), "{cm}");

    // Plain client-side apply: dropping a key from the config removes it.
    let csa = CM_X
        .replace("name: x", "name: csa")
        .replace("  labels:\n    app: web\n", "");
    let f = env.file("csa.yaml", &csa);
    env.kubectl(&["apply", "-f", &f]).await.ok();
    let f2 = env.file(
        "csa-without-b.yaml",
        &csa.replace("  b: \"2\"\n", "  c: \"3\"\n"),
    );
    let out = env.kubectl(&["apply", "-f", &f2]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/csa configured");
    let cm = env.get_json(&["cm", "csa"]).await;
    assert_eq!(cm["data"], json!({"a": "1", "c": "3"}), "{cm}");
    let out = env.kubectl(&["apply", "-f", &f2]).await;
    out.ok();
    assert_eq!(out.stdout.trim(), "configmap/csa unchanged");
}

async fn item07_selectors_and_chunks(minor: u32) {
    let env = Env::start(minor).await;
    for (name, labels) in [
        ("x", json!({"app": "web"})),
        ("other", json!({"app": "db"})),
        ("plain", json!({})),
    ] {
        env.sim
            .seed(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": "default", "labels": labels},
                "data": {"k": "v"}}))
            .expect("seeded");
    }
    let get = |args: Vec<&'static str>| {
        let env = &env;
        async move {
            let mut all = vec!["get", "cm"];
            all.extend(args);
            let out = env.kubectl(&all).await;
            out.ok();
            let first = out.stdout.lines().next().unwrap_or("");
            assert!(first.starts_with("NAME"), "a table: {out}");
            assert!(first.contains("DATA"), "ConfigMap columns: {out}");
            names(&out.stdout)
        }
    };
    assert_eq!(get(vec!["-l", "app=web"]).await, ["x"]);
    // The namespace's own kube-root-ca.crt has no labels, as on a cluster.
    assert_eq!(
        get(vec!["-l", "app!=web"]).await,
        ["kube-root-ca.crt", "other", "plain"]
    );
    assert_eq!(get(vec!["-l", "app in (web,db)"]).await, ["other", "x"]);
    assert_eq!(get(vec!["-l", "!app"]).await, ["kube-root-ca.crt", "plain"]);
    assert_eq!(
        get(vec!["--field-selector", "metadata.name=x"]).await,
        ["x"]
    );
    assert_eq!(
        get(vec!["--field-selector", "metadata.name!=x"]).await,
        ["kube-root-ca.crt", "other", "plain"]
    );

    env.sim.clear_requests();
    assert_eq!(
        get(vec!["--chunk-size=1"]).await,
        ["kube-root-ca.crt", "other", "plain", "x"]
    );
    let lists: Vec<_> = env
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces/default/configmaps")
        .collect();
    assert_eq!(lists.len(), 4, "one request per chunk: {lists:?}");
    assert!(lists
        .iter()
        .all(|r| r.param("limit").as_deref() == Some("1")));
    assert!(lists[0].param("continue").is_none());
    assert!(lists[1..].iter().all(|r| r.param("continue").is_some()));

    let out = env
        .kubectl(&["get", "cm", "--field-selector", "data.k=v"])
        .await;
    out.failed_with(1)
        .stderr_has("Error from server (BadRequest)")
        .stderr_has("data.k");
}
