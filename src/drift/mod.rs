//! Drift: does the cluster hold what Git says? Pure functions from a desired
//! object (Git) and a live object (cluster) to a status, the changed fields and
//! a text diff; no I/O, so the engine, the TUI and the tests share one answer.
//!
//! Two ways to compare, which must agree:
//! - [`compare_dry_run`]: the server's answer. A server-side dry-run apply of
//!   the desired object says what live would become; any difference from live
//!   is drift. Exact, including defaults and admission webhooks, but needs a
//!   server that lets us dry-run.
//! - [`compare_local`]: no server (`--readonly`, no patch rights, failed
//!   dry-run). Live is projected onto the fields desired sets plus the fields
//!   our manager owns (managedFields), and compared with desired.
//!
//! Both normalise the same way (normalize.rs), apply the same ignore rules
//! (ignore.rs) and render the same masked diff (secrets.rs, diff.rs).

mod diff;
mod fields;
mod ignore;
mod normalize;
mod quantity;
mod secrets;

#[cfg(test)]
mod agreement_tests;
#[cfg(test)]
mod proptests;

use serde_json::Value;

use crate::model::{ResourceKey, ResourceStatus, SyncStatus};

pub use fields::{owned_by, FieldSet, FieldsError, PathElement};
pub use ignore::{IgnoreError, IgnoreRule};

// The label gitops-tui puts on every object it applies is ours, so never drift.
use crate::model::TRACKING_LABEL;

/// The comparison of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceDrift {
    pub status: ResourceStatus,
    /// Unified diff of the normalised YAML, live (`---`) to desired (`+++`),
    /// Secret values masked; empty when in sync.
    pub diff: String,
    /// Differing fields, e.g. `spec.replicas`, sorted.
    pub changed_paths: Vec<String>,
}

/// Compares live with the result of a server-side dry-run apply of `desired`.
pub fn compare_dry_run(
    desired: &Value,
    live: &Value,
    dry_run_result: &Value,
    rules: &[IgnoreRule],
) -> ResourceDrift {
    let keep_last_applied = normalize::has_last_applied(desired);
    let mut before = prepare(live, keep_last_applied);
    let mut after = prepare(dry_run_result, keep_last_applied);
    ignore_rules(rules, live, &mut before, &mut after);
    normalize::align(&mut after, &before);
    finish(live, before, after)
}

/// Compares desired with live projected onto (the fields desired sets ∪ the
/// fields `manager` owns in live's managedFields). A malformed managedFields
/// entry of `manager` is skipped: ownership then comes from desired alone.
pub fn compare_local(
    desired: &Value,
    live: &Value,
    manager: &str,
    rules: &[IgnoreRule],
) -> ResourceDrift {
    let keep_last_applied = normalize::has_last_applied(desired);
    let mut want = prepare(desired, keep_last_applied);
    let (owned, _malformed) = owned_by(live, &[manager]);
    let projected = fields::project(live, Some(&want), Some(&owned));
    let mut have = prepare(&projected, keep_last_applied);
    ignore_rules(rules, live, &mut have, &mut want);
    normalize::align(&mut want, &have);
    finish(live, have, want)
}

/// An object in Git but not in the cluster: everything added.
pub fn missing(desired: &Value) -> ResourceDrift {
    let label = object_label(desired);
    ResourceDrift {
        status: ResourceStatus::Missing,
        diff: diff_objects(
            &Value::Null,
            desired,
            &format!("live {label}"),
            &format!("desired {label}"),
        ),
        changed_paths: Vec::new(),
    }
}

/// An object of this app in the cluster but not in Git (a prune candidate):
/// everything removed.
pub fn extra(live: &Value) -> ResourceDrift {
    let label = object_label(live);
    ResourceDrift {
        status: ResourceStatus::Extra,
        diff: diff_objects(
            live,
            &Value::Null,
            &format!("live {label}"),
            &format!("desired {label}"),
        ),
        changed_paths: Vec::new(),
    }
}

/// A diff between any two versions of an object (e.g. the same manifest at two
/// commits), normalised and masked like drift diffs. `Null` on either side
/// means "no object". The labels are the `---`/`+++` header lines.
pub fn diff_objects(old: &Value, new: &Value, old_label: &str, new_label: &str) -> String {
    let keep_last_applied = normalize::has_last_applied(old) || normalize::has_last_applied(new);
    let old = prepare(old, keep_last_applied);
    let mut new = prepare(new, keep_last_applied);
    normalize::align(&mut new, &old);
    render(old, new, old_label, new_label)
}

/// An app's sync status from its resources' statuses: Synced only when every
/// resource is (an app with no resources is Synced). `Unknown`, when a
/// comparison could not be made, is the caller's call.
pub fn app_sync_status(statuses: impl IntoIterator<Item = ResourceStatus>) -> SyncStatus {
    match statuses.into_iter().all(|s| s == ResourceStatus::Synced) {
        true => SyncStatus::Synced,
        false => SyncStatus::OutOfSync,
    }
}

/// `apps/Deployment default/web`, `Namespace demo` (core kinds have no group).
fn object_label(obj: &Value) -> String {
    let Some(key) = ResourceKey::of_named(obj) else {
        return "object".to_string();
    };
    let kind = match key.group.is_empty() {
        true => key.kind,
        false => format!("{}/{}", key.group, key.kind),
    };
    match key.namespace {
        Some(ns) => format!("{kind} {ns}/{}", key.name),
        None => format!("{kind} {}", key.name),
    }
}

/// The normalisation both sides of every comparison go through.
fn prepare(obj: &Value, keep_last_applied: bool) -> Value {
    let mut obj = obj.clone();
    normalize::strip_noise(&mut obj, TRACKING_LABEL, keep_last_applied);
    normalize::merge_string_data(&mut obj);
    obj
}

/// Rules are matched against live: it always carries the namespace, which a
/// manifest may leave to the app's default.
fn ignore_rules(rules: &[IgnoreRule], live: &Value, a: &mut Value, b: &mut Value) {
    ignore::apply_rules(rules, live, live, &mut [&mut *a, &mut *b]);
    normalize::tidy_metadata(a);
    normalize::tidy_metadata(b);
}

fn finish(live: &Value, live_side: Value, desired_side: Value) -> ResourceDrift {
    let changed_paths = diff::changed_paths(&live_side, &desired_side);
    let status = match changed_paths.is_empty() {
        true => ResourceStatus::Synced,
        false => ResourceStatus::OutOfSync,
    };
    let label = object_label(live);
    let diff = match status {
        ResourceStatus::Synced => String::new(),
        _ => render(
            live_side,
            desired_side,
            &format!("live {label}"),
            &format!("desired {label}"),
        ),
    };
    ResourceDrift {
        status,
        diff,
        changed_paths,
    }
}

fn render(mut old: Value, mut new: Value, old_label: &str, new_label: &str) -> String {
    secrets::mask_secrets(&mut [&mut old, &mut new]);
    diff::unified(
        &diff::to_yaml(&old),
        &diff::to_yaml(&new),
        old_label,
        new_label,
    )
}
