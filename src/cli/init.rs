//! `gitops-tui init [REPO]`: the first step of a new user. It scans a
//! repository for app folders (a kustomization, a Helm chart, Jsonnet, or
//! plain manifests), proposes one app per folder with its path relative to
//! the repository root and a namespace guess, and writes the config after
//! confirmation. It never overwrites a config without `--force`. Also the
//! one line a first run (no config, no apps) prints.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::{is_dns_label, Config};

/// What a folder holds, as gitops-tui renders it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FolderKind {
    Kustomize,
    Helm,
    Jsonnet,
    Plain,
}

impl std::fmt::Display for FolderKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FolderKind::Kustomize => "kustomize",
            FolderKind::Helm => "helm chart",
            FolderKind::Jsonnet => "jsonnet",
            FolderKind::Plain => "plain manifests",
        })
    }
}

/// One proposed app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Proposal {
    pub name: String,
    /// Relative to the repository root ("" for the root itself).
    pub path: String,
    pub kind: FolderKind,
    pub namespace: String,
    /// Where the namespace guess comes from.
    pub namespace_from: String,
}

/// What the scan found besides apps, so nothing is passed over unsaid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scan {
    pub apps: Vec<Proposal>,
    /// Kustomizations used by another one (bases, components): not apps.
    pub bases: Vec<String>,
}

const KUSTOMIZATIONS: &[&str] = &["kustomization.yaml", "kustomization.yml", "Kustomization"];
const CHARTS: &[&str] = &["Chart.yaml", "Chart.yml"];

fn rel(root: &Path, dir: &Path) -> String {
    dir.strip_prefix(root)
        .map(|p| p.to_string_lossy().replace('\\', "/"))
        .unwrap_or_default()
}

/// A DNS label made of `s` (lowercase, `-` for anything else), or None.
fn label(s: &str) -> Option<String> {
    let mut out: String = s
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    while out.contains("--") {
        out = out.replace("--", "-");
    }
    let out: String = out.trim_matches('-').chars().take(63).collect();
    let out = out.trim_end_matches('-').to_string();
    is_dns_label(&out).then_some(out)
}

fn yaml_docs(path: &Path) -> Vec<serde_yaml::Value> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return vec![];
    };
    serde_yaml::Deserializer::from_str(&text)
        .filter_map(|d| serde::Deserialize::deserialize(d).ok())
        .collect()
}

fn is_object(doc: &serde_yaml::Value) -> bool {
    doc.get("apiVersion").is_some() && doc.get("kind").is_some()
}

/// Scans `root` (skipping `.git` and hidden folders) for app folders. A
/// folder that is an app is not looked into further: its subfolders belong
/// to it (an overlay's base, a chart's templates).
pub fn scan(root: &Path) -> std::io::Result<Scan> {
    let mut found: Vec<(PathBuf, FolderKind)> = Vec::new();
    let mut used_bases: BTreeSet<PathBuf> = BTreeSet::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let mut files = Vec::new();
        let mut subdirs = Vec::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with('.') {
                continue;
            }
            let kind = entry.file_type()?;
            if kind.is_dir() {
                subdirs.push(entry.path());
            } else if kind.is_file() {
                files.push(name);
            }
        }
        let has = |names: &[&str]| files.iter().any(|f| names.contains(&f.as_str()));
        let kind = if let Some(k) = files.iter().find(|f| KUSTOMIZATIONS.contains(&f.as_str())) {
            for doc in yaml_docs(&dir.join(k)) {
                for key in ["resources", "bases", "components"] {
                    let Some(list) = doc.get(key).and_then(|l| l.as_sequence()) else {
                        continue;
                    };
                    for item in list.iter().filter_map(|i| i.as_str()) {
                        let target = dir.join(item);
                        if target.is_dir() {
                            if let Ok(real) = target.canonicalize() {
                                used_bases.insert(real);
                            }
                        }
                    }
                }
            }
            Some(FolderKind::Kustomize)
        } else if has(CHARTS) {
            Some(FolderKind::Helm)
        } else if files
            .iter()
            .any(|f| f.to_ascii_lowercase().ends_with(".jsonnet"))
        {
            Some(FolderKind::Jsonnet)
        } else if files.iter().any(|f| {
            let lower = f.to_ascii_lowercase();
            (lower.ends_with(".yaml") || lower.ends_with(".yml"))
                && yaml_docs(&dir.join(f)).iter().any(is_object)
        }) {
            Some(FolderKind::Plain)
        } else {
            None
        };
        match kind {
            // Overlays (with their own kustomizations) sit under a
            // kustomize folder's siblings, not inside an app: only a
            // kustomize folder's subfolders are still looked at, for
            // overlays that use it as their base.
            Some(FolderKind::Kustomize) => {
                found.push((dir.clone(), FolderKind::Kustomize));
                pending.extend(subdirs);
            }
            Some(k) => found.push((dir.clone(), k)),
            None => pending.extend(subdirs),
        }
    }
    let mut scan = Scan::default();
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    found.sort();
    // A kustomization inside another app folder, or used by another one,
    // is not an app of its own.
    let app_dirs: Vec<PathBuf> = found
        .iter()
        .filter(|(d, _)| {
            let real = d.canonicalize().unwrap_or_else(|_| d.clone());
            !used_bases.contains(&real)
        })
        .map(|(d, _)| d.clone())
        .collect();
    for (dir, kind) in &found {
        let path = rel(root, dir);
        if !app_dirs.contains(dir) {
            scan.bases.push(path);
            continue;
        }
        let inside_other = app_dirs
            .iter()
            .any(|o| o != dir && dir.starts_with(o) && *kind != FolderKind::Kustomize);
        if inside_other {
            continue;
        }
        let (name, namespace, namespace_from) = guess(root, dir, &path, *kind);
        let n = names.entry(name.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { name } else { format!("{name}-{n}") };
        scan.apps.push(Proposal {
            name,
            path,
            kind: *kind,
            namespace,
            namespace_from,
        });
    }
    Ok(scan)
}

/// The app's name (the folder; an overlay is `APP-OVERLAY`) and namespace
/// (what the folder's files say, else the name).
fn guess(root: &Path, dir: &Path, path: &str, kind: FolderKind) -> (String, String, String) {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let base = match parts.as_slice() {
        [] => root
            .canonicalize()
            .ok()
            .and_then(|r| r.file_name().map(|n| n.to_string_lossy().to_string()))
            .unwrap_or_else(|| "app".into()),
        [.., app, "overlays" | "envs" | "environments", env] => format!("{app}-{env}"),
        [.., last] => last.to_string(),
    };
    let name = label(&base).unwrap_or_else(|| "app".into());
    let mut from_files: BTreeMap<String, usize> = BTreeMap::new();
    let mut declared: Option<String> = None;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().to_string();
            let lower = file.to_ascii_lowercase();
            if !(lower.ends_with(".yaml") || lower.ends_with(".yml")) {
                continue;
            }
            for doc in yaml_docs(&entry.path()) {
                if kind == FolderKind::Kustomize && KUSTOMIZATIONS.contains(&file.as_str()) {
                    if let Some(ns) = doc.get("namespace").and_then(|n| n.as_str()) {
                        declared = Some(ns.to_string());
                    }
                } else if kind == FolderKind::Plain {
                    if let Some(ns) = doc
                        .get("metadata")
                        .and_then(|m| m.get("namespace"))
                        .and_then(|n| n.as_str())
                    {
                        *from_files.entry(ns.to_string()).or_default() += 1;
                    }
                }
            }
        }
    }
    let most_used = from_files
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(ns, _)| ns);
    match (declared, most_used) {
        (Some(ns), _) if is_dns_label(&ns) => (name, ns, "the kustomization's namespace".into()),
        (_, Some(ns)) if is_dns_label(&ns) => (name, ns, "the manifests' namespace".into()),
        _ => (name.clone(), name, "the folder's name".into()),
    }
}

fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The config for `scan` of the repository at `repo` (written as given).
pub fn config_text(repo: &str, scan: &Scan) -> String {
    let mut out = String::from(
        "# Written by `gitops-tui init`. Every key is documented in config.example.toml.\n",
    );
    for b in &scan.bases {
        out.push_str(&format!(
            "# {}: a kustomization used by another one, not an app of its own.\n",
            if b.is_empty() { "." } else { b }
        ));
    }
    for app in &scan.apps {
        out.push_str(&format!(
            "\n# {} (namespace guessed from {})\n[[apps]]\nname = {}\nrepo = {}\npath = {}\nnamespace = {}\ncreate_namespace = true\n",
            app.kind,
            app.namespace_from,
            toml_string(&app.name),
            toml_string(repo),
            toml_string(&app.path),
            toml_string(&app.namespace),
        ));
    }
    out
}

/// `init`'s outcome, for `-o json`.
#[derive(Debug, Serialize)]
struct InitReport<'a> {
    config: &'a Path,
    repo: &'a str,
    apps: &'a [Proposal],
    bases: &'a [String],
    written: bool,
}

/// Runs `init`; returns the exit code (0 written, 1 declined, 2 error).
pub fn run(repo: Option<&Path>, config: &Path, yes: bool, force: bool, json: bool) -> i32 {
    let repo = repo.map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let root = match repo.canonicalize() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: repository {}: {e}", repo.display());
            return 2;
        }
    };
    if git2::Repository::open(&root).is_err() {
        eprintln!(
            "error: {} is not a Git repository (gitops-tui syncs folders of one)",
            root.display()
        );
        return 2;
    }
    if config.exists() && !force {
        eprintln!(
            "error: {} exists: not overwritten (pass --force to replace it)",
            config.display()
        );
        return 2;
    }
    let scan = match scan(&root) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: scanning {}: {e}", root.display());
            return 2;
        }
    };
    let repo_text = root.display().to_string();
    if scan.apps.is_empty() {
        eprintln!(
            "error: no app folders in {repo_text} (a kustomization, a Chart.yaml, *.jsonnet or Kubernetes YAML)"
        );
        return 2;
    }
    let text = config_text(&repo_text, &scan);
    if let Err(e) = Config::parse(&text, config) {
        eprintln!("error: the proposed config does not load: {e}");
        return 2;
    }
    let report = |written: bool| InitReport {
        config,
        repo: &repo_text,
        apps: &scan.apps,
        bases: &scan.bases,
        written,
    };
    if !json {
        println!("Apps found in {repo_text}:");
        let rows: Vec<Vec<String>> = scan
            .apps
            .iter()
            .map(|a| {
                vec![
                    a.name.clone(),
                    if a.path.is_empty() {
                        ".".into()
                    } else {
                        a.path.clone()
                    },
                    a.kind.to_string(),
                    a.namespace.clone(),
                ]
            })
            .collect();
        let style = super::text::TextStyle::detect(false, false);
        print!(
            "{}",
            super::text::table(&style, &["NAME", "PATH", "KIND", "NAMESPACE"], &rows)
        );
        for b in &scan.bases {
            println!("({b}: used by another kustomization, not an app)");
        }
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: writing {} needs confirmation: pass --yes",
                config.display()
            );
            return 2;
        }
        eprint!(
            "Write {} app(s) to {}? [y/N] ",
            scan.apps.len(),
            config.display()
        );
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("init cancelled: nothing written");
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report(false)).unwrap_or_default()
                );
            }
            return 1;
        }
    }
    if let Some(parent) = config.parent().filter(|p| !p.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(parent) {
            eprintln!("error: cannot create {}: {e}", parent.display());
            return 2;
        }
    }
    if let Err(e) = std::fs::write(config, &text) {
        eprintln!("error: cannot write {}: {e}", config.display());
        return 2;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report(true)).unwrap_or_default()
        );
    } else {
        println!(
            "wrote {} ({} apps); `gitops-tui status` shows them, `gitops-tui` opens the TUI",
            config.display(),
            scan.apps.len()
        );
    }
    0
}

/// The one line a first run prints (no config, no apps): where the config
/// is looked for, and how to start.
pub fn first_run_line(config: Option<&Path>) -> String {
    let at = config.map_or_else(
        || "~/.config/gitops-tui/config.toml".to_string(),
        |p| p.display().to_string(),
    );
    let here_is_repo = git2::Repository::discover(".").is_ok();
    if here_is_repo {
        format!("no apps configured (config: {at}): `gitops-tui init` proposes apps from the Git repository here; `gitops-tui demo` tries it all on an embedded cluster")
    } else {
        format!("no apps configured (config: {at}): `gitops-tui init REPO` proposes apps from a Git repository; `gitops-tui demo` tries it all on an embedded cluster")
    }
}
