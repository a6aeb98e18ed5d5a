//! Server-side apply and managedFields tracking.
//!
//! kube-sim must answer `kubectl apply --server-side`, kube-rs `Patch::Apply`
//! and ordinary writes with the same objects and `metadata.managedFields` a
//! kube-apiserver would: clients read ownership back, retry on conflicts and
//! migrate client-side apply state by editing managedFields. This module is a
//! pure re-implementation of the parts of sigs.k8s.io/structured-merge-diff
//! and the apiserver's field manager that decide that, over `serde_json::Value`
//! and the merge schema in [`crate::schema`]. The HTTP layer calls [`apply`]
//! for apply patches and [`track_update`] for every other write.
//!
//! - [`fieldset`]: field path sets and their FieldsV1 encoding;
//! - [`path`]: path elements, their order and printed forms;
//! - [`walk`]: the set an object specifies;
//! - [`compare`]: what changed between two objects;
//! - [`merge`]: merging a configuration in, pruning what was dropped;
//! - [`managed`]: `metadata.managedFields` entries;
//! - [`apply`] / [`update`]: the two kinds of writes;
//! - [`last_applied`]: the client-side to server-side apply bridge for `kubectl`.
//!
//! Not modelled: the cap of 10 Update entries (older ones are merged into
//! `ancient-changes` by the apiserver), version conversion of entries
//! recorded at other API versions, and unions/discriminators.

pub mod apply;
pub mod compare;
pub mod fieldset;
pub mod last_applied;
pub mod managed;
pub mod merge;
pub mod path;
pub mod update;
pub mod walk;

#[cfg(test)]
mod apply_tests;
#[cfg(test)]
mod last_applied_tests;

pub use apply::{
    apply, apply_checked, apply_with, conflicts_message, ApplyError, ApplyOptions, Conflict,
    BEFORE_FIRST_APPLY,
};
pub use compare::Comparison;
pub use fieldset::{FieldSet, FieldsV1Error};
pub use last_applied::{update_last_applied, KUBECTL_MANAGER, LAST_APPLIED_ANNOTATION};
pub use managed::{
    has_managed_fields, normalize, read_managed_fields, strip_managed_fields, write_managed_fields,
    ManagedFieldsEntry, ManagedFieldsError, Operation,
};
pub use path::{path_to_string, Path, PathElement};
pub use update::{track_update, track_update_with, UpdateOptions};
pub use walk::{FieldScope, InvalidObject};
