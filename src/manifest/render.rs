//! Everything an app's path holds, rendered: plain manifests, kustomize
//! roots (`kubectl kustomize`), Helm charts (`helm template`) and Jsonnet
//! files (jrsonnet), from a commit (its tree exported to a temporary folder
//! so the work tree is never touched) or from a folder on disk (the work
//! tree itself, for `diff --local`). Any error anywhere fails the whole app.

use std::path::Path;

use git2::{Oid, Repository};

use super::helm::{render_helm, split_by_source, HelmError, HelmOptions};
use super::jsonnet::{render_jsonnet, JsonnetOptions};
use super::kustomize::render_kustomize;
use super::loader::Loader;
use super::workdir::files_in_dir;
use super::{LoadedManifests, ManifestError, ManifestErrors, Warning};
use crate::git::{self, ReadLimits};

/// What an app's renderers need from its config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// Helm's release name unless `[apps.helm] release_name` says otherwise.
    pub release_name: String,
    /// The namespace `helm template --namespace` renders for.
    pub namespace: String,
    pub helm: HelmOptions,
    pub jsonnet: JsonnetOptions,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            release_name: "release".into(),
            namespace: "default".into(),
            helm: HelmOptions::default(),
            jsonnet: JsonnetOptions::default(),
        }
    }
}

fn source_error(file: &str, message: String) -> ManifestErrors {
    ManifestErrors {
        errors: vec![ManifestError::Source {
            file: file.to_string(),
            message,
        }],
    }
}

fn needs_rendering(loader: &Loader) -> bool {
    !loader.kustomize_roots().is_empty()
        || !loader.helm_roots().is_empty()
        || !loader.jsonnet_files().is_empty()
}

/// The app's objects at `commit`, every renderer applied.
pub fn load_at_commit_with(
    repo: &Repository,
    commit: Oid,
    app_path: &str,
    limits: ReadLimits,
    opts: &RenderOptions,
) -> Result<LoadedManifests, ManifestErrors> {
    let files = git::files_at(repo, commit, app_path, limits)
        .map_err(|e| source_error(app_path, e.to_string()))?;
    let mut loader = Loader::new();
    loader.add_files(&files);
    if !needs_rendering(&loader) {
        return loader.finish();
    }
    let tmp = tempfile::tempdir()
        .map_err(|e| source_error(app_path, format!("cannot create a temporary folder: {e}")))?;
    let summary = git::export_tree(repo, commit, "", tmp.path(), limits)
        .map_err(|e| source_error(app_path, e.to_string()))?;
    for (path, reason) in &summary.skipped {
        loader.warn(Warning::in_file(
            path,
            format!("not exported for rendering ({reason})"),
        ));
    }
    render_all(&mut loader, tmp.path(), opts, "<export>");
    loader.finish()
}

/// The app's objects as the folder `root` (a work tree) holds them now:
/// uncommitted and untracked files included, Git-ignored ones not.
pub fn load_dir(
    root: &Path,
    app_path: &str,
    limits: ReadLimits,
    opts: &RenderOptions,
) -> Result<LoadedManifests, ManifestErrors> {
    let files = files_in_dir(root, app_path, limits).map_err(|e| source_error(app_path, e))?;
    let mut loader = Loader::new();
    loader.add_files(&files);
    render_all(&mut loader, root, opts, &root.display().to_string());
    loader.finish()
}

fn chart_file(root: &Path, chart: &str) -> String {
    let join = |name: &str| {
        if chart.is_empty() {
            name.to_string()
        } else {
            format!("{chart}/{name}")
        }
    };
    if root.join(join("Chart.yml")).is_file() && !root.join(join("Chart.yaml")).is_file() {
        join("Chart.yml")
    } else {
        join("Chart.yaml")
    }
}

/// Renders every kustomize root, chart and Jsonnet file of `loader` from
/// the tree at `root`; `shown_root` replaces `root` in messages.
fn render_all(loader: &mut Loader, root: &Path, opts: &RenderOptions, shown_root: &str) {
    let hide = |text: String| text.replace(&root.display().to_string(), shown_root);
    for dir in loader.kustomize_roots().to_vec() {
        match render_kustomize(&root.join(&dir)) {
            Ok(text) => loader.add_rendered(&text, &dir),
            Err(err) => loader.push_error(ManifestError::Source {
                file: dir.clone(),
                message: hide(err.to_string()),
            }),
        }
    }
    for chart in loader.helm_roots().to_vec() {
        let file = chart_file(root, &chart);
        match render_helm(
            root,
            &chart,
            &opts.release_name,
            &opts.namespace,
            &opts.helm,
        ) {
            Ok(text) => {
                let parts = split_by_source(&text, &chart);
                if parts.is_empty() {
                    loader.warn(Warning::in_file(
                        &file,
                        "`helm template` rendered no objects".to_string(),
                    ));
                }
                for (source, part) in parts {
                    loader.add_rendered(&part, &source);
                }
            }
            Err(HelmError::NotInstalled) => loader.push_error(ManifestError::Unsupported {
                file,
                what: "Helm chart",
                reason: "helm is not installed",
            }),
            Err(err) => loader.push_error(ManifestError::Source {
                file,
                message: hide(err.to_string()),
            }),
        }
    }
    for file in loader.jsonnet_files().to_vec() {
        match render_jsonnet(root, &file, &opts.jsonnet) {
            Ok(value) => loader.add_json_value(&file, value),
            Err(err) => loader.push_error(ManifestError::Source {
                file: file.clone(),
                message: hide(err.to_string()),
            }),
        }
    }
}
