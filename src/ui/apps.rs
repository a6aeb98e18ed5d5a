//! The apps pane: one row per app with sync, health, operation or pause
//! marker, deployed vs head revision, drift counts and the last sync's age.
//! An app with warnings (files or documents not loaded) carries `⚠N` after
//! its name; the messages are in its resources pane and diff.

use super::format::{age, fit};
use super::hit::Rows;
use super::pane;
use super::theme::{health_icon, sync_icon, Theme, SPINNER};
use crate::app::{AppRow, AppState, ConnectionState, Focus};
use crate::model::Revision;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;
use unicode_width::UnicodeWidthStr;

/// The narrowest pane that shows the MANAGED-BY column in full.
const MANAGED_BY_FROM: u16 = 100;

/// What manages each app, in full or (narrow panes) short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ByColumn {
    Full,
    Short,
}

impl ByColumn {
    fn for_width(width: u16) -> ByColumn {
        if width >= MANAGED_BY_FROM {
            ByColumn::Full
        } else {
            ByColumn::Short
        }
    }

    fn header(self) -> &'static str {
        match self {
            ByColumn::Full => "MANAGED-BY",
            ByColumn::Short => "SOURCE",
        }
    }

    fn width(self) -> u16 {
        match self {
            ByColumn::Full => 10,
            ByColumn::Short => 6,
        }
    }

    fn value(self, a: &AppRow) -> &'static str {
        match (self, a.id.source) {
            (ByColumn::Short, crate::model::AppSource::Native) => "gitops",
            (_, source) => source.managed_by(),
        }
    }
}

/// Draws the pane; returns where its rows are (for the mouse).
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) -> Option<Rows> {
    let mut title = format!(
        "Apps ({}/{}) sort:{}",
        state.visible.len(),
        state.apps.len(),
        state.sort.label()
    );
    if !state.filter.is_empty() {
        title.push_str(&format!(" /{}", state.filter));
    }
    if let Some(c) = &state.context_filter {
        title.push_str(&format!(" ctx:{c}"));
    }
    if !state.marks.is_empty() {
        title.push_str(&format!(" marked:{}", state.marks.len()));
    }
    let block = pane(Line::from(title), state.focus == Focus::Apps, theme);
    if let Some(first) = state.first_run.as_ref().filter(|_| state.apps.is_empty()) {
        frame.render_widget(
            Paragraph::new(first_run_lines(first, theme)).block(block),
            area,
        );
        return None;
    }
    // Why the selected app is suspended, who did it and when, in place of
    // the drift legend.
    let block = match state
        .selected_row()
        .and_then(|r| r.status.value.as_ref())
        .and_then(|s| super::format::suspension_line(s, state.now))
    {
        Some(line) => block.title_bottom(Line::from(format!(" {line} ")).style(theme.warn)),
        None => block.title_bottom(
            Line::from(" ~modified -missing +extra ")
                .style(theme.dim)
                .right_aligned(),
        ),
    };
    // MANAGED-BY only once a Flux or Argo CD app is listed (a native-only
    // list keeps its columns); in a narrow pane it is SOURCE, 6 wide
    // (gitops / flux / argocd), so the names keep their room.
    let by = crate::app::discovered::any_managed(state).then(|| ByColumn::for_width(area.width));
    let mut names = vec![
        "", "NAME", "SYNC", "HEALTH", "STATE", "REVISION", "DRIFT", "LAST",
    ];
    if let Some(by) = by {
        names.insert(2, by.header());
    }
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Min(8),
        Constraint::Length(11),
        Constraint::Length(13),
        Constraint::Length(7),
        Constraint::Length(15),
        Constraint::Length(8),
        Constraint::Length(4),
    ];
    if let Some(by) = by {
        widths.insert(2, Constraint::Length(by.width()));
        // A narrow pane pays for SOURCE with REVISION's head half (the
        // deployed commit and its → stay), so the names keep their room.
        if by == ByColumn::Short {
            widths[6] = Constraint::Length(8);
        }
    }
    // What NAME has left: the pane less its borders, the highlight symbol,
    // the other columns and the spaces between them.
    let fixed: u16 = widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => *n,
            _ => 0,
        })
        .sum();
    let gaps = u16::try_from(widths.len().saturating_sub(1)).unwrap_or(0);
    let name_room = usize::from(area.width.saturating_sub(2 + 1 + fixed + gaps)).max(8);
    let header = Row::new(names).style(theme.header);
    // Build only the rows that fit (1,000 apps must still draw in a few
    // milliseconds); the window ends at the selection as ratatui's would.
    let fits = usize::from(area.height.saturating_sub(3)).max(1);
    let first = state.selected_app.saturating_sub(fits - 1);
    let rows: Vec<Row> = state
        .visible
        .iter()
        .skip(first)
        .take(fits)
        .filter_map(|i| state.apps.get(*i))
        .map(|a| row(a, state, theme, by, name_room))
        .collect();
    let count = rows.len();
    let empty = state.visible.is_empty();
    let table = Table::new(rows, widths)
        .header(header)
        .block(block)
        .column_spacing(1)
        .row_highlight_style(theme.selected)
        .highlight_symbol("›");
    let mut ts =
        TableState::default().with_selected((!empty).then_some(state.selected_app - first));
    frame.render_stateful_widget(table, area, &mut ts);
    Some(Rows {
        area,
        top: area.y.saturating_add(2),
        first,
        count,
    })
}

/// The empty state of a first run: where the config goes, how to start.
fn first_run_lines<'a>(first: &crate::app::FirstRun, theme: &Theme) -> Vec<Line<'a>> {
    let init = if first.repo_here {
        "  gitops-tui init       propose apps from the Git repository here"
    } else {
        "  gitops-tui init REPO  propose apps from a Git repository"
    };
    vec![
        Line::styled(
            "No apps configured yet. gitops-tui reads its apps from:",
            theme.title,
        ),
        Line::styled(format!("  {}", first.config), theme.text),
        Line::styled(
            "  (or --config FILE; every key: config.example.toml)",
            theme.dim,
        ),
        Line::styled("Start with one of (q quits):", theme.text),
        Line::styled(init, theme.text),
        Line::styled(
            "  gitops-tui demo       everything on an embedded cluster",
            theme.text,
        ),
    ]
}

fn row<'a>(
    a: &'a AppRow,
    state: &AppState,
    theme: &Theme,
    by: Option<ByColumn>,
    name_room: usize,
) -> Row<'a> {
    let mark = if state.marks.contains(&a.id) {
        Span::styled("*", theme.mark)
    } else {
        Span::raw(" ")
    };
    let (sync, health) = match (&a.status.value, &a.status.error) {
        (Some(s), _) => (
            Span::styled(
                format!("{} {}", sync_icon(s.sync), s.sync),
                theme.sync(s.sync),
            ),
            Span::styled(
                format!("{} {}", health_icon(s.health), s.health),
                theme.health(s.health),
            ),
        ),
        (None, Some(_)) => (
            Span::styled("? Unknown", theme.dim),
            Span::styled("? Unknown", theme.dim),
        ),
        (None, None) => (Span::styled("… loading", theme.dim), Span::raw("")),
    };
    let rev = a
        .status
        .value
        .as_ref()
        .map(|s| {
            let deployed = s.deployed_revision.as_ref().map(Revision::short);
            let head = s.head_revision.as_ref().map(Revision::short);
            match (deployed, head) {
                (Some(d), Some(h)) if d == h => d.to_string(),
                (Some(d), Some(h)) => format!("{d}→{h}"),
                (Some(d), None) => d.to_string(),
                (None, Some(h)) => format!("–→{h}"),
                (None, None) => String::new(),
            }
        })
        .unwrap_or_default();
    let drift = a
        .status
        .value
        .as_ref()
        .map(|s| {
            let c = &s.counts;
            let parts: Vec<String> = [("~", c.out_of_sync), ("-", c.missing), ("+", c.extra)]
                .iter()
                .filter(|(_, n)| *n > 0)
                .map(|(p, n)| format!("{p}{n}"))
                .collect();
            parts.join(" ")
        })
        .unwrap_or_default();
    let last = a
        .history
        .value
        .as_ref()
        .and_then(|h| h.last_sync())
        // Before its history loads, the status knows the last sync too.
        .or_else(|| {
            a.status
                .value
                .as_ref()
                .and_then(|s| s.last_sync.as_deref())
                .and_then(crate::app::history::parse_time)
        })
        .map(|t| age(state.now, t))
        .unwrap_or_default();
    let mut cells = vec![
        Cell::from(mark),
        Cell::from(name(a, theme, name_room)),
        Cell::from(sync),
        Cell::from(health),
        Cell::from(marker(a, state, theme)),
        Cell::from(Span::styled(rev, theme.text)),
        Cell::from(Span::styled(drift, theme.warn)),
        Cell::from(Span::styled(last, theme.dim)),
    ];
    if let Some(by) = by {
        cells.insert(2, Cell::from(Span::styled(by.value(a), theme.dim)));
    }
    Row::new(cells)
}

/// The app's name, and `⚠N` when N things of it were not loaded. A Flux or
/// Argo CD address that does not fit in `room` drops what the MANAGED-BY
/// column already says, then its namespace (`NS/NAME`, then `NAME`), so the
/// part that tells rows apart stays; a name still too long ends in `…`.
fn name<'a>(a: &'a AppRow, theme: &Theme, room: usize) -> Line<'a> {
    let warnings = a.status.value.as_ref().map_or(0, |s| s.warnings.len());
    let badge = if warnings > 0 {
        format!(" ⚠{warnings}")
    } else {
        String::new()
    };
    let room = room.saturating_sub(badge.width()).max(4);
    let id = &a.id;
    let full = id.to_string();
    let candidates = if id.is_native() {
        vec![full]
    } else {
        vec![
            full,
            format!("{}/{}", id.namespace, id.name),
            id.name.clone(),
        ]
    };
    let shortest = candidates.last().map(String::as_str).unwrap_or_default();
    let shown = match candidates.iter().find(|n| n.width() <= room) {
        Some(n) => n.clone(),
        None => fit(shortest, room),
    };
    let mut spans = vec![Span::raw(shown)];
    if warnings > 0 {
        spans.push(Span::styled(badge, theme.warn));
    }
    Line::from(spans)
}

/// The one thing most worth knowing about an app beyond sync and health:
/// an operation running, the cluster out of reach, an error, a lease held
/// elsewhere, a pause.
fn marker<'a>(a: &AppRow, state: &AppState, theme: &Theme) -> Span<'a> {
    if let Some(op) = state.operation_on(&a.id) {
        let spin = SPINNER[op.spinner % SPINNER.len()];
        return Span::styled(format!("{spin} {}", op.kind.verb()), theme.info);
    }
    match state.connection(&a.context) {
        ConnectionState::Forbidden { .. } => return Span::styled("DENIED", theme.bad),
        ConnectionState::Reconnecting { .. } => return Span::styled("OFFLINE", theme.warn),
        _ => {}
    }
    if a.status.error.is_some() {
        return Span::styled("ERROR", theme.bad);
    }
    match &a.status.value {
        // Another process or host is operating on it: a sync would be refused.
        Some(s) if s.lease.is_some() => Span::styled("LOCKED", theme.warn),
        Some(s) if s.paused_revision.is_some() => Span::styled("PAUSED", theme.warn),
        Some(s) if s.suspended => Span::styled("SUSP", theme.warn),
        _ => Span::raw(""),
    }
}
