//! Sync, suspend/resume, rollback, cancel: the confirm path, marks, readonly.

use super::*;

#[test]
fn s_opens_a_confirm_with_prune_toggle_then_syncs() {
    let mut s = on_shop();
    assert!(ch(&mut s, 's').is_empty());
    assert_eq!(
        s.mode,
        Mode::Confirm(ConfirmAction::Sync {
            apps: vec![id("shop")],
            prune: false
        })
    );
    ch(&mut s, 'p');
    assert_eq!(
        s.mode,
        Mode::Confirm(ConfirmAction::Sync {
            apps: vec![id("shop")],
            prune: true
        })
    );
    let effects = ch(&mut s, 'y');
    assert_eq!(
        effects,
        vec![Effect::Sync {
            id: 1,
            apps: vec![id("shop")],
            prune: true,
            adopt: vec![],
        }]
    );
    assert_eq!(s.mode, Mode::Normal);
    assert_eq!(s.operations.len(), 1);
    assert_eq!(s.operation_on(&id("shop")).map(|o| o.id), Some(1));
    // A second sync of a busy app is refused.
    ch(&mut s, 's');
    assert_eq!(s.mode, Mode::Normal);
    assert!(s
        .toasts
        .last()
        .is_some_and(|t| t.text.contains("already running")));
}

#[test]
fn confirming_a_dialog_that_listed_adoptions_is_the_consent_to_adopt() {
    let mut s = on_shop();
    let i = s.app_index(&id("shop")).expect("shop");
    if let Some(st) = s.apps[i].status.value.as_mut() {
        st.resources[0].takeover = Some(crate::model::Takeover::Adopt {
            managers: vec!["kubectl (Update)".into()],
        });
    }
    ch(&mut s, 's');
    let effects = ch(&mut s, 'y');
    assert_eq!(
        effects,
        vec![Effect::Sync {
            id: 1,
            apps: vec![id("shop")],
            prune: false,
            adopt: vec![id("shop")],
        }]
    );
    // Another app's object is never consent: it is refused by the sync.
    let mut s = on_shop();
    if let Some(st) = s.apps[i].status.value.as_mut() {
        st.resources[0].takeover = Some(crate::model::Takeover::OtherApp { app: id("web") });
    }
    ch(&mut s, 's');
    assert!(matches!(
        ch(&mut s, 'y').as_slice(),
        [Effect::Sync { adopt, .. }] if adopt.is_empty()
    ));
}

#[test]
fn esc_and_q_close_a_dialog_without_effects() {
    let mut s = on_shop();
    ch(&mut s, 's');
    assert!(press(&mut s, KeyCode::Esc).is_empty());
    assert_eq!(s.mode, Mode::Normal);
    ch(&mut s, 's');
    assert!(
        ch(&mut s, 'q').is_empty(),
        "q closes the dialog, it does not quit"
    );
    assert!(!s.quitting);
    ch(&mut s, 's');
    assert!(ch(&mut s, 'j').is_empty());
    assert!(matches!(s.mode, Mode::Confirm(_)), "other keys do nothing");
    assert_eq!(press(&mut s, KeyCode::Enter).len(), 1, "Enter confirms");
}

#[test]
fn marked_apps_sync_together_and_marks_clear() {
    let mut s = loaded();
    ch(&mut s, ' ');
    ch(&mut s, 'G');
    ch(&mut s, ' ');
    ch(&mut s, 's');
    let effects = ch(&mut s, 'y');
    assert_eq!(
        effects,
        vec![Effect::Sync {
            id: 1,
            apps: vec![id("api"), id("web")],
            prune: false,
            adopt: vec![],
        }]
    );
    assert!(s.marks.is_empty());
    assert!(s.operation_on(&id("api")).is_some() && s.operation_on(&id("web")).is_some());
}

#[test]
fn p_suspends_a_running_app_and_resumes_a_paused_one() {
    let mut s = on_shop();
    ch(&mut s, 'p');
    assert_eq!(
        s.mode,
        Mode::Confirm(ConfirmAction::Suspend {
            app: id("shop"),
            reason: String::new()
        })
    );
    // The dialog is a text field: `y`, `p` and `q` are text, not keys.
    type_text(&mut s, "waiting for the DB migration, yes  ");
    press(&mut s, KeyCode::Backspace);
    assert_eq!(
        press(&mut s, KeyCode::Enter),
        vec![Effect::Suspend {
            id: 1,
            app: id("shop"),
            reason: "waiting for the DB migration, yes".into()
        }]
    );

    let mut s = on_shop();
    let i = s.app_index(&id("shop")).expect("shop");
    if let Some(st) = s.apps[i].status.value.as_mut() {
        st.paused_revision = Some(OLD.into());
    }
    ch(&mut s, 'p');
    assert_eq!(
        s.mode,
        Mode::Confirm(ConfirmAction::Resume { app: id("shop") })
    );
    assert_eq!(
        ch(&mut s, 'y'),
        vec![Effect::Resume {
            id: 1,
            app: id("shop")
        }]
    );
}

#[test]
fn r_previews_then_confirms_a_rollback() {
    let mut s = loaded();
    ch(&mut s, 'r');
    assert!(
        s.toasts
            .last()
            .is_some_and(|t| t.text.contains("Commits pane")),
        "r outside the commits pane explains itself"
    );
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    let first = s.preview.in_flight.expect("HEAD preview in flight");
    ch(&mut s, 'j');
    // The HEAD preview lands (stale) and OLD's starts.
    let next = update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: HEAD.into(),
            generation: first,
            result: Ok(status("api", SyncStatus::Synced)),
        },
    );
    let [Effect::LoadPreview { generation, .. }] = &next[..] else {
        panic!("{next:?}")
    };
    let generation = *generation;
    assert!(ch(&mut s, 'r').is_empty(), "the preview is already loading");
    assert_eq!(
        s.mode,
        Mode::Confirm(ConfirmAction::Rollback {
            app: id("api"),
            sha: OLD.into()
        })
    );
    // Confirming before the preview is there does nothing.
    assert!(ch(&mut s, 'y').is_empty());
    assert!(matches!(s.mode, Mode::Confirm(_)));
    update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: OLD.into(),
            generation,
            result: Ok(status("api", SyncStatus::OutOfSync)),
        },
    );
    assert_eq!(
        ch(&mut s, 'y'),
        vec![Effect::Rollback {
            id: 1,
            app: id("api"),
            sha: OLD.into(),
            adopt: false,
        }]
    );
}

#[test]
fn confirming_a_rollback_preview_that_lists_adoptions_consents_to_them() {
    let mut s = loaded();
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    let first = s.preview.in_flight.expect("HEAD preview in flight");
    ch(&mut s, 'j');
    let next = update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: HEAD.into(),
            generation: first,
            result: Ok(status("api", SyncStatus::Synced)),
        },
    );
    let [Effect::LoadPreview { generation, .. }] = &next[..] else {
        panic!("{next:?}")
    };
    let generation = *generation;
    ch(&mut s, 'r');
    let mut preview = status("api", SyncStatus::OutOfSync);
    preview.resources[0].takeover = Some(crate::model::Takeover::Adopt {
        managers: vec!["kubectl (Update)".into()],
    });
    update(
        &mut s,
        Msg::PreviewLoaded {
            app: id("api"),
            sha: OLD.into(),
            generation,
            result: Ok(preview),
        },
    );
    assert!(matches!(
        ch(&mut s, 'y').as_slice(),
        [Effect::Rollback { adopt: true, .. }]
    ));
}

#[test]
fn readonly_refuses_every_mutating_key_with_a_toast() {
    let mut s = on_shop().with_readonly(true);
    for _ in 0..3 {
        press(&mut s, KeyCode::Tab);
    }
    for k in ['s', 'p', 'r', 'x'] {
        assert!(ch(&mut s, k).is_empty(), "{k}");
        assert_eq!(s.mode, Mode::Normal);
        assert!(s
            .toasts
            .last()
            .is_some_and(|t| t.text.starts_with("read-only")));
    }
    assert!(s.operations.is_empty());
}

#[test]
fn x_cancels_the_running_operation_once() {
    let mut s = on_shop();
    ch(&mut s, 'x');
    assert!(s
        .toasts
        .last()
        .is_some_and(|t| t.text == "nothing to cancel"));
    ch(&mut s, 's');
    ch(&mut s, 'y');
    assert_eq!(ch(&mut s, 'x'), vec![Effect::Cancel { id: 1 }]);
    assert!(s.operations[0].cancelling);
    assert!(ch(&mut s, 'x').is_empty(), "asked once");
}

#[test]
fn a_cancelled_operation_stays_until_it_answers_and_says_it_is_stopping() {
    let mut s = on_shop();
    ch(&mut s, 's');
    ch(&mut s, 'y');
    let effects = ch(&mut s, 'x');
    // Cancel asks the operation to stop; nothing is aborted and no result is
    // made up: the operation is still there until it answers itself.
    assert_eq!(effects, vec![Effect::Cancel { id: 1 }]);
    assert_eq!(s.operations.len(), 1);
    assert_eq!(
        s.operations[0].progress,
        "cancelling: finishing the object in flight…"
    );
    update(
        &mut s,
        Msg::OperationProgress {
            id: 1,
            message: "syncing shop (1/1)".into(),
        },
    );
    assert_eq!(
        s.operations[0].progress, "cancelling: finishing the object in flight…",
        "late progress does not hide that it is stopping"
    );
    assert!(
        s.operation_on(&id("shop")).is_some(),
        "still busy: no second sync yet"
    );
    update(
        &mut s,
        Msg::OperationFinished {
            id: 1,
            result: Err("shop: interrupted: 2 applied, 1 not applied".into()),
        },
    );
    assert!(s.operations.is_empty());
    assert!(s.toasts.last().is_some_and(|t| t.level == ToastLevel::Error
        && t.text == "sync shop failed: shop: interrupted: 2 applied, 1 not applied"));
}

#[test]
fn quitting_during_an_operation_cancels_it_and_a_second_quit_leaves_at_once() {
    let mut s = on_shop();
    ch(&mut s, 's');
    ch(&mut s, 'y');
    assert_eq!(
        ch(&mut s, 'q'),
        vec![Effect::Cancel { id: 1 }, Effect::Quit]
    );
    assert!(s.quitting);
    assert!(s.operations[0].cancelling);
    assert_eq!(
        s.operations[0].progress,
        "cancelling: finishing the object in flight…"
    );
    assert_eq!(ch(&mut s, 'q'), vec![Effect::Quit], "no second cancel");

    // SIGTERM goes the same way, and so does Ctrl-C.
    let mut s = on_shop();
    ch(&mut s, 'p');
    press(&mut s, KeyCode::Enter);
    assert_eq!(
        update(&mut s, Msg::Terminate),
        vec![Effect::Cancel { id: 1 }, Effect::Quit]
    );
    let mut s = on_shop();
    ch(&mut s, 's');
    ch(&mut s, 'y');
    let ctrl_c = update(
        &mut s,
        Msg::Key {
            key: crossterm::event::KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL),
        },
    );
    assert_eq!(ctrl_c, vec![Effect::Cancel { id: 1 }, Effect::Quit]);

    // With nothing running, quitting is just quitting.
    let mut s = on_shop();
    assert_eq!(update(&mut s, Msg::Terminate), vec![Effect::Quit]);
}

#[test]
fn progress_and_finish_update_the_operation_and_reload() {
    let mut s = on_shop();
    ch(&mut s, 's');
    ch(&mut s, 'y');
    update(
        &mut s,
        Msg::OperationProgress {
            id: 1,
            message: "applied 2/3".into(),
        },
    );
    assert_eq!(s.operations[0].progress, "applied 2/3");
    update(
        &mut s,
        Msg::OperationProgress {
            id: 99,
            message: "unknown ops are ignored".into(),
        },
    );
    let effects = update(
        &mut s,
        Msg::OperationFinished {
            id: 1,
            result: Ok("3 applied".into()),
        },
    );
    assert!(s.operations.is_empty());
    assert!(s
        .toasts
        .last()
        .is_some_and(|t| t.text == "sync shop: 3 applied" && t.level == ToastLevel::Success));
    assert!(matches!(&effects[0], Effect::LoadStatus { app, .. } if *app == id("shop")));
    ch(&mut s, 'p');
    press(&mut s, KeyCode::Enter);
    update(
        &mut s,
        Msg::OperationFinished {
            id: 2,
            result: Err("forbidden".into()),
        },
    );
    assert!(s.toasts.last().is_some_and(
        |t| t.text == "suspend shop failed: forbidden" && t.level == ToastLevel::Error
    ));
    assert!(update(
        &mut s,
        Msg::OperationFinished {
            id: 2,
            result: Ok(String::new())
        }
    )
    .is_empty());
}
