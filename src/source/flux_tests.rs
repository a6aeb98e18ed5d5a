use super::*;
use crate::model::AppSource;
use serde_json::json;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const OLD: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn ks(conditions: Value, applied: &str, attempted: &str, suspend: bool) -> Value {
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {"name": "web", "namespace": "flux-system"},
        "spec": {"path": "./apps/web", "suspend": suspend,
                 "sourceRef": {"kind": "GitRepository", "name": "repo"}},
        "status": {
            "conditions": conditions,
            "lastAppliedRevision": applied,
            "lastAttemptedRevision": attempted,
            "inventory": {"entries": [
                {"id": "web_web_apps_Deployment", "v": "v1"},
                {"id": "_web__Namespace", "v": "v1"}
            ]}
        }
    })
}

fn id() -> AppId {
    AppId::managed(AppSource::Flux, "", "flux-system", "web")
}

fn cond(t: &str, s: &str, reason: &str, m: &str) -> Value {
    json!({"type": t, "status": s, "reason": reason, "message": m})
}

fn map(o: &Value) -> AppStatus {
    status(ControllerKind::FluxKustomization, id(), o, None).0
}

#[test]
fn a_ready_kustomization_is_synced_and_healthy_with_the_controllers_message() {
    let rev = format!("main@sha1:{SHA}");
    let m = format!("Applied revision: {rev}");
    let s = map(&ks(
        json!([cond("Ready", "True", "ReconciliationSucceeded", &m)]),
        &rev,
        &rev,
        false,
    ));
    assert_eq!((s.sync, s.health), (SyncStatus::Synced, Health::Healthy));
    assert_eq!(s.message, m);
    assert_eq!(s.deployed_revision.as_deref(), Some(SHA));
    assert!(!s.suspended);
    assert_eq!(s.counts.synced, 2);
    assert_eq!(s.source, "GitRepository/flux-system/repo:./apps/web");
}

#[test]
fn not_ready_stalled_progressing_and_suspended_kustomizations() {
    let rev = format!("main@sha1:{SHA}");
    let old = format!("main@sha1:{OLD}");
    let failed = ks(
        json!([cond(
            "Ready",
            "False",
            "BuildFailed",
            "kustomize build failed: no such file"
        )]),
        &old,
        &rev,
        false,
    );
    let s = map(&failed);
    assert_eq!(
        (s.sync, s.health),
        (SyncStatus::OutOfSync, Health::Degraded)
    );
    assert_eq!(s.message, "not ready: kustomize build failed: no such file");
    assert_eq!(s.deployed_revision.as_deref(), Some(OLD));
    assert_eq!(s.target_revision.as_deref(), Some(SHA));

    let stalled = ks(
        json!([
            cond("Ready", "False", "InvalidPath", "path not found"),
            cond(
                "Stalled",
                "True",
                "InvalidPath",
                "spec.path ./nope not found"
            )
        ]),
        &old,
        &old,
        false,
    );
    let s = map(&stalled);
    assert_eq!(s.health, Health::Degraded);
    assert_eq!(s.message, "stalled: spec.path ./nope not found");

    let progressing = ks(
        json!([
            cond(
                "Ready",
                "Unknown",
                "Progressing",
                "Reconciliation in progress"
            ),
            cond(
                "Reconciling",
                "True",
                "Progressing",
                "Applying revision main@sha1:0123"
            )
        ]),
        &old,
        &rev,
        false,
    );
    let s = map(&progressing);
    assert_eq!(
        (s.sync, s.health),
        (SyncStatus::OutOfSync, Health::Progressing)
    );
    assert_eq!(s.message, "reconciling: Applying revision main@sha1:0123");

    let suspended = ks(
        json!([cond("Ready", "True", "ReconciliationSucceeded", "ok")]),
        &rev,
        &rev,
        true,
    );
    let s = map(&suspended);
    assert!(s.suspended);
    assert_eq!(s.sync, SyncStatus::Synced);

    let fresh = json!({"metadata": {"name": "web", "namespace": "flux-system"}, "spec": {}});
    let s = map(&fresh);
    assert_eq!((s.sync, s.health), (SyncStatus::Unknown, Health::Unknown));
    assert!(s.message.contains("not reconciled"), "{}", s.message);
}

#[test]
fn the_inventory_names_group_kind_namespace_and_version() {
    let o = ks(json!([]), "", "", false);
    let r = inventory(&o);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].key.display(), "apps/Deployment web/web");
    assert_eq!(r[0].api_version, "apps/v1");
    assert_eq!(r[1].key.display(), "Namespace web");
    assert_eq!(r[1].api_version, "v1");
}

#[test]
fn the_head_and_a_rollback_pin_come_from_the_gitrepository() {
    let rev = format!("main@sha1:{SHA}");
    let o = ks(json!([cond("Ready", "True", "x", "ok")]), &rev, &rev, false);
    let src = json!({
        "metadata": {"annotations": {PINNED_FROM: "{\"branch\":\"main\"}"}},
        "spec": {"url": "file:///srv/repo", "ref": {"branch": "main", "commit": OLD}},
        "status": {"artifact": {"revision": format!("main@sha1:{OLD}")}}
    });
    let s = status(ControllerKind::FluxKustomization, id(), &o, Some(&src)).0;
    assert_eq!(s.head_revision.as_deref(), Some(OLD));
    assert_eq!(s.paused_revision.as_deref(), Some(OLD));
    assert_eq!(s.source, "file:///srv/repo:./apps/web");
}

#[test]
fn helmreleases_report_their_release_and_list_no_objects() {
    let o = json!({
        "metadata": {"name": "redis", "namespace": "apps"},
        "spec": {"chart": {"spec": {"chart": "redis", "version": "18.x",
                 "sourceRef": {"kind": "HelmRepository", "name": "bitnami"}}}},
        "status": {
            "conditions": [cond("Ready", "True", "UpgradeSucceeded", "Helm upgrade succeeded")],
            "lastAttemptedRevision": "18.1.0",
            "history": [{"name": "redis", "version": 3, "chartVersion": "18.1.0", "status": "deployed"}]
        }
    });
    let (s, r) = status(ControllerKind::FluxHelmRelease, id(), &o, None);
    assert!(r.is_empty());
    assert_eq!(s.health, Health::Healthy);
    assert_eq!(
        s.message,
        "Helm upgrade succeeded (release redis v3: 18.1.0 deployed)"
    );
    assert_eq!(s.source, "helm chart redis@18.x");
    assert_eq!(s.deployed_revision, None, "a chart version is no commit");
}

#[test]
fn patches_are_the_flux_clis_merge_patches() {
    let at = "2024-05-01T10:00:00.123456789Z".to_string();
    assert_eq!(
        FluxPatch::RequestReconcile { at: at.clone() }.body(),
        json!({"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": at}}})
    );
    assert_eq!(
        FluxPatch::Suspend.body(),
        json!({"spec": {"suspend": true}})
    );
    assert_eq!(FluxPatch::Resume.body(), json!({"spec": {"suspend": null}}));
    let pin = FluxPatch::Pin {
        commit: Revision::new(OLD),
        remember: Some(json!({"branch": "main"})),
    };
    assert_eq!(
        pin.body(),
        json!({"metadata": {"annotations": {PINNED_FROM: "{\"branch\":\"main\"}"}},
               "spec": {"ref": {"commit": OLD}}})
    );
    let again = FluxPatch::Pin {
        commit: Revision::new(SHA),
        remember: None,
    };
    assert_eq!(again.body(), json!({"spec": {"ref": {"commit": SHA}}}));
    let restore = FluxPatch::Restore {
        current: json!({"branch": "main", "commit": OLD}),
        previous: json!({"branch": "main"}),
    };
    assert_eq!(
        restore.body(),
        json!({"metadata": {"annotations": {PINNED_FROM: null}}, "spec": {"ref": {"commit": null}}})
    );
    let none = FluxPatch::Restore {
        current: json!({"commit": OLD}),
        previous: Value::Null,
    };
    assert_eq!(none.body()["spec"], json!({"ref": null}));
}

#[test]
fn revisions_and_source_refs() {
    assert_eq!(commit_of(&format!("main@sha1:{SHA}")).as_deref(), Some(SHA));
    assert_eq!(commit_of(&format!("main/{SHA}")).as_deref(), Some(SHA));
    assert_eq!(commit_of("latest@sha256:abcd"), None);
    assert_eq!(commit_of("18.1.0"), None);
    let o = ks(json!([]), "", "", false);
    assert_eq!(
        source_ref(&o),
        Some((
            ControllerKind::FluxGitRepository,
            "flux-system".into(),
            "repo".into()
        ))
    );
}
