//! The TOML config: which apps exist (a Git path mapped to a cluster and
//! namespace) and how they sync. `config.example.toml` documents every key.
//!
//! Unknown keys are errors (a typo must not silently disable `prune`), and
//! every error names the file and the key or app.

use crate::model::AppId;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const DEFAULT_RECORD_NAMESPACE: &str = "gitops-tui";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config {path}: app {app:?}: {message}")]
    App {
        path: PathBuf,
        app: String,
        message: String,
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Namespace holding one record ConfigMap per app.
    #[serde(default = "default_record_namespace")]
    pub record_namespace: String,
    #[serde(default)]
    pub agent: AgentConfig,
    #[serde(default)]
    pub ui: UiConfig,
    #[serde(default)]
    pub cluster: ClusterConfig,
    #[serde(default)]
    pub apps: Vec<AppConfig>,
    /// Kubeconfig contexts to look for Flux and Argo CD apps in (default:
    /// the current one; `--all-contexts`: every one).
    #[serde(default)]
    pub contexts: Vec<String>,
    /// Folder the config was read from: relative repo paths start here.
    #[serde(skip)]
    pub base_dir: PathBuf,
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// The default config file looked for and not found (a first run).
    #[serde(skip)]
    pub missing_file: Option<PathBuf>,
}

fn default_record_namespace() -> String {
    DEFAULT_RECORD_NAMESPACE.to_string()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    /// How often the agent re-reads refs and drift, e.g. "30s", "2m".
    #[serde(default = "default_interval", with = "humantime_serde")]
    pub interval: Duration,
    /// How long the leader's `coordination.k8s.io` Lease binds without a
    /// renewal: a replica whose leader died takes over after this.
    #[serde(default = "default_lease_duration", with = "humantime_serde")]
    pub lease_duration: Duration,
}

fn default_interval() -> Duration {
    Duration::from_secs(30)
}

fn default_lease_duration() -> Duration {
    Duration::from_secs(15)
}

impl Default for AgentConfig {
    fn default() -> Self {
        AgentConfig {
            interval: default_interval(),
            lease_duration: default_lease_duration(),
        }
    }
}

// --- [cluster]: how long requests to the API server are retried ---

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// How long one request is retried while the API server answers 429,
    /// 5xx or times out, e.g. "60s", "2m". Then it fails naming the object.
    #[serde(default = "default_deadline", deserialize_with = "nonzero_duration")]
    pub deadline: Duration,
}

fn default_deadline() -> Duration {
    crate::cluster::retry::DEFAULT_DEADLINE
}

fn nonzero_duration<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let v: Duration = humantime_serde::deserialize(d)?;
    if v.is_zero() {
        return Err(serde::de::Error::custom("must be longer than 0s"));
    }
    Ok(v)
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            deadline: default_deadline(),
        }
    }
}

// --- end [cluster] ---

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UiConfig {
    /// "dark" (default), "light" or "plain".
    #[serde(default)]
    pub theme: Option<String>,
    /// Key remapping: action name → key, e.g. `sync = "S"`.
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, String>,
    /// Clicks and the wheel (default on); `false` leaves the mouse to the
    /// terminal (its own text selection).
    #[serde(default)]
    pub mouse: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    pub name: String,
    /// A local path (relative to the config's folder) or a remote URL.
    pub repo: String,
    /// Branch, tag or commit; default: a local repo's HEAD, a remote's default branch.
    #[serde(default, rename = "ref")]
    pub git_ref: Option<String>,
    /// Folder inside the repository ("" or "." for the root).
    #[serde(default)]
    pub path: String,
    /// Namespace for namespaced objects that name none.
    pub namespace: String,
    /// kubeconfig context; default: the current one.
    #[serde(default)]
    pub context: Option<String>,
    #[serde(default)]
    pub auto_sync: bool,
    #[serde(default)]
    pub self_heal: bool,
    #[serde(default)]
    pub prune: bool,
    #[serde(default)]
    pub create_namespace: bool,
    /// Namespaces besides `namespace` that the app may write namespaced
    /// objects into (Argo CD's AppProject destinations).
    #[serde(default)]
    pub allowed_namespaces: Vec<String>,
    /// Allow ClusterRoles granting `*` on `*` and bindings to cluster-admin.
    #[serde(default)]
    pub allow_cluster_admin: bool,
    #[serde(default)]
    /// Argo CD's ignoreDifferences: fields of matching objects that are never drift.
    pub ignore_differences: Vec<crate::drift::IgnoreRule>,
    // --- max_manifest_size (issue 8: nothing dropped silently) ---
    /// The largest manifest file read (`"10MiB"`); a larger one makes the app invalid.
    #[serde(default)]
    pub max_manifest_size: crate::manifest::ByteSize,
    // --- end max_manifest_size ---
    // --- [apps.helm] / [apps.jsonnet] (issue 12: rendering) ---
    /// How a Helm chart in the app's path is rendered (`helm template`).
    #[serde(default)]
    pub helm: crate::manifest::HelmOptions,
    /// What the app's Jsonnet files are evaluated with.
    #[serde(default)]
    pub jsonnet: crate::manifest::JsonnetOptions,
    // --- end [apps.helm] / [apps.jsonnet] ---
}

impl AppConfig {
    /// This app's identity: a native app, named by the config.
    pub fn id(&self) -> AppId {
        AppId::native(&self.name)
    }

    pub fn is_remote(&self) -> bool {
        is_remote_url(&self.repo)
    }

    /// The repository's local path (for local repos), resolved against the config's folder.
    pub fn local_repo_path(&self, base_dir: &Path) -> PathBuf {
        let p = Path::new(&self.repo);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            base_dir.join(p)
        }
    }

    /// What the renderers (Helm, Jsonnet) need from this app.
    pub fn render_options(&self) -> crate::manifest::RenderOptions {
        crate::manifest::RenderOptions {
            release_name: self.name.clone(),
            namespace: self.namespace.clone(),
            helm: self.helm.clone(),
            jsonnet: self.jsonnet.clone(),
        }
    }

    /// The app path inside the repository, without leading/trailing slashes.
    pub fn repo_path(&self) -> &str {
        let p = self.path.trim_matches('/');
        if p == "." {
            ""
        } else {
            p
        }
    }
}

pub fn is_remote_url(repo: &str) -> bool {
    repo.contains("://") || (repo.contains('@') && repo.contains(':'))
}

/// Where the config lives when `--config` is not given
/// (`~/.config/gitops-tui/config.toml` on Linux).
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("dev", "gitops-tui", "gitops-tui")
        .map(|d| d.config_dir().join("config.toml"))
}

impl Config {
    /// Read and check a config file. A missing default config is an empty
    /// config; a missing explicit one is an error.
    pub fn load(path: &Path, explicit: bool) -> Result<Config, ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => {
                return Ok(Config {
                    record_namespace: default_record_namespace(),
                    base_dir: PathBuf::from("."),
                    missing_file: Some(path.to_path_buf()),
                    ..Default::default()
                })
            }
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let mut config = Config::parse(&text, path)?;
        config.base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: describe_toml_error(text, &e),
        })?;
        config.check(path)?;
        Ok(config)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        let app_error = |app: &str, message: String| ConfigError::App {
            path: path.to_path_buf(),
            app: app.to_string(),
            message,
        };
        let mut seen = BTreeSet::new();
        for app in &self.apps {
            if !is_dns_label(&app.name) {
                return Err(app_error(
                    &app.name,
                    "name must be a DNS label (lowercase letters, digits and '-', at most 63)"
                        .into(),
                ));
            }
            if !seen.insert(app.name.as_str()) {
                return Err(app_error(
                    &app.name,
                    "the name is used by more than one app".into(),
                ));
            }
            if app.namespace.is_empty() {
                return Err(app_error(&app.name, "namespace must not be empty".into()));
            }
            if app.repo.is_empty() {
                return Err(app_error(&app.name, "repo must not be empty".into()));
            }
            for rule in &app.ignore_differences {
                rule.validate()
                    .map_err(|e| app_error(&app.name, e.to_string()))?;
            }
            if app.path.split('/').any(|seg| seg == "..") {
                return Err(app_error(
                    &app.name,
                    format!("path {:?} must stay inside the repository", app.path),
                ));
            }
        }
        if !is_dns_label(&self.record_namespace) {
            return Err(ConfigError::Parse {
                path: path.to_path_buf(),
                message: "record_namespace must be a DNS label".into(),
            });
        }
        Ok(())
    }

    pub fn app(&self, name: &str) -> Option<&AppConfig> {
        self.apps.iter().find(|a| a.name == name)
    }
}

/// toml's message plus the line it points at.
fn describe_toml_error(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().to_string();
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}: {message}")
        }
        None => message,
    }
}

pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("/etc/gt/config.toml"))
    }

    #[test]
    fn empty_config_is_valid() {
        let c = parse("").expect("empty is fine");
        assert!(c.apps.is_empty());
        assert_eq!(c.record_namespace, "gitops-tui");
    }

    #[test]
    fn apps_parse_with_defaults() {
        let c = parse(
            r#"
[[apps]]
name = "shop"
repo = "../repo"
path = "apps/shop/"
namespace = "shop"
prune = true
[[apps.ignore_differences]]
group = "apps"
kind = "Deployment"
json_pointers = ["/spec/replicas"]
"#,
        )
        .expect("valid");
        let app = c.app("shop").expect("app");
        assert!(app.prune && !app.auto_sync);
        assert_eq!(app.repo_path(), "apps/shop");
        assert_eq!(app.git_ref, None);
        assert_eq!(
            app.ignore_differences[0].json_pointers,
            vec!["/spec/replicas"]
        );
        assert_eq!(
            app.local_repo_path(Path::new("/etc/gt")),
            Path::new("/etc/gt/../repo")
        );
    }

    #[test]
    fn unknown_keys_are_named_with_their_line() {
        let e = parse("[[apps]]\nname = \"a\"\nrepo = \"r\"\nnamespace = \"n\"\nprnue = true\n")
            .expect_err("typo");
        let msg = e.to_string();
        assert!(msg.contains("prnue") && msg.contains("line 5"), "{msg}");
        assert!(msg.contains("/etc/gt/config.toml"), "{msg}");
    }

    #[test]
    fn duplicate_and_bad_names_are_errors_naming_the_app() {
        let dup = "[[apps]]\nname=\"a\"\nrepo=\"r\"\nnamespace=\"n\"\n[[apps]]\nname=\"a\"\nrepo=\"r\"\nnamespace=\"n\"\n";
        let msg = parse(dup).expect_err("duplicate").to_string();
        assert!(
            msg.contains("app \"a\"") && msg.contains("more than one"),
            "{msg}"
        );
        let bad = "[[apps]]\nname=\"Shop_1\"\nrepo=\"r\"\nnamespace=\"n\"\n";
        assert!(parse(bad)
            .expect_err("bad name")
            .to_string()
            .contains("DNS label"));
    }

    #[test]
    fn bad_ignore_rules_name_the_app() {
        let text = "[[apps]]\nname=\"a\"\nrepo=\"r\"\nnamespace=\"n\"\n[[apps.ignore_differences]]\nkind = \"Deployment\"\njson_pointers = [\"spec/replicas\"]\n";
        let msg = parse(text).expect_err("pointer without /").to_string();
        assert!(
            msg.contains("app \"a\"") && msg.contains("spec/replicas"),
            "{msg}"
        );
    }

    #[test]
    fn remote_urls_are_recognised() {
        assert!(is_remote_url("https://example.com/r.git"));
        assert!(is_remote_url("git@example.com:org/r.git"));
        assert!(!is_remote_url("../local/repo"));
    }

    #[test]
    fn helm_and_jsonnet_tables_parse_and_typos_are_named() {
        let c = parse(
            r#"
[[apps]]
name = "web"
repo = "r"
path = "charts/web"
namespace = "web"
[apps.helm]
release_name = "web-prod"
values_files = ["values-prod.yaml"]
set = { "image.tag" = "1.2.3" }
[apps.jsonnet]
ext_vars = { env = "prod" }
tlas = { replicas = "3" }
tla_code = { debug = "false" }
libs = ["vendor"]
"#,
        )
        .expect("valid");
        let app = c.app("web").expect("app");
        let opts = app.render_options();
        assert_eq!(opts.release_name, "web");
        assert_eq!(opts.namespace, "web");
        assert_eq!(opts.helm.release_name.as_deref(), Some("web-prod"));
        assert_eq!(opts.helm.values_files, vec!["values-prod.yaml"]);
        assert_eq!(opts.helm.set["image.tag"], "1.2.3");
        assert_eq!(opts.jsonnet.ext_vars["env"], "prod");
        assert_eq!(opts.jsonnet.tla_code["debug"], "false");
        let e = parse("[[apps]]\nname=\"a\"\nrepo=\"r\"\nnamespace=\"n\"\n[apps.helm]\nvalues = [\"v.yaml\"]\n")
            .expect_err("typo");
        assert!(e.to_string().contains("values"), "{e}");
    }

    // --- [cluster] ---
    #[test]
    fn the_example_config_documents_the_default_deadline() {
        let text = include_str!("../config.example.toml");
        let c = parse(text).expect("config.example.toml parses");
        assert_eq!(c.cluster, ClusterConfig::default());
        assert!(text.contains("[cluster]\n"));
    }

    #[test]
    fn cluster_deadline_defaults_to_60s_and_parses_durations() {
        assert_eq!(
            parse("").expect("empty").cluster.deadline,
            Duration::from_secs(60)
        );
        let c = parse("[cluster]\ndeadline = \"3s\"\n").expect("valid");
        assert_eq!(c.cluster.deadline, Duration::from_secs(3));
        let c = parse("[cluster]\ndeadline = \"2m\"\n").expect("valid");
        assert_eq!(c.cluster.deadline, Duration::from_secs(120));
        let e = parse("[cluster]\ndeadline = \"0s\"\n").expect_err("zero");
        assert!(e.to_string().contains("longer than 0s"), "{e}");
        let e = parse("[cluster]\ndeadline = \"soon\"\n").expect_err("not a duration");
        assert!(
            e.to_string().contains("line 2") && e.to_string().contains("a duration"),
            "{e}"
        );
        let e = parse("[cluster]\ndeadlin = \"3s\"\n").expect_err("typo");
        assert!(e.to_string().contains("deadlin"), "{e}");
    }
}
