//! The resources pane: the selected app's objects as a tree by
//! ownerReferences, with sync status and health (and its reason), under
//! banners for whatever stops the app from being shown or synced normally
//! (forbidden, unreachable, invalid manifests, paused). Under the tree, the
//! recent Events of the selected object say what happened to it (scaled,
//! pulled, back-off), which health alone cannot.

use super::format::{age, fit};
use super::hit::Rows;
use super::pane;
use super::theme::{health_icon, resource_icon, Theme};
use crate::app::tree::NodeRef;
use crate::app::{AppRow, AppState, ConnectionState, Focus};
use crate::model::Revision;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState};
use ratatui::Frame;

/// Draws the pane; returns where its tree rows are (for the mouse).
pub fn render(frame: &mut Frame, area: Rect, state: &AppState, theme: &Theme) -> Option<Rows> {
    let focused = state.focus == Focus::Resources;
    let Some(row) = state.selected_row() else {
        let block = pane(Line::from("Resources"), focused, theme);
        frame.render_widget(Paragraph::new("No app selected.").block(block), area);
        return None;
    };
    let block = pane(Line::from(format!("Resources: {}", row.id)), focused, theme);
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let lines = banners(row, state, theme);
    let banner_height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(2) / 2 + 1)
        .min(4);
    let [banner_area, table_area] =
        Layout::vertical([Constraint::Length(banner_height), Constraint::Fill(1)]).areas(inner);
    let width = usize::from(banner_area.width);
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|(style, text)| Line::styled(fit(&text, width), style))
        .collect();
    frame.render_widget(Paragraph::new(lines), banner_area);

    let Some(status) = &row.status.value else {
        let text = if row.status.error.is_some() {
            ""
        } else {
            "Loading…"
        };
        frame.render_widget(Paragraph::new(text).style(theme.dim), table_area);
        return None;
    };
    let mut names: Vec<String> = Vec::new();
    let rows: Vec<Row> = row
        .tree
        .iter()
        .map(|t| {
            let kind = format!("{}{}", t.prefix, kind_of(row, status, t.node));
            match t.node {
                NodeRef::Resource(i) => match status.resources.get(i) {
                    Some(r) => {
                        let name = match &r.key.namespace {
                            Some(ns) => format!("{ns}/{}", r.key.name),
                            None => r.key.name.clone(),
                        };
                        names.push(name.clone());
                        cells(
                            kind,
                            name,
                            Span::styled(
                                format!("{} {}", resource_icon(r.status), r.status),
                                theme.resource(r.status),
                            ),
                            health(r.health, &r.health_reason, theme),
                        )
                    }
                    None => Row::new([""]),
                },
                NodeRef::Owned(i) => {
                    let (name, h, reason) = match row.owned.get(i) {
                        // Owned objects live in their owner's namespace: the bare
                        // name leaves room for the generated suffixes that tell pods apart.
                        Some(o) => (
                            o.live.key().name.clone(),
                            o.health,
                            o.health_reason.as_str(),
                        ),
                        None => (String::new(), crate::model::Health::Unknown, ""),
                    };
                    names.push(name.clone());
                    cells(
                        kind,
                        name,
                        Span::styled("  (owned)", theme.dim),
                        health(h, reason, theme),
                    )
                }
            }
        })
        .collect();
    let kind_width = row
        .tree
        .iter()
        .map(|t| {
            unicode_width::UnicodeWidthStr::width(t.prefix.as_str())
                + kind_of(row, status, t.node).len()
        })
        .max()
        .unwrap_or(4)
        .clamp(4, 24);
    // Names as wide as the longest (within reason); health reasons get the rest.
    let name_width = names
        .iter()
        .map(|n| unicode_width::UnicodeWidthStr::width(n.as_str()))
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    let widths = [
        Constraint::Length(u16::try_from(kind_width).unwrap_or(24)),
        Constraint::Length(u16::try_from(name_width).unwrap_or(40)),
        Constraint::Length(11),
        Constraint::Fill(1),
    ];
    let empty = rows.is_empty();
    let table = Table::new(rows, widths)
        .header(Row::new(["KIND", "NAME", "STATUS", "HEALTH"]).style(theme.header))
        .column_spacing(1)
        .row_highlight_style(theme.selected)
        .highlight_symbol("›");
    let events = event_lines(state, theme);
    // Events take the room the tree leaves, and up to a third of a tall
    // pane; a heading alone would say nothing, so it comes with a line or not at all.
    let tree_height = u16::try_from(row.tree.len() + 1).unwrap_or(u16::MAX);
    let spare = table_area.height.saturating_sub(tree_height);
    let third = if table_area.height >= 12 {
        table_area.height / 3
    } else {
        0
    };
    let events_height = u16::try_from(events.len())
        .unwrap_or(u16::MAX)
        .min(spare.max(third));
    let events_height = if events_height >= 2 { events_height } else { 0 };
    let [tree_area, events_area] =
        Layout::vertical([Constraint::Fill(1), Constraint::Length(events_height)])
            .areas(table_area);
    let mut ts = TableState::default().with_selected((!empty).then_some(state.selected_resource));
    frame.render_stateful_widget(table, tree_area, &mut ts);
    let first = ts.offset();
    let rows = Rows {
        area,
        top: tree_area.y.saturating_add(1),
        first,
        count: row
            .tree
            .len()
            .saturating_sub(first)
            .min(usize::from(tree_area.height.saturating_sub(1))),
    };
    if events_height > 0 {
        let width = usize::from(events_area.width);
        let lines: Vec<Line> = events
            .into_iter()
            .map(|spans| fit_spans(spans, width))
            .collect();
        frame.render_widget(Paragraph::new(lines), events_area);
    }
    Some(rows)
}

/// Health and its full reason for the selected tree row.
fn selected_health(state: &AppState) -> Option<(crate::model::Health, String)> {
    let row = state.selected_row()?;
    match state.selected_tree_row()?.node {
        NodeRef::Resource(i) => {
            let r = row.status.value.as_ref()?.resources.get(i)?;
            Some((r.health, r.health_reason.clone()))
        }
        NodeRef::Owned(i) => row
            .owned
            .get(i)
            .map(|o| (o.health, o.health_reason.clone())),
    }
}

/// The Events section: a heading, then one line per Event (type, reason,
/// age, message), Warnings in the warn style. Empty when nothing is selected.
fn event_lines<'a>(state: &AppState, theme: &Theme) -> Vec<Vec<Span<'a>>> {
    let Some((_, key)) = state.selected_resource_key() else {
        return vec![];
    };
    let mut out = vec![vec![Span::styled(
        format!("Events: {} {}", key.kind, key.name),
        theme.header,
    )]];
    // The table's health column is narrow; the whole reason goes here.
    if let Some((h, reason)) = selected_health(state).filter(|(_, r)| !r.is_empty()) {
        out.push(vec![Span::styled(
            format!("{h}: {reason}"),
            theme.health(h),
        )]);
    }
    let slot = state.selected_events();
    let rows = slot.and_then(|s| s.rows.as_ref());
    match (rows, slot.and_then(|s| s.error.as_ref())) {
        (_, Some(e)) => out.push(vec![Span::styled(format!("✖ {e}"), theme.bad)]),
        (None, None) => out.push(vec![Span::styled("Loading events…", theme.dim)]),
        (Some(rows), None) if rows.is_empty() => {
            out.push(vec![Span::styled("No recent events", theme.dim)]);
        }
        (Some(rows), None) => {
            let reason_width = rows
                .iter()
                .map(|r| r.reason.len())
                .max()
                .unwrap_or(0)
                .clamp(6, 24);
            for r in rows {
                let style = if r.is_warning() {
                    theme.warn
                } else {
                    theme.text
                };
                let when = r
                    .last_seen_time()
                    .map(|t| age(state.now, t))
                    .unwrap_or_else(|| "?".into());
                let count = if r.count > 1 {
                    format!(" (x{})", r.count)
                } else {
                    String::new()
                };
                out.push(vec![
                    Span::styled(format!("{:<7} ", r.type_), style),
                    Span::styled(
                        format!("{:<reason_width$} ", fit(&r.reason, reason_width)),
                        style,
                    ),
                    Span::styled(format!("{when:>4} "), theme.dim),
                    Span::styled(format!("{}{count}", r.message), style),
                ]);
            }
        }
    }
    out
}

/// One line cut to `width` columns, the last span that overflows ending in `…`.
fn fit_spans(spans: Vec<Span<'_>>, width: usize) -> Line<'_> {
    let mut used = 0;
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        let w = unicode_width::UnicodeWidthStr::width(span.content.as_ref());
        if used + w <= width {
            used += w;
            out.push(span);
            continue;
        }
        let room = width.saturating_sub(used);
        if room > 0 {
            out.push(Span::styled(fit(&span.content, room), span.style));
        }
        break;
    }
    Line::from(out)
}

fn cells<'a>(kind: String, name: String, status: Span<'a>, health: Line<'a>) -> Row<'a> {
    Row::new([
        Cell::from(kind),
        Cell::from(name),
        Cell::from(status),
        Cell::from(health),
    ])
}

fn health<'a>(h: crate::model::Health, reason: &str, theme: &Theme) -> Line<'a> {
    let mut spans = vec![Span::styled(
        format!("{} {h}", health_icon(h)),
        theme.health(h),
    )];
    if !reason.is_empty() {
        spans.push(Span::styled(format!(": {reason}"), theme.dim));
    }
    Line::from(spans)
}

fn kind_of(row: &AppRow, status: &crate::model::AppStatus, node: NodeRef) -> String {
    match node {
        NodeRef::Resource(i) => status
            .resources
            .get(i)
            .map(|r| r.key.kind.clone())
            .unwrap_or_default(),
        NodeRef::Owned(i) => row
            .owned
            .get(i)
            .map(|o| o.live.key().kind.as_str())
            .filter(|k| !k.is_empty())
            .unwrap_or("?")
            .to_string(),
    }
}

/// Problems first (they explain everything below), then pauses.
fn banners(row: &AppRow, state: &AppState, theme: &Theme) -> Vec<(Style, String)> {
    let mut out = vec![];
    match state.connection(&row.context) {
        ConnectionState::Forbidden { message } => out.push((
            theme.bad,
            format!("✖ forbidden in context {}: {message}", row.context),
        )),
        ConnectionState::Reconnecting { attempt } => out.push((
            theme.warn,
            format!(
                "◌ cluster {} unreachable: reconnecting (attempt {attempt}); showing the last known state",
                row.context
            ),
        )),
        _ => {}
    }
    if let Some(e) = &row.status.error {
        out.push((theme.bad, format!("✖ {e}")));
    }
    if let Some(s) = &row.status.value {
        if s.sync == crate::model::SyncStatus::Unknown && !s.message.is_empty() {
            out.push((theme.bad, format!("✖ {}", s.message)));
        }
        for w in &s.warnings {
            out.push((theme.warn, format!("! {w}")));
        }
        if let Some(pin) = &s.paused_revision {
            let head = s.head_revision.as_ref().map_or("?", Revision::short);
            out.push((
                theme.warn,
                format!(
                    "PAUSED by rollback at {}: auto-sync holds here; resume (p) returns to head {head}",
                    pin.short()
                ),
            ));
        } else if s.suspended {
            let line = match super::format::suspension_line(s, state.now) {
                Some(who) => format!("{who} · auto-sync and self-heal are off; resume with p"),
                None => "SUSPENDED: auto-sync and self-heal are off; resume with p".to_string(),
            };
            out.push((theme.warn, line));
        }
    }
    out
}
