//! Server-side apply: SMD's `Updater.Apply` plus the apiserver's wrapping of
//! it (stripped metadata, `before-first-apply`, conflict messages).
//!
//! The result of an apply is the merged and pruned object with its
//! managedFields updated, or a conflict/invalid error the server turns into
//! a 409/422 `Status`.

use super::compare::Comparison;
use super::fieldset::FieldSet;
use super::last_applied::{allowed_conflicts, KUBECTL_MANAGER};
use super::managed::{
    equal_without_managed_fields, raw_managed_fields, read_managed_fields, strip_managed_fields,
    without_managed_fields, write_managed_fields, ManagedFieldsEntry, Operation,
};
use super::merge::{merge_into, prune};
use super::path::{path_to_string, Path};
use super::walk::FieldScope;
use crate::schema::Schema;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// The manager the apiserver attributes a live object's fields to when it
/// has no managedFields at the first apply.
pub const BEFORE_FIRST_APPLY: &str = "before-first-apply";

/// One field another manager owns with a different value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub manager: String,
    pub operation: Operation,
    pub api_version: String,
    pub subresource: Option<String>,
    /// The path as the apiserver prints it: `.spec.replicas`.
    pub field: String,
    /// The same path as elements.
    pub path: Path,
}

/// Go's `%q` for the manager names we deal with.
fn quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

impl Conflict {
    /// The apiserver's `printManager`: `"mgr"` for an applier, `"mgr" using
    /// apps/v1` for an updater, with ` with subresource "status"` when the
    /// entry belongs to a subresource.
    pub fn manager_description(&self) -> String {
        let mut s = quote(&self.manager);
        if let Some(sub) = &self.subresource {
            s = format!("{s} with subresource {}", quote(sub));
        }
        match self.operation {
            Operation::Update => format!("{s} using {}", self.api_version),
            Operation::Apply => s,
        }
    }

    /// `details.causes[].message` of the 409: `conflict with "mgr" using v1`
    /// (its `reason` is `FieldManagerConflict`, its `field` is `self.field`).
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.manager_description())
    }
}

/// The 409's message, as the apiserver's `getConflictMessage` writes it.
pub fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            one.manager_description(),
            one.field
        );
    }
    // Grouped by manager, managers sorted, fields in the order found.
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for c in conflicts {
        let who = c.manager_description();
        match groups.iter_mut().find(|(w, _)| *w == who) {
            Some((_, fields)) => fields.push(&c.field),
            None => groups.push((who, vec![&c.field])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut lines = Vec::new();
    for (who, fields) in groups {
        lines.push(format!("conflicts with {who}:"));
        lines.extend(fields.into_iter().map(|f| format!("- {f}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

/// Why an apply was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// The configuration is malformed (422 Unprocessable Entity).
    #[error("{0}")]
    Invalid(String),
    /// Fields owned by other managers would change (409 Conflict).
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
}

impl ApplyError {
    /// The `Status.message` the apiserver sends.
    pub fn message(&self) -> String {
        self.to_string()
    }
}

/// Everything about an apply request besides the objects.
#[derive(Debug, Clone)]
pub struct ApplyOptions<'a> {
    pub manager: &'a str,
    pub force: bool,
    /// The request's `group/version` (recorded in the entry).
    pub api_version: &'a str,
    /// RFC 3339 seconds, `Z`.
    pub now: &'a str,
    /// The subresource applied to (`Some("status")`), recorded in the entry.
    pub subresource: Option<&'a str>,
    /// The part of the object this request owns (see [`FieldScope`]).
    pub scope: FieldScope,
}

/// Applies `config` for `manager` to the main resource of `live` (absent for
/// a create). See [`apply_with`].
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    schema: &Schema,
    api_version: &str,
    now: &str,
) -> Result<Value, ApplyError> {
    let opts = ApplyOptions {
        manager,
        force,
        api_version,
        now,
        subresource: None,
        scope: FieldScope::Main,
    };
    apply_with(live, config, schema, &opts)
}

/// The `GroupVersionKind` prefix of the apiserver's 422 message.
fn typed_patch_error(config: &Value, msg: &str) -> ApplyError {
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let kind = config.get("kind").and_then(Value::as_str).unwrap_or("");
    let gv = if api_version.contains('/') {
        api_version.to_string()
    } else {
        format!("/{api_version}")
    };
    ApplyError::Invalid(format!(
        "failed to create typed patch object ({gv}, Kind={kind}): {msg}"
    ))
}

/// Server-side apply of `config` onto `live`: merge by schema, conflicts with
/// other managers' fields unless forced, removal of what this manager
/// stopped applying and nobody else owns, and `metadata.managedFields`
/// updated (this manager's Apply entry becomes exactly the config's fields).
/// For the manager `kubectl`, conflicts on fields the live object holds from
/// its last-applied annotation are taken over (see [`super::last_applied`]).
pub fn apply_with(
    live: Option<&Value>,
    config: &Value,
    schema: &Schema,
    opts: &ApplyOptions<'_>,
) -> Result<Value, ApplyError> {
    apply_checked(live, config, schema, opts, &|_| true)
}

/// [`apply_with`], with `types` saying whether a last-applied configuration
/// types against the kind's schema (an annotation that does not allows no
/// take-over, as in kube-apiserver).
pub fn apply_checked(
    live: Option<&Value>,
    config: &Value,
    schema: &Schema,
    opts: &ApplyOptions<'_>,
    types: &dyn Fn(&Value) -> bool,
) -> Result<Value, ApplyError> {
    let conflicts = match apply_once(live, config, schema, opts, opts.force) {
        Err(ApplyError::Conflicts(c)) if opts.manager == KUBECTL_MANAGER => c,
        other => return other,
    };
    // The lastAppliedManager: allowed only if every conflict is a field the
    // annotation set and live still holds; otherwise the others are reported.
    let Some(allowed) =
        live.and_then(|l| allowed_conflicts(l, schema, opts.api_version, opts.scope, types))
    else {
        return Err(ApplyError::Conflicts(conflicts));
    };
    let remaining: Vec<Conflict> = conflicts
        .iter()
        .filter(|c| !allowed.has(&c.path))
        .cloned()
        .collect();
    if !remaining.is_empty() {
        return Err(ApplyError::Conflicts(remaining));
    }
    apply_once(live, config, schema, opts, true)
}

fn apply_once(
    live: Option<&Value>,
    config: &Value,
    schema: &Schema,
    opts: &ApplyOptions<'_>,
    force: bool,
) -> Result<Value, ApplyError> {
    if !config.is_object() {
        return Err(ApplyError::Invalid(
            "the applied configuration must be an object".into(),
        ));
    }
    // Only a config that carries managedFields needs a copy without them.
    let cfg = match raw_managed_fields(config) {
        Some(_) => {
            let mut cfg = config.clone();
            strip_managed_fields(&mut cfg);
            Cow::Owned(cfg)
        }
        None => Cow::Borrowed(config),
    };
    let cfg = cfg.as_ref();
    let config_set = FieldSet::from_object(cfg, schema, opts.scope)
        .map_err(|e| typed_patch_error(config, &e.0))?;
    // The whole config is merged, whatever the scope: as in the apiserver,
    // resetting what a request may not write (status on the main resource,
    // everything else on `status`) is the caller's strategy's job; the scope
    // only limits what is owned, conflicts and is pruned.

    // The live object is read in place: field sets and comparisons skip
    // `metadata.managedFields`, so only the merge needs a copy, made once and
    // without the (large) managedFields.
    // Undecodable managedFields are reset, as the apiserver does.
    let mut entries = live
        .map(|l| read_managed_fields(l).unwrap_or_default())
        .unwrap_or_default();
    if let (Some(l), true) = (live, entries.is_empty()) {
        let existing = FieldSet::from_object_lenient(l, schema, opts.scope);
        if !existing.is_empty() {
            entries.push(ManagedFieldsEntry {
                manager: BEFORE_FIRST_APPLY.into(),
                operation: Operation::Update,
                api_version: opts.api_version.into(),
                time: Some(opts.now.into()),
                fields: existing,
                subresource: opts.subresource.map(str::to_string),
            });
        }
    }

    let mut merged = live
        .map(without_managed_fields)
        .unwrap_or_else(|| Value::Object(Map::new()));
    merge_into(&mut merged, cfg, schema);

    let mine = entries
        .iter()
        .position(|e| e.is(opts.manager, Operation::Apply, opts.subresource));
    let others: Vec<usize> = (0..entries.len()).filter(|i| Some(*i) != mine).collect();
    if let Some(i) = mine {
        let managed = others
            .iter()
            .fold(config_set.clone(), |acc, j| acc.union(&entries[*j].fields));
        prune(&mut merged, &entries[i].fields, &managed, schema);
    }

    // An apply that leaves the object as it was (a drift check's dry run)
    // changes no field, so there is nothing to compare.
    let object_changed = !live.is_some_and(|l| equal_without_managed_fields(l, &merged));
    let cmp = if object_changed {
        Comparison::between(live, &merged, schema, opts.scope)
    } else {
        Comparison::default()
    };
    let changed = cmp.changed();
    let mut conflicts = Vec::new();
    let mut taken = Vec::new();
    for &j in &others {
        let e = &entries[j];
        let lost = e.fields.intersection(&changed);
        if lost.is_empty() {
            continue;
        }
        conflicts.extend(lost.paths().into_iter().map(|path| Conflict {
            manager: e.manager.clone(),
            operation: e.operation,
            api_version: e.api_version.clone(),
            subresource: e.subresource.clone(),
            field: path_to_string(&path),
            path,
        }));
        taken.push((j, lost));
    }
    if !force && !conflicts.is_empty() {
        conflicts.sort_by_key(Conflict::manager_description);
        return Err(ApplyError::Conflicts(conflicts));
    }
    for (j, lost) in taken {
        entries[j].fields = entries[j].fields.difference(&lost);
    }
    for &j in &others {
        entries[j].fields = entries[j].fields.difference(&cmp.removed);
    }

    // A no-op apply keeps the entry's time, as the apiserver does.
    let previous_time = mine.and_then(|i| entries[i].time.clone());
    let time = match (object_changed, previous_time) {
        (false, Some(t)) => Some(t),
        _ => Some(opts.now.to_string()),
    };
    let entry = ManagedFieldsEntry {
        manager: opts.manager.into(),
        operation: Operation::Apply,
        api_version: opts.api_version.into(),
        time,
        fields: config_set,
        subresource: opts.subresource.map(str::to_string),
    };
    match mine {
        Some(i) => entries[i] = entry,
        None => entries.push(entry),
    }
    write_managed_fields(&mut merged, entries);
    Ok(merged)
}
