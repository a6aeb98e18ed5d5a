//! What a real cluster starts with and who may do what, seen through the
//! real kubectl 1.27, 1.32 and 1.33: `auth can-i` / `auth whoami` answer from
//! the token map and RBAC table, every namespace gets its `default`
//! ServiceAccount and `kube-root-ca.crt`, and a new server holds the Nodes,
//! Leases, roles and classes of a new cluster.

mod common;

use common::kubectl::{eventually, header, row_named, rows, Env};
use kube_sim::{Options, Rule};
use serde_json::{json, Value};
use std::time::Duration;

each_version!(
    auth_can_i_and_whoami,
    namespaces_get_their_service_account_and_root_ca,
    a_new_cluster_holds_what_a_real_one_does,
    access_reviews_binding_and_drain,
);

async fn auth_can_i_and_whoami(minor: u32) {
    let admin = format!("admin-{minor}");
    let env = Env::with(Options {
        tls: true,
        token: Some(admin.clone()),
        kube_minor: minor,
        ..Options::default()
    })
    .await;
    env.sim.add_user("viewer-token", "viewer");
    env.sim.allow(Rule {
        user: "viewer".into(),
        verbs: vec!["get".into(), "list".into()],
        resources: vec!["configmaps".into()],
        namespace: Some("default".into()),
    });
    let viewer = env.dir.path().join("viewer");
    std::fs::write(
        &viewer,
        env.sim.kubeconfig().replace(&admin, "viewer-token"),
    )
    .expect("kubeconfig written");
    let wrong = env.dir.path().join("wrong");
    std::fs::write(&wrong, env.sim.kubeconfig().replace(&admin, "nobody"))
        .expect("kubeconfig written");

    let out = env
        .kubectl(&["auth", "can-i", "delete", "deployments", "-A"])
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "yes", "{out}");
    let out = env
        .kubectl_with(
            &viewer,
            &["auth", "can-i", "list", "configmaps", "-n", "default"],
        )
        .await;
    out.ok();
    assert_eq!(out.stdout.trim(), "yes", "{out}");
    let out = env
        .kubectl_with(
            &viewer,
            &["auth", "can-i", "delete", "configmaps", "-n", "default"],
        )
        .await;
    out.failed_with(1);
    assert_eq!(out.stdout.trim(), "no", "{out}");
    let out = env
        .kubectl_with(
            &viewer,
            &["auth", "can-i", "list", "configmaps", "-n", "kube-system"],
        )
        .await;
    out.failed_with(1);
    assert_eq!(out.stdout.trim(), "no", "{out}");

    let out = env.kubectl(&["auth", "whoami", "-o", "json"]).await;
    out.ok();
    let me = out.json();
    assert_eq!(
        me["status"]["userInfo"]["username"], "kube-sim-admin",
        "{me}"
    );
    assert_eq!(
        me["status"]["userInfo"]["groups"],
        json!(["system:masters", "system:authenticated"])
    );
    let out = env.kubectl_with(&viewer, &["auth", "whoami"]).await;
    out.ok();
    let table: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        table,
        [
            vec!["ATTRIBUTE", "VALUE"],
            vec!["Username", "viewer"],
            vec!["Groups", "[system:authenticated]"]
        ],
        "{out}"
    );
    let out = env.kubectl_with(&wrong, &["auth", "whoami"]).await;
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.all().contains("Unauthorized") || out.all().contains("provide credentials"),
        "{out}"
    );

    // `--list` (SelfSubjectRulesReview) shows the viewer's rule and nothing more.
    let out = env
        .kubectl_with(&viewer, &["auth", "can-i", "--list", "-n", "default"])
        .await;
    out.ok();
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("configmaps"))
        .unwrap_or_else(|| panic!("no configmaps rule:\n{out}"));
    assert!(line.ends_with("[get list]"), "{out}");
    assert!(!out.stdout.contains("*.*"), "{out}");

    // A service-account token from TokenRequest authenticates as the account.
    let out = env
        .kubectl(&["create", "token", "default", "-n", "default"])
        .await;
    out.ok();
    let sa = env.dir.path().join("sa");
    std::fs::write(&sa, env.sim.kubeconfig().replace(&admin, out.stdout.trim()))
        .expect("kubeconfig written");
    let out = env
        .kubectl_with(&sa, &["auth", "whoami", "-o", "json"])
        .await;
    out.ok();
    assert_eq!(
        out.json()["status"]["userInfo"]["username"],
        "system:serviceaccount:default:default"
    );
    let out = env.kubectl_with(&sa, &["get", "cm"]).await;
    out.failed_with(1)
        .stderr_has("Error from server (Forbidden)");
}

async fn namespaces_get_their_service_account_and_root_ca(minor: u32) {
    let env = Env::start(minor).await;
    env.kubectl(&["create", "namespace", "team"]).await.ok();
    let made = eventually(Duration::from_secs(5), || async {
        env.kubectl(&["get", "sa", "default", "-n", "team"])
            .await
            .code
            == 0
            && env
                .kubectl(&["get", "cm", "kube-root-ca.crt", "-n", "team"])
                .await
                .code
                == 0
    })
    .await;
    assert!(
        made,
        "no default ServiceAccount or kube-root-ca.crt in a new namespace"
    );

    let out = env.kubectl(&["get", "sa", "default", "-n", "team"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "SECRETS", "AGE"]);
    assert_eq!(row_named(&out, "default")[1], "0", "{out}");
    let cm = env
        .get_json(&[
            "cm",
            "kube-root-ca.crt",
            "-n",
            "team",
            "--show-managed-fields",
        ])
        .await;
    let ca = cm["data"]["ca.crt"].as_str().unwrap_or("");
    assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"), "{cm}");
    assert!(cm["metadata"]["ownerReferences"].is_null(), "{cm}");
    assert_eq!(
        cm["metadata"]["managedFields"][0]["manager"], "kube-controller-manager",
        "{cm}"
    );
    let sa = env.get_json(&["sa", "default", "-n", "team"]).await;
    assert!(sa["metadata"]["ownerReferences"].is_null(), "{sa}");

    // Deleted, they come back, as the controllers put them back.
    let uid = sa["metadata"]["uid"].clone();
    env.kubectl(&["delete", "sa", "default", "-n", "team"])
        .await
        .ok();
    env.kubectl(&["delete", "cm", "kube-root-ca.crt", "-n", "team"])
        .await
        .ok();
    let back = eventually(Duration::from_secs(5), || async {
        let out = env
            .kubectl(&[
                "get",
                "sa",
                "default",
                "-n",
                "team",
                "-o",
                "jsonpath={.metadata.uid}",
            ])
            .await;
        out.code == 0
            && !out.stdout.is_empty()
            && Value::String(out.stdout.clone()) != uid
            && env
                .kubectl(&["get", "cm", "kube-root-ca.crt", "-n", "team"])
                .await
                .code
                == 0
    })
    .await;
    assert!(
        back,
        "the default ServiceAccount or kube-root-ca.crt did not come back"
    );
}

async fn a_new_cluster_holds_what_a_real_one_does(minor: u32) {
    let env = Env::start(minor).await;
    let out = env.kubectl(&["get", "nodes"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "STATUS", "ROLES", "AGE", "VERSION"]);
    let names: Vec<String> = rows(&out).into_iter().map(|r| r[0].clone()).collect();
    assert_eq!(
        names,
        [
            "kube-sim-control-plane",
            "kube-sim-worker",
            "kube-sim-worker2"
        ]
    );
    for r in rows(&out) {
        assert_eq!(r[1], "Ready", "{out}");
    }
    let node = env.get_json(&["node", "kube-sim-worker"]).await;
    assert_eq!(node["status"]["capacity"]["pods"], "110", "{node}");
    assert_eq!(node["status"]["allocatable"]["cpu"], "4", "{node}");

    let out = env
        .kubectl(&["get", "leases", "-n", "kube-node-lease"])
        .await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "HOLDER", "AGE"]);
    assert_eq!(
        row_named(&out, "kube-sim-worker")[1],
        "kube-sim-worker",
        "{out}"
    );

    let out = env
        .kubectl(&["get", "endpoints,endpointslices", "-n", "default"])
        .await;
    out.ok().stdout_has("172.18.0.2:6443");

    let out = env.kubectl(&["get", "clusterroles"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "CREATED AT"]);
    for role in [
        "admin",
        "cluster-admin",
        "edit",
        "view",
        "system:basic-user",
        "system:discovery",
    ] {
        row_named(&out, role);
    }
    let out = env
        .kubectl(&["get", "clusterrolebinding", "cluster-admin", "-o", "wide"])
        .await;
    out.ok();
    assert_eq!(
        header(&out),
        ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    );
    let row = row_named(&out, "cluster-admin");
    assert_eq!(
        (row[1].as_str(), row[3].as_str()),
        ("ClusterRole/cluster-admin", "system:masters"),
        "{out}"
    );

    let out = env.kubectl(&["get", "priorityclasses"]).await;
    out.ok();
    assert_eq!(
        header(&out),
        ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
    );
    assert_eq!(
        row_named(&out, "system-node-critical")[1],
        "2000001000",
        "{out}"
    );
    assert_eq!(
        row_named(&out, "system-cluster-critical")[1],
        "2000000000",
        "{out}"
    );

    let out = env.kubectl(&["get", "storageclass"]).await;
    out.ok();
    assert_eq!(
        row_named(&out, "standard")[0],
        "standard (default)",
        "{out}"
    );

    let out = env.kubectl(&["get", "apiservices"]).await;
    out.ok();
    assert_eq!(header(&out), ["NAME", "SERVICE", "AVAILABLE", "AGE"]);
    assert_eq!(row_named(&out, "v1.apps")[1..3], ["Local", "True"], "{out}");

    let out = env.kubectl(&["get", "servicecidrs,ipaddresses"]).await;
    if minor >= 33 {
        out.ok()
            .stdout_has("10.96.0.0/16")
            .stdout_has("services/default/kubernetes");
    } else {
        // Not served before 1.33 (beta, off by default).
        out.failed_with(1)
            .stderr_has("the server doesn't have a resource type");
    }
    // kube-sim's objects are the cluster's, not the seed's.
    let svc = env
        .get_json(&["svc", "kubernetes", "--show-managed-fields"])
        .await;
    assert_eq!(
        svc["metadata"]["managedFields"][0]["manager"], "kube-apiserver",
        "{svc}"
    );
}

async fn access_reviews_binding_and_drain(minor: u32) {
    let env = Env::start(minor).await;
    env.sim.allow(Rule {
        user: "viewer".into(),
        verbs: vec!["list".into()],
        resources: vec!["configmaps".into()],
        namespace: Some("default".into()),
    });
    let sar = |kind: &str, verb: &str, ns: &str| {
        let meta = if kind == "LocalSubjectAccessReview" {
            format!("metadata:\n  namespace: {ns}\n")
        } else {
            String::new()
        };
        format!(
            "apiVersion: authorization.k8s.io/v1\nkind: {kind}\n{meta}spec:\n  user: viewer\n  resourceAttributes:\n    verb: {verb}\n    resource: configmaps\n    namespace: {ns}\n"
        )
    };
    for (kind, verb, ns, allowed) in [
        ("SubjectAccessReview", "list", "default", true),
        ("SubjectAccessReview", "delete", "default", false),
        ("SubjectAccessReview", "list", "kube-system", false),
        ("LocalSubjectAccessReview", "list", "default", true),
    ] {
        let file = env.file("sar.yaml", &sar(kind, verb, ns));
        let out = env.kubectl(&["create", "-o", "json", "-f", &file]).await;
        out.ok();
        assert_eq!(
            out.json()["status"]["allowed"],
            allowed,
            "{kind} {verb} {ns}: {out}"
        );
    }

    // A scheduler's binding puts a pod on a node, once (the pod names its
    // own scheduler, so kube-sim's does not bind it first).
    env.sim
        .seed(json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "solo", "namespace": "default", "labels": {"app": "solo"}},
            "spec": {"schedulerName": "my-scheduler",
                     "containers": [{"name": "c", "image": "busybox:1.36"}]}}))
        .expect("pod seeded");
    let binding = env.file(
        "binding.yaml",
        "apiVersion: v1\nkind: Binding\nmetadata:\n  name: solo\ntarget:\n  apiVersion: v1\n  kind: Node\n  name: kube-sim-worker\n",
    );
    env.kubectl(&["create", "-f", &binding]).await.ok();
    let out = env
        .kubectl(&["get", "pod", "solo", "-o", "jsonpath={.spec.nodeName}"])
        .await;
    out.ok();
    assert_eq!(out.stdout, "kube-sim-worker");
    let out = env.kubectl(&["create", "-f", &binding]).await;
    out.failed_with(1)
        .stderr_has("Error from server (Conflict)")
        .stderr_has("already assigned to node \"kube-sim-worker\"");

    // A PodDisruptionBudget that allows no disruption refuses the eviction
    // of a running pod (429), as kube-apiserver's does.
    let running = eventually(Duration::from_secs(10), || async {
        let out = env
            .kubectl(&["get", "pod", "solo", "-o", "jsonpath={.status.phase}"])
            .await;
        out.stdout == "Running"
    })
    .await;
    assert!(running, "the pod never ran");
    let pdb = env.file(
        "pdb.yaml",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: solo\n  namespace: default\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: solo\n",
    );
    env.kubectl(&["apply", "--server-side", "-f", &pdb])
        .await
        .ok();
    // The disruption controller counts the one healthy pod: no room.
    let counted = eventually(Duration::from_secs(10), || async {
        let b = env.get_json(&["pdb", "solo"]).await;
        b["status"]["observedGeneration"] == 1 && b["status"]["currentHealthy"] == 1
    })
    .await;
    assert!(counted, "{}", env.get_json(&["pdb", "solo"]).await);
    let out = env
        .kubectl(&["drain", "kube-sim-worker", "--force", "--timeout=2s"])
        .await;
    assert_ne!(out.code, 0, "{out}");
    assert!(
        out.all()
            .contains("Cannot evict pod as it would violate the pod's disruption budget"),
        "{out}"
    );
    env.kubectl(&["get", "pod", "solo"]).await.ok();
    // Once the budget allows one disruption, the eviction spends it.
    env.kubectl(&[
        "patch",
        "pdb",
        "solo",
        "--type=merge",
        "-p",
        r#"{"spec":{"minAvailable":0}}"#,
    ])
    .await
    .ok();
    let room = eventually(Duration::from_secs(10), || async {
        env.get_json(&["pdb", "solo"]).await["status"]["disruptionsAllowed"] == 1
    })
    .await;
    assert!(room, "{}", env.get_json(&["pdb", "solo"]).await);

    // `kubectl drain` cordons the node and evicts its pods (pods/eviction).
    let out = env
        .kubectl(&[
            "drain",
            "kube-sim-worker",
            "--force",
            "--ignore-daemonsets",
            "--timeout=20s",
        ])
        .await;
    out.ok();
    assert!(out.all().contains("pod/solo evicted"), "{out}");
    let out = env.kubectl(&["get", "pod", "solo"]).await;
    out.failed_with(1).stderr_has("NotFound");
    // The pod is gone, so the controller drops it from disruptedPods and
    // counts no pods: no disruption allowed.
    let settled = eventually(Duration::from_secs(10), || async {
        let b = env.get_json(&["pdb", "solo"]).await;
        b["status"]["disruptionsAllowed"] == 0
            && b["status"]["expectedPods"] == 0
            && b["status"].get("disruptedPods").is_none()
    })
    .await;
    assert!(settled, "{}", env.get_json(&["pdb", "solo"]).await);
    let out = env.kubectl(&["get", "nodes"]).await;
    out.ok();
    assert_eq!(
        row_named(&out, "kube-sim-worker")[1],
        "Ready,SchedulingDisabled",
        "{out}"
    );
}
