//! Files at a commit read from the object database, the size bound, symlinks,
//! missing blobs, the export for kustomize, and manifests loaded at a commit
//! (kustomize roots rendered with the real kubectl).

use std::path::Path;

use git2::{Oid, Repository, Signature, Time};
use gitops_tui::git::{self, FileContent, ReadLimits};
use gitops_tui::manifest;

fn commit(repo: &Repository, entries: &[(&str, &[u8], i32)], parents: &[Oid]) -> Oid {
    let mut index = git2::Index::new().unwrap();
    for (path, data, mode) in entries {
        let oid = repo.blob(data).unwrap();
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: *mode as u32,
            uid: 0,
            gid: 0,
            file_size: data.len() as u32,
            id: oid,
            flags: 0,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry).unwrap();
    }
    let tree = repo.find_tree(index.write_tree_to(repo).unwrap()).unwrap();
    let sig = Signature::new("T", "t@example.com", &Time::new(1000, 0)).unwrap();
    let parents: Vec<_> = parents
        .iter()
        .map(|p| repo.find_commit(*p).unwrap())
        .collect();
    let refs: Vec<_> = parents.iter().collect();
    repo.commit(Some("HEAD"), &sig, &sig, "c", &tree, &refs)
        .unwrap()
}

const CM: &[u8] = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n";

#[test]
fn files_at_lists_sorted_bytes_without_touching_the_work_tree() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let c1 = commit(
        &repo,
        &[
            ("apps/web/z.yaml", b"z", 0o100644),
            ("apps/web/a/b.yaml", b"b", 0o100644),
            ("apps/web/a.yaml", b"a", 0o100644),
            ("apps/web-two/x.yaml", b"x", 0o100644),
            ("apps/web/link.yaml", b"../shared.yaml", 0o120000),
            ("apps/web/big.yaml", &[b'x'; 100], 0o100644),
        ],
        &[],
    );
    let c2 = commit(&repo, &[("apps/other.yaml", b"o", 0o100644)], &[c1]);
    let limits = ReadLimits { max_file_bytes: 50 };
    let files = git::files_at(&repo, c1, "apps/web", limits).unwrap();
    let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        paths,
        vec![
            "apps/web/a.yaml",
            "apps/web/a/b.yaml",
            "apps/web/big.yaml",
            "apps/web/link.yaml",
            "apps/web/z.yaml"
        ]
    );
    assert_eq!(files[0].content, FileContent::Data(b"a".to_vec()));
    assert_eq!(
        files[2].content,
        FileContent::TooLarge {
            size: 100,
            limit: 50
        }
    );
    assert_eq!(
        files[3].content,
        FileContent::Symlink {
            target: "../shared.yaml".into()
        }
    );
    // A single file, and a path missing at a later commit.
    let one = git::files_at(&repo, c1, "apps/web/z.yaml", limits).unwrap();
    assert_eq!(one.len(), 1);
    assert!(matches!(
        git::files_at(&repo, c2, "apps/web", limits),
        Err(git::GitError::PathNotFound { .. })
    ));
    // Nothing was checked out.
    assert!(!dir.path().join("apps").exists());
}

#[test]
fn a_missing_blob_is_a_placeholder_and_an_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let c = commit(
        &repo,
        &[
            ("app/a.yaml", CM, 0o100644),
            ("app/b.yaml", b"gone soon", 0o100644),
        ],
        &[],
    );
    let gone = repo.blob(b"gone soon").unwrap().to_string();
    let loose = dir
        .path()
        .join(".git/objects")
        .join(&gone[..2])
        .join(&gone[2..]);
    std::fs::remove_file(&loose).unwrap();
    let repo = Repository::open(dir.path()).unwrap();
    let files = git::files_at(&repo, c, "app", ReadLimits::default()).unwrap();
    assert!(matches!(files[1].content, FileContent::Missing { .. }));
    // A file that cannot be read makes the whole app invalid, naming it.
    let err = manifest::load_at_commit(&repo, c, "app", ReadLimits::default()).unwrap_err();
    assert_eq!(err.errors.len(), 1, "{err}");
    assert!(
        err.to_string()
            .starts_with("app/b.yaml:1: unreadable file: Git object"),
        "{err}"
    );
}

#[test]
fn export_writes_the_subtree() {
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let c = commit(
        &repo,
        &[
            ("apps/web/a.yaml", b"a", 0o100644),
            ("apps/web/sub/b.yaml", b"b", 0o100644),
            ("apps/web/in.yaml", b"a.yaml", 0o120000),
            ("apps/web/out.yaml", b"../../../x", 0o120000),
            ("other/c.yaml", b"c", 0o100644),
        ],
        &[],
    );
    let out = tempfile::tempdir().unwrap();
    let summary =
        git::export_tree(&repo, c, "apps/web", out.path(), ReadLimits::default()).unwrap();
    assert_eq!(summary.written, 3);
    assert_eq!(summary.skipped.len(), 1);
    assert_eq!(std::fs::read(out.path().join("sub/b.yaml")).unwrap(), b"b");
    assert_eq!(std::fs::read(out.path().join("in.yaml")).unwrap(), b"a");
    assert!(!out.path().join("other").exists());
}

fn kubectl_available() -> bool {
    std::process::Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok()
}

#[test]
fn load_at_commit_renders_kustomize_roots_from_the_commit() {
    if !kubectl_available() {
        eprintln!("kubectl not installed; skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = Repository::init(dir.path()).unwrap();
    let base_k = b"resources:\n  - cm.yaml\n";
    let overlay_k = b"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - ../../base\nnamePrefix: prod-\n";
    let c = commit(
        &repo,
        &[
            ("apps/web/base/kustomization.yaml", base_k, 0o100644),
            ("apps/web/base/cm.yaml", CM, 0o100644),
            (
                "apps/web/overlays/prod/kustomization.yaml",
                overlay_k,
                0o100644,
            ),
            (
                "apps/web/plain.yaml",
                b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
                0o100644,
            ),
        ],
        &[],
    );
    let loaded =
        manifest::load_at_commit(&repo, c, "apps/web/overlays/prod", ReadLimits::default())
            .unwrap();
    assert_eq!(loaded.kustomize_roots, vec!["apps/web/overlays/prod"]);
    assert_eq!(loaded.objects.len(), 1);
    assert_eq!(loaded.objects[0].object["metadata"]["name"], "prod-cm");
    assert_eq!(loaded.objects[0].source.file, "apps/web/overlays/prod");

    // Both roots rendered, plus the plain file beside them.
    let both = manifest::load_at_commit(&repo, c, "apps/web", ReadLimits::default()).unwrap();
    assert_eq!(
        both.kustomize_roots,
        vec!["apps/web/base", "apps/web/overlays/prod"]
    );
    assert_eq!(both.objects.len(), 3);

    // A broken kustomization is an error naming its directory.
    let bad = commit(
        &repo,
        &[(
            "k/kustomization.yaml",
            b"resources:\n  - nope.yaml\n",
            0o100644,
        )],
        &[c],
    );
    let err = manifest::load_at_commit(&repo, bad, "k", ReadLimits::default()).unwrap_err();
    assert_eq!(err.errors[0].file(), "k");
    assert!(
        !err.to_string()
            .contains(&std::env::temp_dir().display().to_string()),
        "{err}"
    );
}

#[test]
fn render_kustomize_on_a_folder() {
    if !kubectl_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("kustomization.yaml"),
        "resources: [cm.yaml]\nnamespace: x\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("cm.yaml"), CM).unwrap();
    let out = manifest::render_kustomize(Path::new(dir.path())).unwrap();
    assert!(out.contains("namespace: x"), "{out}");
}
