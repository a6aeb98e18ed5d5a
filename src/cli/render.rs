//! Plain-text output of the headless verbs. Every warning of an app (a
//! document or file not loaded, a kind not looked at) follows its table,
//! diff or sync result as one `warning:` line, so nothing is skipped unseen.

use crate::engine::{SyncReport, NOT_APPLIED};
use crate::model::ResourceStatus;
use crate::model::Warning;
use crate::model::{AppId, AppStatus, HistoryReport, Revision};

fn short(sha: &Option<Revision>) -> String {
    sha.as_ref()
        .map(|s| s.short().to_string())
        .unwrap_or_else(|| "-".into())
}

pub fn status_table(apps: &[AppStatus]) -> String {
    let mut rows = vec![vec![
        "APP".to_string(),
        "SYNC".into(),
        "HEALTH".into(),
        "STATE".into(),
        "DEPLOYED".into(),
        "HEAD".into(),
        "MODIFIED".into(),
        "MISSING".into(),
        "EXTRA".into(),
        "MESSAGE".into(),
    ]];
    for a in apps {
        let state = match (&a.paused_revision, a.suspended) {
            (Some(p), _) => format!("paused@{}", p.short()),
            (None, true) => "suspended".into(),
            (None, false) => "-".into(),
        };
        rows.push(vec![
            a.name.to_string(),
            a.sync.to_string(),
            a.health.to_string(),
            state,
            short(&a.deployed_revision),
            short(&a.head_revision),
            a.counts.out_of_sync.to_string(),
            a.counts.missing.to_string(),
            a.counts.extra.to_string(),
            a.message.lines().next().unwrap_or("").to_string(),
        ]);
    }
    let mut out = table(&rows);
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

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, cell)| format!("{cell:<w$}", w = widths[i]))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
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

pub fn history_text(h: &HistoryReport) -> String {
    let mut out = String::new();
    for c in &h.commits {
        let mark = if c.deployed { "*" } else { " " };
        out.push_str(&format!(
            "{mark} {}  {}  {:<20}  {}\n",
            c.sha.medium(),
            c.time,
            c.author,
            c.subject
        ));
    }
    if let Some(reason) = &h.syncs_unavailable {
        out.push_str(&format!(
            "\nSync records and the deployed mark unavailable: {reason}\n"
        ));
    }
    let syncs = h.syncs.as_deref().unwrap_or_default();
    if !syncs.is_empty() {
        out.push_str("\nSyncs:\n");
        for s in syncs.iter().rev() {
            out.push_str(&format!(
                "  {}  {}  {:<12}  {}\n",
                s.time,
                s.revision.medium(),
                s.who,
                s.result
            ));
        }
    }
    out
}
