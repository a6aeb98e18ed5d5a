//! History of a path compared with the real `git log` on repositories these
//! tests build: merge-heavy random DAGs, renames, paths that come and go, and
//! the cache's incremental refresh.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use git2::{Oid, Repository, Signature, Time};
use gitops_tui::git::{self, HistoryCache, HistoryOptions, HistoryWalker};

type Files = BTreeMap<String, String>;

struct Builder {
    repo: Repository,
    _dir: tempfile::TempDir,
}

impl Builder {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init(dir.path()).unwrap();
        Builder { repo, _dir: dir }
    }

    fn path(&self) -> &Path {
        self.repo.workdir().unwrap()
    }

    fn tree(&self, files: &Files) -> Oid {
        // Build nested trees from the flat map.
        fn build(repo: &Repository, files: &[(&str, &str)]) -> Oid {
            let mut tb = repo.treebuilder(None).unwrap();
            let mut dirs: BTreeMap<&str, Vec<(&str, &str)>> = BTreeMap::new();
            for (path, content) in files {
                match path.split_once('/') {
                    Some((dir, rest)) => dirs.entry(dir).or_default().push((rest, content)),
                    None => {
                        let blob = repo.blob(content.as_bytes()).unwrap();
                        tb.insert(path, blob, 0o100644).unwrap();
                    }
                }
            }
            for (dir, entries) in dirs {
                let sub = build(repo, &entries);
                tb.insert(dir, sub, 0o040000).unwrap();
            }
            tb.write().unwrap()
        }
        let flat: Vec<(&str, &str)> = files
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        build(&self.repo, &flat)
    }

    fn commit(&self, files: &Files, parents: &[Oid], date: i64, msg: &str) -> Oid {
        let tree = self.repo.find_tree(self.tree(files)).unwrap();
        let sig = Signature::new("Test Author", "test@example.com", &Time::new(date, 60)).unwrap();
        let parents: Vec<_> = parents
            .iter()
            .map(|p| self.repo.find_commit(*p).unwrap())
            .collect();
        let refs: Vec<_> = parents.iter().collect();
        self.repo
            .commit(None, &sig, &sig, msg, &tree, &refs)
            .unwrap()
    }

    fn set_head(&self, oid: Oid) {
        self.repo
            .reference("refs/heads/main", oid, true, "test")
            .unwrap();
        self.repo.set_head("refs/heads/main").unwrap();
    }
}

fn git_log(repo: &Path, rev: &str, path: &str, first_parent: bool) -> Vec<String> {
    let mut cmd = Command::new("git");
    cmd.current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(["log", "--format=%H"]);
    if first_parent {
        cmd.arg("--first-parent");
    }
    let spec = if path.is_empty() { "." } else { path };
    cmd.args([rev, "--", spec]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn ours(repo: &Repository, head: Oid, path: &str, first_parent: bool) -> Vec<String> {
    HistoryWalker::new(repo, path, head, HistoryOptions { first_parent })
        .unwrap()
        .map(|e| e.unwrap().sha)
        .collect()
}

/// A small deterministic generator, so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const PATHS: &[&str] = &[
    "apps/a/deploy.yaml",
    "apps/a/svc.yaml",
    "apps/a/sub/cm.yaml",
    "apps/b/deploy.yaml",
    "apps/b/extra.yaml",
    "other/readme.md",
    "root.txt",
];

fn random_repo(seed: u64, steps: usize) -> (Builder, Oid) {
    let b = Builder::new();
    let mut rng = Rng(seed);
    let mut files = Files::new();
    files.insert("root.txt".into(), "0".into());
    let root = b.commit(&files, &[], 1_000_000, "root");
    let mut branches: Vec<(Oid, Files)> = vec![(root, files)];
    let mut date = 1_000_000i64;
    for step in 0..steps {
        // Dates mostly rise, sometimes repeat, sometimes go back (skew).
        date += match rng.below(10) {
            0 => 0,
            1 => -500,
            _ => 60,
        };
        let action = rng.below(100);
        let new_branch = (55..70).contains(&action) && branches.len() < 8;
        if !new_branch && (action < 55 || branches.len() < 2) {
            let i = rng.below(branches.len());
            let (head, mut files) = branches[i].clone();
            let path = PATHS[rng.below(PATHS.len())];
            if rng.below(6) == 0 {
                files.remove(path);
            } else {
                files.insert(path.into(), format!("{step}-{}", rng.below(3)));
            }
            let c = b.commit(&files, &[head], date, &format!("change {path} at {step}"));
            branches[i] = (c, files);
        } else if new_branch {
            let i = rng.below(branches.len());
            if rng.below(8) == 0 {
                // An unrelated history, merged later.
                let mut files = Files::new();
                files.insert(
                    PATHS[rng.below(PATHS.len())].into(),
                    format!("orphan{step}"),
                );
                let c = b.commit(&files, &[], date, "orphan root");
                branches.push((c, files));
            } else {
                let copy = branches[i].clone();
                branches.push(copy);
            }
        } else {
            let i = rng.below(branches.len());
            let mut j = rng.below(branches.len());
            if i == j {
                j = (j + 1) % branches.len();
            }
            let (hi, fi) = branches[i].clone();
            let (hj, fj) = branches[j].clone();
            if hi == hj {
                continue;
            }
            let mut parents = vec![hi, hj];
            if branches.len() > 2 && rng.below(6) == 0 {
                let k = (0..branches.len())
                    .find(|k| *k != i && *k != j && !parents.contains(&branches[*k].0));
                if let Some(k) = k {
                    parents.push(branches[k].0);
                }
            }
            let merged = match rng.below(4) {
                0 => fi.clone(), // -s ours
                1 => fj.clone(), // theirs
                _ => {
                    let mut m = fi.clone();
                    for p in PATHS {
                        match rng.below(3) {
                            0 => {}
                            1 => match fj.get(*p) {
                                Some(v) => {
                                    m.insert(p.to_string(), v.clone());
                                }
                                None => {
                                    m.remove(*p);
                                }
                            },
                            _ => {
                                if rng.below(4) == 0 {
                                    m.insert(p.to_string(), format!("evil{step}"));
                                }
                            }
                        }
                    }
                    m
                }
            };
            let c = b.commit(&merged, &parents, date, &format!("merge at {step}"));
            branches[i] = (c, merged);
            if rng.below(3) == 0 && branches.len() > 1 {
                branches.remove(j);
            }
        }
    }
    // Merge everything into the first branch at the end.
    let mut head = branches[0].0;
    let mut files = branches[0].1.clone();
    for (other, ofiles) in branches.iter().skip(1) {
        date += 60;
        for (k, v) in ofiles {
            files.entry(k.clone()).or_insert_with(|| v.clone());
        }
        head = b.commit(&files, &[head, *other], date, "final merge");
    }
    b.set_head(head);
    (b, head)
}

const QUERIES: &[&str] = &[
    "apps/a",
    "apps/b",
    "apps/a/sub",
    "apps/a/deploy.yaml",
    "apps",
    "other",
    "",
    "does/not/exist",
];

#[test]
fn merge_heavy_history_equals_git_log() {
    let mut simplification_mattered = 0;
    for seed in [1u64, 7, 42, 1234, 99_999] {
        let (b, head) = random_repo(seed, 250);
        for path in QUERIES {
            for first_parent in [false, true] {
                let expected = git_log(b.path(), "HEAD", path, first_parent);
                let got = ours(&b.repo, head, path, first_parent);
                assert_eq!(
                    got, expected,
                    "seed {seed} path {path:?} first_parent {first_parent}"
                );
            }
            let full = Command::new("git")
                .current_dir(b.path())
                .args(["log", "--format=%H", "--full-history", "HEAD", "--"])
                .arg(if path.is_empty() { "." } else { path })
                .output()
                .unwrap();
            let full: Vec<String> = String::from_utf8(full.stdout)
                .unwrap()
                .lines()
                .map(str::to_string)
                .collect();
            if full != git_log(b.path(), "HEAD", path, false) {
                simplification_mattered += 1;
            }
        }
    }
    // The repositories really exercise merge simplification.
    assert!(simplification_mattered > 10, "{simplification_mattered}");
}

#[test]
fn entries_carry_author_time_and_subject() {
    let b = Builder::new();
    let mut files = Files::new();
    files.insert("apps/web/a.yaml".into(), "x".into());
    let c = b.commit(&files, &[], 1_700_000_000, "Add web\n\nbody text");
    b.set_head(c);
    let entries: Vec<_> = HistoryWalker::new(&b.repo, "apps/web", c, HistoryOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(e.sha, c.to_string());
    assert_eq!(e.sha.len(), 40);
    assert_eq!(e.author_name, "Test Author");
    assert_eq!(e.author_email, "test@example.com");
    assert_eq!(e.time, 1_700_000_000);
    assert_eq!(e.offset_minutes, 60);
    assert_eq!(e.subject, "Add web");
}

#[test]
fn renames_and_paths_that_come_and_go() {
    let b = Builder::new();
    let mut f = Files::new();
    f.insert("apps/web/d.yaml".into(), "1".into());
    let c1 = b.commit(&f, &[], 1000, "add");
    f.insert("apps/web/d.yaml".into(), "2".into());
    let c2 = b.commit(&f, &[c1], 2000, "edit");
    // Move apps/ to main/apps/.
    let mut g = Files::new();
    g.insert("main/apps/web/d.yaml".into(), "2".into());
    let c3 = b.commit(&g, &[c2], 3000, "move");
    g.insert("main/apps/web/d.yaml".into(), "3".into());
    let c4 = b.commit(&g, &[c3], 4000, "edit moved");
    // And back, then the app disappears and comes back.
    let mut h = Files::new();
    h.insert("apps/web/d.yaml".into(), "3".into());
    let c5 = b.commit(&h, &[c4], 5000, "move back");
    let empty = Files::from([("README".to_string(), "x".to_string())]);
    let c6 = b.commit(&empty, &[c5], 6000, "delete");
    let c7 = b.commit(&h, &[c6], 7000, "re-add");
    b.set_head(c7);
    for path in [
        "apps/web",
        "main/apps/web",
        "apps",
        "apps/web/d.yaml",
        "README",
    ] {
        assert_eq!(
            ours(&b.repo, c7, path, false),
            git_log(b.path(), "HEAD", path, false),
            "{path}"
        );
    }
    let sha = |o: Oid| o.to_string();
    assert_eq!(
        ours(&b.repo, c7, "apps/web", false),
        vec![sha(c7), sha(c6), sha(c5), sha(c3), sha(c2), sha(c1)]
    );
    assert_eq!(
        ours(&b.repo, c7, "main/apps/web", false),
        vec![sha(c5), sha(c4), sha(c3)]
    );
}

#[test]
fn open_discovers_and_resolve_handles_every_rev_form() {
    let b = Builder::new();
    let mut f = Files::new();
    f.insert("apps/web/d.yaml".into(), "1".into());
    let c1 = b.commit(&f, &[], 1000, "one");
    f.insert("apps/web/d.yaml".into(), "2".into());
    let c2 = b.commit(&f, &[c1], 2000, "two");
    b.set_head(c2);
    let obj = b.repo.find_object(c1, None).unwrap();
    b.repo.tag_lightweight("light", &obj, false).unwrap();
    let sig = Signature::new("T", "t@e", &Time::new(3000, 0)).unwrap();
    b.repo.tag("annotated", &obj, &sig, "msg", false).unwrap();
    std::fs::create_dir_all(b.path().join("apps/web")).unwrap();

    let repo = git::open(&b.path().join("apps/web")).unwrap();
    assert_eq!(git::resolve(&repo, "HEAD").unwrap(), c2);
    assert_eq!(git::resolve(&repo, "main").unwrap(), c2);
    assert_eq!(git::resolve(&repo, "light").unwrap(), c1);
    assert_eq!(git::resolve(&repo, "annotated").unwrap(), c1);
    assert_eq!(git::resolve(&repo, &c1.to_string()[..10]).unwrap(), c1);
    assert_eq!(git::resolve(&repo, &c2.to_string()).unwrap(), c2);
    assert!(git::resolve(&repo, "nope").is_err());
    let tmp = tempfile::tempdir().unwrap();
    assert!(git::open(tmp.path()).is_err());
}

#[test]
fn cache_is_free_for_an_unchanged_head_and_exact_when_it_moves() {
    let (b, head1) = random_repo(5, 200);
    let cache = HistoryCache::default();
    let opts = HistoryOptions::default();
    let first = cache.history(&b.repo, "apps/a", head1, opts).unwrap();
    assert_eq!(
        first.iter().map(|e| e.sha.clone()).collect::<Vec<_>>(),
        git_log(b.path(), "HEAD", "apps/a", false)
    );

    let again = cache.walk(&b.repo, "apps/a", head1, opts).unwrap();
    assert!(again.is_cached());
    assert_eq!(&*again.finish().unwrap(), &*first);

    // Fast-forward: two new commits on top.
    let files = current_files(&b.repo, head1);
    let mut f = files.clone();
    f.insert("apps/a/deploy.yaml".into(), "ff1".into());
    let c1 = b.commit(&f, &[head1], 9_000_000, "ff1");
    f.insert("apps/b/deploy.yaml".into(), "ff2".into());
    let head2 = b.commit(&f, &[c1], 9_000_100, "ff2");
    b.set_head(head2);
    let walk = cache.walk(&b.repo, "apps/a", head2, opts).unwrap();
    assert!(!walk.is_cached());
    let second = walk.finish().unwrap();
    assert_eq!(
        second.iter().map(|e| e.sha.clone()).collect::<Vec<_>>(),
        git_log(b.path(), "HEAD", "apps/a", false)
    );
    assert_eq!(second[0].sha, c1.to_string());
    assert_eq!(&second[1..], &*first);

    // A merge of an old side branch with old dates: new commits interleave.
    let root = b.repo.find_commit(head1).unwrap();
    let mut ancestor = root.id();
    for _ in 0..20 {
        match b.repo.find_commit(ancestor).unwrap().parent_id(0) {
            Ok(p) => ancestor = p,
            Err(_) => break,
        }
    }
    let mut side = current_files(&b.repo, ancestor);
    side.insert("apps/a/side.yaml".into(), "side".into());
    let s1 = b.commit(&side, &[ancestor], 1_000_100, "old side");
    let mut merged = f.clone();
    merged.insert("apps/a/side.yaml".into(), "side".into());
    let head3 = b.commit(&merged, &[head2, s1], 9_000_200, "merge side");
    b.set_head(head3);
    let third = cache.history(&b.repo, "apps/a", head3, opts).unwrap();
    let fresh = ours(&b.repo, head3, "apps/a", false);
    assert_eq!(
        third.iter().map(|e| e.sha.clone()).collect::<Vec<_>>(),
        fresh
    );
    assert_eq!(fresh, git_log(b.path(), "HEAD", "apps/a", false));

    // Going back to an old head is exact too.
    let back = cache.history(&b.repo, "apps/a", head1, opts).unwrap();
    assert_eq!(&*back, &*first);
}

#[test]
fn first_page_streams_before_the_walk_ends() {
    let b = Builder::new();
    let mut f = Files::new();
    let mut head = b.commit(&f, &[], 1000, "root");
    for i in 0..3000 {
        let path = if i % 3 == 0 {
            "apps/a/x.yaml"
        } else {
            "apps/b/y.yaml"
        };
        f.insert(path.into(), i.to_string());
        head = b.commit(&f, &[head], 1000 + i, "c");
    }
    // How fast the first page comes is measured in benches/history.rs, not here.
    let mut walker =
        HistoryWalker::new(&b.repo, "apps/a", head, HistoryOptions::default()).unwrap();
    let page = walker.page(50).unwrap();
    assert_eq!(page.len(), 50);
    let rest: Vec<_> = walker.collect::<Result<_, _>>().unwrap();
    assert_eq!(rest.len(), 1000 - 50);
}

fn current_files(repo: &Repository, commit: Oid) -> Files {
    let files = git::files_at(repo, commit, "", Default::default()).unwrap();
    files
        .into_iter()
        .map(|f| match f.content {
            git::FileContent::Data(d) => (f.path, String::from_utf8(d).unwrap()),
            other => panic!("{other:?}"),
        })
        .collect()
}

fn write_commit_graph(repo: &Path, extra: &[&str]) {
    let out = Command::new("git")
        .current_dir(repo)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .args(extra)
        .args(["commit-graph", "write", "--reachable", "--changed-paths"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_all_queries_equal_git_log(b: &Builder, head: Oid, what: &str) {
    for path in QUERIES.iter().chain(&["apps/café", "apps/café/x.yaml"]) {
        for first_parent in [false, true] {
            assert_eq!(
                ours(&b.repo, head, path, first_parent),
                git_log(b.path(), "HEAD", path, first_parent),
                "{what}: path {path:?} first_parent {first_parent}"
            );
        }
    }
}

/// git's commit-graph and its changed-path Bloom filters (what `git
/// maintenance` leaves) are read for dates, trees, parents (octopus merges
/// included) and to skip unchanged paths; the answer stays git's, with the
/// graph current, stale (commits written after it), split into a chain, and
/// with filters of either hash version (version 1 hashes bytes above 0x7f
/// differently, hence the non-ASCII path).
#[test]
fn with_a_commit_graph_history_still_equals_git_log() {
    for (seed, version) in [(3u64, "1"), (42, "2"), (777, "1")] {
        let (b, head) = random_repo(seed, 200);
        // A non-ASCII app folder, changed on top of the random history.
        let mut files = current_files(&b.repo, head);
        files.insert("apps/café/x.yaml".into(), "1".into());
        let head = b.commit(&files, &[head], 9_000_000, "café");
        b.set_head(head);
        let setting = format!("commitGraph.changedPathsVersion={version}");
        write_commit_graph(b.path(), &["-c", &setting]);
        assert!(b.path().join(".git/objects/info/commit-graph").exists());
        assert_all_queries_equal_git_log(&b, head, &format!("seed {seed}, graph v{version}"));

        // Commits the graph does not know yet.
        let mut head = head;
        for (i, path) in ["apps/a/deploy.yaml", "other/readme.md", "apps/café/x.yaml"]
            .iter()
            .enumerate()
        {
            let mut files = current_files(&b.repo, head);
            files.insert(path.to_string(), format!("after-graph-{i}"));
            head = b.commit(
                &files,
                &[head],
                9_100_000 + i as i64 * 60,
                "after the graph",
            );
        }
        b.set_head(head);
        assert_all_queries_equal_git_log(&b, head, &format!("seed {seed}, stale graph"));

        // A split chain on top of the single file.
        write_commit_graph(
            b.path(),
            &["-c", &setting, "-c", "commitGraph.generationVersion=2"],
        );
        let out = Command::new("git")
            .current_dir(b.path())
            .args([
                "-c",
                &setting,
                "commit-graph",
                "write",
                "--reachable",
                "--changed-paths",
                "--split=no-merge",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_all_queries_equal_git_log(&b, head, &format!("seed {seed}, chain"));
    }
}
