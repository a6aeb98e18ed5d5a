//! The simulated controllers record core/v1 Events as the real ones do, once
//! per transition, and clients find them with the `involvedObject` field
//! selector.

mod common;

use common::kube_rs::{deployment, eventually, start};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, PostParams};
use std::time::Duration;

async fn events_of(api: &Api<Event>, kind: &str, name: &str) -> Vec<Event> {
    let fields = format!("involvedObject.kind={kind},involvedObject.name={name}");
    api.list(&ListParams::default().fields(&fields))
        .await
        .map(|l| l.items)
        .unwrap_or_default()
}

fn reasons(events: &[Event]) -> Vec<String> {
    let mut r: Vec<String> = events.iter().filter_map(|e| e.reason.clone()).collect();
    r.sort();
    r
}

#[tokio::test(flavor = "multi_thread")]
async fn controllers_record_events_once_per_transition() {
    let (_sim, client) = start().await;
    let deploys: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    let mut web = deployment("web", "nginx:1.27");
    web["spec"]["replicas"] = serde_json::json!(2);
    deploys
        .create(
            &PostParams::default(),
            &serde_json::from_value(web).expect("deployment"),
        )
        .await
        .expect("create");

    eventually(Duration::from_secs(10), "pods started", || async {
        let list = pods.list(&ListParams::default()).await.expect("pods");
        let mut all = true;
        for p in &list.items {
            let name = p.metadata.name.clone().unwrap_or_default();
            all &= reasons(&events_of(&events, "Pod", &name).await).contains(&"Started".into());
        }
        all && list.items.len() == 2
    })
    .await;
    // Several more reconciles happen; nothing new may be recorded.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let on_deploy = events_of(&events, "Deployment", "web").await;
    assert_eq!(on_deploy.len(), 1, "{on_deploy:?}");
    let scaled = &on_deploy[0];
    assert_eq!(scaled.reason.as_deref(), Some("ScalingReplicaSet"));
    assert_eq!(scaled.type_.as_deref(), Some("Normal"));
    assert_eq!(scaled.count, Some(1));
    assert_eq!(
        scaled.source.as_ref().and_then(|s| s.component.as_deref()),
        Some("deployment-controller")
    );
    assert_eq!(
        scaled.reporting_component.as_deref(),
        Some("deployment-controller")
    );
    assert!(scaled.last_timestamp.is_some() && scaled.first_timestamp.is_some());
    let message = scaled.message.clone().unwrap_or_default();
    assert!(
        message.starts_with("Scaled up replica set web-") && message.ends_with(" to 2"),
        "{message}"
    );
    let involved = &scaled.involved_object;
    assert_eq!(involved.kind.as_deref(), Some("Deployment"));
    assert_eq!(involved.api_version.as_deref(), Some("apps/v1"));
    assert!(involved.uid.is_some() && involved.resource_version.is_some());
    let event_name = scaled.metadata.name.clone().unwrap_or_default();
    let suffix = event_name.strip_prefix("web.").unwrap_or("");
    assert!(
        suffix.len() == 16 && suffix.chars().all(|c| c.is_ascii_hexdigit()),
        "{event_name}"
    );

    let rs_name = message
        .trim_start_matches("Scaled up replica set ")
        .trim_end_matches(" to 2")
        .to_string();
    let on_rs = events_of(&events, "ReplicaSet", &rs_name).await;
    assert_eq!(
        reasons(&on_rs),
        ["SuccessfulCreate", "SuccessfulCreate"],
        "{on_rs:?}"
    );
    assert!(on_rs.iter().all(|e| e
        .message
        .as_deref()
        .unwrap_or("")
        .starts_with("Created pod: web-")));

    for p in pods.list(&ListParams::default()).await.expect("pods").items {
        let name = p.metadata.name.unwrap_or_default();
        let on_pod = events_of(&events, "Pod", &name).await;
        assert_eq!(
            reasons(&on_pod),
            ["Created", "Pulled", "Pulling", "Scheduled", "Started"],
            "{on_pod:?}"
        );
        assert!(on_pod.iter().all(|e| e.count == Some(1)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_image_crash_loops_with_back_off_warnings() {
    let (_sim, client) = start().await;
    let deploys: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(client.clone(), "default");
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client, "default");
    deploys
        .create(
            &PostParams::default(),
            &serde_json::from_value(deployment("bad", "registry.local/bad:broken"))
                .expect("deployment"),
        )
        .await
        .expect("create");
    let first_pod = || async {
        pods.list(&ListParams::default())
            .await
            .ok()
            .and_then(|l| l.items.into_iter().next())
            .and_then(|p| p.metadata.name)
            .unwrap_or_default()
    };
    eventually(Duration::from_secs(10), "a BackOff warning", || async {
        let name = first_pod().await;
        reasons(&events_of(&events, "Pod", &name).await).contains(&"BackOff".into())
    })
    .await;
    let pod_name = first_pod().await;
    let on_pod = events_of(&events, "Pod", &pod_name).await;
    assert_eq!(
        reasons(&on_pod),
        [
            "BackOff",
            "Created",
            "Pulled",
            "Pulling",
            "Scheduled",
            "Started"
        ],
        "{on_pod:?}"
    );
    let back_off = on_pod
        .iter()
        .find(|e| e.reason.as_deref() == Some("BackOff"))
        .expect("BackOff");
    assert_eq!(back_off.type_.as_deref(), Some("Warning"));
    let message = back_off.message.clone().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "Back-off restarting failed container main in pod {pod_name}_default("
        )),
        "{message}"
    );
    // Each crash bumps the one Event rather than adding another.
    eventually(Duration::from_secs(10), "a second crash", || async {
        events_of(&events, "Pod", &pod_name)
            .await
            .iter()
            .any(|e| e.reason.as_deref() == Some("BackOff") && e.count >= Some(2))
    })
    .await;
    let pod = pods.get(&pod_name).await.expect("pod");
    let status = pod.status.expect("status");
    let c = &status.container_statuses.expect("statuses")[0];
    assert!(c.restart_count >= 2, "{c:?}");
    assert_eq!(
        c.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref()),
        Some("CrashLoopBackOff")
    );
    let last = c
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .expect("lastState.terminated");
    assert_eq!((last.exit_code, last.reason.as_deref()), (1, Some("Error")));
    assert_eq!(status.phase.as_deref(), Some("Running"));
}
