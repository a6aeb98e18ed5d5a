//! What an interrupted sync reports and records. A cancelled sync stops
//! between objects (see `apply_all`); this names what it did not get to and
//! keeps in the inventory what it did write, so the next sync finishes the
//! job and a later prune still knows which objects were adopted.

use super::desired_state::DesiredState;
use super::sync::{inventory_of, SyncReport};
use crate::model::ResourceKey;
use crate::sync::record::{Adoption, InventoryEntry};
use std::collections::{BTreeMap, BTreeSet};

/// The action of an object an interrupted sync did not get to.
pub const NOT_APPLIED: &str = "not applied (interrupted)";

/// The message of a sync that was interrupted, or None when it was not.
pub(super) fn interrupted(report: &SyncReport) -> Option<String> {
    let not_applied = report
        .resources
        .iter()
        .filter(|r| r.action == NOT_APPLIED)
        .count();
    (not_applied > 0).then(|| {
        let applied = report
            .resources
            .iter()
            .filter(|r| matches!(r.action.as_str(), "created" | "configured" | "adopted"))
            .count();
        format!(
            "interrupted: {applied} applied, {not_applied} not applied; nothing was pruned (sync again to finish)"
        )
    })
}

/// The inventory after a sync that stopped part-way (interrupted, or an
/// apply that failed): what it held, plus every object this sync wrote, with
/// its adoption, so that an object adopted before the stop is still
/// released, not deleted, by a later prune.
pub(super) fn inventory_after_partial(
    desired: &DesiredState,
    previous: &[InventoryEntry],
    adopted_now: &BTreeMap<ResourceKey, Adoption>,
    report: &SyncReport,
) -> Vec<InventoryEntry> {
    let written: BTreeSet<&ResourceKey> = report
        .resources
        .iter()
        .filter(|r| matches!(r.action.as_str(), "created" | "configured" | "adopted"))
        .map(|r| &r.key)
        .collect();
    let mut inventory = previous.to_vec();
    for entry in inventory_of(desired, previous, adopted_now) {
        let key = entry.key();
        if !written.contains(&key) {
            continue;
        }
        match inventory.iter_mut().find(|e| e.key() == key) {
            Some(known) => known.adopted = entry.adopted,
            None => inventory.push(entry),
        }
    }
    inventory
}
