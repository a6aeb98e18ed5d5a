//! Argo CD's health rules, one test per kind, on objects shaped like live ones.

use super::*;
use serde_json::json;

fn check(obj: Value, want: Health, reason: &str) {
    let (got, why) = health(&obj);
    assert_eq!((got, why.as_str()), (want, reason), "{obj:#}");
}

fn deploy(spec: Value, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "generation": 2},
        "spec": spec, "status": status})
}

#[test]
fn deployments() {
    let rolled = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3,
        "readyReplicas": 3, "availableReplicas": 3,
        "conditions": [{"type": "Available", "status": "True"},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]});
    check(
        deploy(json!({"replicas": 3}), rolled.clone()),
        Health::Healthy,
        "3/3 ready",
    );
    check(
        deploy(json!({"replicas": 3, "paused": true}), rolled.clone()),
        Health::Suspended,
        "Deployment is paused",
    );
    let mut stale = rolled.clone();
    stale["observedGeneration"] = json!(1);
    check(deploy(json!({"replicas": 3}), stale), Health::Progressing,
        "Waiting for rollout to finish: observed deployment generation less than desired generation");
    check(
        deploy(
            json!({"replicas": 3}),
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 3, "availableReplicas": 1}),
        ),
        Health::Progressing,
        "Waiting for rollout to finish: 1 of 3 updated replicas are available...",
    );
    check(
        deploy(
            json!({"replicas": 3}),
            json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 1}),
        ),
        Health::Progressing,
        "Waiting for rollout to finish: 1 out of 3 new replicas have been updated...",
    );
    check(
        deploy(
            json!({"replicas": 3}),
            json!({"observedGeneration": 2, "replicas": 4, "updatedReplicas": 3, "availableReplicas": 3}),
        ),
        Health::Progressing,
        "Waiting for rollout to finish: 1 old replicas are pending termination...",
    );
    let mut deadline = rolled;
    deadline["conditions"][1] =
        json!({"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"});
    check(
        deploy(json!({"replicas": 3}), deadline),
        Health::Degraded,
        "Deployment \"web\" exceeded its progress deadline",
    );
    check(
        deploy(json!({"replicas": 0}), json!({"observedGeneration": 2})),
        Health::Healthy,
        "0/0 ready",
    );
}

fn sts(spec: Value, status: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "generation": 1},
        "spec": spec, "status": status})
}

#[test]
fn stateful_sets() {
    let rolling = json!({"replicas": 3, "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}}});
    check(
        sts(
            rolling.clone(),
            json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 3}),
        ),
        Health::Healthy,
        "partitioned roll out complete: 3 new pods have been updated...",
    );
    check(
        sts(
            rolling.clone(),
            json!({"observedGeneration": 1, "readyReplicas": 3, "updatedReplicas": 1}),
        ),
        Health::Progressing,
        "Waiting for partitioned roll out to finish: 1 out of 3 new pods have been updated...",
    );
    check(
        sts(
            rolling,
            json!({"observedGeneration": 1, "readyReplicas": 1}),
        ),
        Health::Progressing,
        "Waiting for 2 pods to be ready...",
    );
    check(
        sts(json!({"replicas": 1}), json!({})),
        Health::Progressing,
        "Waiting for statefulset spec update to be observed...",
    );
    let plain = json!({"replicas": 2, "updateStrategy": {"type": "RollingUpdate"}});
    check(
        sts(
            plain.clone(),
            json!({"observedGeneration": 1, "readyReplicas": 2, "currentReplicas": 2,
            "currentRevision": "db-7d", "updateRevision": "db-7d"}),
        ),
        Health::Healthy,
        "statefulset rolling update complete 2 pods at revision db-7d...",
    );
    check(
        sts(
            plain,
            json!({"observedGeneration": 1, "readyReplicas": 2, "updatedReplicas": 1,
            "currentRevision": "db-7d", "updateRevision": "db-8e"}),
        ),
        Health::Progressing,
        "waiting for statefulset rolling update to complete 1 pods at revision db-8e...",
    );
    check(
        sts(
            json!({"replicas": 2, "updateStrategy": {"type": "OnDelete"}}),
            json!({"observedGeneration": 1, "readyReplicas": 2}),
        ),
        Health::Healthy,
        "statefulset has 2 ready pods",
    );
}

#[test]
fn daemon_sets_and_replica_sets() {
    let ds = |status: Value| {
        json!({"apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "generation": 1}, "spec": {"updateStrategy": {"type": "RollingUpdate"}}, "status": status})
    };
    check(
        ds(
            json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}),
        ),
        Health::Healthy,
        "3/3 available",
    );
    check(ds(json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 2, "numberAvailable": 3})),
        Health::Progressing, "Waiting for daemon set \"agent\" rollout to finish: 2 out of 3 new pods have been updated...");
    check(
        ds(
            json!({"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 1}),
        ),
        Health::Progressing,
        "Waiting for daemon set \"agent\" rollout to finish: 1 of 3 updated pods are available...",
    );

    let rs = |status: Value| {
        json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {"name": "web-5d8f", "generation": 1}, "spec": {"replicas": 2}, "status": status})
    };
    check(
        rs(json!({"observedGeneration": 1, "availableReplicas": 2})),
        Health::Healthy,
        "2/2 ready",
    );
    check(
        rs(json!({"observedGeneration": 1, "availableReplicas": 0})),
        Health::Progressing,
        "Waiting for rollout to finish: 0 out of 2 new replicas are available...",
    );
    check(
        rs(
            json!({"observedGeneration": 1, "conditions": [{"type": "ReplicaFailure", "status": "True",
            "message": "pods \"web-5d8f-x\" is forbidden: exceeded quota"}]}),
        ),
        Health::Degraded,
        "pods \"web-5d8f-x\" is forbidden: exceeded quota",
    );
}

fn pod_with(restart: &str, status: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1"},
        "spec": {"restartPolicy": restart, "containers": [{"name": "web", "image": "nginx"}]}, "status": status})
}

#[test]
fn pods() {
    let waiting = |reason: &str| {
        json!({"phase": "Pending", "containerStatuses": [{"name": "web", "ready": false,
        "state": {"waiting": {"reason": reason, "message": "Back-off pulling image \"nginx:nope\""}}}]})
    };
    check(
        pod_with("Always", waiting("ImagePullBackOff")),
        Health::Degraded,
        "web: ImagePullBackOff: Back-off pulling image \"nginx:nope\"",
    );
    check(
        pod_with("Always", waiting("ErrImagePull")).clone(),
        Health::Degraded,
        "web: ErrImagePull: Back-off pulling image \"nginx:nope\"",
    );
    check(
        pod_with(
            "Always",
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "ready": false,
            "restartCount": 4, "state": {"waiting": {"reason": "CrashLoopBackOff"}},
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}),
        ),
        Health::Degraded,
        "web: CrashLoopBackOff",
    );
    // A hook pod waiting on its image is left to its phase.
    check(
        pod_with("Never", waiting("ImagePullBackOff")),
        Health::Progressing,
        "Pending",
    );
    check(
        pod_with(
            "Always",
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [{"name": "web", "ready": true, "state": {"running": {}}}]}),
        ),
        Health::Healthy,
        "1/1 containers ready",
    );
    check(
        pod_with(
            "Always",
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [{"name": "web", "ready": false, "state": {"running": {}}}]}),
        ),
        Health::Progressing,
        "0/1 containers ready",
    );
    check(
        pod_with(
            "Always",
            json!({"phase": "Running", "containerStatuses": [{"name": "web", "ready": false,
            "state": {"running": {}}, "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}),
        ),
        Health::Degraded,
        "0/1 containers ready",
    );
    check(
        pod_with("OnFailure", json!({"phase": "Running"})),
        Health::Progressing,
        "Running",
    );
    check(
        pod_with("Never", json!({"phase": "Succeeded"})),
        Health::Healthy,
        "Succeeded",
    );
    check(
        pod_with(
            "Never",
            json!({"phase": "Failed", "containerStatuses": [{"name": "web",
            "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]}),
        ),
        Health::Degraded,
        "container \"web\" failed with exit code 2",
    );
    check(
        pod_with(
            "Always",
            json!({"phase": "Failed", "reason": "Evicted",
            "message": "The node was low on resource: memory."}),
        ),
        Health::Degraded,
        "The node was low on resource: memory.",
    );
    check(
        pod_with("Always", json!({})),
        Health::Unknown,
        "Unknown pod phase \"\"",
    );
}

#[test]
fn services_and_ingresses() {
    let svc = |kind: &str, status: Value| {
        json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web"}, "spec": {"type": kind, "ports": [{"port": 80}]}, "status": status})
    };
    check(
        svc("ClusterIP", json!({"loadBalancer": {}})),
        Health::Healthy,
        "",
    );
    check(
        svc("LoadBalancer", json!({"loadBalancer": {}})),
        Health::Progressing,
        "Waiting for load balancer address",
    );
    check(
        svc(
            "LoadBalancer",
            json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}}),
        ),
        Health::Healthy,
        "",
    );

    let ing = |status: Value| {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web"}, "spec": {"rules": [{"host": "web.example.com"}]}, "status": status})
    };
    check(
        ing(json!({"loadBalancer": {}})),
        Health::Progressing,
        "Waiting for load balancer address",
    );
    check(
        ing(json!({"loadBalancer": {"ingress": [{"hostname": "lb.example.com"}]}})),
        Health::Healthy,
        "",
    );
}

#[test]
fn claims_jobs_cron_jobs() {
    let claim = |phase: &str| {
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}, "status": {"phase": phase}})
    };
    check(claim("Bound"), Health::Healthy, "Bound");
    check(claim("Pending"), Health::Progressing, "Pending");
    check(claim("Lost"), Health::Degraded, "Lost");

    let job = |spec: Value, status: Value| {
        json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate"}, "spec": spec, "status": status})
    };
    check(
        job(json!({}), json!({"active": 1})),
        Health::Progressing,
        "1 active",
    );
    check(
        job(json!({"suspend": true}), json!({})),
        Health::Suspended,
        "Job is suspended",
    );
    check(
        job(
            json!({}),
            json!({"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}),
        ),
        Health::Healthy,
        "Job completed",
    );
    check(
        job(
            json!({}),
            json!({"failed": 6, "conditions": [{"type": "Failed", "status": "True",
            "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]}),
        ),
        Health::Degraded,
        "Job has reached the specified backoff limit",
    );

    let cron = |suspend: bool| {
        json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
        "spec": {"schedule": "0 3 * * *", "suspend": suspend}, "status": {"lastScheduleTime": "2024-05-01T03:00:00Z"}})
    };
    check(cron(true), Health::Suspended, "CronJob is suspended");
    check(
        cron(false),
        Health::Healthy,
        "Last scheduled at 2024-05-01T03:00:00Z",
    );
}

#[test]
fn other_kinds_deletion_and_apps() {
    check(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
        Health::Healthy,
        "",
    );
    // Same kind name in another group: no rule, healthy once it exists.
    check(
        json!({"apiVersion": "example.com/v1", "kind": "Deployment", "spec": {"paused": true}}),
        Health::Healthy,
        "",
    );
    check(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"deletionTimestamp": "2024-05-01T00:00:00Z"}}),
        Health::Progressing,
        "Pending deletion",
    );
    assert_eq!(app_health([]), Health::Healthy);
    assert_eq!(
        app_health([Health::Healthy, Health::Suspended]),
        Health::Suspended
    );
    assert_eq!(
        app_health([Health::Missing, Health::Progressing, Health::Healthy]),
        Health::Missing
    );
    assert_eq!(
        app_health([Health::Unknown, Health::Degraded]),
        Health::Degraded
    );
}
