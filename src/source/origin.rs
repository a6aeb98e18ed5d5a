//! Where a Flux or Argo CD app's manifests live in Git, read from the
//! controller's own objects: the repository, the ref, the path, the revision
//! the controller applied, and how it fills in namespaces and labels. With
//! it the engine computes a managed app's drift and lists its path's commits
//! exactly as for a native app; without it (a Helm chart, an OCI artifact, a
//! transformation gitops-tui does not reproduce) it says why, so the diff
//! pane never claims "no drift" it did not look for.
//!
//! Pure: JSON in, an [`Origin`] out.

use super::controllers::ControllerKind;
use super::flux;
use crate::model::Revision;
use serde_json::Value;

/// Flux's owner labels, set by kustomize-controller on everything it applies.
pub const FLUX_NAME_LABEL: &str = "kustomize.toolkit.fluxcd.io/name";
pub const FLUX_NAMESPACE_LABEL: &str = "kustomize.toolkit.fluxcd.io/namespace";

/// How the controller fills in a namespaced object's namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Namespacing {
    /// Every namespaced object goes here, whatever Git says (Flux
    /// `spec.targetNamespace`).
    Force(String),
    /// Objects naming none go here (Argo CD `spec.destination.namespace`).
    Default(String),
    /// Objects naming none are refused (Flux without a target namespace:
    /// kustomize-controller fails with "namespace not specified").
    Required,
}

/// An app whose manifests gitops-tui can read from Git.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOrigin {
    /// As the controller's object spells it (`file://`, `https://`, `ssh://`).
    pub url: String,
    /// Branch, tag or commit the controller follows (None: the default branch).
    pub git_ref: Option<String>,
    /// Repository-relative folder, without `./` ("" for the root).
    pub path: String,
    /// The commit drift is computed at: what the controller compares live
    /// with (Flux `lastAppliedRevision`, Argo CD `status.sync.revision`).
    pub compared: Option<Revision>,
    /// The commit the controller last deployed (Flux `lastAppliedRevision`,
    /// Argo CD's last `status.history` entry): marked D in the commit log.
    pub deployed: Option<Revision>,
    /// The ref whose commits are listed: `git_ref`, or while gitops-tui's
    /// rollback pins a Flux source, the ref the pin remembered.
    pub listing_ref: Option<String>,
    pub namespacing: Namespacing,
    /// Labels and annotations the controller adds to every object.
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    /// Only the top folder's files are manifests (Argo CD without
    /// `directory.recurse`); kustomize folders are read whole anyway.
    pub top_folder_only: bool,
}

/// Where a managed app's manifests are, or why gitops-tui cannot read them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Git(Box<GitOrigin>),
    /// Drift is not computed; the reason, as the diff pane and `diff` say it.
    Unreadable(String),
}

fn text<'a>(o: &'a Value, pointer: &str) -> Option<&'a str> {
    o.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `./apps/web/` → `apps/web`; `./` → "".
fn clean_path(p: &str) -> String {
    let p = p.trim();
    let p = p.strip_prefix("./").unwrap_or(p);
    let p = p.trim_start_matches('/').trim_end_matches('/');
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// The origin of a controller object (`source`: a Flux app's source object
/// when it could be read).
pub fn origin(kind: ControllerKind, object: &Value, source: Option<&Value>) -> Origin {
    match kind {
        ControllerKind::FluxKustomization => flux_origin(object, source),
        ControllerKind::FluxHelmRelease => Origin::Unreadable(
            "a HelmRelease is rendered from its chart by helm-controller; gitops-tui does not render it, so its drift is not computed (the resources are the controller's own list)".into(),
        ),
        ControllerKind::ArgoApplication => argo_origin(object),
        ControllerKind::FluxGitRepository | ControllerKind::FluxOciRepository => {
            Origin::Unreadable("a Flux source is not an app".into())
        }
    }
}

/// Kustomization fields kustomize-controller applies on top of the path's
/// manifests that gitops-tui does not reproduce: with any of them set, a
/// comparison would show the controller's own changes as drift.
const FLUX_TRANSFORMS: [(&str, &str); 6] = [
    ("/spec/patches", "spec.patches"),
    ("/spec/images", "spec.images"),
    ("/spec/postBuild", "spec.postBuild (variable substitution)"),
    ("/spec/components", "spec.components"),
    ("/spec/namePrefix", "spec.namePrefix"),
    ("/spec/nameSuffix", "spec.nameSuffix"),
];

fn flux_origin(ks: &Value, source: Option<&Value>) -> Origin {
    let Some((kind, namespace, name)) = flux::source_ref(ks) else {
        return Origin::Unreadable("its spec.sourceRef names no GitRepository".into());
    };
    if kind == ControllerKind::FluxOciRepository {
        return Origin::Unreadable(format!(
            "its source is an OCI artifact (OCIRepository {namespace}/{name}); gitops-tui reads manifests from Git only"
        ));
    }
    let Some(source) = source else {
        return Origin::Unreadable(format!(
            "its source GitRepository {namespace}/{name} cannot be read"
        ));
    };
    let Some(url) = text(source, "/spec/url") else {
        return Origin::Unreadable(format!(
            "its source GitRepository {namespace}/{name} has no spec.url"
        ));
    };
    let set: Vec<&str> = FLUX_TRANSFORMS
        .iter()
        .filter(|(p, _)| ks.pointer(p).is_some_and(|v| !v.is_null()))
        .map(|(_, what)| *what)
        .collect();
    if !set.is_empty() {
        return Origin::Unreadable(format!(
            "kustomize-controller applies {} on top of the path's manifests, which gitops-tui does not reproduce; a comparison would show them as drift",
            set.join(", ")
        ));
    }
    // spec.ref as source-controller checks it out: commit, then name, then
    // semver, then tag, then branch (a pin is a commit).
    let commit_or_name =
        text(source, "/spec/ref/commit").or_else(|| text(source, "/spec/ref/name"));
    if let (None, Some(semver)) = (commit_or_name, text(source, "/spec/ref/semver")) {
        return Origin::Unreadable(format!(
            "its GitRepository follows the semver range {semver:?}, which gitops-tui does not resolve"
        ));
    }
    let git_ref = commit_or_name
        .or_else(|| text(source, "/spec/ref/tag"))
        .or_else(|| text(source, "/spec/ref/branch"))
        .map(str::to_string);
    let applied = text(ks, "/status/lastAppliedRevision").and_then(flux::commit_of);
    // While pinned by a rollback, the branch (or tag) it followed before.
    let listing_ref = match flux::remembered_ref(source) {
        Some(r) => ["/name", "/tag", "/branch"]
            .iter()
            .find_map(|p| text(&r, p))
            .map(str::to_string),
        None => git_ref.clone(),
    };
    let own_name = text(ks, "/metadata/name").unwrap_or("");
    let own_namespace = text(ks, "/metadata/namespace").unwrap_or("");
    let namespacing = match text(ks, "/spec/targetNamespace") {
        Some(t) => Namespacing::Force(t.to_string()),
        None => Namespacing::Required,
    };
    let pairs = |p: &str| -> Vec<(String, String)> {
        ks.pointer(p)
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut labels = pairs("/spec/commonMetadata/labels");
    labels.push((FLUX_NAME_LABEL.into(), own_name.into()));
    labels.push((FLUX_NAMESPACE_LABEL.into(), own_namespace.into()));
    Origin::Git(Box::new(GitOrigin {
        url: url.to_string(),
        git_ref,
        path: clean_path(text(ks, "/spec/path").unwrap_or("")),
        compared: applied.clone(),
        deployed: applied,
        listing_ref,
        namespacing,
        labels,
        annotations: pairs("/spec/commonMetadata/annotations"),
        top_folder_only: false,
    }))
}

/// Application source fields that make Argo CD render differently from a
/// plain folder or a kustomization as it stands in Git.
const ARGO_RENDERING: [(&str, &str); 4] = [
    ("/spec/source/helm", "Helm parameters (spec.source.helm)"),
    (
        "/spec/source/kustomize",
        "kustomize options (spec.source.kustomize)",
    ),
    ("/spec/source/plugin", "a config management plugin"),
    (
        "/spec/source/directory/jsonnet",
        "Jsonnet options (spec.source.directory.jsonnet)",
    ),
];

fn argo_origin(app: &Value) -> Origin {
    if app
        .pointer("/spec/sources")
        .and_then(Value::as_array)
        .is_some_and(|s| !s.is_empty())
    {
        return Origin::Unreadable(
            "it has several sources (spec.sources), which gitops-tui does not combine".into(),
        );
    }
    let Some(url) = text(app, "/spec/source/repoURL") else {
        return Origin::Unreadable("it has no spec.source.repoURL".into());
    };
    if let Some(chart) = text(app, "/spec/source/chart") {
        return Origin::Unreadable(format!(
            "its source is the Helm chart {chart:?} of the repository {url}, which gitops-tui does not render"
        ));
    }
    if let Some((_, what)) = ARGO_RENDERING
        .iter()
        .find(|(p, _)| app.pointer(p).is_some_and(|v| !v.is_null()))
    {
        return Origin::Unreadable(format!(
            "Argo CD renders it with {what}, which gitops-tui does not reproduce"
        ));
    }
    let directory = app.pointer("/spec/source/directory");
    let has = |k: &str| {
        directory
            .and_then(|d| d.get(k))
            .is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()))
    };
    if has("include") || has("exclude") {
        return Origin::Unreadable(
            "its spec.source.directory include/exclude patterns are not reproduced by gitops-tui"
                .into(),
        );
    }
    let recurse = directory
        .and_then(|d| d.get("recurse"))
        .and_then(Value::as_bool)
        == Some(true);
    let git_ref = text(app, "/spec/source/targetRevision")
        .filter(|r| *r != "HEAD")
        .map(str::to_string);
    let git_ref_listed = git_ref.clone();
    let sha = |r: &&str| r.len() == 40 && r.chars().all(|c| c.is_ascii_hexdigit());
    let compared = text(app, "/status/sync/revision")
        .filter(sha)
        .map(Revision::new);
    let deployed = app
        .pointer("/status/history")
        .and_then(Value::as_array)
        .and_then(|h| h.last())
        .and_then(|e| text(e, "/revision"))
        .filter(sha)
        .map(Revision::new);
    let namespace = text(app, "/spec/destination/namespace")
        .or_else(|| text(app, "/metadata/namespace"))
        .unwrap_or("default");
    Origin::Git(Box::new(GitOrigin {
        url: url.to_string(),
        git_ref,
        path: clean_path(text(app, "/spec/source/path").unwrap_or("")),
        compared,
        deployed,
        listing_ref: git_ref_listed,
        namespacing: Namespacing::Default(namespace.to_string()),
        labels: vec![],
        annotations: vec![],
        top_folder_only: !recurse,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn ks(spec: Value) -> Value {
        json!({
            "metadata": {"name": "web", "namespace": "flux-system"},
            "spec": spec,
            "status": {"lastAppliedRevision": format!("main@sha1:{SHA}")}
        })
    }

    fn repo(r: Value) -> Value {
        json!({"kind": "GitRepository", "spec": {"url": "file:///srv/repo", "ref": r}})
    }

    #[test]
    fn a_kustomization_reads_its_git_repository_at_the_applied_commit() {
        let k = ks(json!({"path": "./apps/web/", "targetNamespace": "shop",
            "sourceRef": {"kind": "GitRepository", "name": "repo"},
            "commonMetadata": {"labels": {"team": "a"}, "annotations": {"note": "n"}}}));
        let Origin::Git(o) = origin(
            ControllerKind::FluxKustomization,
            &k,
            Some(&repo(json!({"branch": "main"}))),
        ) else {
            panic!("readable");
        };
        assert_eq!(o.url, "file:///srv/repo");
        assert_eq!(o.git_ref.as_deref(), Some("main"));
        assert_eq!(o.path, "apps/web");
        assert_eq!(o.compared, Some(Revision::new(SHA)));
        assert_eq!(o.deployed, Some(Revision::new(SHA)));
        assert_eq!(o.listing_ref.as_deref(), Some("main"));
        assert_eq!(o.namespacing, Namespacing::Force("shop".into()));
        assert!(o.labels.contains(&("team".into(), "a".into())));
        assert!(o.labels.contains(&(FLUX_NAME_LABEL.into(), "web".into())));
        assert!(o
            .labels
            .contains(&(FLUX_NAMESPACE_LABEL.into(), "flux-system".into())));
        assert_eq!(o.annotations, vec![("note".into(), "n".into())]);
    }

    #[test]
    fn a_pinned_commit_wins_over_the_branch_and_no_target_namespace_is_required() {
        let k = ks(json!({"path": "./", "sourceRef": {"kind": "GitRepository", "name": "repo"}}));
        let Origin::Git(o) = origin(
            ControllerKind::FluxKustomization,
            &k,
            Some(&repo(json!({"branch": "main", "commit": SHA}))),
        ) else {
            panic!("readable");
        };
        assert_eq!(o.git_ref.as_deref(), Some(SHA));
        assert_eq!(
            o.listing_ref.as_deref(),
            Some(SHA),
            "a pin of someone else's"
        );
        let mut ours = repo(json!({"branch": "main", "commit": SHA}));
        ours["metadata"] = json!({"annotations": {flux::PINNED_FROM: r#"{"branch":"release"}"#}});
        let Origin::Git(o) = origin(ControllerKind::FluxKustomization, &k, Some(&ours)) else {
            panic!("readable");
        };
        assert_eq!(o.git_ref.as_deref(), Some(SHA));
        assert_eq!(
            o.listing_ref.as_deref(),
            Some("release"),
            "the ref our pin remembered"
        );
        assert_eq!(o.path, "");
        assert_eq!(o.namespacing, Namespacing::Required);
    }

    fn unreadable(o: Origin) -> String {
        match o {
            Origin::Unreadable(why) => why,
            Origin::Git(g) => panic!("expected a reason, got {g:?}"),
        }
    }

    #[test]
    fn what_gitops_tui_cannot_reproduce_is_said_not_compared() {
        let src = repo(json!({"branch": "main"}));
        let with = |spec: Value| {
            unreadable(origin(
                ControllerKind::FluxKustomization,
                &ks(spec),
                Some(&src),
            ))
        };
        let why = with(json!({"sourceRef": {"kind": "GitRepository", "name": "r"},
            "postBuild": {"substitute": {"a": "b"}}, "images": [{"name": "x"}]}));
        assert!(why.contains("spec.images, spec.postBuild"), "{why}");
        let why = with(json!({"sourceRef": {"kind": "OCIRepository", "name": "r"}}));
        assert!(
            why.contains("OCI artifact (OCIRepository flux-system/r)"),
            "{why}"
        );
        let why = unreadable(origin(
            ControllerKind::FluxKustomization,
            &ks(json!({"sourceRef": {"kind": "GitRepository", "name": "r"}})),
            None,
        ));
        assert!(
            why.contains("GitRepository flux-system/r cannot be read"),
            "{why}"
        );
        let why = unreadable(origin(ControllerKind::FluxHelmRelease, &json!({}), None));
        assert!(why.contains("HelmRelease"), "{why}");
        let semver = repo(json!({"semver": ">=1.0"}));
        let why = unreadable(origin(
            ControllerKind::FluxKustomization,
            &ks(json!({"sourceRef": {"kind": "GitRepository", "name": "r"}})),
            Some(&semver),
        ));
        assert!(why.contains("semver range \">=1.0\""), "{why}");
    }

    fn application(source: Value) -> Value {
        json!({
            "metadata": {"name": "catalog", "namespace": "argocd"},
            "spec": {"source": source, "destination": {"namespace": "shop"}},
            "status": {"sync": {"revision": SHA}}
        })
    }

    #[test]
    fn an_application_reads_its_path_in_its_destination_namespace() {
        let a = application(json!({"repoURL": "https://example.invalid/r.git",
            "path": "apps/catalog", "targetRevision": "HEAD"}));
        let Origin::Git(o) = origin(ControllerKind::ArgoApplication, &a, None) else {
            panic!("readable");
        };
        assert_eq!(o.git_ref, None, "HEAD is the default branch");
        assert_eq!(o.path, "apps/catalog");
        assert_eq!(o.compared, Some(Revision::new(SHA)));
        assert_eq!(o.deployed, None, "no history yet");
        assert_eq!(o.namespacing, Namespacing::Default("shop".into()));
        assert!(o.top_folder_only);
        assert!(o.labels.is_empty());
        let a = application(json!({"repoURL": "u", "path": "p", "targetRevision": "v2",
            "directory": {"recurse": true}}));
        let Origin::Git(o) = origin(ControllerKind::ArgoApplication, &a, None) else {
            panic!("readable");
        };
        assert_eq!(o.git_ref.as_deref(), Some("v2"));
        assert!(!o.top_folder_only);
    }

    #[test]
    fn charts_plugins_and_several_sources_are_said_not_compared() {
        let why = unreadable(origin(
            ControllerKind::ArgoApplication,
            &application(json!({"repoURL": "https://charts.example", "chart": "redis"})),
            None,
        ));
        assert!(why.contains("Helm chart \"redis\""), "{why}");
        let why = unreadable(origin(
            ControllerKind::ArgoApplication,
            &application(json!({"repoURL": "u", "path": "p", "helm": {"valueFiles": ["v.yaml"]}})),
            None,
        ));
        assert!(why.contains("spec.source.helm"), "{why}");
        let mut a = application(json!({"repoURL": "u"}));
        a["spec"]["sources"] = json!([{"repoURL": "u"}]);
        let why = unreadable(origin(ControllerKind::ArgoApplication, &a, None));
        assert!(why.contains("several sources"), "{why}");
    }
}
