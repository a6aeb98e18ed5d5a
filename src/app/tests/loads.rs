//! Background results: generations, coalescing, watches, connections, clock.

use super::*;

fn status_gen(s: &AppState, app: &str) -> u64 {
    s.apps[s.app_index(&id(app)).expect("app")]
        .status
        .generation
}

#[test]
fn stale_status_results_are_dropped() {
    let mut s = loaded();
    let old = status_gen(&s, "api");
    // R supersedes: a new generation is asked for.
    let effects = ch(&mut s, 'R');
    let Effect::LoadStatus { generation, .. } = effects[0].clone() else {
        panic!("{effects:?}")
    };
    assert!(generation > old);
    s.take_dirty();
    // The answer to an older request arrives late: ignored, nothing redrawn.
    let mut drifted = status("api", SyncStatus::OutOfSync);
    drifted.message = "old".into();
    update(
        &mut s,
        Msg::StatusLoaded {
            app: id("api"),
            generation: old,
            result: Ok(drifted),
        },
    );
    assert!(!s.take_dirty());
    assert_eq!(
        s.selected_status().map(|x| x.sync),
        Some(SyncStatus::Synced)
    );
    update(
        &mut s,
        Msg::StatusLoaded {
            app: id("api"),
            generation,
            result: Ok(status("api", SyncStatus::OutOfSync)),
        },
    );
    assert!(s.take_dirty());
    assert_eq!(
        s.selected_status().map(|x| x.sync),
        Some(SyncStatus::OutOfSync)
    );
}

#[test]
fn watch_changes_are_coalesced_into_one_load_plus_one_pending() {
    let mut s = loaded();
    let first = update(&mut s, Msg::AppChanged { app: id("web") });
    assert_eq!(first.len(), 1);
    for _ in 0..50 {
        assert!(update(&mut s, Msg::AppChanged { app: id("web") }).is_empty());
    }
    let Effect::LoadStatus { generation, .. } = first[0].clone() else {
        panic!()
    };
    // The first load lands: exactly one more load follows for the changes seen meanwhile.
    let next = update(
        &mut s,
        Msg::StatusLoaded {
            app: id("web"),
            generation,
            result: Ok(status("web", SyncStatus::Synced)),
        },
    );
    assert!(matches!(&next[..], [Effect::LoadStatus { app, .. }] if *app == id("web")));
    assert!(update(&mut s, Msg::AppChanged { app: id("nope") }).is_empty());
}

#[test]
fn a_failed_status_keeps_the_last_value_and_shows_the_error() {
    let mut s = loaded();
    let effects = update(&mut s, Msg::AppChanged { app: id("api") });
    let Effect::LoadStatus { generation, .. } = effects[0].clone() else {
        panic!()
    };
    update(
        &mut s,
        Msg::StatusLoaded {
            app: id("api"),
            generation,
            result: Err("connection refused".into()),
        },
    );
    let row = s.selected_row().expect("row");
    assert!(row.status.value.is_some());
    assert_eq!(row.status.error.as_deref(), Some("connection refused"));
    assert!(!row.status.loading);
}

#[test]
fn commits_load_and_failures_are_kept() {
    let mut s = on_shop();
    assert!(s.selected_row().is_some_and(|r| r.history.loading));
    update(
        &mut s,
        Msg::CommitsLoaded {
            app: id("shop"),
            result: Err("fetch failed".into()),
        },
    );
    let row = s.selected_row().expect("row");
    assert_eq!(row.history.error.as_deref(), Some("fetch failed"));
    commits_for(&mut s, "shop");
    assert_eq!(
        s.selected_row()
            .and_then(|r| r.history.value.as_ref())
            .map(|h| h.commits.len()),
        Some(3)
    );
}

#[test]
fn a_new_deployed_revision_reloads_the_commit_markers() {
    let mut s = loaded();
    let effects = update(&mut s, Msg::AppChanged { app: id("api") });
    let Effect::LoadStatus { generation, .. } = effects[0].clone() else {
        panic!()
    };
    let mut st = status("api", SyncStatus::Synced);
    st.deployed_revision = Some(OLD.into());
    let effects = update(
        &mut s,
        Msg::StatusLoaded {
            app: id("api"),
            generation,
            result: Ok(st),
        },
    );
    assert_eq!(effects, vec![Effect::LoadCommits { app: id("api") }]);
}

#[test]
fn moving_fast_through_commits_loads_at_most_two_previews() {
    let mut s = loaded();
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    // Entering the pane asked for HEAD's preview (in flight).
    let first = s.preview.in_flight.expect("in flight");
    let mut loads = 0;
    for _ in 0..40 {
        for k in ['j', 'j', 'k'] {
            loads += ch(&mut s, k)
                .iter()
                .filter(|e| matches!(e, Effect::LoadPreview { .. }))
                .count();
        }
    }
    assert_eq!(loads, 0, "nothing more starts while one load runs");
    let wanted = s.selected_commit().expect("commit").sha.clone();
    // The old load lands: dropped, and the newest wanted one starts.
    let next = update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: HEAD.into(),
            generation: first,
            result: Ok(status("api", SyncStatus::Synced)),
        },
    );
    let [Effect::LoadPreview {
        sha, generation, ..
    }] = &next[..]
    else {
        panic!("{next:?}")
    };
    assert_eq!(sha, &wanted);
    assert!(s
        .preview
        .get(&id("api"), &wanted)
        .is_some_and(|p| p.loading()));
    update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: sha.clone(),
            generation: *generation,
            result: Ok(status("api", SyncStatus::OutOfSync)),
        },
    );
    assert!(s
        .preview
        .get(&id("api"), &wanted)
        .is_some_and(|p| p.value.is_some()));
    assert!(diffdoc::current(&s).title.contains("vs live"));
}

#[test]
fn commit_diffs_are_coalesced_too() {
    let mut s = loaded();
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    let effects = ch(&mut s, 'd');
    let [Effect::LoadCommitDiff { generation, .. }] = &effects[..] else {
        panic!("{effects:?}")
    };
    let generation = *generation;
    assert!(ch(&mut s, 'j')
        .iter()
        .all(|e| !matches!(e, Effect::LoadCommitDiff { .. })));
    let next = update(
        &mut s,
        Msg::CommitDiffLoaded {
            app: id("api"),
            sha: HEAD.into(),
            generation,
            result: Ok(DIFF.into()),
        },
    );
    let [Effect::LoadCommitDiff {
        sha, generation, ..
    }] = &next[..]
    else {
        panic!("{next:?}")
    };
    assert_eq!(sha, OLD);
    update(
        &mut s,
        Msg::CommitDiffLoaded {
            app: id("api"),
            sha: OLD.into(),
            generation: *generation,
            result: Ok(DIFF.into()),
        },
    );
    assert_eq!(diffdoc::current(&s).hunks.len(), 2);
}

#[test]
fn owned_objects_hang_below_their_owner() {
    let mut s = on_shop();
    let rs = serde_json::json!({"kind": "ReplicaSet", "metadata": {"name": "web-1", "uid": "rs1",
        "ownerReferences": [{"uid": "Deployment/web"}]}});
    update(
        &mut s,
        Msg::OwnedObjects {
            app: id("shop"),
            objects: vec![rs.into()],
        },
    );
    let tree = &s.selected_row().expect("row").tree;
    assert_eq!(tree.len(), 4);
    assert_eq!(tree[1].node, tree::NodeRef::Owned(0));
    assert_eq!(tree[1].depth, 1);
}

#[test]
fn connection_changes_show_and_recovery_reloads_that_context() {
    let mut s = loaded();
    let e = update(
        &mut s,
        Msg::Connection {
            context: "dev".into(),
            state: ConnectionState::Reconnecting { attempt: 2 },
        },
    );
    assert!(e.is_empty());
    assert_eq!(
        s.connection("dev"),
        &ConnectionState::Reconnecting { attempt: 2 }
    );
    let e = update(
        &mut s,
        Msg::Connection {
            context: "dev".into(),
            state: ConnectionState::Connected,
        },
    );
    let apps: Vec<&str> = e
        .iter()
        .filter_map(|e| match e {
            Effect::LoadStatus { app, .. } => Some(app.name.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(apps, vec!["api", "shop"]);
    s.take_dirty();
    // The same state again changes nothing.
    update(
        &mut s,
        Msg::Connection {
            context: "dev".into(),
            state: ConnectionState::Connected,
        },
    );
    assert!(!s.take_dirty());
    update(
        &mut s,
        Msg::Connection {
            context: "prod".into(),
            state: ConnectionState::Forbidden {
                message: "cannot list deployments".into(),
            },
        },
    );
    assert!(matches!(
        s.connection("prod"),
        ConnectionState::Forbidden { .. }
    ));
}

#[test]
fn ticks_expire_toasts_spin_operations_and_are_idle_otherwise() {
    let mut s = loaded();
    s.take_dirty();
    // Idle: ticks within the same minute draw nothing.
    update(
        &mut s,
        Msg::Tick {
            now: t0() + Duration::from_millis(250),
        },
    );
    assert!(!s.take_dirty());
    update(
        &mut s,
        Msg::Tick {
            now: t0() + Duration::from_secs(61),
        },
    );
    assert!(s.take_dirty(), "ages move once a minute");

    s.toast(ToastLevel::Info, "hello");
    assert_eq!(s.toasts.len(), 1);
    update(
        &mut s,
        Msg::Tick {
            now: t0() + Duration::from_secs(70),
        },
    );
    assert!(s.toasts.is_empty(), "toasts expire");

    s.readonly = false;
    let mut s2 = on_shop();
    ch(&mut s2, 's');
    ch(&mut s2, 'y');
    let spin = s2.operations[0].spinner;
    update(
        &mut s2,
        Msg::Tick {
            now: t0() + Duration::from_millis(100),
        },
    );
    assert_eq!(s2.operations[0].spinner, spin + 1);
    assert!(s2.take_dirty());
}

/// What the runtime's `LoopStats.frames` counts: a frame is drawn only when
/// `take_dirty()` says so. Once loads have landed and an operation's toast
/// has faded, a quarter-second clock within the same minute draws nothing.
#[test]
fn an_idle_screen_draws_nothing_once_loads_and_toasts_settle() {
    let mut s = on_shop();
    s.readonly = false;
    update(
        &mut s,
        Msg::Connection {
            context: "dev".into(),
            state: ConnectionState::Connected,
        },
    );
    // Sync shop; it finishes, its status and commits reload.
    ch(&mut s, 's');
    let id = match ch(&mut s, 'y').as_slice() {
        [Effect::Sync { id, .. }] => *id,
        other => panic!("expected one sync, got {other:?}"),
    };
    let at = |ms: u64| t0() + Duration::from_millis(ms);
    update(&mut s, Msg::Tick { now: at(500) });
    let effects = update(
        &mut s,
        Msg::OperationFinished {
            id,
            result: Ok(String::new()),
        },
    );
    for e in effects {
        match e {
            Effect::LoadStatus { app, generation } => {
                update(
                    &mut s,
                    Msg::StatusLoaded {
                        result: Ok(status(&app.name, SyncStatus::Synced)),
                        app,
                        generation,
                    },
                );
            }
            Effect::LoadCommits { app } => commits_for(&mut s, &app.name),
            _ => {}
        }
    }
    assert!(s.operations.is_empty());
    assert_eq!(s.toasts.len(), 1, "the sync's result toast");
    // The toast fades and goes: those ticks redraw.
    let mut ms = 500;
    while !s.toasts.is_empty() {
        ms += 250;
        update(&mut s, Msg::Tick { now: at(ms) });
    }
    assert!(s.take_dirty(), "the toast's going is drawn");

    // Idle: the clock ticks to the end of the minute (t0 is 20 s into
    // its minute), the same size and connection are reported again.
    let mut ticks = 0;
    while ms + 250 < 39_000 {
        ms += 250;
        ticks += 1;
        update(&mut s, Msg::Tick { now: at(ms) });
        assert!(!s.take_dirty(), "tick at +{ms} ms asked for a frame");
    }
    assert!(ticks > 100, "a long idle stretch ({ticks} ticks)");
    let (width, height) = s.size;
    update(&mut s, Msg::Resize { width, height });
    update(
        &mut s,
        Msg::Connection {
            context: "dev".into(),
            state: ConnectionState::Connected,
        },
    );
    assert!(!s.take_dirty(), "repeated size and connection draw nothing");
    // The next minute moves the ages: one frame.
    update(&mut s, Msg::Tick { now: at(41_000) });
    assert!(s.take_dirty(), "ages move once a minute");
}

#[test]
fn every_app_is_statused_only_once_each_has_a_known_status() {
    let mut s = fresh();
    let effects = s.start();
    assert!(!s.all_statused(), "nothing loaded yet");
    let loads: Vec<_> = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::LoadStatus { app, generation } => Some((app, generation)),
            _ => None,
        })
        .collect();
    assert!(loads.len() > 1);
    for (i, (app, generation)) in loads.iter().enumerate() {
        // The first app first answers Unknown (its cluster not yet reached).
        let sync = if i == 0 {
            SyncStatus::Unknown
        } else {
            SyncStatus::Synced
        };
        update(
            &mut s,
            Msg::StatusLoaded {
                result: Ok(status(&app.name, sync)),
                app: app.clone(),
                generation: *generation,
            },
        );
    }
    assert!(!s.all_statused(), "an Unknown app is not statused");
    let (app, _) = loads[0].clone();
    let effects = update(&mut s, Msg::AppChanged { app: app.clone() });
    let Some(Effect::LoadStatus { generation, .. }) = effects.into_iter().next() else {
        panic!("a change reloads the app");
    };
    update(
        &mut s,
        Msg::StatusLoaded {
            result: Ok(status(&app.name, SyncStatus::Synced)),
            app,
            generation,
        },
    );
    assert!(s.all_statused());
}

#[test]
fn a_refined_status_replaces_the_first_answer_unless_a_newer_load_started() {
    let mut s = loaded();
    let effects = ch(&mut s, 'R');
    let Effect::LoadStatus { generation, .. } = effects[0].clone() else {
        panic!("{effects:?}")
    };
    // The first answer (no dry-runs yet) is shown at once.
    update(
        &mut s,
        Msg::StatusLoaded {
            app: id("api"),
            generation,
            result: Ok(status("api", SyncStatus::OutOfSync)),
        },
    );
    assert_eq!(
        s.selected_status().map(|x| x.sync),
        Some(SyncStatus::OutOfSync)
    );
    s.take_dirty();
    // Its refinement replaces it.
    update(
        &mut s,
        Msg::StatusRefined {
            app: id("api"),
            generation,
            status: status("api", SyncStatus::Synced),
        },
    );
    assert!(s.take_dirty());
    assert_eq!(
        s.selected_status().map(|x| x.sync),
        Some(SyncStatus::Synced)
    );
    // A change started a newer load: the older load's refinement is stale.
    let newer = update(&mut s, Msg::AppChanged { app: id("api") });
    assert_eq!(newer.len(), 1, "{newer:?}");
    s.take_dirty();
    update(
        &mut s,
        Msg::StatusRefined {
            app: id("api"),
            generation,
            status: status("api", SyncStatus::OutOfSync),
        },
    );
    assert!(!s.take_dirty());
    assert_eq!(
        s.selected_status().map(|x| x.sync),
        Some(SyncStatus::Synced)
    );
}

#[test]
fn app_index_follows_the_rows_however_they_move() {
    let mut s = loaded();
    let ids: Vec<AppId> = s.apps.iter().map(|r| r.id.clone()).collect();
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(s.app_index(id), Some(i));
    }
    // Reordered behind its back (a sort, a join): still right.
    s.apps.reverse();
    for (i, id) in ids.iter().rev().enumerate() {
        assert_eq!(s.app_index(id), Some(i), "{id}");
    }
    // A row gone: not found, and the others still are.
    let gone = s.apps.remove(0).id;
    assert_eq!(s.app_index(&gone), None);
    for (i, r) in s.apps.iter().enumerate() {
        assert_eq!(s.app_index(&r.id), Some(i));
    }
    // A copy has its own memory and answers the same.
    let copy = s.clone();
    assert_eq!(copy.app_index(&s.apps[0].id), Some(0));
}
