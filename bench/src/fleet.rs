//! The fleet: N kube-sims as N kubeconfig contexts, one Git repository, and
//! a config with `apps_per_cluster` apps on each, all synced once.
//!
//! The sims run in the runner's own process (its tokio runtime), served over
//! https with bearer tokens as real clusters are; gitops-tui and kubectl run
//! as child processes against one kubeconfig holding every context.

use kube_sim::{KubeSim, Options};
use serde_yaml::Value as Yaml;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Objects per app: Deployments (one replica each), Services, ConfigMaps.
const DEPLOYMENTS: usize = 4;
const SERVICES: usize = 4;
const CONFIGMAPS: usize = 12;

pub struct Fleet {
    pub sims: Vec<KubeSim>,
    pub dir: tempfile::TempDir,
    pub kubeconfig: PathBuf,
    pub config: PathBuf,
    pub contexts: Vec<String>,
    pub apps: usize,
}

impl Fleet {
    /// Starts `clusters` sims, writes the repository and config, and syncs
    /// every app with `gitops-tui agent --once`.
    pub fn build(
        rt: &tokio::runtime::Runtime,
        bin: &Path,
        clusters: usize,
        apps_per_cluster: usize,
    ) -> Result<Fleet, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut sims = Vec::with_capacity(clusters);
        for i in 0..clusters {
            let opts = Options {
                tls: true,
                context_name: format!("sim-{i:03}"),
                ready_after: Duration::from_millis(200),
                ..Options::default()
            };
            let sim = rt
                .block_on(KubeSim::start(opts))
                .map_err(|e| format!("kube-sim {i}: {e}"))?;
            sims.push(sim);
        }
        let contexts: Vec<String> = (0..clusters).map(|i| format!("sim-{i:03}")).collect();
        let kubeconfig = dir.path().join("kubeconfig");
        let merged = merge_kubeconfigs(sims.iter().map(KubeSim::kubeconfig))?;
        std::fs::write(&kubeconfig, merged).map_err(|e| e.to_string())?;
        let repo = dir.path().join("repo");
        write_repo(&repo, apps_per_cluster)?;
        // One config syncs every app once (auto_sync, for `agent --once`);
        // the measured runs use one without, so no agent pass runs meanwhile.
        let config = dir.path().join("config.toml");
        std::fs::write(&config, config_toml(&contexts, apps_per_cluster, false))
            .map_err(|e| e.to_string())?;
        let sync_config = dir.path().join("config-sync.toml");
        std::fs::write(&sync_config, config_toml(&contexts, apps_per_cluster, true))
            .map_err(|e| e.to_string())?;
        let fleet = Fleet {
            sims,
            dir,
            kubeconfig,
            config,
            contexts,
            apps: clusters * apps_per_cluster,
        };
        let sync = fleet
            .gitops_with(bin, &sync_config, &["agent", "--once"])
            .output();
        match sync {
            Ok(o) if o.status.success() => {}
            Ok(o) => {
                let err = String::from_utf8_lossy(&o.stderr);
                let tail: Vec<&str> = err.lines().rev().take(5).collect();
                return Err(format!("the first sync failed: {}", tail.join(" | ")));
            }
            Err(e) => return Err(format!("gitops-tui does not run: {e}")),
        }
        Ok(fleet)
    }

    /// gitops-tui with this fleet's config and kubeconfig.
    pub fn gitops(&self, bin: &Path, args: &[&str]) -> Command {
        self.gitops_with(bin, &self.config, args)
    }

    fn gitops_with(&self, bin: &Path, config: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin);
        cmd.arg("--config")
            .arg(config)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
            .env("HOME", self.dir.path());
        cmd
    }

    /// `kubectl get -A` of the app kinds in every context, one after another,
    /// as a shell loop over the contexts would do it.
    pub fn kubectl_get_all(&self) -> Command {
        let mut script = String::from("set -e\n");
        for c in &self.contexts {
            let _ = writeln!(
                script,
                "kubectl --kubeconfig '{}' --context {c} get deployments,services,configmaps -A -o json >/dev/null",
                self.kubeconfig.display()
            );
        }
        let mut cmd = Command::new("sh");
        cmd.args(["-c", &script]).env("HOME", self.dir.path());
        cmd
    }

    /// Adds `latency` to every request of every cluster (None: removes it).
    pub fn set_latency(&self, latency: Option<Duration>) {
        for sim in &self.sims {
            sim.clear_faults();
            if let Some(d) = latency {
                sim.inject(kube_sim::faults::Fault::latency(d));
            }
        }
    }
}

/// One kubeconfig with every sim's cluster, user and context.
fn merge_kubeconfigs<'a>(configs: impl Iterator<Item = &'a str>) -> Result<String, String> {
    let mut merged: Option<Yaml> = None;
    for text in configs {
        let one: Yaml = serde_yaml::from_str(text).map_err(|e| e.to_string())?;
        match merged.as_mut() {
            None => merged = Some(one),
            Some(all) => {
                for key in ["clusters", "users", "contexts"] {
                    let items = one.get(key).and_then(Yaml::as_sequence).cloned();
                    if let (Some(items), Some(Yaml::Sequence(into))) = (items, all.get_mut(key)) {
                        into.extend(items);
                    }
                }
            }
        }
    }
    let merged = merged.ok_or("no clusters")?;
    serde_yaml::to_string(&merged).map_err(|e| e.to_string())
}

fn app_files(app: usize) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for d in 0..DEPLOYMENTS {
        files.push((
            format!("deploy-{d}.yaml"),
            format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-{d}\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {{app: web-{d}}}\n  template:\n    metadata:\n      labels: {{app: web-{d}}}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n        ports:\n        - containerPort: 80\n"
            ),
        ));
    }
    for s in 0..SERVICES {
        files.push((
            format!("svc-{s}.yaml"),
            format!(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: web-{s}\nspec:\n  selector: {{app: web-{s}}}\n  ports:\n  - port: 80\n    targetPort: 80\n"
            ),
        ));
    }
    for c in 0..CONFIGMAPS {
        files.push((
            format!("cm-{c}.yaml"),
            format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-{c}\ndata:\n  app: \"{app}\"\n  level: info\n"
            ),
        ));
    }
    files
}

fn git(dir: &Path, args: &[&str]) -> Result<(), String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Bench Runner")
        .env("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        .env("GIT_COMMITTER_NAME", "Bench Runner")
        .env("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        .output()
        .map_err(|e| format!("git: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn write_repo(repo: &Path, apps: usize) -> Result<(), String> {
    for a in 0..apps {
        let dir = repo.join(format!("apps/app-{a:02}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        for (name, body) in app_files(a) {
            std::fs::write(dir.join(name), body).map_err(|e| e.to_string())?;
        }
    }
    git(repo, &["init", "-q", "-b", "main"])?;
    git(repo, &["add", "."])?;
    git(repo, &["commit", "-q", "-m", "fleet apps"])
}

fn config_toml(contexts: &[String], apps: usize, auto_sync: bool) -> String {
    let mut out = String::new();
    for c in contexts {
        for a in 0..apps {
            let _ = write!(
                out,
                "[[apps]]\nname = \"{c}-app-{a:02}\"\nrepo = \"repo\"\npath = \"apps/app-{a:02}\"\nnamespace = \"app-{a:02}\"\ncontext = \"{c}\"\ncreate_namespace = true\nauto_sync = {auto_sync}\n\n"
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfigs_merge_into_one_with_every_context() {
        let kc = |n: &str| {
            format!("apiVersion: v1\nkind: Config\nclusters: [{{name: {n}, cluster: {{server: 'https://{n}'}}}}]\nusers: [{{name: {n}-admin, user: {{token: x}}}}]\ncontexts: [{{name: {n}, context: {{cluster: {n}, user: {n}-admin}}}}]\ncurrent-context: {n}\n")
        };
        let (a, b) = (kc("one"), kc("two"));
        let merged = merge_kubeconfigs([a.as_str(), b.as_str()].into_iter()).expect("merged");
        let v: Yaml = serde_yaml::from_str(&merged).expect("yaml");
        let contexts = v["contexts"].as_sequence().expect("contexts");
        assert_eq!(contexts.len(), 2);
        assert_eq!(contexts[1]["name"].as_str(), Some("two"));
        assert_eq!(v["users"].as_sequence().map(Vec::len), Some(2));
    }

    #[test]
    fn an_app_has_twenty_objects_and_the_config_one_entry_per_app() {
        assert_eq!(app_files(0).len(), 20);
        let config = config_toml(&["sim-000".into(), "sim-001".into()], 3, false);
        assert_eq!(config.matches("[[apps]]").count(), 6);
        assert!(config.contains("name = \"sim-001-app-02\""));
    }
}
