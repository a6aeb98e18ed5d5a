//! The built-in resources of kube-apiserver, as its discovery lists them.
//!
//! One row per group/version/resource with what `kubectl api-resources -o
//! wide` shows (short names, categories, verbs) and the subresources with
//! their own kinds and verbs, taken from kube-apiserver's REST storage
//! (pkg/registry/*/rest upstream). Rows carry the Kubernetes minor versions
//! that serve them by default, so a server reporting 1.27 does not serve
//! what only 1.33 has: kube-sim is never kinder than the version it reports.
//! Kept apart from `registry.rs`, which turns these rows (and CRDs) into the
//! table the rest of the server reads.

/// Every verb of a stored resource.
pub const ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];
/// Namespaces: no deletecollection.
const NS_VERBS: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];
pub const CREATE: &[&str] = &["create"];
const GET_LIST: &[&str] = &["get", "list"];
const GPU: &[&str] = &["get", "patch", "update"];
const CG: &[&str] = &["create", "get"];
const PROXY: &[&str] = &["create", "delete", "get", "patch", "update"];

/// One subresource: its name, the kind it answers with (`None`: the parent's
/// kind; a group/version when it differs from the parent's) and its verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sub {
    pub name: &'static str,
    pub kind: Option<&'static str>,
    pub group_version: Option<(&'static str, &'static str)>,
    pub verbs: &'static [&'static str],
}

const fn sub(name: &'static str, verbs: &'static [&'static str]) -> Sub {
    Sub {
        name,
        kind: None,
        group_version: None,
        verbs,
    }
}

const fn sub_kind(name: &'static str, kind: &'static str, verbs: &'static [&'static str]) -> Sub {
    Sub {
        name,
        kind: Some(kind),
        group_version: None,
        verbs,
    }
}

const fn sub_gvk(
    name: &'static str,
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    verbs: &'static [&'static str],
) -> Sub {
    Sub {
        name,
        kind: Some(kind),
        group_version: Some((group, version)),
        verbs,
    }
}

pub const STATUS: Sub = sub("status", GPU);
pub const SCALE: Sub = sub_gvk("scale", "autoscaling", "v1", "Scale", GPU);

/// One built-in group/version/resource.
pub struct Builtin {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub short: &'static [&'static str],
    pub categories: &'static [&'static str],
    pub verbs: &'static [&'static str],
    pub subs: &'static [Sub],
    /// First and last Kubernetes minor version serving it by default.
    pub since: u32,
    pub until: u32,
}

const fn r(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Builtin {
    Builtin {
        group,
        version,
        kind,
        plural,
        namespaced,
        short: &[],
        categories: &[],
        verbs: ALL,
        subs: &[],
        since: 0,
        until: u32::MAX,
    }
}

impl Builtin {
    const fn short(mut self, short: &'static [&'static str]) -> Self {
        self.short = short;
        self
    }
    const fn cats(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }
    const fn verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }
    const fn subs(mut self, subs: &'static [Sub]) -> Self {
        self.subs = subs;
        self
    }
    const fn since(mut self, minor: u32) -> Self {
        self.since = minor;
        self
    }
    const fn until(mut self, minor: u32) -> Self {
        self.until = minor;
        self
    }
    pub fn served_in(&self, minor: u32) -> bool {
        (self.since..=self.until).contains(&minor)
    }
}

const ALL_CAT: &[&str] = &["all"];
const EXT: &[&str] = &["api-extensions"];
const AR: &str = "admissionregistration.k8s.io";
const AUTHN: &str = "authentication.k8s.io";
const AUTHZ: &str = "authorization.k8s.io";
const FC: &str = "flowcontrol.apiserver.k8s.io";
const NET: &str = "networking.k8s.io";
const RBAC: &str = "rbac.authorization.k8s.io";
const STORAGE: &str = "storage.k8s.io";

const POD_SUBS: &[Sub] = &[
    sub_kind("attach", "PodAttachOptions", CG),
    sub_kind("binding", "Binding", CREATE),
    sub("ephemeralcontainers", GPU),
    sub_gvk("eviction", "policy", "v1", "Eviction", CREATE),
    sub_kind("exec", "PodExecOptions", CG),
    sub("log", &["get"]),
    sub_kind("portforward", "PodPortForwardOptions", CG),
    sub_kind("proxy", "PodProxyOptions", PROXY),
    sub("resize", GPU),
    STATUS,
];
/// 1.27–1.32: pods/resize came with 1.33.
const POD_SUBS_BEFORE_RESIZE: &[Sub] = &[
    sub_kind("attach", "PodAttachOptions", CG),
    sub_kind("binding", "Binding", CREATE),
    sub("ephemeralcontainers", GPU),
    sub_gvk("eviction", "policy", "v1", "Eviction", CREATE),
    sub_kind("exec", "PodExecOptions", CG),
    sub("log", &["get"]),
    sub_kind("portforward", "PodPortForwardOptions", CG),
    sub_kind("proxy", "PodProxyOptions", PROXY),
    STATUS,
];

/// In the order kube-apiserver serves its groups (`/apis`), core first.
pub const BUILTINS: &[Builtin] = &[
    // core/v1
    r("", "v1", "Binding", "bindings", true).verbs(CREATE),
    r("", "v1", "ComponentStatus", "componentstatuses", false)
        .short(&["cs"])
        .verbs(GET_LIST),
    r("", "v1", "ConfigMap", "configmaps", true).short(&["cm"]),
    r("", "v1", "Endpoints", "endpoints", true).short(&["ep"]),
    r("", "v1", "Event", "events", true).short(&["ev"]),
    r("", "v1", "LimitRange", "limitranges", true).short(&["limits"]),
    r("", "v1", "Namespace", "namespaces", false)
        .short(&["ns"])
        .verbs(NS_VERBS)
        .subs(&[sub("finalize", &["update"]), STATUS]),
    r("", "v1", "Node", "nodes", false)
        .short(&["no"])
        .subs(&[sub_kind("proxy", "NodeProxyOptions", PROXY), STATUS]),
    r(
        "",
        "v1",
        "PersistentVolumeClaim",
        "persistentvolumeclaims",
        true,
    )
    .short(&["pvc"])
    .subs(&[STATUS]),
    r("", "v1", "PersistentVolume", "persistentvolumes", false)
        .short(&["pv"])
        .subs(&[STATUS]),
    r("", "v1", "Pod", "pods", true)
        .short(&["po"])
        .cats(ALL_CAT)
        .subs(POD_SUBS)
        .since(33),
    r("", "v1", "Pod", "pods", true)
        .short(&["po"])
        .cats(ALL_CAT)
        .subs(POD_SUBS_BEFORE_RESIZE)
        .until(32),
    r("", "v1", "PodTemplate", "podtemplates", true),
    r(
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        true,
    )
    .short(&["rc"])
    .cats(ALL_CAT)
    .subs(&[SCALE, STATUS]),
    r("", "v1", "ResourceQuota", "resourcequotas", true)
        .short(&["quota"])
        .subs(&[STATUS]),
    r("", "v1", "Secret", "secrets", true),
    r("", "v1", "ServiceAccount", "serviceaccounts", true)
        .short(&["sa"])
        .subs(&[sub_gvk("token", AUTHN, "v1", "TokenRequest", CREATE)]),
    r("", "v1", "Service", "services", true)
        .short(&["svc"])
        .cats(ALL_CAT)
        .subs(&[sub_kind("proxy", "ServiceProxyOptions", PROXY), STATUS]),
    // apiregistration.k8s.io
    r(
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        "apiservices",
        false,
    )
    .cats(EXT)
    .subs(&[STATUS]),
    // apps
    r(
        "apps",
        "v1",
        "ControllerRevision",
        "controllerrevisions",
        true,
    ),
    r("apps", "v1", "DaemonSet", "daemonsets", true)
        .short(&["ds"])
        .cats(ALL_CAT)
        .subs(&[STATUS]),
    r("apps", "v1", "Deployment", "deployments", true)
        .short(&["deploy"])
        .cats(ALL_CAT)
        .subs(&[SCALE, STATUS]),
    r("apps", "v1", "ReplicaSet", "replicasets", true)
        .short(&["rs"])
        .cats(ALL_CAT)
        .subs(&[SCALE, STATUS]),
    r("apps", "v1", "StatefulSet", "statefulsets", true)
        .short(&["sts"])
        .cats(ALL_CAT)
        .subs(&[SCALE, STATUS]),
    // events.k8s.io
    r("events.k8s.io", "v1", "Event", "events", true).short(&["ev"]),
    // authentication.k8s.io
    r(
        AUTHN,
        "v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        false,
    )
    .verbs(CREATE)
    .since(28),
    r(AUTHN, "v1", "TokenReview", "tokenreviews", false).verbs(CREATE),
    r(
        AUTHN,
        "v1beta1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        false,
    )
    .verbs(CREATE)
    .until(27),
    // authorization.k8s.io
    r(
        AUTHZ,
        "v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        true,
    )
    .verbs(CREATE),
    r(
        AUTHZ,
        "v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        false,
    )
    .verbs(CREATE),
    r(
        AUTHZ,
        "v1",
        "SelfSubjectRulesReview",
        "selfsubjectrulesreviews",
        false,
    )
    .verbs(CREATE),
    r(
        AUTHZ,
        "v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        false,
    )
    .verbs(CREATE),
    // autoscaling: v2 is the preferred version
    r(
        "autoscaling",
        "v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    )
    .short(&["hpa"])
    .cats(ALL_CAT)
    .subs(&[STATUS]),
    r(
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        true,
    )
    .short(&["hpa"])
    .cats(ALL_CAT)
    .subs(&[STATUS]),
    // batch
    r("batch", "v1", "CronJob", "cronjobs", true)
        .short(&["cj"])
        .cats(ALL_CAT)
        .subs(&[STATUS]),
    r("batch", "v1", "Job", "jobs", true)
        .cats(ALL_CAT)
        .subs(&[STATUS]),
    // certificates.k8s.io
    r(
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        false,
    )
    .short(&["csr"])
    .subs(&[sub("approval", GPU), STATUS]),
    // networking.k8s.io
    r(NET, "v1", "IngressClass", "ingressclasses", false),
    r(NET, "v1", "Ingress", "ingresses", true)
        .short(&["ing"])
        .subs(&[STATUS]),
    r(NET, "v1", "IPAddress", "ipaddresses", false)
        .short(&["ip"])
        .since(33),
    r(NET, "v1", "NetworkPolicy", "networkpolicies", true).short(&["netpol"]),
    r(NET, "v1", "ServiceCIDR", "servicecidrs", false)
        .subs(&[STATUS])
        .since(33),
    // policy
    r(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        true,
    )
    .short(&["pdb"])
    .subs(&[STATUS]),
    // rbac.authorization.k8s.io
    r(
        RBAC,
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    r(RBAC, "v1", "ClusterRole", "clusterroles", false),
    r(RBAC, "v1", "RoleBinding", "rolebindings", true),
    r(RBAC, "v1", "Role", "roles", true),
    // storage.k8s.io
    r(STORAGE, "v1", "CSIDriver", "csidrivers", false),
    r(STORAGE, "v1", "CSINode", "csinodes", false),
    r(
        STORAGE,
        "v1",
        "CSIStorageCapacity",
        "csistoragecapacities",
        true,
    ),
    r(STORAGE, "v1", "StorageClass", "storageclasses", false).short(&["sc"]),
    r(
        STORAGE,
        "v1",
        "VolumeAttachment",
        "volumeattachments",
        false,
    )
    .subs(&[STATUS]),
    // admissionregistration.k8s.io
    r(
        AR,
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    )
    .cats(EXT),
    r(
        AR,
        "v1",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        false,
    )
    .cats(EXT)
    .subs(&[STATUS])
    .since(30),
    r(
        AR,
        "v1",
        "ValidatingAdmissionPolicyBinding",
        "validatingadmissionpolicybindings",
        false,
    )
    .cats(EXT)
    .since(30),
    r(
        AR,
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        false,
    )
    .cats(EXT),
    // apiextensions.k8s.io
    r(
        "apiextensions.k8s.io",
        "v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        false,
    )
    .short(&["crd", "crds"])
    .cats(EXT)
    .subs(&[STATUS]),
    // scheduling.k8s.io
    r(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        false,
    )
    .short(&["pc"]),
    // coordination.k8s.io
    r("coordination.k8s.io", "v1", "Lease", "leases", true),
    // node.k8s.io
    r("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", false),
    // discovery.k8s.io
    r(
        "discovery.k8s.io",
        "v1",
        "EndpointSlice",
        "endpointslices",
        true,
    ),
    // flowcontrol.apiserver.k8s.io: v1 since 1.29, v1beta3 before
    r(FC, "v1", "FlowSchema", "flowschemas", false)
        .subs(&[STATUS])
        .since(29),
    r(
        FC,
        "v1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        false,
    )
    .subs(&[STATUS])
    .since(29),
    r(FC, "v1beta3", "FlowSchema", "flowschemas", false)
        .subs(&[STATUS])
        .until(28),
    r(
        FC,
        "v1beta3",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        false,
    )
    .subs(&[STATUS])
    .until(28),
];

/// Built-in APIs kube-apiserver still serves but marks deprecated: group,
/// version, kind, the minor that deprecated it and its replacement. Every
/// request on them is answered with a `Warning` header, as the apiserver's
/// deprecation mechanism does (`deprecation.WarningMessage`).
const DEPRECATED: &[(&str, &str, &str, u32, &str)] = &[(
    "",
    "v1",
    "Endpoints",
    33,
    "discovery.k8s.io/v1 EndpointSlice",
)];

/// The deprecation warning for a request on `group/version` `kind` to a
/// server of minor version `minor`, if any.
pub fn deprecation_warning(group: &str, version: &str, kind: &str, minor: u32) -> Option<String> {
    let (g, v, k, since, replacement) = DEPRECATED
        .iter()
        .find(|(g, v, k, _, _)| *g == group && *v == version && *k == kind)?;
    if minor < *since {
        return None;
    }
    let gv = if g.is_empty() {
        v.to_string()
    } else {
        format!("{g}/{v}")
    };
    Some(format!(
        "{gv} {k} is deprecated in v1.{since}+; use {replacement}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_row_per_resource_in_each_version() {
        for minor in [27, 32, 33] {
            let mut seen = std::collections::HashSet::new();
            for b in BUILTINS.iter().filter(|b| b.served_in(minor)) {
                assert!(
                    seen.insert((b.group, b.version, b.plural)),
                    "{} {}/{} twice in 1.{minor}",
                    b.plural,
                    b.group,
                    b.version
                );
            }
        }
        let pods = |minor| {
            BUILTINS
                .iter()
                .find(|b| b.plural == "pods" && b.served_in(minor))
                .map(|b| b.subs.iter().any(|s| s.name == "resize"))
        };
        assert_eq!((pods(32), pods(33)), (Some(false), Some(true)));
    }

    #[test]
    fn endpoints_are_deprecated_from_1_33() {
        assert_eq!(
            deprecation_warning("", "v1", "Endpoints", 33).as_deref(),
            Some("v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice")
        );
        assert_eq!(deprecation_warning("", "v1", "Endpoints", 32), None);
        assert_eq!(
            deprecation_warning("discovery.k8s.io", "v1", "EndpointSlice", 33),
            None
        );
    }
}
