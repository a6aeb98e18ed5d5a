//! A hand-made world for the TUI snapshots: five apps in the demo's states
//! (synced, drifted, degraded, suspended with a newer commit, paused by a
//! rollback with an extra object), fixed shas and a fixed clock.

#![allow(dead_code)]

use gitops_tui::app::{
    update, AppEntry, AppState, Commit, ConnectionState, Effect, History, Msg, ThemeKind,
};
use gitops_tui::model::{AppId, AppStatus, Counts, EventRow, ResourceState, SyncRecord};
use gitops_tui::model::{Health, ResourceKey, ResourceStatus, SyncStatus};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use serde_json::{json, Value};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub const SHAS: [&str; 8] = [
    "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
    "b2c3d4e5f60718293a4b5c6d7e8f901234567890",
    "c3d4e5f60718293a4b5c6d7e8f90123456789012",
    "d4e5f60718293a4b5c6d7e8f9012345678901234",
    "e5f60718293a4b5c6d7e8f901234567890123456",
    "f60718293a4b5c6d7e8f90123456789012345678",
    "0718293a4b5c6d7e8f9012345678901234567890",
    "18293a4b5c6d7e8f901234567890123456789012",
];
pub const HEAD: &str = SHAS[0];

pub fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

pub fn key(kind: &str, ns: &str, name: &str) -> ResourceKey {
    let group = match kind {
        "Deployment" | "ReplicaSet" => "apps",
        _ => "",
    };
    ResourceKey {
        group: group.into(),
        kind: kind.into(),
        namespace: Some(ns.into()),
        name: name.into(),
    }
}

pub fn res(
    kind: &str,
    ns: &str,
    name: &str,
    status: ResourceStatus,
    health: Health,
    reason: &str,
    diff: &str,
) -> ResourceState {
    let k = key(kind, ns, name);
    ResourceState {
        api_version: if k.group.is_empty() {
            "v1".into()
        } else {
            "apps/v1".into()
        },
        live: (status != ResourceStatus::Missing).then(|| {
            json!({"apiVersion": "v1", "kind": kind,
                "metadata": {"name": name, "namespace": ns, "uid": format!("{ns}-{kind}-{name}")}})
            .into()
        }),
        key: k,
        status,
        health,
        health_reason: reason.into(),
        diff: diff.into(),
        takeover: None,
    }
}

pub const REPLICAS_DIFF: &str = "--- live apps/Deployment shop/shop
+++ git apps/Deployment shop/shop
@@ -6,9 +6,9 @@
   name: shop
   namespace: shop
 spec:
-  replicas: 5
+  replicas: 2
   selector:
     matchLabels:
       app: shop
@@ -18,7 +18,7 @@
       containers:
       - name: shop
-        image: ghcr.io/demo/shop:1.4.0
+        image: ghcr.io/demo/shop:1.4.1
         ports:
         - containerPort: 8080
";

pub const EXTRA_DIFF: &str = "--- live v1/ConfigMap web/legacy-flags
+++ git (absent)
@@ -1,6 +0,0 @@
-apiVersion: v1
-data:
-  beta: \"true\"
-kind: ConfigMap
-metadata:
-  name: legacy-flags
";

fn counts(resources: &[ResourceState]) -> Counts {
    let mut c = Counts::default();
    for r in resources {
        match r.status {
            ResourceStatus::Synced => c.synced += 1,
            ResourceStatus::OutOfSync => c.out_of_sync += 1,
            ResourceStatus::Missing => c.missing += 1,
            ResourceStatus::Extra => c.extra += 1,
        }
    }
    c
}

pub fn app_status(
    name: &str,
    health: Health,
    deployed: &str,
    resources: Vec<ResourceState>,
) -> AppStatus {
    let counts = counts(&resources);
    let in_sync = counts.out_of_sync + counts.missing + counts.extra == 0;
    AppStatus {
        name: AppId::native(name),
        source: format!("demo@main:apps/{name}"),
        sync: if in_sync {
            SyncStatus::Synced
        } else {
            SyncStatus::OutOfSync
        },
        health,
        suspended: false,
        suspension: None,
        paused_revision: None,
        deployed_revision: Some(deployed.into()),
        head_revision: Some(HEAD.into()),
        last_sync: None,
        lease: None,
        drift_unavailable: None,
        target_revision: Some(HEAD.into()),
        message: if in_sync {
            format!("{} resources in sync", counts.synced)
        } else {
            "drift".into()
        },
        counts,
        warnings: vec![],
        resources,
        controller: None,
    }
}

fn ok(ns: &str, kind: &str, name: &str) -> ResourceState {
    res(
        kind,
        ns,
        name,
        ResourceStatus::Synced,
        Health::Healthy,
        "",
        "",
    )
}

/// The five statuses, by app name.
pub fn statuses() -> Vec<AppStatus> {
    let api = app_status(
        "api",
        Health::Healthy,
        HEAD,
        vec![
            ok("api", "Deployment", "api"),
            ok("api", "Service", "api"),
            ok("api", "ConfigMap", "api-config"),
        ],
    );
    let shop = app_status(
        "shop",
        Health::Healthy,
        HEAD,
        vec![
            res(
                "Deployment",
                "shop",
                "shop",
                ResourceStatus::OutOfSync,
                Health::Healthy,
                "",
                REPLICAS_DIFF,
            ),
            ok("shop", "Service", "shop"),
        ],
    );
    let payments = app_status(
        "payments",
        Health::Degraded,
        HEAD,
        vec![
            res(
                "Deployment",
                "payments",
                "payments",
                ResourceStatus::Synced,
                Health::Degraded,
                "Deployment \"payments\" exceeded its progress deadline",
                "",
            ),
            ok("payments", "Service", "payments"),
        ],
    );
    let mut search = app_status(
        "search",
        Health::Healthy,
        SHAS[2],
        vec![
            res(
                "Deployment",
                "search",
                "search",
                ResourceStatus::OutOfSync,
                Health::Healthy,
                "",
                REPLICAS_DIFF,
            ),
            res(
                "Service",
                "search",
                "search-internal",
                ResourceStatus::Missing,
                Health::Missing,
                "not in the cluster",
                "",
            ),
        ],
    );
    search.suspended = true;
    let mut web = app_status(
        "web",
        Health::Progressing,
        SHAS[3],
        vec![
            res(
                "Deployment",
                "web",
                "web",
                ResourceStatus::Synced,
                Health::Progressing,
                "Waiting for rollout to finish: 1 of 3 updated replicas are available...",
                "",
            ),
            res(
                "ConfigMap",
                "web",
                "legacy-flags",
                ResourceStatus::Extra,
                Health::Healthy,
                "",
                EXTRA_DIFF,
            ),
        ],
    );
    web.paused_revision = Some(SHAS[3].into());
    web.target_revision = Some(SHAS[3].into());
    vec![api, shop, payments, search, web]
}

pub fn history(app: &str, deployed: &str) -> History {
    let subjects = [
        ("Mira Okonkwo", "shop: scale down to 2 replicas"),
        ("Alan Turing", "bump image to 1.4.1"),
        ("Ines Larsson", "add readiness probe"),
        ("Mira Okonkwo", "payments: set progressDeadlineSeconds"),
        ("Edsger Dijkstra", "tune resource requests"),
        ("Alan Turing", "add internal service"),
        ("Ines Larsson", "first version of the app"),
        ("Barbara Liskov", "initial import"),
    ];
    let hours = [2, 5, 26, 50, 24 * 6, 24 * 9, 24 * 20, 24 * 45];
    History {
        commits: SHAS
            .iter()
            .zip(subjects)
            .zip(hours)
            .map(|((sha, (author, subject)), h)| Commit {
                sha: (*sha).into(),
                author: author.into(),
                time: Some(now() - Duration::from_secs(h * 3600)),
                subject: subject.replace("shop", app),
                deployed: *sha == deployed,
                head: false,
                pinned: false,
            })
            .collect(),
        syncs: vec![SyncRecord {
            revision: deployed.into(),
            time: rfc3339(now() - Duration::from_secs(17 * 60)),
            who: "ada".into(),
            result: "Succeeded".into(),
            applied: 2,
            not_applied: 0,
            pruned: 0,
            changed: vec![],
        }],
    }
}

pub fn entries() -> Vec<AppEntry> {
    ["api", "payments", "search", "shop", "web"]
        .iter()
        .map(|n| AppEntry {
            id: AppId::native(*n),
            context: if *n == "payments" {
                "prod".into()
            } else {
                "kind-demo".into()
            },
        })
        .collect()
}

/// Nothing loaded yet: the first frame.
pub fn loading() -> (AppState, Vec<Effect>) {
    let mut s = AppState::new(entries(), now());
    let effects = s.start();
    (s, effects)
}

/// Everything loaded and both clusters connected; `api` selected.
pub fn world() -> AppState {
    let (mut s, effects) = loading();
    let all = statuses();
    for e in effects {
        if let Effect::LoadStatus { app, generation } = e {
            if let Some(st) = all.iter().find(|s| s.name == app) {
                update(
                    &mut s,
                    Msg::StatusLoaded {
                        app,
                        generation,
                        result: Ok(st.clone()),
                    },
                );
            }
        }
    }
    for st in &all {
        let deployed = st.deployed_revision.clone().unwrap_or_default();
        update(
            &mut s,
            Msg::CommitsLoaded {
                app: st.name.clone(),
                result: Ok(history(&st.name.name, deployed.as_str())),
            },
        );
    }
    update(
        &mut s,
        Msg::OwnedObjects {
            app: AppId::native("shop"),
            objects: shop_children().into_iter().map(Into::into).collect(),
        },
    );
    for ctx in ["kind-demo", "prod"] {
        update(
            &mut s,
            Msg::Connection {
                context: ctx.into(),
                state: ConnectionState::Connected,
            },
        );
    }
    answer_events(&mut s);
    s
}

/// The Events the cluster would report about `key`: the degraded app's
/// image pull failing, a rollout for other Deployments, none for the rest.
pub fn events_of(key: &ResourceKey) -> Vec<EventRow> {
    let ev = |type_: &str, reason: &str, message: String, count: u32, mins: u64| EventRow {
        type_: type_.into(),
        reason: reason.into(),
        message,
        count,
        last_seen: rfc3339(now() - Duration::from_secs(mins * 60)),
        source: "kubelet".into(),
    };
    match (key.kind.as_str(), key.name.as_str()) {
        ("Deployment", "payments") => vec![
            ev(
                "Warning",
                "BackOff",
                "Back-off pulling image \"registry.local/payments:broken\"".into(),
                14,
                1,
            ),
            ev(
                "Warning",
                "Failed",
                "Failed to pull image \"registry.local/payments:broken\": not found".into(),
                3,
                4,
            ),
            ev(
                "Normal",
                "ScalingReplicaSet",
                "Scaled up replica set payments-5f7c9 to 2".into(),
                1,
                6,
            ),
        ],
        ("Deployment", name) => vec![ev(
            "Normal",
            "ScalingReplicaSet",
            format!("Scaled up replica set {name}-7d9f8c6b5 to 2"),
            1,
            90,
        )],
        ("Pod", name) => vec![
            ev("Normal", "Started", "Started container shop".into(), 1, 88),
            ev(
                "Normal",
                "Pulled",
                "Successfully pulled image \"registry.local/shop:1.4\"".into(),
                1,
                88,
            ),
            ev(
                "Normal",
                "Scheduled",
                format!("Successfully assigned shop/{name} to kube-sim"),
                1,
                89,
            ),
        ],
        _ => vec![],
    }
}

/// Answer the selected resource's Events load, as the runtime would.
pub fn answer_events(s: &mut AppState) {
    let Some((app, key)) = s.events.target.clone() else {
        return;
    };
    let rows = events_of(&key);
    update(
        s,
        Msg::EventsLoaded {
            app,
            key,
            generation: s.events.generation(),
            result: Ok(rows),
        },
    );
}

fn shop_children() -> Vec<Value> {
    let owner = "shop-Deployment-shop";
    let pod = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "shop",
            "uid": name, "ownerReferences": [{"uid": "shop-rs"}]},
            "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"name": "shop", "ready": true, "restartCount": 0, "state": {"running": {}}}]}})
    };
    vec![
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "shop-7d9f8c6b5",
            "namespace": "shop", "uid": "shop-rs", "generation": 1, "ownerReferences": [{"uid": owner}]},
            "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "observedGeneration": 1}}),
        pod("shop-7d9f8c6b5-x2k4q"),
        pod("shop-7d9f8c6b5-9bz7m"),
    ]
}

/// Send keys, like a person: `"jj\t"`.
pub fn keys(s: &mut AppState, text: &str) {
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    for c in text.chars() {
        let code = match c {
            '\t' => KeyCode::Tab,
            '\n' => KeyCode::Enter,
            '\u{1b}' => KeyCode::Esc,
            c => KeyCode::Char(c),
        };
        update(
            s,
            Msg::Key {
                key: KeyEvent::new(code, KeyModifiers::NONE),
            },
        );
    }
    answer_events(s);
}

pub fn select(s: &mut AppState, app: &str) {
    keys(s, &format!(":app {app}\n"));
}

pub fn render(s: &AppState, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    t.draw(|f| gitops_tui::ui::draw(f, s)).expect("draw");
    t.backend().to_string()
}

pub fn render_pane(s: &AppState, pane: gitops_tui::ui::Pane, width: u16, height: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    t.draw(|f| gitops_tui::ui::draw_pane(f, s, pane))
        .expect("draw");
    t.backend().to_string()
}

pub fn plain(mut s: AppState) -> AppState {
    s.theme = ThemeKind::Plain;
    s
}
