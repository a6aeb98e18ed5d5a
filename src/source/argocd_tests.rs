use super::*;
use crate::model::AppSource;
use serde_json::json;

const SHA: &str = "0123456789abcdef0123456789abcdef01234567";
const OLD: &str = "89abcdef0123456789abcdef0123456789abcdef";

fn app(sync: &str, health: &str, extra: Value) -> Value {
    let mut a = json!({
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "guestbook", "namespace": "argocd", "resourceVersion": "7"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
            "syncPolicy": {"automated": {"prune": true, "selfHeal": true, "allowEmpty": false},
                           "syncOptions": ["CreateNamespace=true"]}
        },
        "status": {
            "sync": {"status": sync, "revision": SHA},
            "health": {"status": health},
            "history": [{"id": 1, "revision": OLD, "deployedAt": "2024-01-01T00:00:00Z",
                         "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"}}],
            "resources": [
                {"group": "apps", "version": "v1", "kind": "Deployment", "namespace": "guestbook",
                 "name": "guestbook-ui", "status": sync, "health": {"status": health, "message": "m"}},
                {"version": "v1", "kind": "Service", "namespace": "guestbook", "name": "guestbook-ui",
                 "status": "Synced", "health": {"status": "Healthy"}}
            ],
            "operationState": {"phase": "Succeeded", "message": "successfully synced (all tasks run)",
                               "finishedAt": "2024-01-01T00:00:05Z"}
        }
    });
    if let (Some(a), Some(e)) = (a.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            a.insert(k.clone(), v.clone());
        }
    }
    a
}

fn id() -> AppId {
    AppId::managed(AppSource::ArgoCd, "", "argocd", "guestbook")
}

#[test]
fn synced_outofsync_and_degraded_applications_map_to_the_same_words() {
    let (s, r) = status(id(), &app("Synced", "Healthy", json!({})));
    assert_eq!((s.sync, s.health), (SyncStatus::Synced, Health::Healthy));
    assert_eq!(
        s.message,
        "last operation Succeeded: successfully synced (all tasks run)"
    );
    assert_eq!(s.deployed_revision.as_deref(), Some(OLD));
    assert_eq!(s.target_revision.as_deref(), Some(SHA));
    assert_eq!(s.source, "file:///srv/repo@main:guestbook");
    assert!(!s.suspended);
    assert_eq!(r.len(), 2);
    assert_eq!(r[0].key.display(), "apps/Deployment guestbook/guestbook-ui");
    assert_eq!(r[0].health, Some((Health::Healthy, "m".into())));

    let (s, _) = status(id(), &app("OutOfSync", "Healthy", json!({})));
    assert_eq!(s.sync, SyncStatus::OutOfSync);
    assert_eq!((s.counts.out_of_sync, s.counts.synced), (1, 1));

    let mut degraded = app("Synced", "Degraded", json!({}));
    degraded["status"]["health"]["message"] = json!("Deployment exceeded its progress deadline");
    let (s, _) = status(id(), &degraded);
    assert_eq!(s.health, Health::Degraded);
    assert!(
        s.message
            .ends_with("; Deployment exceeded its progress deadline"),
        "{}",
        s.message
    );
}

#[test]
fn a_running_operation_says_so() {
    let mut a = app(
        "OutOfSync",
        "Progressing",
        json!({"operation": {"sync": {"revision": SHA}}}),
    );
    a["status"]["operationState"] = json!({"phase": "Running", "message": "waiting for healthy state of apps/Deployment/guestbook-ui"});
    let (s, _) = status(id(), &a);
    assert_eq!(s.health, Health::Progressing);
    assert_eq!(
        s.message,
        "operation running: waiting for healthy state of apps/Deployment/guestbook-ui"
    );
}

#[test]
fn auto_sync_off_is_suspended_and_manual_apps_are_not() {
    let mut a = app("Synced", "Healthy", json!({}));
    a["spec"]["syncPolicy"]["automated"]["enabled"] = json!(false);
    assert!(status(id(), &a).0.suspended);
    assert!(!auto_sync_enabled(&a));
    a["spec"]["syncPolicy"] = json!({});
    assert!(
        !status(id(), &a).0.suspended,
        "a manual app is not suspended"
    );
}

#[test]
fn sync_writes_the_operation_as_the_api_server_builds_it() {
    let a = app("OutOfSync", "Healthy", json!({}));
    let op = ArgoOperation::Sync {
        revision: Revision::new(SHA),
        prune: true,
        dry_run: false,
    };
    assert_eq!(
        op.field(&a),
        json!({
            "sync": {
                "revision": SHA,
                "prune": true,
                "syncStrategy": {"hook": {}},
                "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"},
                "syncOptions": ["CreateNamespace=true"]
            },
            "initiatedBy": {},
            "retry": {}
        })
    );
    let mut running = a.clone();
    running["status"]["operationState"] = json!({"phase": "Succeeded"});
    let written = op.apply_to(&running);
    assert!(written.pointer("/status/operationState").is_none());
    assert_eq!(
        written["metadata"]["resourceVersion"], "7",
        "the update is preconditioned"
    );
    let dry = ArgoOperation::Sync {
        revision: Revision::new(SHA),
        prune: false,
        dry_run: true,
    };
    assert_eq!(dry.field(&a)["sync"]["dryRun"], true);
    assert!(dry.field(&a)["sync"].get("prune").is_none());
}

#[test]
fn rollback_takes_the_history_entrys_source_with_the_apply_strategy() {
    let a = app("Synced", "Healthy", json!({}));
    let entry = history_entry(&a, "1").expect("by id").clone();
    assert_eq!(
        history_entry(&a, &OLD[..8]),
        Some(&entry),
        "by revision prefix"
    );
    assert_eq!(history_entry(&a, "2"), None);
    let op = ArgoOperation::Rollback {
        entry,
        prune: false,
    };
    assert_eq!(
        op.field(&a),
        json!({
            "sync": {
                "revision": OLD,
                "syncStrategy": {"apply": {}},
                "source": {"repoURL": "file:///srv/repo", "path": "guestbook", "targetRevision": "main"},
                "syncOptions": ["CreateNamespace=true"]
            },
            "initiatedBy": {},
            "retry": {}
        })
    );
}

#[test]
fn refresh_and_auto_sync_patches() {
    // Argo CD 3.5's RefreshApp: refresh and hydrate of one type, no
    // timestamp (the next release adds refresh-timestamp; a 3.5
    // controller would leave it behind).
    assert_eq!(
        ArgoPatch::Refresh { hard: true }.body(),
        json!({"metadata": {"annotations": {
            "argocd.argoproj.io/hydrate": "hard",
            "argocd.argoproj.io/refresh": "hard"
        }}})
    );
    assert!(refresh_pending(
        &json!({"metadata": {"annotations": {REFRESH: "normal"}}})
    ));
    assert!(!refresh_pending(
        &json!({"metadata": {"annotations": {HYDRATE: "normal"}}})
    ));
    assert_eq!(
        ArgoPatch::AutoSync { enabled: false }.body(),
        json!({"spec": {"syncPolicy": {"automated": {"enabled": false}}}})
    );
}
