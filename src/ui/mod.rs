//! Pure rendering: `draw(frame, state)` reads the state and writes cells,
//! nothing else, so every screen is a snapshot test away. One file per pane.
//!
//! Layout: from 120 columns, apps and resources on the left, diff and
//! commits on the right; narrower, the panes stack (apps, then resources or
//! commits, then the diff). Two lines at the bottom: the message line
//! (filter, command line, toasts, key hints) and the status bar.

mod apps;
mod commits;
mod confirm;
pub mod confirm_managed;
mod diff;
pub mod format;
mod help;
pub mod hit;
mod logs;
mod message;
mod resources;
mod status_bar;
pub mod theme;

use crate::app::mouse::Region;
use crate::app::{AppState, Focus, Mode};
pub use hit::{hit, ScreenMap};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType};
use ratatui::Frame;
use theme::Theme;

/// Where the stacked layout starts.
pub const WIDE_COLUMNS: u16 = 120;

pub fn draw(frame: &mut Frame, state: &AppState) {
    draw_mapped(frame, state);
}

/// Draw, and say where each pane and list row went (for the mouse).
pub fn draw_mapped(frame: &mut Frame, state: &AppState) -> ScreenMap {
    let mut map = ScreenMap::default();
    let theme = Theme::of(state.theme);
    let area = frame.area();
    let [body, message_area, status_area] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);

    // A first run's apps pane holds how to start (apps.rs), not rows.
    let rows = if state.apps.is_empty() && state.first_run.is_some() {
        6
    } else {
        state.apps.len()
    };
    let apps_height = u16::try_from(rows)
        .unwrap_or(u16::MAX)
        .saturating_add(3)
        .max(5);
    if let Some(view) = &state.logs.view {
        // The log pane takes the panes' room: long lines deserve it.
        logs::render(frame, body, state, view, &theme);
        map.push(body, Region::Logs, None);
    } else if area.width >= WIDE_COLUMNS {
        let [left, right] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(body);
        let [apps_area, resources_area] = Layout::vertical([
            Constraint::Max(apps_height.min(left.height / 2)),
            Constraint::Fill(1),
        ])
        .areas(left);
        let [diff_area, commits_area] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Fill(1)]).areas(right);
        let rows = apps::render(frame, apps_area, state, &theme);
        map.push(apps_area, Region::Pane(Focus::Apps), rows);
        let rows = resources::render(frame, resources_area, state, &theme);
        map.push(resources_area, Region::Pane(Focus::Resources), rows);
        diff::render(frame, diff_area, state, &theme);
        map.push(diff_area, Region::Pane(Focus::Diff), None);
        let rows = commits::render(frame, commits_area, state, &theme);
        map.push(commits_area, Region::Pane(Focus::Commits), rows);
    } else {
        let [apps_area, rest] = Layout::vertical([
            Constraint::Max(apps_height.min(body.height * 2 / 5)),
            Constraint::Fill(1),
        ])
        .areas(body);
        // Reading a diff deserves the room.
        let middle_share = if state.focus == Focus::Diff { 30 } else { 45 };
        let [middle, diff_area] =
            Layout::vertical([Constraint::Percentage(middle_share), Constraint::Fill(1)])
                .areas(rest);
        let rows = apps::render(frame, apps_area, state, &theme);
        map.push(apps_area, Region::Pane(Focus::Apps), rows);
        let commits_first = state.focus == Focus::Commits
            || (state.focus == Focus::Diff && state.diff.source.is_commit());
        if commits_first {
            let rows = commits::render(frame, middle, state, &theme);
            map.push(middle, Region::Pane(Focus::Commits), rows);
        } else {
            let rows = resources::render(frame, middle, state, &theme);
            map.push(middle, Region::Pane(Focus::Resources), rows);
        }
        diff::render(frame, diff_area, state, &theme);
        map.push(diff_area, Region::Pane(Focus::Diff), None);
    }
    if let Some(rows) = logs::render_chooser(frame, body, state, &theme) {
        map.push(rows.area, Region::Chooser, Some(rows));
    }
    message::render(frame, message_area, state, &theme);
    status_bar::render(frame, status_area, state, &theme);

    match &state.mode {
        Mode::Confirm(action) => confirm::render(frame, area, state, action, &theme),
        Mode::Help => help::render(frame, area, state, &theme),
        _ => {}
    }
    map
}

/// One part of the screen, for snapshot tests of a single pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Apps,
    Resources,
    Diff,
    Commits,
    MessageLine,
    StatusBar,
    Dialog,
    /// The log pane, or its chooser when that is open.
    Logs,
}

/// Draw only `pane`, filling the frame.
pub fn draw_pane(frame: &mut Frame, state: &AppState, pane: Pane) {
    let theme = Theme::of(state.theme);
    let area = frame.area();
    match pane {
        Pane::Apps => {
            apps::render(frame, area, state, &theme);
        }
        Pane::Resources => {
            resources::render(frame, area, state, &theme);
        }
        Pane::Diff => diff::render(frame, area, state, &theme),
        Pane::Commits => {
            commits::render(frame, area, state, &theme);
        }
        Pane::Logs => {
            if let Some(view) = &state.logs.view {
                logs::render(frame, area, state, view, &theme);
            }
            logs::render_chooser(frame, area, state, &theme);
        }
        Pane::MessageLine => message::render(frame, area, state, &theme),
        Pane::StatusBar => status_bar::render(frame, area, state, &theme),
        Pane::Dialog => match &state.mode {
            Mode::Confirm(action) => confirm::render(frame, area, state, action, &theme),
            Mode::Help => help::render(frame, area, state, &theme),
            _ => {}
        },
    }
}

/// A pane's frame: thick border and a marker when focused, so focus shows
/// without colour too.
fn pane<'a>(title: Line<'a>, focused: bool, theme: &Theme) -> Block<'a> {
    let (border_type, style, marker) = if focused {
        (BorderType::Thick, theme.border_focus, "▶ ")
    } else {
        (BorderType::Plain, theme.border, "")
    };
    let mut spans = vec![Span::styled(marker, theme.title)];
    spans.extend(title.spans);
    Block::bordered()
        .border_type(border_type)
        .border_style(style)
        .title(Line::from(spans).style(theme.title))
}

/// A rectangle of at most `width`×`height`, centred in `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
