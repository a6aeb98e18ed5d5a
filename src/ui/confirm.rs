//! The confirm dialog for sync, suspend, resume and rollback: it says what
//! will change, read from the same state the panes show (so the summary
//! follows watch events while it is open), and how to confirm or cancel.

use super::centered;
use super::format::fit;
use super::theme::Theme;
use crate::app::{Action, AppState, ConfirmAction};
use crate::model::AppStatus;
use crate::model::{AppId, ResourceStatus, Revision, Takeover};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph};
use ratatui::Frame;

const MAX_LISTED: usize = 8;

pub fn render(
    frame: &mut Frame,
    area: Rect,
    state: &AppState,
    action: &ConfirmAction,
    theme: &Theme,
) {
    let width = area.width.saturating_sub(4).min(76);
    let inner_width = usize::from(width.saturating_sub(4));
    let (title, mut lines, can_confirm) = body(state, action, theme);
    lines.push(Line::raw(""));
    let keys = |a: Action| state.keymap.keys_text(a);
    let mut footer = vec![];
    if can_confirm {
        footer.push(Span::styled(keys(Action::Confirm), theme.title));
        footer.push(Span::styled(" confirm  ", theme.dim));
    }
    if matches!(action, ConfirmAction::Sync { .. }) {
        footer.push(Span::styled(keys(Action::TogglePrune), theme.title));
        footer.push(Span::styled(" toggle prune  ", theme.dim));
    }
    if matches!(action, ConfirmAction::Refresh { .. }) {
        footer.push(Span::styled(keys(Action::ToggleHard), theme.title));
        footer.push(Span::styled(" hard refresh on/off  ", theme.dim));
    }
    footer.push(Span::styled(
        format!("{}/{}", keys(Action::Back), keys(Action::Quit)),
        theme.title,
    ));
    footer.push(Span::styled(" cancel", theme.dim));
    // A text field's keys are said in its body.
    if !action.is_text_field() {
        lines.push(Line::from(footer));
    }
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| {
            if l.width() > inner_width {
                let text: String = l.spans.iter().map(|s| s.content.as_ref()).collect();
                Line::styled(
                    fit(&text, inner_width),
                    l.spans.first().map_or(Style::new(), |s| s.style),
                )
            } else {
                l
            }
        })
        .collect();
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .saturating_add(2);
    let rect = centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border_focus)
        .title(Line::styled(format!(" {title} "), theme.title));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

fn counts_text(s: &AppStatus) -> String {
    let c = &s.counts;
    let adopt = s
        .resources
        .iter()
        .filter(|r| matches!(r.takeover, Some(Takeover::Adopt { .. })))
        .count();
    let mut text = format!(
        "{} modified, {} missing, {} extra",
        c.out_of_sync, c.missing, c.extra
    );
    if adopt > 0 {
        text.push_str(&format!(", {adopt} to adopt"));
    }
    text
}

fn changed<'a>(s: &AppStatus, theme: &Theme) -> Vec<Line<'a>> {
    // Objects to take over first: they are what a person must not miss.
    let mut drifted: Vec<_> = s
        .resources
        .iter()
        .filter(|r| r.status != ResourceStatus::Synced || r.takeover.is_some())
        .collect();
    drifted.sort_by_key(|r| r.takeover.is_none());
    let mut out: Vec<Line> = drifted
        .iter()
        .take(MAX_LISTED)
        .map(|r| {
            let (verb, style) = match (&r.takeover, r.status) {
                (Some(Takeover::Adopt { .. }), _) => ("⇐ adopt ", theme.bad),
                (Some(Takeover::OtherApp { .. }), _) => ("✖ refuse", theme.bad),
                (None, ResourceStatus::OutOfSync) => ("~ update", theme.warn),
                (None, ResourceStatus::Missing) => ("+ create", theme.warn),
                (None, ResourceStatus::Extra) => ("- extra ", theme.warn),
                (None, ResourceStatus::Synced) => ("", theme.warn),
            };
            let mut spans = vec![
                Span::styled(format!("    {verb} "), style),
                Span::styled(r.key.to_string(), theme.text),
            ];
            if let Some(t) = &r.takeover {
                spans.push(Span::styled(format!("  {}", t.detail()), theme.dim));
            }
            Line::from(spans)
        })
        .collect();
    if drifted.len() > MAX_LISTED {
        out.push(Line::styled(
            format!("    … and {} more", drifted.len() - MAX_LISTED),
            theme.dim,
        ));
    }
    out
}

fn body<'a>(
    state: &AppState,
    action: &ConfirmAction,
    theme: &Theme,
) -> (String, Vec<Line<'a>>, bool) {
    if let Some(managed) = super::confirm_managed::body(state, action, theme) {
        return managed;
    }
    let status = |app: &AppId| {
        state
            .app_index(app)
            .and_then(|i| state.apps[i].status.value.as_ref())
    };
    match action {
        ConfirmAction::Sync { apps, prune } => {
            let title = if apps.len() == 1 {
                format!("Sync {}", apps[0])
            } else {
                format!("Sync {} apps", apps.len())
            };
            let mut lines = vec![Line::styled("Apply Git to the cluster:", theme.text)];
            let mut extra = 0;
            for app in apps {
                match status(app) {
                    Some(s) => {
                        extra += s.counts.extra;
                        lines.push(Line::from(vec![
                            Span::styled(format!("  {app}: "), theme.header),
                            Span::styled(counts_text(s), theme.warn),
                        ]));
                        if apps.len() == 1 {
                            lines.extend(changed(s, theme));
                        }
                    }
                    None => lines.push(Line::styled(
                        format!("  {app}: status not loaded"),
                        theme.dim,
                    )),
                }
            }
            let check = if *prune { "[x]" } else { "[ ]" };
            let what = if extra == 0 {
                "nothing extra to delete".to_string()
            } else {
                format!("delete the {extra} extra object(s) Git no longer has")
            };
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                format!("{check} prune: {what}"),
                if *prune && extra > 0 {
                    theme.bad
                } else {
                    theme.text
                },
            ));
            (title, lines, true)
        }
        ConfirmAction::Suspend { app, reason } => (
            format!("Suspend {app}"),
            vec![
                Line::styled(
                    "Auto-sync and self-heal stop for this app until it is resumed.",
                    theme.text,
                ),
                Line::raw(""),
                Line::styled("Why? (shown to everyone who looks at this app)", theme.dim),
                Line::styled(format!("> {reason}▏"), theme.text),
                Line::raw(""),
                Line::styled("Enter suspend · Esc cancel", theme.dim),
            ],
            false,
        ),
        ConfirmAction::IgnoreRule { app, proposal } => {
            let mut lines = vec![
                Line::styled(
                    format!(
                        "Never count {} as drift of {app}; append to the config:",
                        proposal.json_pointer
                    ),
                    theme.text,
                ),
                Line::raw(""),
            ];
            lines.extend(
                proposal
                    .toml()
                    .lines()
                    .map(|l| Line::styled(format!("  {l}"), theme.title)),
            );
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "Comments and order in the file are kept. Used from the next start.",
                theme.dim,
            ));
            (format!("Ignore a field of {app}"), lines, true)
        }
        ConfirmAction::Resume { app } => {
            let mut lines = vec![Line::styled(
                "Auto-sync and self-heal start again for this app.",
                theme.text,
            )];
            if let Some(s) = status(app) {
                if let Some(pin) = &s.paused_revision {
                    let head = s.head_revision.as_ref().map_or("?", Revision::short);
                    lines.push(Line::styled(
                        format!(
                            "Paused by a rollback at {}: resuming syncs to the head {head}.",
                            pin.short()
                        ),
                        theme.warn,
                    ));
                }
            }
            (format!("Resume {app}"), lines, true)
        }
        // Only an Argo CD app's is opened (`confirm_managed` shows it).
        ConfirmAction::Refresh { app, .. } => (
            format!("Refresh {app}"),
            vec![Line::styled(
                "Only an Argo CD app has a refresh.",
                theme.text,
            )],
            false,
        ),
        ConfirmAction::Rollback { app, sha } => {
            let short = sha.short();
            let subject = state
                .selected_commit()
                .filter(|c| &c.sha == sha)
                .map(|c| c.subject.clone())
                .unwrap_or_default();
            let mut lines = vec![Line::from(vec![
                Span::styled(format!("Roll back {app} to {short}"), theme.header),
                Span::styled(format!("  {subject}"), theme.text),
            ])];
            let ready = preview_lines(state, app, sha, &mut lines, theme);
            (format!("Rollback {app}"), lines, ready)
        }
    }
}

/// What a rollback changes against live, from the loaded preview; false
/// while there is none to show (confirming waits for it).
fn preview_lines(
    state: &AppState,
    app: &AppId,
    sha: &Revision,
    lines: &mut Vec<Line<'_>>,
    theme: &Theme,
) -> bool {
    let preview = state.preview.get(app, sha);
    if let Some(s) = preview.and_then(|p| p.value.as_ref()) {
        let short = sha.short();
        lines.push(Line::styled(
            format!("Against live: {}", counts_text(s)),
            theme.warn,
        ));
        lines.extend(changed(s, theme));
        let note = format!("The app is then paused at {short}; resume (p) returns it to its ref.");
        lines.push(Line::styled(note, theme.dim));
        return true;
    }
    let line = match preview.and_then(|p| p.error.as_ref()) {
        Some(e) => Line::styled(format!("✖ preview failed: {e}"), theme.bad),
        None => Line::styled("Loading the preview against live…", theme.dim),
    };
    lines.push(line);
    false
}
