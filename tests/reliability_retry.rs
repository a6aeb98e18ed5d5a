//! Retries with a deadline, over kube-sim's fault injection and request log:
//! busy servers are waited out (Retry-After honoured), an endless refusal
//! fails within the deadline naming the object, writes that are not
//! idempotent are sent once, and every apply asks for strict validation and
//! hands back the server's warnings.

mod common;

use common::{synced_shop, Fixture, APP, CONFIGMAP, DEPLOYMENT, SERVICE};
use gitops_tui::cluster::{self, ApplyMode, KindResolver};
use gitops_tui::engine::SyncOptions;
use gitops_tui::model::AppId;
use kube_sim::{Fault, LoggedRequest};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// `[cluster] deadline` in front of the shop app.
fn app_with_deadline(deadline: &str) -> String {
    format!("[cluster]\ndeadline = \"{deadline}\"\n{APP}")
}

fn set_deadline(f: &Fixture, deadline: &str) {
    std::fs::write(&f.config, app_with_deadline(deadline)).expect("config");
}

/// Progress lines the engine reports, collected.
/// An engine whose notices (each wait before a retry among them) are kept.
fn collecting(
    engine: gitops_tui::engine::Engine,
) -> (gitops_tui::engine::Engine, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink_lines = lines.clone();
    engine.on_notice(move |line| {
        sink_lines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line.to_string())
    });
    (engine, lines)
}

fn same_request(a: &LoggedRequest, b: &LoggedRequest) -> bool {
    a.method == b.method && a.path == b.path && a.query == b.query && a.body == b.body
}

fn changed_configmap() -> String {
    CONFIGMAP.replace("blue", "green")
}

#[tokio::test(flavor = "multi_thread")]
async fn three_429s_with_retry_after_are_waited_out_and_the_sync_succeeds() {
    let f = synced_shop(false).await;
    f.commit(
        &[("apps/shop/config.yaml", Some(&changed_configmap()))],
        "green",
    );
    let (engine, lines) = collecting(f.engine());
    f.sim.clear_requests();
    f.sim.inject(Fault::status(429).retry_after(1).times(3));
    let started = Instant::now();
    let report = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(f.cm_data("shop", "settings", "color"), "green");

    // The first request was answered 429 three times and sent four times,
    // each time at least the Retry-After second after the one before.
    let log = f.sim.requests();
    let first = &log[0];
    let repeats: Vec<&LoggedRequest> = log.iter().take(4).collect();
    assert!(
        repeats.iter().all(|r| same_request(r, first)),
        "{:#?}",
        &log[..5]
    );
    assert!(!same_request(&log[4], first), "{:#?}", &log[..5]);
    for pair in repeats.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= Duration::from_millis(990), "waited only {gap:?}");
        assert!(gap < Duration::from_secs(3), "waited {gap:?}");
    }
    let lines = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (i, line) in lines.iter().enumerate() {
        assert!(
            line.ends_with(&format!("API server answered 429; retry {} in 1 s", i + 1)),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_429_fails_sync_and_status_within_the_deadline_naming_the_object() {
    let f = synced_shop(false).await;
    set_deadline(&f, "3s");
    f.sim.inject(Fault::status(429));
    for verb in [&["sync", "shop"][..], &["status"][..]] {
        let started = Instant::now();
        let out = f.cli(verb);
        let took = started.elapsed();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{verb:?}: {stderr}");
        assert!(took < Duration::from_secs(5), "{verb:?} took {took:?}");
        // It waited and said so (how long depends on the jitter: it gives
        // up early when the next wait would pass the deadline).
        assert!(
            stderr.contains("API server answered 429; retry 1 in")
                && stderr.contains("API server answered 429; retry 2 in"),
            "{verb:?}: {stderr}"
        );
        let error = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("{verb:?}: no error line in {stderr}"));
        assert!(
            error.contains("record of app shop (ConfigMap gitops-tui/app-shop)")
                && error.contains("API server answered 429 TooManyRequests for ")
                && error.contains("gave up"),
            "{verb:?}: {error}"
        );
        let progress: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("API server answered 429; retry "))
            .collect();
        assert!(progress.len() >= 3, "{verb:?}: {stderr}");
        // The record's read says its own retries (discovery, read at the
        // same time, may say its first).
        assert!(
            progress
                .iter()
                .any(|l| l.starts_with("GET configmaps gitops-tui/app-shop: ")
                    && l.contains("retry 1 in ")),
            "{verb:?}: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endless_429_on_one_object_fails_the_sync_naming_it() {
    let f = synced_shop(false).await;
    set_deadline(&f, "2s");
    f.commit(
        &[("apps/shop/config.yaml", Some(&changed_configmap()))],
        "green",
    );
    f.sim
        .inject(Fault::status(429).on("PATCH", "/namespaces/shop/configmaps/settings"));
    let started = Instant::now();
    let out = f.cli(&["sync", "shop"]);
    assert!(started.elapsed() < Duration::from_secs(6));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A failed operation (exit 1), the object and the last answer named.
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("ConfigMap shop/settings: API server answered 429 TooManyRequests for ")
            && stdout.contains("gave up"),
        "{stdout}"
    );
    assert!(
        stderr.contains("PATCH configmaps shop/settings: API server answered 429; retry 1 in"),
        "{stderr}"
    );
    assert_eq!(f.cm_data("shop", "settings", "color"), "blue");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_500_during_a_sync_is_retried_and_a_second_sync_finishes_an_endless_one() {
    let f = Fixture::new(&app_with_deadline("2s")).await;
    f.commit(
        &[
            ("apps/shop/deploy.yaml", Some(DEPLOYMENT)),
            ("apps/shop/service.yaml", Some(SERVICE)),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
        ],
        "shop",
    );
    // Two 500s on the Service's apply: absorbed by the retries.
    f.sim.inject(
        Fault::status(500)
            .on("PATCH", "/namespaces/shop/services/web")
            .times(2),
    );
    let report = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    assert!(f.exists("v1", "Service", "shop", "web"));

    // A 500 that does not stop: this sync fails on the Deployment, naming it...
    f.commit(
        &[
            (
                "apps/shop/deploy.yaml",
                Some(&DEPLOYMENT.replace("1.27", "1.28")),
            ),
            ("apps/shop/config.yaml", Some(&changed_configmap())),
        ],
        "web 1.28, green",
    );
    f.sim
        .inject(Fault::status(500).on("PATCH", "/namespaces/shop/deployments/web"));
    let engine = f.engine();
    let report = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(!report.succeeded, "{report:?}");
    let failed = report
        .resources
        .iter()
        .find(|r| r.action == "failed")
        .expect("a failed resource");
    assert_eq!(failed.key.name, "web");
    assert!(
        failed
            .message
            .contains("API server answered 500 InternalError for "),
        "{failed:?}"
    );
    // ...and the next one, the server healthy again, finishes the job.
    f.sim.clear_faults();
    let report = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    assert_eq!(f.cm_data("shop", "settings", "color"), "green");
    let image = f.kubectl_ok(&[
        "get",
        "deploy",
        "web",
        "-n",
        "shop",
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_eq!(image, "nginx:1.28");
    let status = engine.status(&AppId::native("shop")).await.expect("status");
    assert_eq!(
        status.sync,
        gitops_tui::model::SyncStatus::Synced,
        "{status:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn puts_and_posts_are_never_retried() {
    // The record exists: taking the lease is a PUT.
    let f = synced_shop(false).await;
    f.sim.clear_requests();
    f.sim.inject(
        Fault::status(503)
            .retry_after(1)
            .on("PUT", "/configmaps/app-shop"),
    );
    let started = Instant::now();
    let err = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect_err("the lease cannot be written");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(err.to_string().contains("injected fault: 503"), "{err}");
    let puts = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT" && r.path.ends_with("/configmaps/app-shop"))
        .count();
    assert_eq!(puts, 1);

    // A new app has no record yet: taking the lease is a POST.
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    f.sim.inject(
        Fault::status(503)
            .retry_after(1)
            .on("POST", "/namespaces/gitops-tui/configmaps"),
    );
    let err = f
        .engine()
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect_err("the lease cannot be created");
    assert!(err.to_string().contains("injected fault: 503"), "{err}");
    let posts = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/namespaces/gitops-tui/configmaps"))
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_that_does_not_answer_is_worded_timed_out() {
    let f = synced_shop(false).await;
    set_deadline(&f, "2s");
    f.sim.inject(
        Fault::latency(Duration::from_secs(30))
            .on("GET", "/namespaces/gitops-tui/configmaps/app-shop"),
    );
    let started = Instant::now();
    let out = f.cli(&["status"]);
    assert!(started.elapsed() < Duration::from_secs(4));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("record of app shop (ConfigMap gitops-tui/app-shop): timed out: the API server at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(!stderr.contains("cannot reach"), "{stderr}");
}

/// The client's own read timeout (12 s), well inside the deadline: a read is
/// asked again, a write fails at once; both say "timed out".
#[tokio::test(flavor = "multi_thread")]
async fn a_read_timeout_is_retried_for_reads_and_worded_timed_out_for_writes() {
    let read = async {
        let f = synced_shop(false).await;
        set_deadline(&f, "40s");
        f.sim.inject(
            Fault::latency(Duration::from_secs(14))
                .on("GET", "/namespaces/gitops-tui/configmaps/app-shop")
                .times(1),
        );
        let (engine, lines) = collecting(f.engine());
        let status = engine
            .status(&AppId::native("shop"))
            .await
            .expect("the second attempt answers");
        assert_eq!(
            status.sync,
            gitops_tui::model::SyncStatus::Synced,
            "{status:?}"
        );
        let lines = lines.lock().unwrap_or_else(|e| e.into_inner()).clone();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].starts_with(
                "GET configmaps gitops-tui/app-shop: API server timed out; retry 1 in "
            ),
            "{lines:?}"
        );
    };
    let write = async {
        let f = synced_shop(false).await;
        set_deadline(&f, "40s");
        f.sim.inject(
            Fault::latency(Duration::from_secs(14))
                .on("PUT", "/configmaps/app-shop")
                .times(1),
        );
        let started = Instant::now();
        let err = f
            .engine()
            .suspend(&AppId::native("shop"))
            .await
            .expect_err("the write hangs");
        let took = started.elapsed();
        assert!(took < Duration::from_secs(14), "{took:?}");
        let text = err.to_string();
        assert!(
            text.contains("record of app shop (ConfigMap gitops-tui/app-shop): timed out waiting for the API server at http://127.0.0.1:"),
            "{text}"
        );
        assert!(!text.contains("SendRequest"), "{text}");
    };
    tokio::join!(read, write);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_that_does_not_answer_is_sent_once_and_worded_timed_out() {
    let f = synced_shop(false).await;
    set_deadline(&f, "2s");
    f.sim.clear_requests();
    f.sim
        .inject(Fault::latency(Duration::from_secs(30)).on("PUT", "/configmaps/app-shop"));
    let started = Instant::now();
    let err = f
        .engine()
        .suspend(&AppId::native("shop"))
        .await
        .expect_err("the record write hangs");
    assert!(started.elapsed() < Duration::from_secs(4));
    let text = err.to_string();
    assert!(text.contains("timed out"), "{text}");
    assert!(!text.contains("SendRequest"), "{text}");
    let puts = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .count();
    assert_eq!(puts, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dry_run_and_apply_asks_for_strict_field_validation() {
    let f = Fixture::new(APP).await;
    f.commit(
        &[
            ("apps/shop/deploy.yaml", Some(DEPLOYMENT)),
            ("apps/shop/config.yaml", Some(CONFIGMAP)),
        ],
        "shop",
    );
    let engine = f.engine();
    let report = engine
        .sync(&AppId::native("shop"), &SyncOptions::default())
        .await
        .expect("sync runs");
    assert!(report.succeeded, "{report:?}");
    engine.status(&AppId::native("shop")).await.expect("status");
    let applies: Vec<LoggedRequest> = f
        .sim
        .requests()
        .into_iter()
        .filter(|r| r.content_type.starts_with("application/apply-patch"))
        .collect();
    let dry_runs = applies
        .iter()
        .filter(|r| r.param("dryRun").as_deref() == Some("All"))
        .count();
    // Namespace, Deployment and ConfigMap: dry-run and apply each, and the
    // status's dry-run comparisons.
    assert!(
        dry_runs >= 3 && applies.len() - dry_runs >= 3,
        "{applies:#?}"
    );
    for r in &applies {
        assert_eq!(
            r.param("fieldValidation").as_deref(),
            Some("Strict"),
            "{} {}?{}",
            r.method,
            r.path,
            r.query
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_returns_the_servers_warning_headers() {
    let f = synced_shop(false).await;
    let engine = f.engine();
    let cluster = engine
        .cluster_of(&AppId::native("shop"))
        .await
        .expect("cluster");
    let kind = KindResolver::default()
        .resolve(&cluster.client, &cluster.url, "v1", "ConfigMap")
        .await
        .expect("ConfigMap is served");
    f.sim.inject(
        Fault::header("Warning", r#"299 - "unknown field \"datta\"""#)
            .with_header("Warning", r#"299 - "v1 ConfigMap is fine, this is a test""#)
            .on("PATCH", "/namespaces/shop/configmaps/settings")
            .times(1),
    );
    let object = serde_json::json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "settings", "namespace": "shop"},
        "data": {"color": "blue", "size": "3"},
    });
    let applied = cluster::apply(
        &cluster.client,
        &cluster.url,
        &kind,
        &object,
        ApplyMode::DryRun,
        true,
    )
    .await
    .expect("dry-run");
    assert_eq!(
        applied.warnings,
        vec![
            r#"unknown field "datta""#.to_string(),
            "v1 ConfigMap is fine, this is a test".to_string()
        ]
    );
    assert_eq!(applied["data"]["color"], "blue");
    // The next answer carries none.
    let applied = cluster::apply(
        &cluster.client,
        &cluster.url,
        &kind,
        &object,
        ApplyMode::DryRun,
        true,
    )
    .await
    .expect("dry-run");
    assert!(applied.warnings.is_empty(), "{:?}", applied.warnings);
    // A refusal still reads as the server's Status.
    let bad = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "settings", "namespace": "shop"},
    });
    let err = cluster::apply(
        &cluster.client,
        &cluster.url,
        &kind,
        &bad,
        ApplyMode::DryRun,
        true,
    )
    .await
    .expect_err("the kind does not match the URL");
    assert_eq!(err.code(), Some(400), "{err}");
    assert!(
        err.to_string()
            .contains("ConfigMap shop/settings: the kind in the data (Secret)"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kubeconfig_that_cannot_be_read_is_an_error_for_every_verb() {
    let f = Fixture::new(APP).await;
    f.commit(&[("apps/shop/config.yaml", Some(CONFIGMAP))], "one");
    let missing = f.dir.path().join("no-such-kubeconfig");
    let not_yaml = f.dir.path().join("not-a-kubeconfig");
    std::fs::write(&not_yaml, "clusters: [unclosed\n").expect("write");
    for path in [&missing, &not_yaml] {
        for verb in [
            &["status"][..],
            &["status", "-o", "json"],
            &["diff", "shop"],
            &["sync", "shop", "--dry-run"],
            &["history", "shop"],
            &["suspend", "shop"],
        ] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_gitops-tui"))
                .arg("--config")
                .arg(&f.config)
                .arg("--kubeconfig")
                .arg(path)
                .args(verb)
                .env_remove("HTTPS_PROXY")
                .env_remove("https_proxy")
                .output()
                .expect("gitops-tui runs");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(
                out.status.code(),
                Some(2),
                "{verb:?} {}: {stderr}",
                path.display()
            );
            assert!(
                stderr.contains(&path.display().to_string()),
                "{verb:?}: {stderr}"
            );
            assert!(
                out.stdout.is_empty(),
                "{verb:?}: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
    // Nothing was sent anywhere.
    assert!(f.sim.requests().is_empty());
}
