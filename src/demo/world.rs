//! Putting the demo's apps into the five states the tour shows (see
//! `assets/demo/README.md`), through the same engine the user drives.

use crate::config::Config;
use crate::engine::{Engine, SyncOptions};
use crate::model::{AppId, AppStatus};
use crate::model::{Health, SyncStatus};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::collections::HashMap;
use std::time::Duration;

pub const CONFIG: &str = include_str!("../../assets/demo/config.toml");

#[derive(Debug, thiserror::Error)]
#[error("demo: {0}")]
pub struct WorldError(pub String);

fn err(e: impl std::fmt::Display) -> WorldError {
    WorldError(e.to_string())
}

/// Sync, suspend and edit until every app is in its state.
pub async fn build(
    engine: &Engine,
    client: &kube::Client,
    ids: &HashMap<String, String>,
) -> Result<(), WorldError> {
    let id = |name: &str| {
        ids.get(name)
            .cloned()
            .ok_or_else(|| WorldError(format!("history has no commit {name:?}")))
    };
    let sync = |app: &'static str, revision: Option<String>| async move {
        let report = engine
            .sync(
                &AppId::native(app),
                &SyncOptions {
                    revision,
                    ..Default::default()
                },
            )
            .await
            .map_err(err)?;
        if report.succeeded {
            Ok(())
        } else {
            Err(WorldError(format!("{app}: {}", report.message)))
        }
    };
    sync("storefront", None).await?;
    sync("payments", Some(id("payments-deployed")?)).await?;
    engine
        .suspend_with_reason(
            &AppId::native("payments"),
            "holding 1.8 until the card-processor migration is signed off",
        )
        .await
        .map_err(err)?;
    sync("catalog", None).await?;
    sync("checkout", None).await?;
    sync("search", Some(id("search-with-synonyms")?)).await?;
    sync("search", None).await?;
    live_edit(client).await
}

/// What someone with kubectl did to catalog: scaled it and edited a flag.
pub async fn live_edit(client: &kube::Client) -> Result<(), WorldError> {
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "catalog");
    let scale = json!({"spec": {"replicas": 4}});
    deployments
        .patch_scale(
            "catalog",
            &PatchParams {
                field_manager: Some("kubectl-scale".into()),
                ..Default::default()
            },
            &Patch::Merge(&scale),
        )
        .await
        .map_err(err)?;
    let maps: Api<ConfigMap> = Api::namespaced(client.clone(), "catalog");
    let edit = json!({"data": {"new-search-ranking": "off"}});
    maps.patch(
        "catalog-flags",
        &PatchParams {
            field_manager: Some("kubectl-edit".into()),
            ..Default::default()
        },
        &Patch::Merge(&edit),
    )
    .await
    .map_err(err)?;
    Ok(())
}

/// Whether `status` shows the state the tour expects of its app.
pub fn in_state(status: &AppStatus) -> bool {
    match status.name.name.as_str() {
        "storefront" => status.sync == SyncStatus::Synced && status.health == Health::Healthy,
        "payments" => {
            status.sync == SyncStatus::OutOfSync
                && status.suspended
                && status
                    .suspension
                    .as_ref()
                    .is_some_and(|s| !s.reason.is_empty())
        }
        "catalog" => status.counts.out_of_sync > 0,
        "checkout" => status.health == Health::Degraded,
        "search" => status.counts.extra > 0,
        _ => true,
    }
}

/// Wait until every app is in its state (checkout needs its progress deadline to pass).
pub async fn settle(engine: &Engine, timeout: Duration) -> Result<(), WorldError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let mut pending = Vec::new();
        for app in engine.apps() {
            match engine.status(&app).await {
                Ok(s) if in_state(&s) => {}
                Ok(s) => pending.push(format!("{} ({} {})", s.name, s.sync, s.health)),
                Err(e) => pending.push(format!("{app}: {e}")),
            }
        }
        if pending.is_empty() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(WorldError(format!(
                "states did not settle: {}",
                pending.join(", ")
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

pub fn config(base_dir: &std::path::Path) -> Result<Config, WorldError> {
    let mut config =
        Config::parse(CONFIG, std::path::Path::new("assets/demo/config.toml")).map_err(err)?;
    config.base_dir = base_dir.to_path_buf();
    Ok(config)
}
