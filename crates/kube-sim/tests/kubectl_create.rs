//! kubectl's typed generators (`kubectl create configmap|secret|namespace|
//! deployment|service|serviceaccount|job|cronjob|role|rolebinding|clusterrole|
//! clusterrolebinding|ingress`) send protobuf bodies, unlike `apply`, `run`
//! and `expose`, which send JSON. These run the real kubectl against an
//! in-process kube-sim and check what got stored.

use kube_sim::{KubeSim, Options};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tempfile::TempDir;

struct Env {
    sim: KubeSim,
    _dir: TempDir,
    kubeconfig: PathBuf,
    cache: PathBuf,
}

impl Env {
    async fn start(kube_minor: u32) -> Env {
        let sim = KubeSim::start(Options {
            kube_minor,
            ..Options::default()
        })
        .await
        .expect("kube-sim starts");
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig");
        sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
        let cache = dir.path().join("cache");
        Env {
            sim,
            _dir: dir,
            kubeconfig,
            cache,
        }
    }

    /// Run kubectl and insist it succeeds; returns its stdout.
    async fn kubectl(&self, args: &[&str]) -> String {
        let run = tokio::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(&self.cache)
            .args(args)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("HTTP_PROXY")
            .env_remove("http_proxy")
            .env_remove("KUBECONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output();
        let out = tokio::time::timeout(Duration::from_secs(30), run)
            .await
            .unwrap_or_else(|_| panic!("kubectl {args:?} timed out"))
            .expect("kubectl runs (is it on PATH?)");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    #[track_caller]
    fn stored(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Value {
        self.sim
            .get(api_version, kind, ns, name)
            .unwrap_or_else(|| panic!("{kind} {ns}/{name} was not stored"))
    }

    /// The protobuf requests kubectl made, so a test can tell it was protobuf.
    fn protobuf_posts(&self) -> usize {
        self.sim
            .requests()
            .iter()
            .filter(|r| r.content_type.contains("vnd.kubernetes.protobuf"))
            .count()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_secret_namespace_serviceaccount() {
    let env = Env::start(32).await;
    env.kubectl(&[
        "create",
        "configmap",
        "cm",
        "--from-literal=a=b",
        "--from-literal=empty=",
    ])
    .await;
    let cm = env.stored("v1", "ConfigMap", "default", "cm");
    assert_eq!(cm["data"], json!({"a": "b", "empty": ""}));
    assert!(cm["metadata"]["uid"].is_string());
    assert!(cm["metadata"]["creationTimestamp"].is_string());

    env.kubectl(&[
        "create",
        "secret",
        "generic",
        "s",
        "--from-literal=k=v",
        "--type=Opaque",
    ])
    .await;
    let s = env.stored("v1", "Secret", "default", "s");
    assert_eq!(s["data"], json!({"k": "dg=="}));
    assert_eq!(s["type"], "Opaque");

    env.kubectl(&[
        "create",
        "secret",
        "docker-registry",
        "reg",
        "--docker-server=r.example",
        "--docker-username=u",
        "--docker-password=p",
    ])
    .await;
    let reg = env.stored("v1", "Secret", "default", "reg");
    assert_eq!(reg["type"], "kubernetes.io/dockerconfigjson");
    assert!(reg["data"][".dockerconfigjson"].is_string());

    env.kubectl(&["create", "namespace", "team-a"]).await;
    let ns = env.stored("v1", "Namespace", "", "team-a");
    assert_eq!(ns["status"]["phase"], "Active");

    env.kubectl(&["create", "serviceaccount", "robot", "-n", "team-a"])
        .await;
    env.stored("v1", "ServiceAccount", "team-a", "robot");

    // kubectl reads kube-sim's JSON answers although it asked for protobuf first.
    let got = env
        .kubectl(&["get", "configmap", "cm", "-o", "jsonpath={.data.a}"])
        .await;
    assert_eq!(got, "b");
    assert!(env.protobuf_posts() >= 5, "kubectl sent no protobuf");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_service_job_cronjob() {
    let env = Env::start(32).await;
    env.kubectl(&[
        "create",
        "deployment",
        "web",
        "--image=nginx:1.27",
        "--replicas=3",
        "--port=80",
    ])
    .await;
    let d = env.stored("apps/v1", "Deployment", "default", "web");
    assert_eq!(d["metadata"]["labels"], json!({"app": "web"}));
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["selector"],
        json!({"matchLabels": {"app": "web"}})
    );
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["name"], "nginx");
    assert_eq!(c["image"], "nginx:1.27");
    assert_eq!(
        c["ports"],
        json!([{"containerPort": 80, "protocol": "TCP"}])
    );
    // Defaults applied as for a JSON body.
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(d["spec"]["strategy"]["type"], "RollingUpdate");
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);

    // `--replicas=0` is a set pointer: it must not become the default 1.
    env.kubectl(&[
        "create",
        "deployment",
        "idle",
        "--image=busybox",
        "--replicas=0",
    ])
    .await;
    assert_eq!(
        env.stored("apps/v1", "Deployment", "default", "idle")["spec"]["replicas"],
        0
    );

    env.kubectl(&[
        "create",
        "service",
        "clusterip",
        "web",
        "--tcp=80:8080",
        "--tcp=443:https",
    ])
    .await;
    let svc = env.stored("v1", "Service", "default", "web");
    assert_eq!(svc["spec"]["type"], "ClusterIP");
    assert_eq!(svc["spec"]["selector"], json!({"app": "web"}));
    let ports = &svc["spec"]["ports"];
    assert_eq!(ports[0]["port"], 80);
    assert_eq!(ports[0]["targetPort"], 8080);
    assert_eq!(ports[1]["port"], 443);
    assert_eq!(ports[1]["targetPort"], "https");
    assert!(svc["spec"]["clusterIP"].is_string());

    env.kubectl(&[
        "create",
        "service",
        "nodeport",
        "np",
        "--tcp=80:8080",
        "--node-port=30080",
    ])
    .await;
    let np = env.stored("v1", "Service", "default", "np");
    assert_eq!(np["spec"]["type"], "NodePort");
    assert_eq!(np["spec"]["ports"][0]["nodePort"], 30080);

    env.kubectl(&[
        "create",
        "job",
        "once",
        "--image=busybox",
        "--",
        "echo",
        "hi",
    ])
    .await;
    let job = env.stored("batch/v1", "Job", "default", "once");
    let c = &job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "busybox");
    assert_eq!(c["command"], json!(["echo", "hi"]));
    assert_eq!(job["spec"]["template"]["spec"]["restartPolicy"], "Never");

    env.kubectl(&[
        "create",
        "cronjob",
        "tick",
        "--image=busybox",
        "--schedule=*/5 * * * *",
        "--",
        "date",
    ])
    .await;
    let cj = env.stored("batch/v1", "CronJob", "default", "tick");
    assert_eq!(cj["spec"]["schedule"], "*/5 * * * *");
    let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][0]["command"], json!(["date"]));
    assert_eq!(pod["restartPolicy"], "OnFailure");

    // A Job from the CronJob: ownerReferences (with pointer bools) go through protobuf too.
    env.kubectl(&["create", "job", "manual", "--from=cronjob/tick"])
        .await;
    let manual = env.stored("batch/v1", "Job", "default", "manual");
    let owner = &manual["metadata"]["ownerReferences"][0];
    assert_eq!(owner["kind"], "CronJob");
    assert_eq!(owner["name"], "tick");
    assert_eq!(owner["controller"], true);
    assert_eq!(owner["uid"], cj["metadata"]["uid"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rbac_and_ingress() {
    let env = Env::start(32).await;
    env.kubectl(&[
        "create",
        "role",
        "reader",
        "--verb=get,list",
        "--resource=pods,deployments.apps",
        "--resource-name=a",
    ])
    .await;
    let role = env.stored("rbac.authorization.k8s.io/v1", "Role", "default", "reader");
    assert_eq!(
        role["rules"],
        json!([
            {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["a"]},
            {"verbs": ["get", "list"], "apiGroups": ["apps"], "resources": ["deployments"], "resourceNames": ["a"]},
        ])
    );

    env.kubectl(&[
        "create",
        "clusterrole",
        "health",
        "--verb=get",
        "--non-resource-url=/healthz",
    ])
    .await;
    let cr = env.stored("rbac.authorization.k8s.io/v1", "ClusterRole", "", "health");
    assert_eq!(
        cr["rules"],
        json!([{"verbs": ["get"], "nonResourceURLs": ["/healthz"]}])
    );

    env.kubectl(&[
        "create",
        "clusterrole",
        "agg",
        "--aggregation-rule=rbac.example.com/aggregate=true",
    ])
    .await;
    let agg = env.stored("rbac.authorization.k8s.io/v1", "ClusterRole", "", "agg");
    assert_eq!(
        agg["aggregationRule"]["clusterRoleSelectors"],
        json!([{"matchLabels": {"rbac.example.com/aggregate": "true"}}])
    );

    env.kubectl(&[
        "create",
        "rolebinding",
        "read",
        "--role=reader",
        "--user=alice",
        "--group=devs",
        "--serviceaccount=default:robot",
    ])
    .await;
    let rb = env.stored(
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        "default",
        "read",
    );
    assert_eq!(
        rb["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"})
    );
    let subjects = rb["subjects"].as_array().expect("subjects");
    assert_eq!(subjects.len(), 3);
    assert!(subjects
        .contains(&json!({"kind": "ServiceAccount", "name": "robot", "namespace": "default"})));
    assert!(subjects.contains(
        &json!({"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alice"})
    ));

    env.kubectl(&[
        "create",
        "clusterrolebinding",
        "health",
        "--clusterrole=health",
        "--user=bob",
    ])
    .await;
    let crb = env.stored(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "",
        "health",
    );
    assert_eq!(crb["roleRef"]["kind"], "ClusterRole");
    assert_eq!(crb["subjects"][0]["name"], "bob");

    env.kubectl(&[
        "create",
        "ingress",
        "site",
        "--class=nginx",
        "--rule=foo.com/bar*=svc1:8080,tls=my-cert",
        "--rule=/path=svc2:http",
        "--default-backend=defsvc:80",
        "--annotation=a=b",
    ])
    .await;
    let ing = env.stored("networking.k8s.io/v1", "Ingress", "default", "site");
    assert_eq!(ing["metadata"]["annotations"], json!({"a": "b"}));
    let spec = &ing["spec"];
    assert_eq!(spec["ingressClassName"], "nginx");
    assert_eq!(
        spec["defaultBackend"],
        json!({"service": {"name": "defsvc", "port": {"number": 80}}})
    );
    assert_eq!(
        spec["rules"][0],
        json!({"host": "foo.com", "http": {"paths": [
            {"path": "/bar", "pathType": "Prefix",
             "backend": {"service": {"name": "svc1", "port": {"number": 8080}}}}]}})
    );
    assert_eq!(
        spec["rules"][1]["http"]["paths"][0]["backend"]["service"]["port"],
        json!({"name": "http"})
    );
    assert_eq!(
        spec["tls"],
        json!([{"hosts": ["foo.com"], "secretName": "my-cert"}])
    );
}

/// The oldest and newest kubectl the dispatcher offers (1.27 still sends
/// JSON; 1.33 sends protobuf, maybe with fields 1.32 lacks, which are skipped).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_kubectl_versions() {
    for minor in [27, 33] {
        let env = Env::start(minor).await;
        env.kubectl(&[
            "create",
            "deployment",
            "web",
            "--image=nginx",
            "--replicas=2",
        ])
        .await;
        let d = env.stored("apps/v1", "Deployment", "default", "web");
        assert_eq!(d["spec"]["replicas"], 2, "kubectl 1.{minor}");
        env.kubectl(&["create", "secret", "generic", "s", "--from-literal=k=v"])
            .await;
        assert_eq!(
            env.stored("v1", "Secret", "default", "s")["data"]["k"],
            "dg=="
        );
        if minor >= 33 {
            assert!(
                env.protobuf_posts() >= 2,
                "kubectl 1.{minor} sent no protobuf"
            );
        }
    }
}
