//! The labels, annotations and field manager gitops-tui writes or reads on
//! cluster objects, in one place: the cluster layer, the sync records and
//! drift all name them, and none of them should own them.

/// The label that marks an object as applied by gitops-tui for an app (its
/// value is the app's name).
pub const TRACKING_LABEL: &str = "gitops-tui.dev/app";
/// The field manager of every apply gitops-tui makes.
pub const FIELD_MANAGER: &str = "gitops-tui";
/// Marks a ConfigMap as an app record.
pub const RECORD_LABEL: &str = "gitops-tui.dev/record";
/// Names the app a record belongs to (not the tracking label: a record is
/// not part of its app).
pub const RECORD_OF_LABEL: &str = "gitops-tui.dev/record-of";
/// kubectl's client-side apply annotation.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
