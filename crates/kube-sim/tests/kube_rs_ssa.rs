//! Server-side apply through kube-rs: ownership, conflicts, force, shared
//! fields, no-op applies, dry-run and the scale subresource.

mod common;

use common::kube_rs::{api_status, cm, deployment, start};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ManagedFieldsEntry;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams};
use kube::ResourceExt;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

fn entry<'a>(entries: &'a [ManagedFieldsEntry], manager: &str) -> Option<&'a ManagedFieldsEntry> {
    entries
        .iter()
        .find(|e| e.manager.as_deref() == Some(manager))
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_creates_and_records_ownership() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let applied = cms
        .patch(
            "a",
            &PatchParams::apply("a"),
            &Patch::Apply(cm("a", json!({"x": "1"}))),
        )
        .await
        .expect("apply creates");
    let entries = applied.metadata.managed_fields.clone().unwrap_or_default();
    assert_eq!(entries.len(), 1);
    let e = entry(&entries, "a").expect("manager a");
    assert_eq!(e.operation.as_deref(), Some("Apply"));
    assert_eq!(e.api_version.as_deref(), Some("v1"));
    assert_eq!(e.fields_type.as_deref(), Some("FieldsV1"));
    assert_eq!(
        e.fields_v1.as_ref().map(|f| f.0.clone()),
        Some(json!({"f:data": {"f:x": {}}}))
    );
    // A ConfigMap has no generation on a real apiserver (only kinds with a spec do).
    assert_eq!(applied.metadata.generation, None);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn conflicts_name_the_field_and_force_takes_it() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    cms.patch(
        "a",
        &PatchParams::apply("a"),
        &Patch::Apply(cm("a", json!({"x": "1", "y": "1"}))),
    )
    .await
    .expect("a applies");
    // The same value is shared, not a conflict.
    cms.patch(
        "a",
        &PatchParams::apply("b"),
        &Patch::Apply(cm("a", json!({"y": "1"}))),
    )
    .await
    .expect("b shares y");

    let conflict = api_status(
        cms.patch(
            "a",
            &PatchParams::apply("b"),
            &Patch::Apply(cm("a", json!({"x": "2"}))),
        )
        .await,
    );
    assert_eq!((conflict.code, conflict.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        conflict.message,
        "Apply failed with 1 conflict: conflict with \"a\": .data.x"
    );
    let causes = conflict.details.expect("details").causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert_eq!(causes[0].field, ".data.x");
    assert_eq!(
        cms.get("a")
            .await
            .expect("get")
            .data
            .and_then(|d| d.get("x").cloned()),
        Some("1".into()),
        "a conflict changes nothing"
    );

    let forced = cms
        .patch(
            "a",
            &PatchParams::apply("b").force(),
            &Patch::Apply(cm("a", json!({"x": "2"}))),
        )
        .await
        .expect("force");
    assert_eq!(
        forced
            .data
            .as_ref()
            .and_then(|d| d.get("x"))
            .map(String::as_str),
        Some("2")
    );
    let entries = forced.metadata.managed_fields.unwrap_or_default();
    let a = entry(&entries, "a")
        .and_then(|e| e.fields_v1.clone())
        .expect("a");
    let b = entry(&entries, "b")
        .and_then(|e| e.fields_v1.clone())
        .expect("b");
    assert_eq!(a.0, json!({"f:data": {"f:y": {}}}), "a lost .data.x");
    assert_eq!(
        b.0,
        json!({"f:data": {"f:x": {}}}),
        "b dropped y from its config and took x"
    );
    // y was dropped by b but a still owns it: it stays.
    assert_eq!(
        forced
            .data
            .as_ref()
            .and_then(|d| d.get("y"))
            .map(String::as_str),
        Some("1")
    );

    // A conflict with an Update manager says "using v1".
    cms.patch(
        "a",
        &PatchParams {
            field_manager: Some("editor".into()),
            ..PatchParams::default()
        },
        &Patch::Merge(json!({"data": {"z": "1"}})),
    )
    .await
    .expect("merge patch");
    let conflict = api_status(
        cms.patch(
            "a",
            &PatchParams::apply("b"),
            &Patch::Apply(cm("a", json!({"x": "2", "z": "2"}))),
        )
        .await,
    );
    assert_eq!(
        conflict.message,
        "Apply failed with 1 conflict: conflict with \"editor\" using v1: .data.z"
    );
    sim.stop().await;
}

fn web(env: Value) -> Value {
    let mut d = deployment("web", "nginx:1.25");
    d["spec"]["template"]["spec"]["containers"][0]["env"] = env;
    d
}

fn web_without_env() -> Value {
    deployment("web", "nginx:1.25")
}

fn env_of(d: &Deployment) -> BTreeSet<(String, String)> {
    d.spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|p| p.containers[0].env.clone().unwrap_or_default())
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.name, e.value.unwrap_or_default()))
        .collect()
}

fn set(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// Checklist item 28: two managers owning different `env` entries of one
/// container; a dropped entry goes only when nobody else owns it.
#[tokio::test(flavor = "multi_thread")]
async fn two_managers_own_env_entries_of_one_container() {
    let (sim, client) = start().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let apply = |manager: &'static str, config: Value| {
        let deploys = deploys.clone();
        async move {
            deploys
                .patch("web", &PatchParams::apply(manager), &Patch::Apply(config))
                .await
                .unwrap_or_else(|e| panic!("{manager} applies: {e}"))
        }
    };
    apply(
        "a",
        web(json!([{"name": "A", "value": "1"}, {"name": "S", "value": "s"}])),
    )
    .await;
    let d = apply(
        "b",
        web(json!([{"name": "B", "value": "2"}, {"name": "S", "value": "s"}])),
    )
    .await;
    assert_eq!(env_of(&d), set(&[("A", "1"), ("B", "2"), ("S", "s")]));
    let generation = d.metadata.generation;

    // a drops A: only A goes.
    let d = apply("a", web(json!([{"name": "S", "value": "s"}]))).await;
    assert_eq!(env_of(&d), set(&[("B", "2"), ("S", "s")]));
    assert!(d.metadata.generation > generation);

    // a drops S too: b still owns it, so it stays.
    let d = apply("a", web_without_env()).await;
    assert_eq!(env_of(&d), set(&[("B", "2"), ("S", "s")]));

    // b drops S: now nobody owns it, it goes; B stays.
    let d = apply("b", web(json!([{"name": "B", "value": "2"}]))).await;
    assert_eq!(env_of(&d), set(&[("B", "2")]));

    // The image both share survives b dropping the container from its config.
    let mut no_containers = web_without_env();
    no_containers["spec"]["template"]["spec"]["containers"] = json!([]);
    let d = apply("b", no_containers).await;
    let containers = &d
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .expect("pod spec")
        .containers;
    assert_eq!(containers.len(), 1, "a still owns the container");
    assert_eq!(containers[0].image.as_deref(), Some("nginx:1.25"));
    assert!(env_of(&d).is_empty(), "B was only b's");
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_no_op_apply_keeps_the_version_and_sends_no_event() {
    let (sim, client) = start().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("gitops");
    deploys
        .patch("web", &pp, &Patch::Apply(web_without_env()))
        .await
        .expect("apply");
    // Let the simulated controller finish writing status first.
    common::kube_rs::eventually(Duration::from_secs(5), "deployment ready", || async {
        let d = deploys.get("web").await.expect("get");
        d.status.and_then(|s| s.available_replicas) == Some(1)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let first = deploys.get("web").await.expect("get");
    let rv = first.resource_version().expect("rv");
    let mut events = deploys
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    let same = deploys
        .patch("web", &pp, &Patch::Apply(web_without_env()))
        .await
        .expect("no-op apply");
    assert_eq!(same.resource_version().as_deref(), Some(rv.as_str()));
    assert_eq!(
        same.metadata.managed_fields, first.metadata.managed_fields,
        "not even a new timestamp"
    );
    // A merge patch to the same values is a no-op too.
    let same = deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 1}})),
        )
        .await
        .expect("no-op patch");
    assert_eq!(same.resource_version().as_deref(), Some(rv.as_str()));

    // Two quick changes: two MODIFIED events with distinct versions, nothing before them.
    let mut changed = web_without_env();
    changed["spec"]["replicas"] = json!(2);
    let c1 = deploys
        .patch("web", &pp, &Patch::Apply(changed.clone()))
        .await
        .expect("apply");
    changed["spec"]["replicas"] = json!(3);
    let c2 = deploys
        .patch("web", &pp, &Patch::Apply(changed))
        .await
        .expect("apply");
    let mut versions = Vec::new();
    let mut last_generation = first.metadata.generation;
    while versions.len() < 2 {
        let event = tokio::time::timeout(Duration::from_secs(5), events.try_next())
            .await
            .expect("an event in time")
            .expect("watch ok")
            .expect("stream open");
        match event {
            WatchEvent::Modified(d) => {
                // The simulated controller may write status in between; only
                // spec changes come from us.
                if d.metadata.generation > last_generation {
                    last_generation = d.metadata.generation;
                    versions.push(d.resource_version().unwrap_or_default());
                }
            }
            WatchEvent::Bookmark(_) => {}
            other => panic!("unexpected event {other:?}"),
        }
    }
    assert_eq!(
        versions,
        vec![
            c1.resource_version().unwrap_or_default(),
            c2.resource_version().unwrap_or_default()
        ]
    );
    assert_ne!(versions[0], versions[1]);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_no_op_apply_of_a_configmap_sends_no_event() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client, "default");
    let pp = PatchParams::apply("gitops");
    let first = cms
        .patch("a", &pp, &Patch::Apply(cm("a", json!({"k": "v"}))))
        .await
        .expect("apply");
    let rv = first.resource_version().expect("rv");
    let mut events = cms
        .watch(&WatchParams::default(), &rv)
        .await
        .expect("watch")
        .boxed();
    let before = sim.resource_version();
    for _ in 0..3 {
        let same = cms
            .patch("a", &pp, &Patch::Apply(cm("a", json!({"k": "v"}))))
            .await
            .expect("no-op apply");
        assert_eq!(same.resource_version().as_deref(), Some(rv.as_str()));
    }
    assert_eq!(sim.resource_version(), before);
    cms.patch("a", &pp, &Patch::Apply(cm("a", json!({"k": "w"}))))
        .await
        .expect("change");
    let event = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("ok");
    match event {
        WatchEvent::Modified(c) => assert_eq!(
            c.data.and_then(|d| d.get("k").cloned()).as_deref(),
            Some("w"),
            "the first event is the real change"
        ),
        other => panic!("unexpected {other:?}"),
    }
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_persists_nothing() {
    let (sim, client) = start().await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let live = cms
        .patch(
            "a",
            &PatchParams::apply("a"),
            &Patch::Apply(cm("a", json!({"k": "v"}))),
        )
        .await
        .expect("apply");
    let rv_before = sim.resource_version();

    let dry = cms
        .patch(
            "a",
            &PatchParams::apply("a").dry_run(),
            &Patch::Apply(cm("a", json!({"k": "changed", "new": "1"}))),
        )
        .await
        .expect("dry-run apply");
    assert_eq!(
        dry.data.as_ref().map(|d| d.len()),
        Some(2),
        "the response shows the result"
    );
    assert_eq!(
        dry.resource_version(),
        live.resource_version(),
        "keeps the live version"
    );

    // Conflicts are still checked in a dry run.
    let conflict = api_status(
        cms.patch(
            "a",
            &PatchParams::apply("other").dry_run(),
            &Patch::Apply(cm("a", json!({"k": "x"}))),
        )
        .await,
    );
    assert_eq!(conflict.code, 409);

    let created = cms
        .create(
            &PostParams {
                dry_run: true,
                field_manager: None,
            },
            &serde_json::from_value(cm("new", json!({}))).expect("cm"),
        )
        .await
        .expect("dry-run create");
    assert_eq!(created.metadata.name.as_deref(), Some("new"));
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    let d = deploys
        .patch(
            "web",
            &PatchParams::apply("a").dry_run(),
            &Patch::Apply(web_without_env()),
        )
        .await
        .expect("dry-run apply create");
    assert_eq!(
        d.spec.as_ref().and_then(|s| s.replicas),
        Some(1),
        "defaulting runs in a dry run"
    );
    let deleted = cms
        .delete(
            "a",
            &DeleteParams {
                dry_run: true,
                ..DeleteParams::default()
            },
        )
        .await
        .expect("dry-run delete");
    assert!(deleted.is_left() || deleted.is_right());

    assert_eq!(sim.resource_version(), rv_before, "nothing was written");
    assert!(cms.get_opt("new").await.expect("get").is_none());
    assert!(deploys.get_opt("web").await.expect("get").is_none());
    let still = cms.get("a").await.expect("still there");
    assert_eq!(still.data, live.data);
    assert_eq!(still.metadata.managed_fields, live.metadata.managed_fields);
    sim.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn scale_writes_are_updates_on_the_scale_subresource() {
    let (sim, client) = start().await;
    let deploys: Api<Deployment> = Api::namespaced(client, "default");
    deploys
        .patch(
            "web",
            &PatchParams::apply("gitops"),
            &Patch::Apply(web_without_env()),
        )
        .await
        .expect("apply");
    let scale = deploys.get_scale("web").await.expect("get scale");
    assert_eq!(scale.spec.as_ref().and_then(|s| s.replicas), Some(1));
    let scaled = deploys
        .patch_scale(
            "web",
            &PatchParams {
                field_manager: Some("kubectl-scale".into()),
                ..PatchParams::default()
            },
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .expect("scale");
    assert_eq!(scaled.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let d = deploys.get("web").await.expect("get");
    assert_eq!(d.spec.as_ref().and_then(|s| s.replicas), Some(3));
    let entries = d.metadata.managed_fields.clone().unwrap_or_default();
    let e = entry(&entries, "kubectl-scale").expect("an entry for the scaler");
    assert_eq!(e.operation.as_deref(), Some("Update"));
    assert_eq!(e.subresource.as_deref(), Some("scale"));
    assert_eq!(
        e.api_version.as_deref(),
        Some("apps/v1"),
        "recorded at the parent's version"
    );
    assert_eq!(
        e.fields_v1.as_ref().map(|f| f.0.clone()),
        Some(json!({"f:spec": {"f:replicas": {}}}))
    );
    // The applier lost replicas to the scaler.
    let applier = entry(&entries, "gitops")
        .and_then(|e| e.fields_v1.clone())
        .expect("gitops");
    assert!(
        applier.0.pointer("/f:spec/f:replicas").is_none(),
        "{:?}",
        applier.0
    );

    // Re-applying with replicas set conflicts with the scaler.
    let mut with_replicas = web_without_env();
    with_replicas["spec"]["replicas"] = json!(1);
    let conflict = api_status(
        deploys
            .patch(
                "web",
                &PatchParams::apply("gitops"),
                &Patch::Apply(with_replicas),
            )
            .await,
    );
    assert_eq!(conflict.code, 409);
    assert!(
        conflict.message.contains("conflict with \"kubectl-scale\""),
        "{}",
        conflict.message
    );
    assert!(
        conflict.message.contains(".spec.replicas"),
        "{}",
        conflict.message
    );
    sim.stop().await;
}
