//! Status in two passes (`Engine::status_first`, then `Engine::refine`, as
//! the TUI's first screen shows them; `Engine::status` does both): the first
//! sends no dry-run, the second only for the objects the first could not
//! trust, and the refined status is the single-pass status with a dry-run
//! per object (`Engine::status_single_pass`), object for object: status,
//! diff, health and takeover, and the app's counts, sync, health and message.

mod common;

use common::*;
use gitops_tui::model::{AppId, AppStatus, ResourceStatus};

const FLAGS: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  beta: \"on\"\n  legacy: \"off\"\n";
const FLAGS_CHANGED: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: flags\ndata:\n  beta: \"off\"\n";
const SERVICE_DEFAULTS: &str = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  selector: {app: web}\n  ports:\n  - port: 80\n    protocol: TCP\n    targetPort: 80\n";
const CACHE: &str =
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cache\ndata:\n  size: 1Gi\n";
const NEW: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\ndata:\n  a: b\n";

fn dry_runs(f: &Fixture) -> usize {
    f.sim
        .requests()
        .iter()
        .filter(|r| r.method == "PATCH" && r.param("dryRun").as_deref() == Some("All"))
        .count()
}

fn rows(s: &AppStatus) -> Vec<(String, ResourceStatus, String, String)> {
    s.resources
        .iter()
        .map(|r| {
            (
                r.key.to_string(),
                r.status,
                r.diff.clone(),
                format!("{:?} {} {:?}", r.health, r.health_reason, r.takeover),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_refined_first_screen_is_todays_status_object_for_object() {
    let f = synced_shop(false).await;
    f.commit(
        &[
            ("apps/shop/flags.yaml", Some(FLAGS)),
            ("apps/shop/cache.yaml", Some(CACHE)),
        ],
        "flags and cache",
    );
    let shop = AppId::native("shop");
    let report = f
        .engine()
        .sync(&shop, &Default::default())
        .await
        .expect("sync");
    assert!(report.succeeded, "{report:?}");

    // Drift of every kind: hands on the cluster, an object made by someone
    // else, and Git moving on (a changed and a removed key, defaults spelt
    // out, a new object).
    f.kubectl_ok(&["-n", "shop", "scale", "deployment", "web", "--replicas=4"]);
    // The passes below are taken at different moments: the rollout must be
    // over first, or the health of `web` changes between them (it did, in CI).
    f.kubectl_ok(&[
        "-n",
        "shop",
        "rollout",
        "status",
        "deployment/web",
        "--timeout=60s",
    ]);
    f.kubectl_ok(&[
        "-n",
        "shop",
        "patch",
        "configmap",
        "settings",
        "--type=merge",
        "-p",
        r#"{"data":{"color":"red"}}"#,
    ]);
    f.kubectl_ok(&[
        "-n",
        "shop",
        "create",
        "configmap",
        "adopted",
        "--from-literal=x=1",
    ]);
    f.commit(
        &[
            ("apps/shop/flags.yaml", Some(FLAGS_CHANGED)),
            ("apps/shop/service.yaml", Some(SERVICE_DEFAULTS)),
            ("apps/shop/new.yaml", Some(NEW)),
            (
                "apps/shop/adopted.yaml",
                Some("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: adopted\ndata:\n  x: \"1\"\n"),
            ),
        ],
        "flags, defaults, new and adopted",
    );

    // Two passes on a fresh engine (nothing cached).
    let engine = f.engine();
    f.sim.clear_requests();
    let (first, refinement) = engine.status_first(&shop).await.expect("first pass");
    assert_eq!(dry_runs(&f), 0, "the first pass sends no dry-run");
    let refinement = refinement.expect("some objects are unsure");
    let unsure = refinement.len();
    let trusted_first = rows(&first);
    f.sim.clear_requests();
    let refined = engine.refine(first, refinement).await;
    assert_eq!(
        dry_runs(&f),
        unsure,
        "one dry-run per unsure object, no more"
    );

    // A single pass, every object through a dry-run, on another fresh engine.
    f.sim.clear_requests();
    let today = f.engine().status_single_pass(&shop).await.expect("status");
    let dry_runs_today = dry_runs(&f);
    assert!(
        unsure < dry_runs_today,
        "the trusted objects skip their dry-run ({unsure} of {dry_runs_today})"
    );

    assert_eq!(rows(&refined), rows(&today));
    assert_eq!(refined.counts, today.counts);
    assert_eq!(refined.sync, today.sync);
    assert_eq!(refined.health, today.health);
    assert_eq!(refined.message, today.message);
    assert_eq!(
        format!("{:?}", refined.warnings),
        format!("{:?}", today.warnings)
    );
    // Every kind of drift is in the set compared.
    let statuses: Vec<ResourceStatus> = today.resources.iter().map(|r| r.status).collect();
    assert!(
        statuses.contains(&ResourceStatus::OutOfSync),
        "{statuses:?}"
    );
    assert!(statuses.contains(&ResourceStatus::Missing), "{statuses:?}");
    assert!(statuses.contains(&ResourceStatus::Synced), "{statuses:?}");
    assert!(
        today.resources.iter().any(|r| r.takeover.is_some()),
        "{:?}",
        rows(&today)
    );
    // Only unsure objects can have changed between the passes.
    let changed = trusted_first
        .iter()
        .zip(rows(&refined))
        .filter(|(before, after)| *before != after)
        .count();
    assert!(changed <= unsure, "{changed} changed, {unsure} unsure");

    // `status` (the CLI's, the agent's) is the two passes in one call: the
    // same answer with only the unsure objects' dry-runs.
    f.sim.clear_requests();
    let status = f.engine().status(&shop).await.expect("status");
    assert_eq!(dry_runs(&f), unsure, "only the unsure objects' dry-runs");
    assert_eq!(rows(&status), rows(&today));
    assert_eq!(status.counts, today.counts);
    assert_eq!(status.sync, today.sync);
    assert_eq!(status.message, today.message);
}
