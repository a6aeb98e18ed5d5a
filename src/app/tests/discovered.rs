//! Flux and Argo CD apps joining the list: discovery as an effect, its
//! answer merged beside the native rows, the filter by MANAGED-BY, and the
//! same operation keys routed through the same effects.

use super::*;
use crate::model::AppSource;

fn flux(name: &str) -> AppId {
    AppId::managed(AppSource::Flux, "", "flux-system", name)
}

fn argo(name: &str) -> AppId {
    AppId::managed(AppSource::ArgoCd, "", "argocd", name)
}

fn entry(id: AppId) -> AppEntry {
    AppEntry {
        id,
        context: "dev".into(),
    }
}

fn discovered(s: &mut AppState, apps: Vec<AppId>) -> Vec<Effect> {
    update(
        s,
        Msg::AppsDiscovered {
            apps: apps.into_iter().map(entry).collect(),
            problems: vec![],
        },
    )
}

/// The loaded fixture plus flux/flux-system/podinfo and argocd/argocd/guestbook, loaded.
fn with_managed() -> AppState {
    let mut s = loaded();
    let effects = discovered(&mut s, vec![flux("podinfo"), argo("guestbook")]);
    for e in effects {
        if let Effect::LoadStatus { app, generation } = e {
            let mut st = status(&app.name, SyncStatus::Synced);
            st.name = app.clone();
            update(
                &mut s,
                Msg::StatusLoaded {
                    app,
                    generation,
                    result: Ok(st),
                },
            );
        }
    }
    s
}

fn shown(s: &AppState) -> Vec<String> {
    s.visible
        .iter()
        .map(|i| s.apps[*i].id.to_string())
        .collect()
}

#[test]
fn discovery_is_one_effect_at_a_time_and_r_asks_again_after_it() {
    let mut s = loaded();
    assert_eq!(
        crate::app::discovered::start(&mut s),
        vec![Effect::Discover]
    );
    // R while it runs: the status loads, no second discovery yet.
    let effects = ch(&mut s, 'R');
    assert!(!effects.contains(&Effect::Discover));
    // The answer asks for the one more R wanted.
    let effects = discovered(&mut s, vec![flux("podinfo")]);
    assert!(effects.contains(&Effect::Discover));
    let effects = discovered(&mut s, vec![flux("podinfo")]);
    assert!(!effects.contains(&Effect::Discover));
    // Idle: R discovers again (a Kustomization created since shows up).
    assert!(ch(&mut s, 'R').contains(&Effect::Discover));
}

#[test]
fn found_apps_join_beside_native_ones_and_load_their_status() {
    let mut s = loaded();
    ch(&mut s, 'j');
    assert_eq!(selected(&s), "shop");
    let effects = discovered(&mut s, vec![flux("podinfo"), argo("guestbook")]);
    let loads: Vec<AppId> = effects
        .iter()
        .filter_map(|e| match e {
            Effect::LoadStatus { app, .. } => Some(app.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(loads, vec![flux("podinfo"), argo("guestbook")]);
    assert_eq!(
        shown(&s),
        // Sorted by name, native apps first, then Flux, then Argo CD.
        vec![
            "api",
            "shop",
            "web",
            "flux/flux-system/podinfo",
            "argocd/argocd/guestbook",
        ]
    );
    assert_eq!(selected(&s), "shop", "the selection stays on its app");
    assert!(crate::app::discovered::any_managed(&s));
    // Found again: the rows and their loaded statuses stay, nothing reloads.
    let s2 = &mut with_managed();
    let effects = discovered(s2, vec![flux("podinfo"), argo("guestbook")]);
    assert!(effects.is_empty(), "{effects:?}");
    assert!(s2.apps.iter().all(|r| r.status.value.is_some()));
}

#[test]
fn an_app_no_longer_found_leaves_the_list_and_the_screen_says_so() {
    let mut s = with_managed();
    ch(&mut s, ' ');
    discovered(&mut s, vec![argo("guestbook")]);
    assert_eq!(
        shown(&s),
        vec!["api", "shop", "web", "argocd/argocd/guestbook"]
    );
    let toast = s.toasts.last().map(|t| t.text.clone()).unwrap_or_default();
    assert_eq!(toast, "no longer found: flux/flux-system/podinfo");
    // A context that could not be read is said too.
    update(
        &mut s,
        Msg::AppsDiscovered {
            apps: vec![entry(argo("guestbook"))],
            problems: vec!["prod: connection refused".into()],
        },
    );
    let last = s.toasts.last().expect("a toast");
    assert_eq!(last.text, "prod: connection refused");
    assert_eq!(last.level, ToastLevel::Error);
}

#[test]
fn the_filter_matches_the_managed_by_column() {
    let mut s = with_managed();
    ch(&mut s, '/');
    type_text(&mut s, "flux");
    assert_eq!(shown(&s), vec!["flux/flux-system/podinfo"]);
    press(&mut s, KeyCode::Esc);
    ch(&mut s, '/');
    type_text(&mut s, "argo");
    assert_eq!(shown(&s), vec!["argocd/argocd/guestbook"]);
    press(&mut s, KeyCode::Esc);
    ch(&mut s, '/');
    type_text(&mut s, "gitops");
    assert_eq!(shown(&s), vec!["api", "shop", "web"]);
}

fn select(s: &mut AppState, id: &AppId) {
    let pos = s
        .visible
        .iter()
        .position(|i| &s.apps[*i].id == id)
        .expect("shown");
    s.selected_app = pos;
}

#[test]
fn sync_and_suspend_of_managed_apps_go_through_the_same_effects() {
    let mut s = with_managed();
    select(&mut s, &argo("guestbook"));
    ch(&mut s, 's');
    assert!(
        matches!(&s.mode, Mode::Confirm(ConfirmAction::Sync { apps, .. }) if apps == &vec![argo("guestbook")])
    );
    let effects = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(&effects[..], [Effect::Sync { apps, prune: false, .. }] if apps == &vec![argo("guestbook")]),
        "{effects:?}"
    );
    let mut s = with_managed();
    select(&mut s, &flux("podinfo"));
    ch(&mut s, 'p');
    assert!(
        matches!(&s.mode, Mode::Confirm(ConfirmAction::Suspend { app, .. }) if *app == flux("podinfo"))
    );
    let effects = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(&effects[..], [Effect::Suspend { app, .. }] if *app == flux("podinfo")),
        "{effects:?}"
    );
}

#[test]
fn syncing_a_suspended_flux_app_resumes_it_as_its_dialog_said() {
    let mut s = with_managed();
    let i = s.app_index(&flux("podinfo")).expect("listed");
    if let Some(st) = s.apps[i].status.value.as_mut() {
        st.suspended = true;
    }
    select(&mut s, &flux("podinfo"));
    ch(&mut s, 's');
    let effects = press(&mut s, KeyCode::Enter);
    assert!(
        matches!(&effects[..], [Effect::Resume { app, .. }] if *app == flux("podinfo")),
        "{effects:?}"
    );
    assert_eq!(s.operations[0].kind, OpKind::Resume);
}

#[test]
fn a_managed_app_whose_drift_is_not_computed_says_why_instead_of_no_drift() {
    let mut s = with_managed();
    let i = s.app_index(&flux("podinfo")).expect("row");
    // Select the Flux row (native apps first: api, shop, web, then podinfo).
    while s.selected_index() != Some(i) {
        ch(&mut s, 'j');
    }
    let text = |s: &AppState| {
        crate::app::diffdoc::current(s)
            .lines
            .iter()
            .map(|l| l.text.clone())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(text(&s).contains("No drift"), "{}", text(&s));
    if let Some(st) = s.apps[i].status.value.as_mut() {
        st.drift_unavailable = Some("a HelmRelease is rendered by helm-controller".into());
    }
    let shown = text(&s);
    assert!(
        shown.contains("Drift not computed: a HelmRelease is rendered by helm-controller."),
        "{shown}"
    );
    assert!(!shown.contains("No drift"), "{shown}");
}
