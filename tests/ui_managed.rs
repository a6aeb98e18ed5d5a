//! The TUI with all three sources: native apps, a Flux Kustomization and an
//! Argo CD Application in one apps pane with its MANAGED-BY column, the `/`
//! filter by source, and the confirm dialogs of Flux and Argo CD apps
//! showing exactly the bodies `model::controller_patch` builds.

mod ui_common;

use gitops_tui::app::{update, AppEntry, AppState, Effect, Msg};
use gitops_tui::model::{AppId, AppSource, ControllerObjects, Health, ResourceStatus, Revision};
use gitops_tui::source::argocd::{ArgoOperation, ArgoPatch};
use gitops_tui::source::flux::FluxPatch;
use serde_json::json;
use ui_common::*;

fn flux() -> AppId {
    AppId::managed(AppSource::Flux, "", "flux-system", "podinfo")
}

fn argo() -> AppId {
    AppId::managed(AppSource::ArgoCd, "", "argocd", "guestbook")
}

/// The snapshot world plus a Flux and an Argo CD app, both loaded: the
/// Kustomization ready at HEAD, the Application out of sync.
fn three_sources() -> AppState {
    let mut s = world();
    let effects = update(
        &mut s,
        Msg::AppsDiscovered {
            apps: [flux(), argo()]
                .into_iter()
                .map(|id| AppEntry {
                    id,
                    context: "kind-demo".into(),
                })
                .collect(),
            problems: vec![],
        },
    );
    for e in effects {
        let Effect::LoadStatus { app, generation } = e else {
            continue;
        };
        let st = if app == flux() {
            let mut st = app_status(
                "podinfo",
                Health::Healthy,
                HEAD,
                vec![res(
                    "Deployment",
                    "podinfo",
                    "podinfo",
                    ResourceStatus::Synced,
                    Health::Healthy,
                    "",
                    "",
                )],
            );
            st.message = "Applied revision: main@sha1:a1b2c3d".into();
            st
        } else {
            let mut st = app_status(
                "guestbook",
                Health::Progressing,
                SHAS[1],
                vec![res(
                    "Deployment",
                    "guestbook",
                    "guestbook-ui",
                    ResourceStatus::OutOfSync,
                    Health::Progressing,
                    "",
                    "",
                )],
            );
            st.message = "OutOfSync".into();
            st.controller = Some(ControllerObjects::new(&argo_object(), None));
            st
        };
        let mut st = st;
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
    s
}

/// The Application the Argo CD row was read from.
fn argo_object() -> serde_json::Value {
    json!({"spec": {"source": {"repoURL": "https://example.com/repo.git", "path": "guestbook"},
                    "syncPolicy": {"syncOptions": ["CreateNamespace=true"]}},
           "status": {"sync": {"revision": HEAD}}})
}

fn select_id(s: &mut AppState, id: &AppId) {
    for _ in 0..s.visible.len() {
        if s.selected_row().map(|r| &r.id) == Some(id) {
            return;
        }
        keys(s, "j");
    }
    panic!("{id} not shown");
}

/// The dialog's text (what is between its double borders), its lines
/// joined without their indent, so JSON spread over lines reads whole.
fn dialog_text(s: &AppState) -> String {
    let screen = render(s, 80, 24);
    screen
        .lines()
        .filter_map(|l| {
            let start = l.find('║')? + '║'.len_utf8();
            let end = l.rfind('║')?;
            (end > start).then(|| l[start..end].trim().to_string())
        })
        .collect::<Vec<_>>()
        .join("")
}

#[test]
fn all_three_sources_in_one_pane() {
    let s = three_sources();
    insta::assert_snapshot!("three_sources_80x24", render(&s, 80, 24));
    insta::assert_snapshot!("three_sources_160x48", render(&s, 160, 48));
}

#[test]
fn a_native_only_list_has_no_managed_by_column() {
    let s = world();
    assert!(!render(&s, 160, 48).contains("SOURCE"));
    assert!(!render(&s, 220, 48).contains("MANAGED-BY"));
    let s = three_sources();
    // The apps pane is 110 wide: the column in full.
    let screen = render(&s, 220, 48);
    assert!(screen.contains("MANAGED-BY"), "{screen}");
    let row = |name: &str| {
        screen
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("flux/flux-system/podinfo").contains(" flux "));
    assert!(row("argocd/argocd/guestbook").contains(" argocd "));
    assert!(row(" shop ").contains(" gitops-tui "));
    // An 80-wide pane: SOURCE, short.
    let screen = render(&s, 160, 48);
    assert!(screen.contains(" SOURCE "), "{screen}");
    assert!(screen
        .lines()
        .any(|l| l.contains(" shop ") && l.contains(" gitops ")));
}

#[test]
fn the_filter_by_source_shows_only_that_source() {
    let mut s = three_sources();
    keys(&mut s, "/flux\n");
    let screen = render(&s, 160, 48);
    assert!(screen.contains("flux/flux-system/podinfo"));
    assert!(!screen.contains("argocd/argocd/guestbook"));
    assert!(!screen.contains(" shop "));
    assert!(screen.contains("Apps (1/7)"), "{screen}");
}

#[test]
fn flux_dialogs_show_the_patches_flux_would_send() {
    let mut s = three_sources();
    select_id(&mut s, &flux());
    keys(&mut s, "p");
    let text = dialog_text(&s);
    insta::assert_snapshot!("flux_suspend_dialog_80x24", render(&s, 80, 24));
    assert!(
        text.contains(&FluxPatch::Suspend.body().to_string()),
        "{text}"
    );
    keys(&mut s, "\u{1b}s");
    let text = dialog_text(&s);
    let reconcile = FluxPatch::RequestReconcile { at: "<now>".into() };
    assert!(text.contains(&reconcile.body().to_string()), "{text}");
    assert!(text.contains("lastHandledReconcileAt"), "{text}");
}

#[test]
fn argo_dialogs_show_the_patch_and_operation_argocd_would_write() {
    let mut s = three_sources();
    select_id(&mut s, &argo());
    keys(&mut s, "s");
    insta::assert_snapshot!("argo_sync_dialog_80x24", render(&s, 80, 24));
    let text = dialog_text(&s);
    // The operation the engine writes, built from the object the row was
    // read from.
    let app = argo_object();
    let op = ArgoOperation::Sync {
        revision: Revision::new(HEAD),
        prune: false,
        dry_run: false,
    };
    let want = op.field(&app).to_string();
    assert!(text.contains(&want), "{want}\nnot in\n{text}");
    // Prune toggled: the operation says so.
    keys(&mut s, "p");
    let text = dialog_text(&s);
    let op = ArgoOperation::Sync {
        revision: Revision::new(HEAD),
        prune: true,
        dry_run: false,
    };
    assert!(text.contains(&op.field(&app).to_string()), "{text}");
    keys(&mut s, "\u{1b}p");
    let text = dialog_text(&s);
    let off = ArgoPatch::AutoSync { enabled: false }.body().to_string();
    assert!(text.contains(&off), "{text}");
}
