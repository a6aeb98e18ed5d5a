//! Navigation, views, modes and the keymap.

use super::*;
use crossterm::event::KeyEventKind;

#[test]
fn start_loads_every_status_and_the_selected_commits() {
    let mut s = fresh();
    let effects = s.start();
    let statuses = effects
        .iter()
        .filter(|e| matches!(e, Effect::LoadStatus { .. }))
        .count();
    assert_eq!(statuses, 3);
    assert!(effects.contains(&Effect::LoadCommits { app: id("api") }));
    assert!(s.apps.iter().all(|a| a.status.loading));
}

#[test]
fn j_k_arrows_g_and_g_move_the_app_selection() {
    let mut s = loaded();
    assert_eq!(selected(&s), "api");
    let effects = ch(&mut s, 'j');
    assert_eq!(selected(&s), "shop");
    // shop's commits are not loaded yet: moving there asks for them.
    assert_eq!(effects, vec![Effect::LoadCommits { app: id("shop") }]);
    press(&mut s, KeyCode::Down);
    assert_eq!(selected(&s), "web");
    ch(&mut s, 'j');
    assert_eq!(selected(&s), "web", "clamped at the end");
    ch(&mut s, 'k');
    press(&mut s, KeyCode::Up);
    assert_eq!(selected(&s), "api");
    ch(&mut s, 'G');
    assert_eq!(selected(&s), "web");
    ch(&mut s, 'g');
    assert_eq!(selected(&s), "api");
    press(&mut s, KeyCode::PageDown);
    assert_eq!(selected(&s), "web");
    press(&mut s, KeyCode::PageUp);
    assert_eq!(selected(&s), "api");
}

#[test]
fn key_releases_are_ignored_and_unbound_keys_change_nothing() {
    let mut s = loaded();
    s.take_dirty();
    let mut release = key_event(KeyCode::Char('j'));
    release.kind = KeyEventKind::Release;
    assert!(update(&mut s, Msg::Key { key: release }).is_empty());
    assert_eq!(selected(&s), "api");
    ch(&mut s, 'Z');
    assert!(!s.take_dirty(), "nothing to redraw");
}

#[test]
fn tab_and_shift_tab_cycle_panes_and_the_diff_follows() {
    let mut s = loaded();
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Resources);
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Diff);
    let effects = press(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Commits);
    assert_eq!(s.diff.source, DiffSource::CommitVsLive);
    // Entering the commits pane previews the selected commit against live.
    assert!(
        matches!(&effects[..], [Effect::LoadPreview { app, sha, .. }] if *app == id("api") && sha == HEAD)
    );
    press(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Focus::Apps);
    assert_eq!(s.diff.source, DiffSource::App);
    press(&mut s, KeyCode::BackTab);
    assert_eq!(s.focus, Focus::Commits);
}

#[test]
fn enter_drills_in_and_esc_comes_back() {
    let mut s = on_shop();
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.focus, Focus::Resources);
    assert_eq!(s.diff.source, DiffSource::Resource);
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.focus, Focus::Diff);
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.focus, Focus::Resources);
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.focus, Focus::Apps);
}

#[test]
fn resources_move_and_n_finds_the_next_drifted_one() {
    let mut s = on_shop();
    press(&mut s, KeyCode::Enter);
    ch(&mut s, 'G');
    assert_eq!(s.selected_resource, 2);
    ch(&mut s, 'g');
    assert_eq!(s.selected_resource, 0);
    // Row 0 is the drifted Deployment; the next drifted is the extra ConfigMap.
    ch(&mut s, 'n');
    assert_eq!(s.selected_resource, 2);
    ch(&mut s, 'n');
    assert_eq!(s.selected_resource, 0, "wraps around");
    ch(&mut s, 'N');
    assert_eq!(s.selected_resource, 2);
}

#[test]
fn n_and_shift_n_jump_between_hunks_in_the_diff_pane() {
    let mut s = on_shop();
    press(&mut s, KeyCode::Enter);
    press(&mut s, KeyCode::Enter);
    let hunks = diffdoc::current(&s).hunks;
    assert_eq!(hunks.len(), 2);
    ch(&mut s, 'n');
    assert_eq!(s.diff.scroll, hunks[0]);
    ch(&mut s, 'n');
    assert_eq!((s.diff.scroll, s.diff.hunk), (hunks[1], 1));
    ch(&mut s, 'n');
    assert_eq!(s.diff.scroll, hunks[0], "wraps to the first hunk");
    ch(&mut s, 'N');
    assert_eq!(s.diff.scroll, hunks[1]);
    // j/k scroll the document.
    ch(&mut s, 'j');
    assert_eq!(s.diff.scroll, hunks[1] + 1);
}

#[test]
fn d_toggles_resource_and_app_diff_w_wraps_y_shows_yaml() {
    let mut s = on_shop();
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.diff.source, DiffSource::Resource);
    ch(&mut s, 'd');
    assert_eq!(s.diff.source, DiffSource::App);
    ch(&mut s, 'd');
    assert_eq!(s.diff.source, DiffSource::Resource);
    ch(&mut s, 'w');
    assert!(s.diff.wrap);
    ch(&mut s, 'w');
    assert!(!s.diff.wrap);
    ch(&mut s, 'y');
    assert_eq!(s.diff.source, DiffSource::LiveYaml);
    assert!(diffdoc::current(&s)
        .title
        .starts_with("YAML: Deployment web"));
    ch(&mut s, 'y');
    assert_eq!(s.diff.source, DiffSource::Resource);
}

#[test]
fn d_in_commits_toggles_commit_vs_live_and_vs_previous() {
    let mut s = loaded();
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    assert_eq!(s.diff.source, DiffSource::CommitVsLive);
    let effects = ch(&mut s, 'd');
    assert_eq!(s.diff.source, DiffSource::CommitVsPrevious);
    assert!(matches!(&effects[..], [Effect::LoadCommitDiff { sha, .. }] if sha == HEAD));
    ch(&mut s, 'd');
    assert_eq!(s.diff.source, DiffSource::CommitVsLive);
}

#[test]
fn filter_narrows_fuzzily_and_esc_clears() {
    let mut s = loaded();
    ch(&mut s, '/');
    assert_eq!(s.mode, Mode::Filter);
    type_text(&mut s, "wb");
    assert_eq!(s.filter, "wb");
    assert_eq!(s.visible.len(), 1);
    assert_eq!(selected(&s), "web");
    press(&mut s, KeyCode::Backspace);
    assert_eq!(s.filter, "w");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.filter, "w", "Enter keeps the filter");
    // Esc in the apps pane undoes the filter.
    press(&mut s, KeyCode::Esc);
    assert!(s.filter.is_empty());
    assert_eq!(s.visible.len(), 3);
    ch(&mut s, '/');
    type_text(&mut s, "sh");
    press(&mut s, KeyCode::Esc);
    assert_eq!((s.mode.clone(), s.filter.as_str()), (Mode::Normal, ""));
}

#[test]
fn command_line_switches_context_selects_apps_and_quits() {
    let mut s = loaded();
    ch(&mut s, ':');
    type_text(&mut s, "ctx prod");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.context_filter.as_deref(), Some("prod"));
    assert_eq!(s.visible.len(), 1);
    assert_eq!(selected(&s), "web");

    ch(&mut s, ':');
    type_text(&mut s, "app shp");
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        selected(&s),
        "shop",
        "hidden apps are found: the narrowing is undone"
    );
    assert_eq!(s.context_filter, None);

    ch(&mut s, ':');
    type_text(&mut s, "ctx nowhere");
    press(&mut s, KeyCode::Enter);
    assert!(s
        .toasts
        .last()
        .is_some_and(|t| t.text.contains("no context")));

    ch(&mut s, ':');
    type_text(&mut s, "frobnicate");
    press(&mut s, KeyCode::Enter);
    assert!(s
        .toasts
        .last()
        .is_some_and(|t| t.text.contains("unknown command")));

    ch(&mut s, ':');
    type_text(&mut s, "sort health");
    press(&mut s, KeyCode::Enter);
    assert_eq!(s.sort, SortKey::Health);

    ch(&mut s, ':');
    ch(&mut s, 'x');
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.mode, Mode::Normal);

    ch(&mut s, ':');
    ch(&mut s, 'q');
    assert_eq!(press(&mut s, KeyCode::Enter), vec![Effect::Quit]);
    assert!(s.quitting);
}

#[test]
fn help_opens_and_closes() {
    let mut s = loaded();
    ch(&mut s, '?');
    assert_eq!(s.mode, Mode::Help);
    ch(&mut s, 'j');
    assert_eq!(s.mode, Mode::Help, "other keys do nothing under help");
    ch(&mut s, '?');
    assert_eq!(s.mode, Mode::Normal);
    ch(&mut s, '?');
    press(&mut s, KeyCode::Esc);
    assert_eq!(s.mode, Mode::Normal);
}

#[test]
fn space_marks_and_esc_unmarks() {
    let mut s = loaded();
    ch(&mut s, ' ');
    ch(&mut s, 'j');
    ch(&mut s, ' ');
    assert_eq!(s.targets(), vec![id("api"), id("shop")]);
    ch(&mut s, ' ');
    assert_eq!(s.targets(), vec![id("api")]);
    press(&mut s, KeyCode::Esc);
    assert!(s.marks.is_empty());
}

#[test]
fn o_cycles_the_sort_and_keeps_the_selection() {
    let mut s = loaded();
    ch(&mut s, 'G');
    assert_eq!(selected(&s), "web");
    ch(&mut s, 'o');
    assert_eq!(s.sort, SortKey::Sync);
    // Out of sync first.
    assert_eq!(s.apps[s.visible[0]].id, id("shop"));
    assert_eq!(selected(&s), "web");
    ch(&mut s, 'o');
    ch(&mut s, 'o');
    assert_eq!(s.sort, SortKey::Name);
}

#[test]
fn r_refreshes_status_and_commits_superseding_loads() {
    let mut s = loaded();
    let effects = ch(&mut s, 'R');
    assert!(matches!(&effects[0], Effect::LoadStatus { app, .. } if *app == id("api")));
    assert_eq!(effects[1], Effect::LoadCommits { app: id("api") });
}

#[test]
fn q_and_ctrl_c_quit_at_once_ctrl_c_even_in_a_dialog() {
    let mut s = loaded();
    assert_eq!(ch(&mut s, 'q'), vec![Effect::Quit]);
    let mut s = on_shop();
    ch(&mut s, 's');
    assert!(matches!(s.mode, Mode::Confirm(_)));
    let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
    assert_eq!(update(&mut s, Msg::Key { key: ctrl_c }), vec![Effect::Quit]);
}

#[test]
fn a_remapped_keymap_drives_the_handler() {
    let mut cfg = std::collections::BTreeMap::new();
    cfg.insert("down".to_string(), "e".to_string());
    let keymap = Keymap::from_config(&cfg).expect("valid");
    let mut s = loaded();
    s.keymap = keymap;
    ch(&mut s, 'j');
    assert_eq!(selected(&s), "api", "j is no longer bound");
    ch(&mut s, 'e');
    assert_eq!(selected(&s), "shop");
}

#[test]
fn resize_redraws_only_when_the_size_changes() {
    let mut s = loaded();
    s.take_dirty();
    update(
        &mut s,
        Msg::Resize {
            width: 80,
            height: 24,
        },
    );
    assert!(!s.take_dirty());
    update(
        &mut s,
        Msg::Resize {
            width: 160,
            height: 48,
        },
    );
    assert!(s.take_dirty());
    assert_eq!(s.size, (160, 48));
}

#[test]
fn a_status_re_sorts_the_apps_when_the_sort_reads_statuses_and_by_name_moves_none() {
    let mut s = loaded();
    ch(&mut s, 'o');
    assert_eq!(s.sort, SortKey::Sync);
    let order = |s: &AppState| -> Vec<String> {
        s.visible
            .iter()
            .map(|i| s.apps[*i].id.name.clone())
            .collect()
    };
    assert_eq!(order(&s), ["shop", "api", "web"]);
    // web drifts: sorted by sync it moves up beside shop.
    ch(&mut s, 'G');
    assert_eq!(selected(&s), "web");
    let reload = |s: &mut AppState, sync: SyncStatus| {
        let effects = ch(s, 'R');
        let Some(Effect::LoadStatus { app, generation }) = effects.into_iter().next() else {
            panic!("R reloads the status");
        };
        update(
            s,
            Msg::StatusLoaded {
                result: Ok(status(&app.name, sync)),
                app,
                generation,
            },
        );
    };
    reload(&mut s, SyncStatus::OutOfSync);
    assert_eq!(order(&s), ["shop", "web", "api"]);
    assert_eq!(selected(&s), "web", "the selection follows its app");
    // By name, statuses move nothing.
    ch(&mut s, 'o');
    ch(&mut s, 'o');
    assert_eq!(s.sort, SortKey::Name);
    assert_eq!(order(&s), ["api", "shop", "web"]);
    reload(&mut s, SyncStatus::Synced);
    assert_eq!(order(&s), ["api", "shop", "web"]);
    assert_eq!(selected(&s), "web");
}
