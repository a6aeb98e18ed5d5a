//! The selected resource's Events: loaded when the selection moves or its
//! app changes, coalesced, stale answers dropped.

use super::*;
use crate::model::EventRow;

fn load_events(effects: &[Effect]) -> Vec<(AppId, ResourceKey, u64)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadEvents {
                app,
                key,
                generation,
            } => Some((app.clone(), key.clone(), *generation)),
            _ => None,
        })
        .collect()
}

fn row(reason: &str, type_: &str) -> EventRow {
    EventRow {
        type_: type_.into(),
        reason: reason.into(),
        message: format!("{reason} happened"),
        count: 1,
        last_seen: "2023-11-14T22:00:00Z".into(),
        source: "kubelet".into(),
    }
}

fn answer(
    s: &mut AppState,
    (app, key, generation): (AppId, ResourceKey, u64),
    rows: Vec<EventRow>,
) -> Vec<Effect> {
    update(
        s,
        Msg::EventsLoaded {
            app,
            key,
            generation,
            result: Ok(rows),
        },
    )
}

/// Answer api's status load `generation` as Synced.
fn api_synced(s: &mut AppState, generation: u64) -> Vec<Effect> {
    update(
        s,
        Msg::StatusLoaded {
            app: id("api"),
            generation,
            result: Ok(status("api", SyncStatus::Synced)),
        },
    )
}

/// Start, and answer the first status load (api's) as Synced.
fn start_with_api_synced(s: &mut AppState) -> Vec<Effect> {
    let effects = s.start();
    let Some(Effect::LoadStatus { app, generation }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    assert_eq!(app, id("api"), "{effects:?}");
    api_synced(s, generation)
}

fn key(kind: &str, name: &str) -> ResourceKey {
    ResourceKey {
        group: "apps".into(),
        kind: kind.into(),
        namespace: Some("shop".into()),
        name: name.into(),
    }
}

#[test]
fn the_first_status_asks_for_the_selected_resources_events() {
    let mut s = fresh();
    let effects = start_with_api_synced(&mut s);
    let wanted = load_events(&effects);
    assert_eq!(wanted.len(), 1, "{effects:?}");
    assert_eq!(wanted[0].0, id("api"));
    assert_eq!(wanted[0].1, key("Deployment", "web"));
    assert!(s.selected_events().is_some_and(|e| e.rows.is_none()));

    s.take_dirty();
    let effects = answer(
        &mut s,
        wanted[0].clone(),
        vec![row("ScalingReplicaSet", "Normal")],
    );
    assert!(effects.is_empty());
    assert!(s.take_dirty());
    let rows = s
        .selected_events()
        .and_then(|e| e.rows.clone())
        .unwrap_or_default();
    assert_eq!(rows, vec![row("ScalingReplicaSet", "Normal")]);
}

#[test]
fn moving_fast_through_resources_loads_at_most_two_and_drops_stale_answers() {
    let mut s = fresh();
    let effects = s.start();
    let mut first = vec![];
    for e in effects {
        if let Effect::LoadStatus { app, generation } = e {
            let sync = if app == id("shop") {
                SyncStatus::OutOfSync
            } else {
                SyncStatus::Synced
            };
            first.extend(load_events(&update(
                &mut s,
                Msg::StatusLoaded {
                    result: Ok(status(&app.name, sync)),
                    app,
                    generation,
                },
            )));
        }
    }
    // Only api's (selected) status asked; later statuses of other apps did not.
    assert_eq!(first.len(), 1);
    let in_flight = first[0].clone();

    // To shop, then down its three resources: nothing more starts while one runs.
    let mut more = load_events(&ch(&mut s, 'j'));
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Resources);
    more.extend(load_events(&ch(&mut s, 'j')));
    more.extend(load_events(&ch(&mut s, 'j')));
    assert!(more.is_empty(), "{more:?}");
    let newest = s.selected_resource_key().expect("selected");
    assert_eq!(newest.0, id("shop"));
    assert_eq!(s.selected_resource, 2);

    // The stale answer (api's Deployment) is dropped and the newest starts.
    let before = s.revision;
    let next = load_events(&answer(
        &mut s,
        in_flight.clone(),
        vec![row("Old", "Normal")],
    ));
    assert_eq!(s.revision, before, "a stale answer changes nothing");
    assert_eq!(next.len(), 1);
    assert_eq!((next[0].0.name.as_str(), &next[0].1), ("shop", &newest.1));
    assert!(next[0].2 > in_flight.2);
    assert!(s.selected_events().is_some_and(|e| e.rows.is_none()));

    // A late duplicate of the stale one still changes nothing.
    assert!(answer(&mut s, in_flight, vec![]).is_empty());
    assert!(s.selected_events().is_some_and(|e| e.rows.is_none()));

    answer(&mut s, next[0].clone(), vec![row("BackOff", "Warning")]);
    let shown = s
        .selected_events()
        .and_then(|e| e.rows.clone())
        .unwrap_or_default();
    assert_eq!(shown, vec![row("BackOff", "Warning")]);
}

#[test]
fn a_status_reload_of_the_selected_app_reloads_its_events_keeping_the_old_rows() {
    let mut s = fresh();
    let wanted = load_events(&start_with_api_synced(&mut s));
    answer(&mut s, wanted[0].clone(), vec![row("Scheduled", "Normal")]);

    let effects = update(&mut s, Msg::AppChanged { app: id("api") });
    let Some(Effect::LoadStatus { generation, .. }) = effects.first().cloned() else {
        panic!("{effects:?}")
    };
    let again = load_events(&api_synced(&mut s, generation));
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].1, wanted[0].1);
    assert!(again[0].2 > wanted[0].2);
    // Old rows stay until the new answer lands.
    let shown = s
        .selected_events()
        .and_then(|e| e.rows.clone())
        .unwrap_or_default();
    assert_eq!(shown, vec![row("Scheduled", "Normal")]);
    answer(
        &mut s,
        again[0].clone(),
        vec![row("Started", "Normal"), row("Scheduled", "Normal")],
    );
    assert_eq!(
        s.selected_events()
            .and_then(|e| e.rows.as_ref())
            .map(Vec::len),
        Some(2)
    );
}

#[test]
fn an_error_is_kept_for_the_pane() {
    let mut s = fresh();
    let wanted = load_events(&start_with_api_synced(&mut s));
    let (app, key, generation) = wanted[0].clone();
    update(
        &mut s,
        Msg::EventsLoaded {
            app,
            key,
            generation,
            result: Err("forbidden".into()),
        },
    );
    assert_eq!(
        s.selected_events().and_then(|e| e.error.as_deref()),
        Some("forbidden")
    );
}

#[test]
fn an_engine_notice_is_a_toast() {
    let mut s = loaded();
    let effects = update(
        &mut s,
        Msg::Notice {
            text: "GET configmaps shop/x: API server answered 429; retry 1 in 1 s".into(),
        },
    );
    assert!(effects.is_empty());
    assert!(s
        .toasts
        .last()
        .is_some_and(|t| t.text.contains("answered 429; retry 1 in 1 s")));
}
