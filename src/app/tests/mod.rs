//! Reducer tests: messages in, state and effects out. Fixtures are hand-made
//! statuses with fixed shas and a fixed clock.

mod discovered;
mod events;
mod keys;
mod loads;
mod logs;
mod mouse;
mod ops;

use super::*;
use crate::model::{AppId, Counts, ResourceState};
use crate::model::{Health, ResourceKey, ResourceStatus, SyncStatus};
use crossterm::event::{KeyCode, KeyModifiers};
use std::time::{Duration, UNIX_EPOCH};

pub(super) const HEAD: &str = "1111111aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
pub(super) const OLD: &str = "2222222bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
pub(super) const OLDER: &str = "3333333ccccccccccccccccccccccccccccccccc";

/// The native app `name`.
pub(super) fn id(name: &str) -> AppId {
    AppId::native(name)
}

pub(super) fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

pub(super) fn resource(
    kind: &str,
    name: &str,
    status: ResourceStatus,
    diff: &str,
) -> ResourceState {
    ResourceState {
        key: ResourceKey {
            group: "apps".into(),
            kind: kind.into(),
            namespace: Some("shop".into()),
            name: name.into(),
        },
        api_version: "apps/v1".into(),
        status,
        health: Health::Healthy,
        health_reason: String::new(),
        diff: diff.into(),
        takeover: None,
        live: Some(
            serde_json::json!({"kind": kind, "metadata": {"name": name, "uid": format!("{kind}/{name}")}}).into(),
        ),
    }
}

pub(super) const DIFF: &str = "--- live\n+++ desired\n@@ -1,3 +1,3 @@\n spec:\n-  replicas: 1\n+  replicas: 3\n@@ -9,2 +9,2 @@\n-  image: web:1\n+  image: web:2\n";

pub(super) fn status(name: &str, sync: SyncStatus) -> AppStatus {
    let resources = match sync {
        SyncStatus::OutOfSync => vec![
            resource("Deployment", "web", ResourceStatus::OutOfSync, DIFF),
            resource("Service", "web", ResourceStatus::Synced, ""),
            resource("ConfigMap", "old", ResourceStatus::Extra, ""),
        ],
        _ => vec![resource("Deployment", "web", ResourceStatus::Synced, "")],
    };
    let counts = match sync {
        SyncStatus::OutOfSync => Counts {
            synced: 1,
            out_of_sync: 1,
            missing: 0,
            extra: 1,
        },
        _ => Counts {
            synced: 1,
            ..Counts::default()
        },
    };
    AppStatus {
        name: id(name),
        source: format!("repo:apps/{name}"),
        sync,
        health: Health::Healthy,
        suspended: false,
        suspension: None,
        paused_revision: None,
        deployed_revision: Some(HEAD.into()),
        head_revision: Some(HEAD.into()),
        last_sync: None,
        lease: None,
        drift_unavailable: None,
        target_revision: Some(HEAD.into()),
        counts,
        message: String::new(),
        warnings: vec![],
        resources,
        controller: None,
    }
}

pub(super) fn history() -> History {
    let c = |sha: &str, subject: &str, deployed: bool| Commit {
        sha: sha.into(),
        author: "Ada".into(),
        time: Some(t0() - Duration::from_secs(3600)),
        subject: subject.into(),
        deployed,
        head: false,
        pinned: false,
    };
    History {
        commits: vec![
            c(HEAD, "scale web to 3", true),
            c(OLD, "bump image", false),
            c(OLDER, "first version", false),
        ],
        syncs: vec![],
    }
}

/// Apps api (dev), shop (dev), web (prod); nothing loaded yet.
pub(super) fn fresh() -> AppState {
    let entries = [("api", "dev"), ("shop", "dev"), ("web", "prod")]
        .iter()
        .map(|(n, c)| AppEntry {
            id: id(n),
            context: (*c).into(),
        })
        .collect();
    AppState::new(entries, t0())
}

/// Every status loaded (shop drifted), api's commits loaded.
pub(super) fn loaded() -> AppState {
    let mut s = fresh();
    let effects = s.start();
    for e in effects {
        if let Effect::LoadStatus { app, generation } = e {
            let sync = if app == id("shop") {
                SyncStatus::OutOfSync
            } else {
                SyncStatus::Synced
            };
            update(
                &mut s,
                Msg::StatusLoaded {
                    result: Ok(status(&app.name, sync)),
                    app,
                    generation,
                },
            );
        }
    }
    update(
        &mut s,
        Msg::CommitsLoaded {
            app: id("api"),
            result: Ok(history()),
        },
    );
    s
}

pub(super) fn key_event(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

pub(super) fn press(s: &mut AppState, code: KeyCode) -> Vec<Effect> {
    update(
        s,
        Msg::Key {
            key: key_event(code),
        },
    )
}

pub(super) fn ch(s: &mut AppState, c: char) -> Vec<Effect> {
    press(s, KeyCode::Char(c))
}

pub(super) fn type_text(s: &mut AppState, text: &str) {
    for c in text.chars() {
        ch(s, c);
    }
}

pub(super) fn selected(s: &AppState) -> String {
    s.selected_row()
        .map(|r| r.id.to_string())
        .unwrap_or_default()
}

/// Select `shop` (the drifted app) from the loaded fixture.
pub(super) fn on_shop() -> AppState {
    let mut s = loaded();
    ch(&mut s, 'j');
    assert_eq!(selected(&s), "shop");
    s
}

pub(super) fn commits_for(s: &mut AppState, app: &str) {
    update(
        s,
        Msg::CommitsLoaded {
            app: id(app),
            result: Ok(history()),
        },
    );
}
