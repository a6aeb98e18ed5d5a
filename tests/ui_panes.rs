//! Each pane on its own, at the sizes it gets in the two layouts, plus the
//! promises the help overlay makes.

mod ui_common;

use gitops_tui::app::{update, ConnectionState, Msg, ThemeKind};
use gitops_tui::model::AppId;
use gitops_tui::ui::Pane;
use ui_common::*;

#[test]
fn apps_pane() {
    let mut s = world();
    keys(&mut s, " jj ");
    insta::assert_snapshot!("pane_apps_78x9", render_pane(&s, Pane::Apps, 78, 9));
    keys(&mut s, "o");
    insta::assert_snapshot!(
        "pane_apps_sorted_by_sync_80x9",
        render_pane(&s, Pane::Apps, 80, 9)
    );
}

#[test]
fn resources_pane_tree() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\njj");
    insta::assert_snapshot!(
        "pane_resources_tree_80x9",
        render_pane(&s, Pane::Resources, 80, 9)
    );
}

#[test]
fn resources_pane_banners() {
    let mut s = world();
    select(&mut s, "web");
    insta::assert_snapshot!(
        "pane_resources_paused_80x7",
        render_pane(&s, Pane::Resources, 80, 7)
    );
    select(&mut s, "search");
    insta::assert_snapshot!(
        "pane_resources_suspended_80x7",
        render_pane(&s, Pane::Resources, 80, 7)
    );
}

#[test]
fn diff_pane_hunks_and_wrap() {
    let mut s = world();
    select(&mut s, "shop");
    keys(&mut s, "\n\nn");
    insta::assert_snapshot!(
        "pane_diff_first_hunk_60x12",
        render_pane(&s, Pane::Diff, 60, 12)
    );
    keys(&mut s, "n");
    insta::assert_snapshot!(
        "pane_diff_second_hunk_60x12",
        render_pane(&s, Pane::Diff, 60, 12)
    );
    keys(&mut s, "gw");
    insta::assert_snapshot!(
        "pane_diff_wrapped_30x12",
        render_pane(&s, Pane::Diff, 30, 12)
    );
}

#[test]
fn commits_pane_markers() {
    let mut s = world();
    select(&mut s, "web");
    keys(&mut s, "\t\t\t");
    insta::assert_snapshot!("pane_commits_80x10", render_pane(&s, Pane::Commits, 80, 10));
}

#[test]
fn status_bar_connections_and_operations() {
    let mut s = world();
    update(
        &mut s,
        Msg::Connection {
            context: "prod".into(),
            state: ConnectionState::Reconnecting { attempt: 2 },
        },
    );
    select(&mut s, "shop");
    keys(&mut s, "sy");
    update(
        &mut s,
        Msg::OperationProgress {
            id: 1,
            message: "applied 1/2".into(),
        },
    );
    insta::assert_snapshot!(
        "pane_status_bar_120x1",
        render_pane(&s, Pane::StatusBar, 120, 1)
    );
    insta::assert_snapshot!(
        "pane_message_hints_120x1",
        render_pane(&s, Pane::MessageLine, 120, 1)
    );
}

#[test]
fn confirm_dialog_alone() {
    let mut s = world();
    select(&mut s, "web");
    keys(&mut s, "s");
    insta::assert_snapshot!(
        "pane_confirm_sync_prune_80x14",
        render_pane(&s, Pane::Dialog, 80, 14)
    );
    keys(&mut s, "\u{1b}p");
    insta::assert_snapshot!(
        "pane_confirm_resume_80x8",
        render_pane(&s, Pane::Dialog, 80, 8)
    );
}

#[test]
fn help_lists_every_key_in_the_promised_words_on_one_page() {
    let mut s = world();
    keys(&mut s, "?");
    let text = render(&s, 160, 48);
    for word in [
        "sync",
        "suspend/resume",
        "rollback",
        "diff",
        "refresh",
        "quit",
    ] {
        assert!(text.contains(word), "help lacks {word:?}");
    }
    for a in gitops_tui::app::Action::ALL {
        assert!(text.contains(a.label()), "help lacks {a:?} ({})", a.label());
    }
    assert!(text.contains("disabled in read-only mode"));
    let ro = world().with_readonly(true);
    let mut ro = ro;
    keys(&mut ro, "?");
    let text = render(&ro, 160, 48);
    assert!(text.contains("(disabled: read-only)"));
}

#[test]
fn every_state_renders_at_small_and_odd_sizes_without_panicking() {
    let mut states = vec![loading().0, world()];
    for app in ["shop", "web", "search", "payments"] {
        let mut s = world();
        select(&mut s, app);
        keys(&mut s, "\n\n");
        states.push(s.clone());
        keys(&mut s, "\u{1b}\t\t\tj");
        states.push(s.clone());
        keys(&mut s, "s");
        states.push(s.clone());
        keys(&mut s, "\u{1b}?");
        states.push(s);
    }
    for theme in [ThemeKind::Dark, ThemeKind::Light, ThemeKind::Plain] {
        for s in &states {
            let s = s.clone().with_theme(theme);
            for (w, h) in [
                (80, 24),
                (119, 30),
                (120, 30),
                (160, 48),
                (40, 12),
                (10, 5),
                (1, 1),
            ] {
                let _ = render(&s, w, h);
            }
        }
    }
}

#[test]
fn plain_theme_has_no_colours() {
    use ratatui::backend::TestBackend;
    use ratatui::style::Color;
    use ratatui::Terminal;
    let mut s = plain(world());
    select(&mut s, "shop");
    keys(&mut s, "\n\n");
    let mut t = Terminal::new(TestBackend::new(160, 48)).expect("backend");
    t.draw(|f| gitops_tui::ui::draw(f, &s)).expect("draw");
    let buf = t.backend().buffer();
    assert!(buf
        .content()
        .iter()
        .all(|c| c.fg == Color::Reset && c.bg == Color::Reset));
}

#[test]
fn apps_pane_scrolls_to_keep_the_selection_in_view() {
    let entries = (0..30)
        .map(|i| gitops_tui::app::AppEntry {
            id: AppId::native(format!("app-{i:02}")),
            context: "c".into(),
        })
        .collect();
    let mut s = gitops_tui::app::AppState::new(entries, now());
    keys(&mut s, "G");
    let text = render_pane(&s, Pane::Apps, 80, 8);
    assert!(text.contains("›  app-29"), "{text}");
    assert!(!text.contains("app-00"), "{text}");
    keys(&mut s, "g");
    let text = render_pane(&s, Pane::Apps, 80, 8);
    assert!(text.contains("›  app-00"), "{text}");
}

#[test]
fn apps_pane_marks_an_app_with_warnings_and_its_resources_pane_lists_them() {
    use gitops_tui::model::Warning;
    let mut s = world();
    select(&mut s, "shop");
    let shop = s
        .apps
        .iter_mut()
        .find(|a| a.id == AppId::native("shop"))
        .expect("shop in the world");
    let status = shop.status.value.as_mut().expect("shop has a status");
    status.warnings = vec![
        Warning::at(
            "apps/shop/values.yaml",
            1,
            "no apiVersion or kind: not a Kubernetes object",
        ),
        Warning::at(
            "apps/shop/secret.yaml",
            3,
            "SOPS-encrypted Secret shop/creds skipped: gitops-tui cannot decrypt it (never applied, never pruned)",
        ),
    ];
    let apps = render_pane(&s, Pane::Apps, 78, 9);
    assert!(apps.contains("shop ⚠2"), "{apps}");
    insta::assert_snapshot!("pane_apps_warnings_78x9", apps);
    let resources = render_pane(&s, Pane::Resources, 120, 12);
    assert!(
        resources.contains("! apps/shop/values.yaml:1: no apiVersion or kind"),
        "{resources}"
    );
    assert!(
        resources.contains("! apps/shop/secret.yaml:3: SOPS-encrypted"),
        "{resources}"
    );
}

#[test]
fn apps_pane_marks_an_app_whose_lease_another_holds() {
    let mut s = world();
    let text = render_pane(&s, Pane::Apps, 80, 9);
    assert!(!text.contains("LOCKED"), "{text}");
    let i = s.app_index(&AppId::native("shop")).expect("shop");
    if let Some(st) = s.apps[i].status.value.as_mut() {
        st.lease = Some(gitops_tui::model::HeldLease {
            holder: "ada@build-7:4387".into(),
            until: "2026-12-01T09:10:00Z".into(),
        });
    }
    let text = render_pane(&s, Pane::Apps, 80, 9);
    let row = text
        .lines()
        .find(|l| l.contains("shop"))
        .expect("a row for shop");
    assert!(row.contains("LOCKED"), "{text}");
    assert_eq!(text.matches("LOCKED").count(), 1, "{text}");
}
