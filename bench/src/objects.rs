//! `fleet_objects`: what the TUI holds per live object, by form, measured
//! with a counting allocator on the objects one fleet app really has (its
//! 20 Deployments, Services and ConfigMaps and their 8 ReplicaSets and
//! Pods, read back from kube-sim with kubectl, managedFields trimmed as
//! the watches trim them), scaled to the whole fleet. Before this
//! measurement the TUI kept each object twice, once in a watch's store
//! (`DynamicObject` or a typed object) and once per status or tree row as
//! a `serde_json::Value`; now once, as a shared [`LiveObject`].

use crate::fleet::Fleet;
use crate::{Figure, Settings};
use gitops_tui::cluster::live_cache::trim_managed_fields;
use gitops_tui::model::LiveObject;
use kube::api::DynamicObject;
use serde_json::Value;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// The system allocator, counting the bytes each thread holds (allocated
/// minus freed on that thread): a measurement built and dropped on one
/// thread reads exactly what it allocated.
pub struct Counting;

thread_local! {
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    // try_with: a thread being torn down has no counter left.
    let _ = HELD.try_with(|h| h.set(h.get() + n));
}

// SAFETY: every call is passed on to System unchanged; only a counter of
// this thread is updated besides.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: as the caller promised for this layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: as the caller promised for this layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        add(new as isize - layout.size() as isize);
        // SAFETY: ptr was allocated by System with this layout.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

fn held() -> isize {
    HELD.with(Cell::get)
}

/// Heap bytes that what `make` returns holds (measured while it lives).
pub fn bytes_of<T>(make: impl FnOnce() -> T) -> usize {
    let before = held();
    let kept = make();
    let after = held();
    drop(kept);
    after.saturating_sub(before).max(0) as usize
}

/// One app's objects as kube-sim sends them, each as the watch keeps it:
/// (the app's own objects, what they own).
fn app_objects(fleet: &Fleet) -> Result<(Vec<Value>, Vec<Value>), String> {
    let get = |kinds: &str| -> Result<Vec<Value>, String> {
        let out = std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&fleet.kubeconfig)
            .args([
                "--context",
                &fleet.contexts[0],
                "-n",
                "app-00",
                "get",
                kinds,
            ])
            .args(["-o", "json", "--show-managed-fields"])
            .output()
            .map_err(|e| format!("kubectl: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "kubectl get {kinds}: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let list: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    };
    let own = get("deployments,services,configmaps")?
        .into_iter()
        .filter(|o| o.pointer("/metadata/labels/gitops-tui.dev~1app").is_some())
        .map(|o| {
            let mut d: DynamicObject = serde_json::from_value(o).map_err(|e| e.to_string())?;
            trim_managed_fields(&mut d);
            serde_json::to_value(&d).map_err(|e| e.to_string())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let owned = get("replicasets,pods")?
        .into_iter()
        .map(|mut o| {
            if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
                m.remove("managedFields");
            }
            o
        })
        .collect();
    Ok((own, owned))
}

pub fn fleet_objects(_s: &Settings, fleet: &Fleet) -> Result<Vec<Figure>, String> {
    let (own, owned) = app_objects(fleet)?;
    if own.len() != 20 {
        return Err(format!(
            "app-00 has {} objects of its own, not 20",
            own.len()
        ));
    }
    let all: Vec<&Value> = own.iter().chain(&owned).collect();
    let json: usize = all
        .iter()
        .map(|v| serde_json::to_string(v).map_or(0, |t| t.len()))
        .sum();
    let as_value = bytes_of(|| all.iter().map(|v| (*v).clone()).collect::<Vec<Value>>());
    let as_dynamic = bytes_of(|| {
        all.iter()
            .filter_map(|v| serde_json::from_value::<DynamicObject>((*v).clone()).ok())
            .collect::<Vec<_>>()
    });
    let as_live = bytes_of(|| all.iter().map(|v| LiveObject::new(v)).collect::<Vec<_>>());
    let apps = fleet.apps as f64;
    let mb = |bytes: usize| bytes as f64 * apps / 1e6;
    let note = format!(
        "{} apps x {} objects ({} own, {} ReplicaSets and Pods); {} bytes of JSON per app",
        fleet.apps,
        all.len(),
        own.len(),
        owned.len(),
        json
    );
    Ok(vec![
        Figure::ours("fleet_objects_value", "MB", mb(as_value)).note(format!(
            "{note}; one copy as serde_json::Value (a status's copy before)"
        )),
        Figure::ours("fleet_objects_dynamic", "MB", mb(as_dynamic)).note(format!(
            "{note}; one copy as DynamicObject (a watch store's copy before)"
        )),
        Figure::ours("fleet_objects_live", "MB", mb(as_live))
            .against(
                "two copies before: store + status",
                mb(as_value + as_dynamic),
            )
            .note(format!("{note}; the one shared LiveObject copy now")),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_a_value_holds_and_nothing_once_dropped() {
        let small = bytes_of(|| serde_json::json!({"a": 1}));
        let big = bytes_of(|| serde_json::json!({"a": "x".repeat(10_000)}));
        assert!(small > 0);
        assert!(big >= 10_000 && big > small, "{small} {big}");
        assert_eq!(bytes_of(|| ()), 0);
    }

    #[test]
    fn a_live_object_holds_less_than_its_value() {
        let v = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "labels": {"x": "y"}},
            "data": {"k1": "v1", "k2": "v2", "k3": "v3"}});
        let value = bytes_of(|| v.clone());
        let live = bytes_of(|| LiveObject::new(&v));
        assert!(live < value, "{live} vs {value}");
    }
}
