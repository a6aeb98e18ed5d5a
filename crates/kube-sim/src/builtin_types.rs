//! The `k8s-openapi` type of every built-in kind kube-sim serves.
//!
//! Two parts of kube-sim need the Rust type behind a (group, version, kind):
//! strict decoding (`validation::typed`, through `serde::Deserialize`) and the
//! OpenAPI documents (`openapi`, through `schemars::JsonSchema`). The table
//! lives here once; each caller brings a [`KindVisitor`] that does its part
//! with the type.

use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// Something done with the type of one built-in kind.
pub trait KindVisitor {
    type Out;
    fn visit<T: DeserializeOwned + JsonSchema>(self) -> Self::Out;
}

/// Calls `visitor` with the type of (group, version, kind), or returns
/// `None` for a kind that is not built in.
pub fn with_type<V: KindVisitor>(
    group: &str,
    version: &str,
    kind: &str,
    visitor: V,
) -> Option<V::Out> {
    use k8s_openapi::api::{
        admissionregistration::v1 as admission, apps::v1 as apps,
        authentication::v1 as authentication, authorization::v1 as authorization,
        autoscaling::v1 as autoscaling1, autoscaling::v2 as autoscaling2, batch::v1 as batch,
        certificates::v1 as certificates, coordination::v1 as coordination, core::v1 as core,
        discovery::v1 as discovery, events::v1 as events, flowcontrol::v1 as flowcontrol,
        networking::v1 as networking, node::v1 as node, policy::v1 as policy, rbac::v1 as rbac,
        scheduling::v1 as scheduling, storage::v1 as storage,
    };
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1 as apiextensions;
    use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1 as apiregistration;
    macro_rules! kinds {
        ($( ($g:literal, $v:literal, $k:literal) => $t:ty ),* $(,)?) => {
            match (group, version, kind) {
                $( ($g, $v, $k) => Some(visitor.visit::<$t>()), )*
                _ => None,
            }
        };
    }
    kinds! {
        ("", "v1", "Binding") => core::Binding,
        ("", "v1", "ComponentStatus") => core::ComponentStatus,
        ("", "v1", "ConfigMap") => core::ConfigMap,
        ("", "v1", "Endpoints") => core::Endpoints,
        ("", "v1", "Event") => core::Event,
        ("", "v1", "LimitRange") => core::LimitRange,
        ("", "v1", "Namespace") => core::Namespace,
        ("", "v1", "Node") => core::Node,
        ("", "v1", "PersistentVolume") => core::PersistentVolume,
        ("", "v1", "PersistentVolumeClaim") => core::PersistentVolumeClaim,
        ("", "v1", "Pod") => core::Pod,
        ("", "v1", "PodTemplate") => core::PodTemplate,
        ("", "v1", "ReplicationController") => core::ReplicationController,
        ("", "v1", "ResourceQuota") => core::ResourceQuota,
        ("", "v1", "Secret") => core::Secret,
        ("", "v1", "Service") => core::Service,
        ("", "v1", "ServiceAccount") => core::ServiceAccount,
        ("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration") => admission::MutatingWebhookConfiguration,
        ("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration") => admission::ValidatingWebhookConfiguration,
        ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy") => admission::ValidatingAdmissionPolicy,
        ("admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding") => admission::ValidatingAdmissionPolicyBinding,
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => apiextensions::CustomResourceDefinition,
        ("apiregistration.k8s.io", "v1", "APIService") => apiregistration::APIService,
        ("authentication.k8s.io", "v1", "SelfSubjectReview") => authentication::SelfSubjectReview,
        ("authentication.k8s.io", "v1", "TokenReview") => authentication::TokenReview,
        ("authorization.k8s.io", "v1", "LocalSubjectAccessReview") => authorization::LocalSubjectAccessReview,
        ("authorization.k8s.io", "v1", "SelfSubjectAccessReview") => authorization::SelfSubjectAccessReview,
        ("authorization.k8s.io", "v1", "SelfSubjectRulesReview") => authorization::SelfSubjectRulesReview,
        ("authorization.k8s.io", "v1", "SubjectAccessReview") => authorization::SubjectAccessReview,
        ("apps", "v1", "ControllerRevision") => apps::ControllerRevision,
        ("apps", "v1", "DaemonSet") => apps::DaemonSet,
        ("apps", "v1", "Deployment") => apps::Deployment,
        ("apps", "v1", "ReplicaSet") => apps::ReplicaSet,
        ("apps", "v1", "StatefulSet") => apps::StatefulSet,
        ("autoscaling", "v1", "HorizontalPodAutoscaler") => autoscaling1::HorizontalPodAutoscaler,
        ("autoscaling", "v1", "Scale") => autoscaling1::Scale,
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => autoscaling2::HorizontalPodAutoscaler,
        ("batch", "v1", "CronJob") => batch::CronJob,
        ("batch", "v1", "Job") => batch::Job,
        ("certificates.k8s.io", "v1", "CertificateSigningRequest") => certificates::CertificateSigningRequest,
        ("coordination.k8s.io", "v1", "Lease") => coordination::Lease,
        ("discovery.k8s.io", "v1", "EndpointSlice") => discovery::EndpointSlice,
        ("events.k8s.io", "v1", "Event") => events::Event,
        ("flowcontrol.apiserver.k8s.io", "v1", "FlowSchema") => flowcontrol::FlowSchema,
        ("flowcontrol.apiserver.k8s.io", "v1", "PriorityLevelConfiguration") => flowcontrol::PriorityLevelConfiguration,
        ("networking.k8s.io", "v1", "IPAddress") => networking::IPAddress,
        ("networking.k8s.io", "v1", "Ingress") => networking::Ingress,
        ("networking.k8s.io", "v1", "IngressClass") => networking::IngressClass,
        ("networking.k8s.io", "v1", "NetworkPolicy") => networking::NetworkPolicy,
        ("networking.k8s.io", "v1", "ServiceCIDR") => networking::ServiceCIDR,
        ("node.k8s.io", "v1", "RuntimeClass") => node::RuntimeClass,
        ("policy", "v1", "PodDisruptionBudget") => policy::PodDisruptionBudget,
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => rbac::ClusterRole,
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => rbac::ClusterRoleBinding,
        ("rbac.authorization.k8s.io", "v1", "Role") => rbac::Role,
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => rbac::RoleBinding,
        ("scheduling.k8s.io", "v1", "PriorityClass") => scheduling::PriorityClass,
        ("storage.k8s.io", "v1", "CSIDriver") => storage::CSIDriver,
        ("storage.k8s.io", "v1", "CSINode") => storage::CSINode,
        ("storage.k8s.io", "v1", "CSIStorageCapacity") => storage::CSIStorageCapacity,
        ("storage.k8s.io", "v1", "StorageClass") => storage::StorageClass,
        ("storage.k8s.io", "v1", "VolumeAttachment") => storage::VolumeAttachment,
    }
}
