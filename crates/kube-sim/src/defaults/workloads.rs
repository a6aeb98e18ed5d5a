//! Defaults of the workload controllers' objects (apps/v1 and batch/v1),
//! following k8s.io/kubernetes `pkg/apis/{apps,batch}/v1/defaults.go`. Their
//! pod templates get the pod-spec defaults of [`super::pod`].

use super::pod::{pod_spec, PodSpecOf};
use super::{default, each, existing, object, str_at, unset};
use serde_json::{json, Map, Value};

/// The pod spec at `spec.template.spec`, when the object has one.
fn template_spec(spec: &mut Map<String, Value>, of: PodSpecOf) {
    if let Some(ps) = existing(spec, "template").and_then(|t| existing(t, "spec")) {
        pod_spec(ps, of);
    }
}

/// ReplicaSet and ReplicationController.
pub(super) fn replica_set(obj: &mut Map<String, Value>) {
    if let Some(spec) = object(obj, "spec") {
        default(spec, "replicas", 1);
        template_spec(spec, PodSpecOf::Template);
    }
}

pub(super) fn deployment(obj: &mut Map<String, Value>) {
    let Some(spec) = object(obj, "spec") else {
        return;
    };
    default(spec, "replicas", 1);
    if let Some(strategy) = object(spec, "strategy") {
        default(strategy, "type", "RollingUpdate");
        // Recreate has no rollingUpdate parameters.
        if str_at(strategy, "type") == Some("RollingUpdate") {
            if let Some(ru) = object(strategy, "rollingUpdate") {
                default(ru, "maxUnavailable", "25%");
                default(ru, "maxSurge", "25%");
            }
        }
    }
    default(spec, "revisionHistoryLimit", 10);
    default(spec, "progressDeadlineSeconds", 600);
    template_spec(spec, PodSpecOf::Template);
}

pub(super) fn stateful_set(obj: &mut Map<String, Value>) {
    let Some(spec) = object(obj, "spec") else {
        return;
    };
    default(spec, "replicas", 1);
    default(spec, "podManagementPolicy", "OrderedReady");
    if let Some(strategy) = object(spec, "updateStrategy") {
        default(strategy, "type", "RollingUpdate");
        if str_at(strategy, "type") == Some("RollingUpdate") {
            if let Some(ru) = object(strategy, "rollingUpdate") {
                default(ru, "partition", 0);
            }
        }
    }
    default(spec, "revisionHistoryLimit", 10);
    if let Some(policy) = object(spec, "persistentVolumeClaimRetentionPolicy") {
        default(policy, "whenDeleted", "Retain");
        default(policy, "whenScaled", "Retain");
    }
    // The claim templates are full PersistentVolumeClaims, defaulted as such
    // (the apiserver serializes their TypeMeta too).
    each(spec, "volumeClaimTemplates", |pvc| {
        default(pvc, "apiVersion", "v1");
        default(pvc, "kind", "PersistentVolumeClaim");
        super::core::persistent_volume_claim(pvc);
    });
    template_spec(spec, PodSpecOf::Template);
}

pub(super) fn daemon_set(obj: &mut Map<String, Value>) {
    let Some(spec) = object(obj, "spec") else {
        return;
    };
    if let Some(strategy) = object(spec, "updateStrategy") {
        default(strategy, "type", "RollingUpdate");
        if str_at(strategy, "type") == Some("RollingUpdate") {
            if let Some(ru) = object(strategy, "rollingUpdate") {
                default(ru, "maxUnavailable", 1);
                default(ru, "maxSurge", 0);
            }
        }
    }
    default(spec, "revisionHistoryLimit", 10);
    template_spec(spec, PodSpecOf::Template);
}

pub(super) fn job(obj: &mut Map<String, Value>) {
    let Some(spec) = object(obj, "spec") else {
        return;
    };
    // Neither set: a single-pod job. Only parallelism set: a work queue,
    // whose completions stay unset.
    if unset(spec, "completions") && unset(spec, "parallelism") {
        spec.insert("completions".into(), json!(1));
    }
    default(spec, "parallelism", 1);
    let backoff = if unset(spec, "backoffLimitPerIndex") {
        6
    } else {
        i64::from(i32::MAX)
    };
    default(spec, "backoffLimit", backoff);
    default(spec, "completionMode", "NonIndexed");
    default(spec, "suspend", false);
    let has_failure_policy = !unset(spec, "podFailurePolicy");
    if let Some(policy) = existing(spec, "podFailurePolicy") {
        each(policy, "rules", |rule| {
            each(rule, "onPodConditions", |c| default(c, "status", "True"));
        });
    }
    let replacement = if has_failure_policy {
        "Failed"
    } else {
        "TerminatingOrFailed"
    };
    default(spec, "podReplacementPolicy", replacement);
    template_spec(spec, PodSpecOf::JobTemplate);

    // A Job without labels takes its template's.
    let template_labels = spec
        .get("template")
        .and_then(|t| t.get("metadata"))
        .and_then(|m| m.get("labels"))
        .filter(|l| l.as_object().is_some_and(|l| !l.is_empty()))
        .cloned();
    if let (Some(labels), Some(meta)) = (template_labels, object(obj, "metadata")) {
        let empty = meta
            .get("labels")
            .is_none_or(|l| l.as_object().is_none_or(Map::is_empty));
        if empty {
            meta.insert("labels".into(), labels);
        }
    }
}

/// CronJob defaults. Its `jobTemplate.spec` gets only the pod-spec defaults,
/// not the Job ones: the apiserver's generated CronJob defaulter does not call
/// `SetDefaults_Job` (that runs when the controller creates each Job).
pub(super) fn cron_job(obj: &mut Map<String, Value>) {
    let Some(spec) = object(obj, "spec") else {
        return;
    };
    default(spec, "concurrencyPolicy", "Allow");
    default(spec, "suspend", false);
    default(spec, "successfulJobsHistoryLimit", 3);
    default(spec, "failedJobsHistoryLimit", 1);
    if let Some(job_spec) = existing(spec, "jobTemplate").and_then(|t| existing(t, "spec")) {
        template_spec(job_spec, PodSpecOf::JobTemplate);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply_defaults, test_alloc::Counter};
    use serde_json::{json, Value};

    fn defaulted(group: &str, kind: &str, mut obj: Value) -> Value {
        apply_defaults(group, kind, &mut obj, &mut Counter::default());
        let mut again = obj.clone();
        apply_defaults(group, kind, &mut again, &mut Counter::default());
        assert_eq!(again, obj, "defaulting {kind} twice changed it");
        obj
    }

    fn template() -> Value {
        json!({"metadata": {"labels": {"app": "a"}},
               "spec": {"containers": [{"name": "c", "image": "app:1"}]}})
    }

    /// The template as the apiserver returns it for a Deployment & co.
    fn defaulted_template(restart_policy: bool) -> Value {
        let mut t = json!({"metadata": {"labels": {"app": "a"}},
            "spec": {"containers": [{"name": "c", "image": "app:1",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File",
                "imagePullPolicy": "IfNotPresent", "resources": {}}],
                "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
                "securityContext": {}, "terminationGracePeriodSeconds": 30}});
        if restart_policy {
            t["spec"]["restartPolicy"] = json!("Always");
        }
        t
    }

    #[test]
    fn deployment() {
        let out = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {
            "selector": {"matchLabels": {"app": "a"}}, "template": template()}}),
        );
        assert_eq!(
            out["spec"].clone(),
            (json!({
                "selector": {"matchLabels": {"app": "a"}},
                "template": defaulted_template(true),
                "replicas": 1,
                "strategy": {"type": "RollingUpdate",
                             "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "revisionHistoryLimit": 10,
                "progressDeadlineSeconds": 600
            }))
        );
    }

    #[test]
    fn deployment_keeps_user_values() {
        let out = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {
            "replicas": 0, "revisionHistoryLimit": 2, "strategy": {"type": "Recreate"},
            "template": template()}}),
        );
        assert_eq!(out["spec"]["replicas"], 0);
        assert_eq!(out["spec"]["revisionHistoryLimit"], 2);
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let out = defaulted(
            "apps",
            "Deployment",
            json!({"spec": {
            "strategy": {"rollingUpdate": {"maxSurge": 1}}}}),
        );
        assert_eq!(
            out["spec"]["strategy"],
            json!({"rollingUpdate": {"maxSurge": 1, "maxUnavailable": "25%"},
                   "type": "RollingUpdate"})
        );
    }

    #[test]
    fn stateful_set() {
        let out = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {
            "serviceName": "db", "template": template(),
            "volumeClaimTemplates": [{"metadata": {"name": "data"},
                "spec": {"accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "1Gi"}}}}]}}),
        );
        assert_eq!(
            out["spec"].clone(),
            (json!({
                "serviceName": "db",
                "template": defaulted_template(true),
                "replicas": 1,
                "podManagementPolicy": "OrderedReady",
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                "revisionHistoryLimit": 10,
                "persistentVolumeClaimRetentionPolicy":
                    {"whenDeleted": "Retain", "whenScaled": "Retain"},
                "volumeClaimTemplates": [{
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": {"name": "data"},
                    "spec": {"accessModes": ["ReadWriteOnce"],
                             "resources": {"requests": {"storage": "1Gi"}},
                             "volumeMode": "Filesystem"},
                    "status": {"phase": "Pending"}}]
            }))
        );
        let out = defaulted(
            "apps",
            "StatefulSet",
            json!({"spec": {
            "updateStrategy": {"type": "OnDelete"}}}),
        );
        assert_eq!(out["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
    }

    #[test]
    fn daemon_set() {
        let out = defaulted(
            "apps",
            "DaemonSet",
            json!({"spec": {"template": template()}}),
        );
        assert_eq!(
            out["spec"].clone(),
            (json!({
                "template": defaulted_template(true),
                "updateStrategy": {"type": "RollingUpdate",
                                   "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
                "revisionHistoryLimit": 10
            }))
        );
    }

    #[test]
    fn replica_set() {
        let out = defaulted(
            "apps",
            "ReplicaSet",
            json!({"spec": {"template": template()}}),
        );
        assert_eq!(
            out["spec"],
            json!({"template": defaulted_template(true), "replicas": 1})
        );
    }

    #[test]
    fn job() {
        let mut t = template();
        t["spec"]["restartPolicy"] = json!("Never");
        let out = defaulted(
            "batch",
            "Job",
            json!({"metadata": {"name": "j"},
            "spec": {"template": t}}),
        );
        let mut want_t = defaulted_template(false);
        want_t["spec"]["restartPolicy"] = json!("Never");
        assert_eq!(
            out.clone(),
            (json!({
                "metadata": {"name": "j", "labels": {"app": "a"}},
                "spec": {"template": want_t, "completions": 1, "parallelism": 1,
                    "backoffLimit": 6, "completionMode": "NonIndexed", "suspend": false,
                    "podReplacementPolicy": "TerminatingOrFailed"}
            }))
        );
        // No restartPolicy is invented for a Job template.
        let out = defaulted("batch", "Job", json!({"spec": {"template": template()}}));
        assert!(out["spec"]["template"]["spec"]
            .get("restartPolicy")
            .is_none());
        // A work queue keeps completions unset; a failure policy changes the
        // replacement policy.
        let out = defaulted(
            "batch",
            "Job",
            json!({"spec": {"parallelism": 3,
            "podFailurePolicy": {"rules": [{"action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget"}]}]}}}),
        );
        assert!(out["spec"].get("completions").is_none());
        assert_eq!(out["spec"]["parallelism"], 3);
        assert_eq!(out["spec"]["podReplacementPolicy"], "Failed");
        assert_eq!(
            out["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
            "True"
        );
    }

    #[test]
    fn cron_job() {
        let mut t = template();
        t["spec"]["restartPolicy"] = json!("OnFailure");
        let out = defaulted(
            "batch",
            "CronJob",
            json!({"spec": {"schedule": "* * * * *",
            "jobTemplate": {"spec": {"template": t}}}}),
        );
        let mut want_t = defaulted_template(false);
        want_t["spec"]["restartPolicy"] = json!("OnFailure");
        assert_eq!(
            out["spec"].clone(),
            (json!({
                "schedule": "* * * * *",
                "jobTemplate": {"spec": {"template": want_t}},
                "concurrencyPolicy": "Allow", "suspend": false,
                "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1
            }))
        );
    }
}
