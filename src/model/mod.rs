//! The vocabulary every layer shares (engine, CLI, TUI, drift): app
//! identities, revisions, resource keys and states, an app's status, its
//! history rows and the labels gitops-tui writes.
//!
//! It sits under every other module and depends on none of them, so the
//! panes and the reducer (`ui`, `app`) and `drift` can name what they show
//! without importing the engine or the cluster layer (`tests/layering.rs`
//! keeps it so). States are spelled exactly as the CLI prints them
//! (`Synced`, `OutOfSync`, `Healthy`, ...), so JSON output and the screen use
//! the same words.

// Before the modules, so each of them can use it.
macro_rules! display_as_debug {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    )*};
}

mod app_id;
pub mod controller_patch;
pub mod display;
mod events;
mod history;
mod ignore;
mod labels;
mod live;
mod resource;
mod revision;
mod status;

pub use app_id::{AppId, AppIdError, AppSource};
pub use controller_patch::ControllerObjects;
pub use events::{EventRow, MAX_EVENTS};
pub use history::{CommitInfo, HistoryReport, SyncRecord, SyncResult};
pub use ignore::IgnoreProposal;
pub use labels::*;
pub use live::LiveObject;
pub use resource::{Counts, ResourceKey, ResourceState, ResourceStatus, Takeover};
pub use revision::Revision;
pub use status::{AppStatus, Health, HeldLease, Suspension, SyncStatus, Warning};
