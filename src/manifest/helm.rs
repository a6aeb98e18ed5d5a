//! Helm charts rendered by the user's own `helm template` (as Argo CD does),
//! on the exported tree: release name, namespace, values files and `--set`
//! values from the app's `[apps.helm]` table, subcharts from the chart's
//! `charts/` folder (helm reads it itself; nothing is downloaded). Without
//! helm on PATH the app is Unknown with `helm is not installed`, never
//! Synced with no resources.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

/// `[apps.helm]`: how the chart of an app is rendered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelmOptions {
    /// The release name (default: the app's name).
    #[serde(default)]
    pub release_name: Option<String>,
    /// Values files, relative to the chart's folder, applied in order.
    #[serde(default)]
    pub values_files: Vec<String>,
    /// `--set KEY=VALUE` values (applied after the values files).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

#[derive(Debug, thiserror::Error)]
pub enum HelmError {
    #[error("helm is not installed")]
    NotInstalled,
    #[error("values file {0:?} must stay inside the repository")]
    ValuesOutside(String),
    #[error("values file {0} does not exist")]
    ValuesMissing(String),
    #[error("`helm template` failed ({status}): {stderr}")]
    Failed { status: String, stderr: String },
    #[error("cannot run helm: {0}")]
    Io(std::io::Error),
    #[error("`helm template` printed output that is not UTF-8")]
    NotUtf8,
}

/// Folds `a/./b/../c` to `a/c`; None when `..` climbs above the start.
fn join_inside(base: &str, rel: &str) -> Option<String> {
    if rel.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = base.split('/').filter(|p| !p.is_empty()).collect();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            s => parts.push(s),
        }
    }
    Some(parts.join("/"))
}

/// The arguments of `helm template` for a chart (everything after `helm`).
/// `values` are paths already checked to be inside the repository.
pub fn template_args(
    release: &str,
    chart_dir: &Path,
    namespace: &str,
    values: &[PathBuf],
    set: &BTreeMap<String, String>,
) -> Vec<OsString> {
    let mut args: Vec<OsString> = vec![
        "template".into(),
        release.into(),
        chart_dir.into(),
        "--namespace".into(),
        namespace.into(),
    ];
    for v in values {
        args.push("--values".into());
        args.push(v.into());
    }
    for (k, v) in set {
        args.push("--set".into());
        args.push(format!("{k}={v}").into());
    }
    args
}

/// Renders the chart at `chart` (repository-relative) in the tree at
/// `root` and returns helm's YAML.
pub fn render_helm(
    root: &Path,
    chart: &str,
    release: &str,
    namespace: &str,
    opts: &HelmOptions,
) -> Result<String, HelmError> {
    let mut values = Vec::new();
    for file in &opts.values_files {
        let rel = join_inside(chart, file).ok_or_else(|| HelmError::ValuesOutside(file.clone()))?;
        let path = root.join(&rel);
        if !path.is_file() {
            return Err(HelmError::ValuesMissing(rel));
        }
        values.push(path);
    }
    let release = opts.release_name.as_deref().unwrap_or(release);
    let output = Command::new("helm")
        .args(template_args(
            release,
            &root.join(chart),
            namespace,
            &values,
            &opts.set,
        ))
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => HelmError::NotInstalled,
            _ => HelmError::Io(e),
        })?;
    let shown = |text: &str| text.replace(&format!("{}/", root.display()), "");
    if !output.status.success() {
        return Err(HelmError::Failed {
            status: output.status.to_string(),
            stderr: shown(String::from_utf8_lossy(&output.stderr).trim()),
        });
    }
    String::from_utf8(output.stdout).map_err(|_| HelmError::NotUtf8)
}

/// Splits helm's output at its `# Source: CHART/templates/x.yaml` comments,
/// naming each part by the template's repository-relative path (the chart
/// name replaced by the chart's folder), so errors point at the template.
pub fn split_by_source(output: &str, chart: &str) -> Vec<(String, String)> {
    let mut parts: Vec<(String, String)> = Vec::new();
    let mut current = (chart.to_string(), String::new());
    for line in output.split_inclusive('\n') {
        if let Some(source) = line.trim_end().strip_prefix("# Source: ") {
            if !current.1.trim().is_empty() && current.1.trim() != "---" {
                parts.push(std::mem::take(&mut current));
            }
            let inside = source.split_once('/').map_or(source, |(_, rest)| rest);
            let file = if chart.is_empty() {
                inside.to_string()
            } else {
                format!("{chart}/{inside}")
            };
            current = (file, String::new());
        }
        current.1.push_str(line);
    }
    if !current.1.trim().is_empty() {
        parts.push(current);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_paths_stay_inside_the_repository() {
        assert_eq!(
            join_inside("charts/web", "values-prod.yaml").as_deref(),
            Some("charts/web/values-prod.yaml")
        );
        assert_eq!(
            join_inside("charts/web", "../shared/v.yaml").as_deref(),
            Some("charts/shared/v.yaml")
        );
        assert_eq!(join_inside("charts/web", "../../../etc/passwd"), None);
        assert_eq!(join_inside("charts/web", "/etc/passwd"), None);
    }

    #[test]
    fn output_is_split_at_source_comments() {
        let out = "---\n# Source: web/templates/svc.yaml\napiVersion: v1\nkind: Service\n---\n# Source: web/charts/db/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\n";
        let parts = split_by_source(out, "charts/web");
        let files: Vec<&str> = parts.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            files,
            vec![
                "charts/web/templates/svc.yaml",
                "charts/web/charts/db/templates/cm.yaml"
            ]
        );
        assert!(parts[1].1.starts_with("# Source:"));
    }
}
