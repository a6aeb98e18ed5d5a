//! The common write path: every write, whether from a client (create,
//! update, patch, apply, subresources) or from kube-sim itself (Events, the
//! simulated controllers), goes through [`commit`], which does what the
//! apiserver's registry does before storage (immutable metadata, defaulting,
//! validation, managedFields, generation) and skips writes that change
//! nothing, so a no-op apply keeps its resourceVersion and sends no event.

use crate::defaults::{apply_defaults, Allocator};
use crate::objects::{finalizers, meta_str, metadata_mut, now};
use crate::registry::ResourceType;
use crate::server::State;
use crate::status::ApiError;
use crate::{convert, ssa, validation};
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// Hands out ClusterIPs and NodePorts, never the same one twice.
#[derive(Default)]
pub(crate) struct IpAllocator {
    next_ip: u32,
    next_port: i64,
}

impl Allocator for IpAllocator {
    fn cluster_ip(&mut self) -> String {
        self.next_ip += 1;
        let n = self.next_ip;
        format!("10.96.{}.{}", (n / 250) % 250, n % 250 + 1)
    }

    fn node_port(&mut self) -> i64 {
        self.next_port += 1;
        30000 + (self.next_port % 2768)
    }
}

/// How managedFields are kept for this write.
pub(crate) enum Tracking<'a> {
    /// An Update by this manager (create, put, non-apply patch).
    Update {
        manager: &'a str,
        subresource: Option<&'a str>,
    },
    /// Server-side apply already set them.
    Done,
}

/// The apiserver's registry pipeline, then storage. Returns the object as
/// stored (shared with the store, not copied), the old one for a write that
/// changes nothing, or the would-be object for a dry run.
pub(crate) fn commit(
    state: &mut State,
    rt: &Arc<ResourceType>,
    old: Option<Arc<Value>>,
    mut new: Value,
    dry_run: bool,
    tracking: Tracking,
) -> Result<Arc<Value>, ApiError> {
    new["apiVersion"] = json!(rt.api_version());
    new["kind"] = json!(rt.kind);
    let name = meta_str(&new, "name").unwrap_or("").to_string();
    let namespace = meta_str(&new, "namespace").unwrap_or("").to_string();
    let resource = (rt.group.clone(), rt.plural.clone());
    // A write through a version other than the stored one works on the old
    // object as that version shows it, and is converted before storage.
    let converting = convert::converts_writes(rt);
    let old = match old {
        Some(o) if converting => Some(convert::presented(o, rt)),
        o => o,
    };
    if let Some(old) = &old {
        let meta = metadata_mut(&mut new);
        for field in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "resourceVersion",
            "name",
            "namespace",
        ] {
            match old.pointer(&format!("/metadata/{field}")) {
                Some(v) => meta.insert(field.into(), v.clone()),
                None => meta.remove(field),
            };
        }
        if meta_str(old, "deletionTimestamp").is_some() {
            // Finalizers may only be removed once deletion has started.
            let added = finalizers(&new)
                .into_iter()
                .any(|f| !finalizers(old).contains(&f));
            if added {
                return Err(ApiError::invalid(
                    &rt.group,
                    &rt.kind,
                    &name,
                    vec![(
                        "metadata.finalizers".into(),
                        "Forbidden: no new finalizers can be added if the object is being deleted"
                            .into(),
                    )],
                ));
            }
        }
    } else {
        if name.is_empty() {
            return Err(ApiError::invalid(
                &rt.group,
                &rt.kind,
                "",
                vec![(
                    "metadata.name".into(),
                    "Required value: name or generateName is required".into(),
                )],
            ));
        }
        if state.store.get(&resource, &namespace, &name).is_some() {
            return Err(ApiError::already_exists(&rt.group, &rt.plural, &name));
        }
        if rt.namespaced {
            match state.store.get(&(String::new(), "namespaces".into()), "", &namespace) {
                None => return Err(ApiError::not_found("", "namespaces", &namespace)),
                Some(ns) if meta_str(&ns, "deletionTimestamp").is_some() => {
                    return Err(ApiError::new(403, "Forbidden", format!(
                        "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                        rt.plural
                    )))
                }
                _ => {}
            }
        }
        let meta = metadata_mut(&mut new);
        meta.insert("uid".into(), json!(uuid::Uuid::new_v4().to_string()));
        meta.insert("creationTimestamp".into(), json!(now()));
        if has_generation(rt) {
            meta.insert("generation".into(), json!(1));
        }
    }
    if let Some(old) = &old {
        keep_allocations(rt, old, &mut new);
    }
    apply_defaults(&rt.group, &rt.kind, &mut new, &mut state.alloc);
    convert::apply_defaults(&rt.group, &rt.kind, &mut new);
    validation::validate(rt, &new)?;
    if let Tracking::Update {
        manager,
        subresource,
    } = tracking
    {
        new = ssa::track_update(
            old.as_deref(),
            &new,
            manager,
            subresource,
            &rt.schema,
            &rt.api_version(),
            &now(),
        );
    }
    let (old, new) = if converting {
        let stored = old
            .as_ref()
            .and_then(|_| state.store.get(&resource, &namespace, &name));
        let new = convert::to_storage(new, &rt.group, &rt.kind, stored.as_deref(), old.as_deref());
        (stored, new)
    } else {
        (old, new)
    };
    let present = |stored: Arc<Value>| {
        if converting {
            convert::presented(stored, rt)
        } else {
            stored
        }
    };
    let mut new = new;
    if let Some(old) = &old {
        if has_generation(rt) && spec_changed(rt, old, &new) {
            let generation = old
                .pointer("/metadata/generation")
                .and_then(Value::as_i64)
                .unwrap_or(0)
                + 1;
            metadata_mut(&mut new).insert("generation".into(), json!(generation));
        }
        if unchanged(old, &new) {
            return Ok(present(old.clone()));
        }
    }
    if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        crate::crds::accept(&mut new)
            .map_err(|m| ApiError::invalid(&rt.group, &rt.kind, &name, vec![("spec".into(), m)]))?;
    }
    if dry_run {
        return Ok(present(Arc::new(new)));
    }
    let finishing = meta_str(&new, "deletionTimestamp").is_some() && finalizers(&new).is_empty();
    if finishing {
        // As the apiserver: the update that empties the finalizers is written
        // (MODIFIED), then the object goes (DELETED, without its finalizers).
        state.store.put(&resource, new.clone());
        let gone = state.store.remove(&resource, &namespace, &name);
        crate::deletes::after_removal(state, rt, &new);
        return Ok(present(gone.unwrap_or_else(|| Arc::new(new))));
    }
    let stored = state.store.put(&resource, new);
    if rt.group == "apiextensions.k8s.io" && rt.kind == "CustomResourceDefinition" {
        let _ = state.registry.register_crd(&stored);
    }
    Ok(present(stored))
}

/// A Service's ClusterIP and NodePorts stay what they were when an update
/// leaves them out, as the apiserver's allocator does.
fn keep_allocations(rt: &ResourceType, old: &Value, new: &mut Value) {
    if !(rt.group.is_empty() && rt.kind == "Service") {
        return;
    }
    for field in ["clusterIP", "clusterIPs"] {
        if new.pointer(&format!("/spec/{field}")).is_none() {
            if let Some(v) = old.pointer(&format!("/spec/{field}")) {
                new["spec"][field] = v.clone();
            }
        }
    }
    let old_ports = old
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(ports) = new.pointer_mut("/spec/ports").and_then(Value::as_array_mut) {
        for p in ports.iter_mut().filter(|p| p.get("nodePort").is_none()) {
            let same = old_ports
                .iter()
                .find(|o| o.get("port") == p.get("port") && o.get("nodePort").is_some());
            if let Some(np) = same.and_then(|o| o.get("nodePort")) {
                p["nodePort"] = np.clone();
            }
        }
    }
}

/// Whether the kind tracks `metadata.generation`: only those whose registry
/// strategy sets it (workloads, Ingress, CRDs, custom resources); a real
/// ConfigMap, Secret, Service or Namespace has none.
fn has_generation(rt: &ResourceType) -> bool {
    rt.custom
        || matches!(
            rt.group.as_str(),
            "apps"
                | "batch"
                | "networking.k8s.io"
                | "policy"
                | "apiextensions.k8s.io"
                | "autoscaling"
        )
}

/// Whether a write changes the generation: any change outside metadata and
/// status (for kinds without a status subresource, status counts too).
/// Compared field by field: copying both objects to strip them cost more
/// than the rest of a write.
fn spec_changed(rt: &ResourceType, old: &Value, new: &Value) -> bool {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return old != new;
    };
    let counts = |k: &String| k != "metadata" && !(rt.has_status && k == "status");
    let len = |m: &Map<String, Value>| m.keys().filter(|k| counts(k)).count();
    len(o) != len(n)
        || o.iter()
            .filter(|(k, _)| counts(k))
            .any(|(k, v)| n.get(k) != Some(v))
}

/// Equal but for managedFields timestamps: the write changes nothing.
/// Compared in place, for the same reason as [`spec_changed`].
fn unchanged(old: &Value, new: &Value) -> bool {
    /// Two maps equal once the keys `skip` says are left out; `same`
    /// compares the values of each remaining key.
    fn maps_equal(
        a: &Map<String, Value>,
        b: &Map<String, Value>,
        skip: impl Fn(&str) -> bool,
        same: impl Fn(&str, &Value, &Value) -> bool,
    ) -> bool {
        let len = |m: &Map<String, Value>| m.keys().filter(|k| !skip(k)).count();
        len(a) == len(b)
            && a.iter()
                .filter(|(k, _)| !skip(k))
                .all(|(k, v)| b.get(k).is_some_and(|w| same(k, v, w)))
    }
    let entries_equal = |a: &Value, b: &Value| match (a, b) {
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len()
                && a.iter().zip(b).all(|(e, f)| match (e, f) {
                    (Value::Object(e), Value::Object(f)) => {
                        maps_equal(e, f, |k| k == "time", |_, v, w| v == w)
                    }
                    _ => e == f,
                })
        }
        _ => a == b,
    };
    let metadata_equal = |a: &Value, b: &Value| match (a, b) {
        (Value::Object(a), Value::Object(b)) => maps_equal(
            a,
            b,
            |_| false,
            |k, v, w| {
                if k == "managedFields" {
                    entries_equal(v, w)
                } else {
                    v == w
                }
            },
        ),
        _ => a == b,
    };
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => maps_equal(
            o,
            n,
            |_| false,
            |k, v, w| {
                if k == "metadata" {
                    metadata_equal(v, w)
                } else {
                    v == w
                }
            },
        ),
        _ => old == new,
    }
}
