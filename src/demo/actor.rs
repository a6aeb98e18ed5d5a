//! A small background actor for the demo: every few seconds it changes
//! something live, so the watches visibly move, without changing which app is
//! in which state (nothing it touches is drift: an annotation Git does not
//! set, and a storefront pod that its ReplicaSet replaces).

use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use std::time::Duration;

pub async fn run(client: kube::Client, every: Duration) {
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "storefront");
    let pods: Api<Pod> = Api::namespaced(client, "storefront");
    let params = PatchParams {
        field_manager: Some("demo-actor".into()),
        ..Default::default()
    };
    let mut tick = 0u64;
    loop {
        tokio::time::sleep(every).await;
        tick += 1;
        // Failures are fine: the user may have changed or deleted the objects.
        let annotation = json!({"metadata": {"annotations": {"demo.gitops-tui.dev/heartbeat": tick.to_string()}}});
        let _ = maps
            .patch("storefront-settings", &params, &Patch::Merge(&annotation))
            .await;
        if tick.is_multiple_of(2) {
            if let Ok(list) = pods.list(&ListParams::default()).await {
                if let Some(name) = list.items.first().and_then(|p| p.metadata.name.clone()) {
                    let _ = pods.delete(&name, &DeleteParams::default()).await;
                }
            }
        }
    }
}
