//! The resource types kube-sim serves: the built-in resources of the
//! Kubernetes version it reports (listed in `builtins.rs`), plus every
//! CustomResourceDefinition created at run time.
//!
//! Discovery, OpenAPI, routing and storage all read this one table, so a CRD
//! shows up everywhere the moment it is registered.

use crate::builtins::{Sub, ALL, BUILTINS, SCALE, STATUS};
use crate::schema::Schema;
use serde_json::Value;
use std::sync::Arc;

/// The newest Kubernetes minor version whose built-ins kube-sim serves.
pub const NEWEST_MINOR: u32 = 33;

/// One served resource (one group/version/plural).
#[derive(Debug, Clone)]
pub struct ResourceType {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub singular: String,
    pub namespaced: bool,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub has_status: bool,
    pub has_scale: bool,
    /// JSON pointers for the scale subresource (CRDs may declare other paths).
    pub scale_paths: Option<ScalePaths>,
    pub schema: Schema,
    /// Extra printer columns of a CRD version (`additionalPrinterColumns`).
    pub printer_columns: Vec<Value>,
    /// Whether this came from a CRD (and so answers strategic merge with 415).
    pub custom: bool,
    /// The verbs discovery lists (and the handler serves).
    pub verbs: &'static [&'static str],
    /// Subresources, `status` and `scale` included, sorted by name.
    pub subresources: Vec<Sub>,
}

#[derive(Debug, Clone)]
pub struct ScalePaths {
    pub spec_replicas: String,
    pub status_replicas: String,
    pub label_selector: Option<String>,
}

impl ResourceType {
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    pub fn group_version_path(&self) -> String {
        if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, the name used in messages and RBAC.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.clone()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn verbs(&self) -> &'static [&'static str] {
        self.verbs
    }

    /// The subresource called `name`, if this resource has it.
    pub fn subresource(&self, name: &str) -> Option<&Sub> {
        self.subresources.iter().find(|s| s.name == name)
    }

    /// Whether `verb` is served on this resource or on its subresource.
    pub fn allows(&self, verb: &str, subresource: Option<&str>) -> bool {
        match subresource {
            None => self.verbs.contains(&verb),
            Some(name) => self
                .subresource(name)
                .is_some_and(|s| s.verbs.contains(&verb)),
        }
    }
}

/// The table of served resources. Cheap to clone (readers take a snapshot).
#[derive(Debug, Clone, Default)]
pub struct Registry {
    types: Vec<Arc<ResourceType>>,
}

impl Registry {
    /// The built-ins of the newest Kubernetes version kube-sim knows.
    pub fn with_builtins() -> Self {
        Registry::for_minor(NEWEST_MINOR)
    }

    /// The built-ins a kube-apiserver of `1.<minor>` serves by default.
    pub fn for_minor(minor: u32) -> Self {
        let types = BUILTINS
            .iter()
            .filter(|b| b.served_in(minor))
            .map(|b| {
                let has = |name: &str| b.subs.iter().any(|s| s.name == name);
                Arc::new(ResourceType {
                    group: b.group.into(),
                    version: b.version.into(),
                    kind: b.kind.into(),
                    plural: b.plural.into(),
                    singular: b.kind.to_lowercase(),
                    namespaced: b.namespaced,
                    short_names: b.short.iter().map(|s| s.to_string()).collect(),
                    categories: b.categories.iter().map(|s| s.to_string()).collect(),
                    has_status: has("status"),
                    has_scale: has("scale"),
                    scale_paths: has("scale").then(|| ScalePaths {
                        spec_replicas: "/spec/replicas".into(),
                        status_replicas: "/status/replicas".into(),
                        label_selector: Some("/status/selector".into()),
                    }),
                    schema: Schema::builtin(b.group, b.kind),
                    printer_columns: vec![],
                    custom: false,
                    verbs: b.verbs,
                    subresources: b.subs.to_vec(),
                })
            })
            .collect();
        Registry { types }
    }

    pub fn all(&self) -> &[Arc<ResourceType>] {
        &self.types
    }

    pub fn find(&self, group: &str, version: &str, plural: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.version == version && t.plural == plural)
            .cloned()
    }

    pub fn find_kind(&self, group: &str, kind: &str) -> Option<Arc<ResourceType>> {
        self.types
            .iter()
            .find(|t| t.group == group && t.kind == kind)
            .cloned()
    }

    pub fn has_group_version(&self, group: &str, version: &str) -> bool {
        self.types
            .iter()
            .any(|t| t.group == group && t.version == version)
    }

    /// Groups in serving order, each with its versions (preferred first).
    pub fn groups(&self) -> Vec<(String, Vec<String>)> {
        let mut out: Vec<(String, Vec<String>)> = Vec::new();
        for t in &self.types {
            match out.iter_mut().find(|(g, _)| *g == t.group) {
                Some((_, versions)) => {
                    if !versions.contains(&t.version) {
                        versions.push(t.version.clone());
                    }
                }
                None => out.push((t.group.clone(), vec![t.version.clone()])),
            }
        }
        out
    }

    pub fn in_group_version(&self, group: &str, version: &str) -> Vec<Arc<ResourceType>> {
        self.types
            .iter()
            .filter(|t| t.group == group && t.version == version)
            .cloned()
            .collect()
    }

    /// Serve the versions of a CRD (replacing what an earlier version of the
    /// same CRD registered).
    pub fn register_crd(&mut self, crd: &Value) -> Result<(), String> {
        let spec = crd.get("spec").ok_or("spec is required")?;
        let group = str_at(spec, "/group").ok_or("spec.group is required")?;
        let plural = str_at(spec, "/names/plural").ok_or("spec.names.plural is required")?;
        let kind = str_at(spec, "/names/kind").ok_or("spec.names.kind is required")?;
        let singular = str_at(spec, "/names/singular")
            .map(str::to_string)
            .unwrap_or_else(|| kind.to_lowercase());
        let namespaced = str_at(spec, "/scope") != Some("Cluster");
        let short_names = strings_at(spec, "/names/shortNames");
        let categories = strings_at(spec, "/names/categories");
        self.unregister_crd(group, plural);
        let versions = spec
            .get("versions")
            .and_then(Value::as_array)
            .ok_or("spec.versions is required")?;
        // Storage version first, so it is the preferred version in discovery.
        let mut ordered: Vec<&Value> = versions
            .iter()
            .filter(|v| v.get("served").and_then(Value::as_bool) != Some(false))
            .collect();
        ordered.sort_by_key(|v| v.get("storage").and_then(Value::as_bool) != Some(true));
        for v in ordered {
            let version = str_at(v, "/name").ok_or("spec.versions[].name is required")?;
            let subresources = v.get("subresources");
            let scale = subresources.and_then(|s| s.get("scale"));
            let schema = v
                .pointer("/schema/openAPIV3Schema")
                .cloned()
                .map(|s| Schema::Crd(Arc::new(s)))
                .unwrap_or(Schema::Opaque);
            self.types.push(Arc::new(ResourceType {
                group: group.into(),
                version: version.into(),
                kind: kind.into(),
                plural: plural.into(),
                singular: singular.clone(),
                namespaced,
                short_names: short_names.clone(),
                categories: categories.clone(),
                has_status: subresources.and_then(|s| s.get("status")).is_some(),
                has_scale: scale.is_some(),
                scale_paths: scale.map(|s| ScalePaths {
                    spec_replicas: json_path_to_pointer(
                        str_at(s, "/specReplicasPath").unwrap_or(".spec.replicas"),
                    ),
                    status_replicas: json_path_to_pointer(
                        str_at(s, "/statusReplicasPath").unwrap_or(".status.replicas"),
                    ),
                    label_selector: str_at(s, "/labelSelectorPath").map(json_path_to_pointer),
                }),
                schema,
                printer_columns: v
                    .get("additionalPrinterColumns")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
                custom: true,
                verbs: ALL,
                subresources: [
                    subresources.and_then(|s| s.get("scale")).map(|_| SCALE),
                    subresources.and_then(|s| s.get("status")).map(|_| STATUS),
                ]
                .into_iter()
                .flatten()
                .collect(),
            }));
        }
        Ok(())
    }

    pub fn unregister_crd(&mut self, group: &str, plural: &str) {
        self.types
            .retain(|t| !(t.custom && t.group == group && t.plural == plural));
    }

    /// Resolve what a user typed (`cm`, `deploy`, `deployments.apps`) the way
    /// kubectl does from discovery; used by tests and the admin API.
    pub fn resolve_name(&self, name: &str) -> Option<Arc<ResourceType>> {
        let (res, group) = match name.split_once('.') {
            Some((r, g)) => (r, Some(g)),
            None => (name, None),
        };
        self.types
            .iter()
            .find(|t| {
                group.is_none_or(|g| t.group == g)
                    && (t.plural == res
                        || t.singular == res
                        || t.short_names.iter().any(|s| s == res)
                        || t.kind.eq_ignore_ascii_case(res))
            })
            .cloned()
    }
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn strings_at(v: &Value, pointer: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `.spec.replicas` → `/spec/replicas`.
fn json_path_to_pointer(path: &str) -> String {
    path.trim_start_matches('.')
        .split('.')
        .fold(String::new(), |mut acc, seg| {
            acc.push('/');
            acc.push_str(seg);
            acc
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn builtins_resolve_by_short_name_and_group() {
        let r = Registry::with_builtins();
        assert_eq!(
            r.resolve_name("cm").map(|t| t.kind.clone()),
            Some("ConfigMap".into())
        );
        assert_eq!(
            r.resolve_name("deployments.apps").map(|t| t.kind.clone()),
            Some("Deployment".into())
        );
        assert!(r
            .find("apps", "v1", "deployments")
            .is_some_and(|t| t.has_scale));
    }

    #[test]
    fn crd_registration_serves_each_version_storage_first() {
        let mut r = Registry::with_builtins();
        let crd = json!({"spec": {"group": "example.com", "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["wd"]},
        "versions": [
            {"name": "v1beta1", "served": true, "storage": false},
            {"name": "v1", "served": true, "storage": true,
             "subresources": {"status": {}, "scale": {"specReplicasPath": ".spec.size", "statusReplicasPath": ".status.size"}}}
        ]}});
        r.register_crd(&crd).expect("valid crd");
        let groups = r.groups();
        let versions = &groups
            .iter()
            .find(|(g, _)| g == "example.com")
            .expect("group")
            .1;
        assert_eq!(versions, &vec!["v1".to_string(), "v1beta1".to_string()]);
        let t = r.find("example.com", "v1", "widgets").expect("served");
        assert!(t.has_status && t.custom);
        assert_eq!(
            t.scale_paths.as_ref().map(|s| s.spec_replicas.as_str()),
            Some("/spec/size")
        );
        r.unregister_crd("example.com", "widgets");
        assert!(r.find("example.com", "v1", "widgets").is_none());
    }
}
