//! Plain-text output of the headless verbs. Every warning of an app (a
//! document or file not loaded, a kind not looked at) follows its table,
//! diff or sync result as one `warning:` line, so nothing is skipped unseen.

use crate::engine::{SyncReport, NOT_APPLIED};
use crate::model::ResourceStatus;
use crate::model::Warning;
use crate::model::{AppId, AppStatus, HistoryReport, Revision};

use super::text::{table, TextStyle};

fn short(sha: &Option<Revision>) -> String {
    sha.as_ref()
        .map(|s| s.short().to_string())
        .unwrap_or_else(|| "-".into())
}

/// The STATE column: a rollback pin, a suspension (with its reason), or `-`.
fn state_of(a: &AppStatus) -> String {
    match (&a.paused_revision, a.suspended) {
        (Some(p), _) => format!("paused@{}", p.short()),
        (None, true) => "suspended".into(),
        (None, false) => "-".into(),
    }
}

/// Drift as the apps pane shows it: `~modified -missing +extra`, zeros left
/// out (the counts themselves are in JSON).
fn drift_of(a: &AppStatus) -> String {
    let c = &a.counts;
    let parts: Vec<String> = [("~", c.out_of_sync), ("-", c.missing), ("+", c.extra)]
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(m, n)| format!("{m}{n}"))
        .collect();
    if parts.is_empty() {
        "-".into()
    } else {
        parts.join(" ")
    }
}

pub fn status_table(apps: &[AppStatus], style: &TextStyle) -> String {
    let header = [
        "APP", "SYNC", "HEALTH", "STATE", "DEPLOYED", "HEAD", "DRIFT", "LAST", "MESSAGE",
    ];
    let rows: Vec<Vec<String>> = apps
        .iter()
        .map(|a| {
            let message = a.message.lines().next().unwrap_or("").to_string();
            // Why it is suspended goes first: it is what a teammate needs.
            let message = match (&a.suspension, a.suspended) {
                (Some(s), true) => {
                    let why = s.describe(&style.when(&s.at));
                    if message.is_empty() {
                        why
                    } else {
                        format!("{why}; {message}")
                    }
                }
                _ => message,
            };
            vec![
                a.name.to_string(),
                a.sync.to_string(),
                a.health.to_string(),
                state_of(a),
                short(&a.deployed_revision),
                short(&a.head_revision),
                drift_of(a),
                a.last_sync
                    .as_deref()
                    .map_or_else(|| "-".to_string(), |t| style.when(t)),
                message,
            ]
        })
        .collect();
    let mut out = table(style, &header, &rows);
    for a in apps {
        out.push_str(&warning_lines(&a.warnings, Some(&a.name)));
        if let Some(l) = &a.lease {
            out.push_str(&format!(
                "app {} is locked by {} until {} (`gitops-tui unlock {}` breaks it)\n",
                a.name, l.holder, l.until, a.name
            ));
        }
    }
    out
}

/// One `warning:` line per warning, naming the app when `app` is given.
pub fn warning_lines(warnings: &[Warning], app: Option<&AppId>) -> String {
    let mut out = String::new();
    for w in warnings {
        let line = w.to_string();
        let line = line.lines().next().unwrap_or("");
        match app {
            Some(app) => out.push_str(&format!("warning: app {app}: {line}\n")),
            None => out.push_str(&format!("warning: {line}\n")),
        }
    }
    out
}

pub fn diff_text(s: &AppStatus) -> String {
    let mut out = String::new();
    for r in s
        .resources
        .iter()
        .filter(|r| r.status != ResourceStatus::Synced || r.takeover.is_some())
    {
        match &r.takeover {
            // Not the app's yet: a sync must take it over (or may not).
            Some(t) => out.push_str(&format!("=== {} ({}; {t})\n", r.key, r.status)),
            None => out.push_str(&format!("=== {} ({})\n", r.key, r.status)),
        }
        out.push_str(&r.diff);
        if !r.diff.ends_with('\n') {
            out.push('\n');
        }
    }
    if out.is_empty() {
        out = format!(
            "app {} is in sync with {}\n",
            s.name,
            short(&s.target_revision)
        );
    }
    out.push_str(&warning_lines(&s.warnings, None));
    out
}

pub fn sync_text(r: &SyncReport) -> String {
    let mut out = String::new();
    for res in &r.resources {
        if res.message.is_empty() {
            out.push_str(&format!("{} {}\n", res.key, res.action));
        } else {
            out.push_str(&format!("{} {}: {}\n", res.key, res.action, res.message));
        }
        for w in &res.warnings {
            out.push_str(&format!("  warning from the API server: {w}\n"));
        }
    }
    let interrupted = r.resources.iter().any(|x| x.action == NOT_APPLIED);
    let verdict = match (r.succeeded, r.dry_run) {
        (true, true) => "dry run",
        (true, false) => "synced",
        (false, _) if interrupted => "sync INTERRUPTED",
        (false, _) => "sync FAILED",
    };
    out.push_str(&format!(
        "app {} {verdict} at {}: {}\n",
        r.app,
        r.revision.medium(),
        r.message
    ));
    out.push_str(&warning_lines(&r.warnings, None));
    out
}

/// The marks of a commit as the commits pane shows them: H head, D
/// deployed, P pinned.
fn marks(c: &crate::model::CommitInfo) -> String {
    let mut m = String::new();
    m.push(if c.head { 'H' } else { ' ' });
    m.push(if c.deployed { 'D' } else { ' ' });
    if c.pinned {
        m.push('P');
    }
    m
}

pub fn history_text(h: &HistoryReport, style: &TextStyle) -> String {
    let rows: Vec<Vec<String>> = h
        .commits
        .iter()
        .map(|c| {
            vec![
                marks(c),
                c.sha.medium().to_string(),
                c.author.clone(),
                style.when(&c.time),
                c.subject.lines().next().unwrap_or("").to_string(),
            ]
        })
        .collect();
    let mut out = if rows.is_empty() {
        String::new()
    } else {
        table(style, &["", "SHA", "AUTHOR", "AGE", "SUBJECT"], &rows)
    };
    if let Some(reason) = &h.syncs_unavailable {
        out.push_str(&format!(
            "\nSync records and the deployed mark unavailable: {reason}\n"
        ));
    }
    let syncs = h.syncs.as_deref().unwrap_or_default();
    if !syncs.is_empty() {
        out.push_str("\nSyncs:\n");
        let rows: Vec<Vec<String>> = syncs
            .iter()
            .rev()
            .map(|s| {
                vec![
                    style.when(&s.time),
                    s.revision.medium().to_string(),
                    s.who.clone(),
                    s.result.to_string(),
                ]
            })
            .collect();
        out.push_str(&table(style, &["AGE", "REVISION", "WHO", "RESULT"], &rows));
    }
    out
}
