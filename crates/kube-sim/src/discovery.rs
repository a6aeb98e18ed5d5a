//! API discovery in both flavours.
//!
//! Legacy discovery (`/api`, `/apis`, `/api/v1`, `/apis/G/V`) and aggregated
//! discovery (one `APIGroupDiscoveryList` for `/api` or `/apis`) are chosen by
//! the `Accept` header. kubectl 1.32 offers v2, then v2beta1, then plain JSON;
//! kubectl 1.27 offers only v2beta1, so serving v2 to it would break it.

use crate::builtins::Sub;
use crate::registry::{Registry, ResourceType};
use serde_json::{json, Value};
use std::sync::Arc;

/// Which aggregated discovery version the client accepts, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregated {
    V2,
    V2Beta1,
}

impl Aggregated {
    /// The first aggregated flavour the `Accept` header offers that we serve.
    pub fn negotiate(accept: &str) -> Option<Self> {
        for offer in accept.split(',') {
            let params: Vec<&str> = offer.split(';').map(str::trim).collect();
            let has = |p: &str| params.contains(&p);
            if has("g=apidiscovery.k8s.io") && has("as=APIGroupDiscoveryList") {
                if has("v=v2") {
                    return Some(Aggregated::V2);
                }
                if has("v=v2beta1") {
                    return Some(Aggregated::V2Beta1);
                }
            }
        }
        None
    }

    fn version(self) -> &'static str {
        match self {
            Aggregated::V2 => "v2",
            Aggregated::V2Beta1 => "v2beta1",
        }
    }

    pub fn content_type(self) -> String {
        format!(
            "application/json;g=apidiscovery.k8s.io;v={};as=APIGroupDiscoveryList",
            self.version()
        )
    }
}

pub fn legacy_root(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_json(name: &str, versions: &[String]) -> Value {
    let vs: Vec<Value> = versions
        .iter()
        .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
        .collect();
    json!({
        "name": name,
        "versions": vs,
        "preferredVersion": vs.first().cloned().unwrap_or(Value::Null),
    })
}

pub fn group_list(registry: &Registry) -> Value {
    let groups: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(g, vs)| group_json(g, vs))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

pub fn group(registry: &Registry, name: &str) -> Option<Value> {
    let groups = registry.groups();
    let (_, versions) = groups.iter().find(|(g, _)| g == name)?;
    let mut g = group_json(name, versions);
    g["kind"] = json!("APIGroup");
    g["apiVersion"] = json!("v1");
    Some(g)
}

/// The resources of a group-version sorted by name, as kube-apiserver lists them.
fn sorted(registry: &Registry, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
    let mut types = registry.in_group_version(group, version);
    types.sort_by(|a, b| a.plural.cmp(&b.plural));
    types
}

/// The group, version and kind a subresource answers with.
fn sub_kind<'a>(t: &'a ResourceType, s: &'a Sub) -> (&'a str, &'a str, &'a str) {
    let (group, version) = s
        .group_version
        .unwrap_or((t.group.as_str(), t.version.as_str()));
    (group, version, s.kind.unwrap_or(t.kind.as_str()))
}

pub fn resource_list(registry: &Registry, group: &str, version: &str) -> Option<Value> {
    let types = sorted(registry, group, version);
    if types.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for t in &types {
        let mut r = json!({
            "name": t.plural,
            "singularName": t.singular,
            "namespaced": t.namespaced,
            "kind": t.kind,
            "verbs": t.verbs(),
        });
        if !t.short_names.is_empty() {
            r["shortNames"] = json!(t.short_names);
        }
        if !t.categories.is_empty() {
            r["categories"] = json!(t.categories);
        }
        resources.push(r);
        for s in &t.subresources {
            let (g, v, kind) = sub_kind(t, s);
            let mut sub = json!({
                "name": format!("{}/{}", t.plural, s.name), "singularName": "",
                "namespaced": t.namespaced, "kind": kind, "verbs": s.verbs,
            });
            if s.group_version.is_some() {
                sub["group"] = json!(g);
                sub["version"] = json!(v);
            }
            resources.push(sub);
        }
    }
    let gv = types[0].api_version();
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn aggregated_resource(t: &ResourceType) -> Value {
    let mut r = json!({
        "resource": t.plural,
        "responseKind": {"group": t.group, "version": t.version, "kind": t.kind},
        "scope": if t.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": t.singular,
        "verbs": t.verbs(),
    });
    if !t.short_names.is_empty() {
        r["shortNames"] = json!(t.short_names);
    }
    if !t.categories.is_empty() {
        r["categories"] = json!(t.categories);
    }
    let subs: Vec<Value> = t
        .subresources
        .iter()
        .map(|s| {
            let (group, version, kind) = sub_kind(t, s);
            json!({
                "subresource": s.name,
                "responseKind": {"group": group, "version": version, "kind": kind},
                "verbs": s.verbs,
            })
        })
        .collect();
    if !subs.is_empty() {
        r["subresources"] = json!(subs);
    }
    r
}

/// The aggregated document for `/api` (`legacy`) or `/apis`.
pub fn aggregated(registry: &Registry, legacy: bool, flavour: Aggregated) -> Value {
    let items: Vec<Value> = registry
        .groups()
        .iter()
        .filter(|(g, _)| g.is_empty() == legacy)
        .map(|(g, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = sorted(registry, g, v)
                        .iter()
                        .map(|t| aggregated_resource(t))
                        .collect();
                    json!({"version": v, "resources": resources, "freshness": "Current"})
                })
                .collect();
            json!({"metadata": {"name": g, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({
        "kind": "APIGroupDiscoveryList",
        "apiVersion": format!("apidiscovery.k8s.io/{}", flavour.version()),
        "metadata": {},
        "items": items,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_prefers_the_clients_order() {
        let k132 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(Aggregated::negotiate(k132), Some(Aggregated::V2));
        let k127 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json";
        assert_eq!(Aggregated::negotiate(k127), Some(Aggregated::V2Beta1));
        assert_eq!(Aggregated::negotiate("application/json, */*"), None);
    }

    #[test]
    fn aggregated_lists_scale_subresources() {
        let r = Registry::with_builtins();
        let doc = aggregated(&r, false, Aggregated::V2);
        let apps = doc["items"]
            .as_array()
            .and_then(|i| i.iter().find(|g| g["metadata"]["name"] == "apps"))
            .expect("apps group");
        let deploy = apps["versions"][0]["resources"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["resource"] == "deployments"))
            .expect("deployments");
        assert_eq!(deploy["scope"], "Namespaced");
        assert_eq!(deploy["subresources"][0]["subresource"], "scale");
        assert_eq!(deploy["subresources"][0]["responseKind"]["kind"], "Scale");
        assert_eq!(deploy["subresources"][1]["subresource"], "status");
        let core = aggregated(&r, true, Aggregated::V2Beta1);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        assert_eq!(core["apiVersion"], "apidiscovery.k8s.io/v2beta1");
    }
}
