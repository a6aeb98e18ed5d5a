//! Reading git's commit-graph, as `git log` does when one is present.
//!
//! `git commit-graph write --reachable --changed-paths` (and `git
//! maintenance`) store every commit's tree, parents and committer date in a
//! sorted table, and optionally a changed-path Bloom filter per commit. With
//! it `git log -- PATH` reads no commit objects for the commits it walks past
//! and compares no trees where a filter rules the path out, which makes it
//! several times faster than a walk over the object database. This reads the
//! same file (a single `objects/info/commit-graph` or a split chain under
//! `objects/info/commit-graphs/`) so our walk gets the same help.
//!
//! Trust: a commit-graph describes commits, which never change, so it cannot
//! go stale; commits written after it are simply absent and read from the
//! object database. What could mislead is a damaged file: every offset and
//! count is checked against the file's size, and anything that does not add
//! up makes the whole graph unused (the walk is then exactly what it was
//! without one). Like git, it is not used with grafts, replace refs or a
//! shallow clone, which rewrite parents behind the file's back.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

use super::bloom::BloomSettings;

const NO_PARENT: u32 = 0x7000_0000;
const EXTRA_EDGES: u32 = 0x8000_0000;
const HASH_LEN: usize = 20;

/// One graph file's tables, as byte ranges into its contents.
struct Layer {
    data: Vec<u8>,
    count: u32,
    fanout: usize,
    oids: usize,
    cdat: usize,
    edges: Option<(usize, usize)>,
    bloom: Option<Bloom>,
}

struct Bloom {
    index: usize,
    /// Start of the filters (after BDAT's 12-byte header) and their length.
    data: usize,
    len: usize,
    settings: BloomSettings,
}

/// The commits a commit-graph (or chain) knows.
pub(crate) struct CommitGraph {
    /// Base first; a commit's global position counts the layers before it.
    layers: Vec<Layer>,
    /// The Bloom settings, when every layer has filters made the same way.
    bloom: Option<BloomSettings>,
}

/// A commit as the graph records it.
pub(crate) struct GraphCommit {
    pub tree: Oid,
    pub date: i64,
}

fn be32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn be64(d: &[u8], at: usize) -> Option<u64> {
    let hi = be32(d, at)?;
    let lo = be32(d, at + 4)?;
    Some(u64::from(hi) << 32 | u64::from(lo))
}

impl Layer {
    fn parse(data: Vec<u8>) -> Option<Layer> {
        if data.get(0..4)? != b"CGPH" || *data.get(4)? != 1 || *data.get(5)? != 1 {
            return None;
        }
        let chunks = usize::from(*data.get(6)?);
        let mut table = Vec::with_capacity(chunks + 1);
        for i in 0..=chunks {
            let at = 8 + i * 12;
            let id: [u8; 4] = data.get(at..at + 4)?.try_into().ok()?;
            let offset = usize::try_from(be64(&data, at + 4)?).ok()?;
            if offset > data.len() {
                return None;
            }
            table.push((id, offset));
        }
        let chunk = |name: &[u8; 4]| {
            let i = table.iter().position(|(id, _)| id == name)?;
            let (start, end) = (table[i].1, table.get(i + 1)?.1);
            (start <= end).then_some((start, end))
        };
        let (fanout, fanout_end) = chunk(b"OIDF")?;
        if fanout_end - fanout != 256 * 4 {
            return None;
        }
        let count = be32(&data, fanout + 255 * 4)?;
        let n = usize::try_from(count).ok()?;
        let (oids, oids_end) = chunk(b"OIDL")?;
        let (cdat, cdat_end) = chunk(b"CDAT")?;
        if oids_end - oids != n * HASH_LEN || cdat_end - cdat != n * (HASH_LEN + 16) {
            return None;
        }
        let edges = chunk(b"EDGE");
        let bloom = match (chunk(b"BIDX"), chunk(b"BDAT")) {
            (Some((index, index_end)), Some((bdat, bdat_end)))
                if index_end - index == n * 4 && bdat_end - bdat >= 12 =>
            {
                let settings = BloomSettings {
                    hash_version: be32(&data, bdat)?,
                    num_hashes: be32(&data, bdat + 4)?,
                };
                let known = matches!(settings.hash_version, 1 | 2) && settings.num_hashes > 0;
                known.then_some(Bloom {
                    index,
                    data: bdat + 12,
                    len: bdat_end - bdat - 12,
                    settings,
                })
            }
            _ => None,
        };
        Some(Layer {
            data,
            count,
            fanout,
            oids,
            cdat,
            edges,
            bloom,
        })
    }

    fn oid_at(&self, i: u32) -> Option<&[u8]> {
        let at = self.oids + i as usize * HASH_LEN;
        self.data.get(at..at + HASH_LEN)
    }

    fn find(&self, oid: &[u8]) -> Option<u32> {
        let first = usize::from(*oid.first()?);
        let lo = if first == 0 {
            0
        } else {
            be32(&self.data, self.fanout + (first - 1) * 4)?
        };
        let hi = be32(&self.data, self.fanout + first * 4)?;
        let (mut lo, mut hi) = (lo, hi.min(self.count));
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.oid_at(mid)?.cmp(oid) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }
}

impl CommitGraph {
    /// The repository's commit-graph, if it has a usable one.
    pub fn open(repo: &Repository) -> Option<CommitGraph> {
        if repo.is_shallow() || has_replacements(repo) {
            return None;
        }
        let objects = repo.commondir().join("objects").join("info");
        if objects.join("grafts").exists() || repo.commondir().join("info/grafts").exists() {
            return None;
        }
        let files = graph_files(&objects)?;
        let mut layers = Vec::with_capacity(files.len());
        for f in files {
            layers.push(Layer::parse(std::fs::read(f).ok()?)?);
        }
        let first = layers.first()?.bloom.as_ref().map(|b| b.settings);
        let bloom = first.filter(|s| {
            layers
                .iter()
                .all(|l| l.bloom.as_ref().is_some_and(|b| b.settings == *s))
        });
        Some(CommitGraph { layers, bloom })
    }

    pub fn bloom_settings(&self) -> Option<BloomSettings> {
        self.bloom
    }

    /// The global position of a commit, if the graph has it (positions
    /// count the commits of the layers before its own).
    pub fn position(&self, oid: Oid) -> Option<u32> {
        let mut offset = 0u32;
        for layer in &self.layers {
            if let Some(i) = layer.find(oid.as_bytes()) {
                return offset.checked_add(i);
            }
            offset = offset.saturating_add(layer.count);
        }
        None
    }

    fn layer_of(&self, pos: u32) -> Option<(&Layer, u32)> {
        let mut start = 0u32;
        for layer in &self.layers {
            if pos < start.saturating_add(layer.count) {
                return Some((layer, pos - start));
            }
            start = start.saturating_add(layer.count);
        }
        None
    }

    fn oid(&self, pos: u32) -> Option<Oid> {
        let (layer, i) = self.layer_of(pos)?;
        Oid::from_bytes(layer.oid_at(i)?).ok()
    }

    /// The commit at `pos`: tree and committer date, its parents appended
    /// to `parents`. `None` (and `parents` untouched) if the entry does not
    /// add up.
    pub fn commit(&self, pos: u32, parents: &mut Vec<Oid>) -> Option<GraphCommit> {
        let (layer, i) = self.layer_of(pos)?;
        let at = layer.cdat + i as usize * (HASH_LEN + 16);
        let d = &layer.data;
        let tree = Oid::from_bytes(d.get(at..at + HASH_LEN)?).ok()?;
        let p1 = be32(d, at + HASH_LEN)?;
        let p2 = be32(d, at + HASH_LEN + 4)?;
        let gen_hi = be32(d, at + HASH_LEN + 8)?;
        let lo = be32(d, at + HASH_LEN + 12)?;
        let date = i64::from(gen_hi & 0x3) << 32 | i64::from(lo);
        let start = parents.len();
        let push = |p: u32, parents: &mut Vec<Oid>| -> Option<()> {
            parents.push(self.oid(p)?);
            Some(())
        };
        let ok = (|| {
            if p1 != NO_PARENT {
                push(p1, parents)?;
            }
            if p2 == NO_PARENT {
                return Some(());
            }
            if p2 & EXTRA_EDGES == 0 {
                return push(p2, parents);
            }
            // An octopus: the rest of the parents are in EDGE, the last one flagged.
            let (edges, end) = layer.edges?;
            let mut at = edges + (p2 & !EXTRA_EDGES) as usize * 4;
            loop {
                if at + 4 > end {
                    return None;
                }
                let e = be32(d, at)?;
                push(e & !EXTRA_EDGES, parents)?;
                if e & EXTRA_EDGES != 0 {
                    return Some(());
                }
                at += 4;
            }
        })();
        if ok.is_none() {
            parents.truncate(start);
            return None;
        }
        Some(GraphCommit { tree, date })
    }

    /// The changed-path filter of the commit at `pos` (empty: no answer).
    pub fn filter(&self, pos: u32) -> Option<&[u8]> {
        let (layer, i) = self.layer_of(pos)?;
        let bloom = layer.bloom.as_ref()?;
        let end = be32(&layer.data, bloom.index + i as usize * 4)? as usize;
        let start = match i {
            0 => 0,
            _ => be32(&layer.data, bloom.index + (i as usize - 1) * 4)? as usize,
        };
        if start > end || end > bloom.len {
            return None;
        }
        layer.data.get(bloom.data + start..bloom.data + end)
    }
}

fn has_replacements(repo: &Repository) -> bool {
    repo.references_glob("refs/replace/*")
        .map(|mut r| r.next().is_some())
        .unwrap_or(true)
}

/// The graph files, base first: a split chain if there is one, else the
/// single file.
fn graph_files(info: &Path) -> Option<Vec<PathBuf>> {
    let chain = info.join("commit-graphs").join("commit-graph-chain");
    if let Ok(text) = std::fs::read_to_string(&chain) {
        let files: Vec<PathBuf> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|h| info.join("commit-graphs").join(format!("graph-{h}.graph")))
            .collect();
        return (!files.is_empty()).then_some(files);
    }
    let single = info.join("commit-graph");
    single.exists().then(|| vec![single])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::git::bloom::keys_for;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = Command::new("git")
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "A")
            .env("GIT_AUTHOR_EMAIL", "a@example.invalid")
            .env("GIT_COMMITTER_NAME", "A")
            .env("GIT_COMMITTER_EMAIL", "a@example.invalid")
            .args(args)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Ten commits alternating between `a/` and `b/`, then an octopus merge
    /// of two side branches.
    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        for i in 0..10 {
            let sub = if i % 2 == 0 { "a" } else { "b" };
            std::fs::create_dir_all(d.join(sub)).expect("dir");
            std::fs::write(d.join(sub).join("f"), i.to_string()).expect("file");
            git(d, &["add", "."]);
            git(d, &["commit", "-q", "-m", &format!("{sub} {i}")]);
        }
        for side in ["x", "y"] {
            git(d, &["checkout", "-q", "-b", side, "main~3"]);
            std::fs::write(d.join(side), side).expect("file");
            git(d, &["add", "."]);
            git(d, &["commit", "-q", "-m", side]);
        }
        git(d, &["checkout", "-q", "main"]);
        git(d, &["merge", "-q", "--no-edit", "x", "y"]);
        git(
            d,
            &["commit-graph", "write", "--reachable", "--changed-paths"],
        );
        dir
    }

    #[test]
    fn commits_read_from_the_graph_equal_the_object_database() {
        let dir = repo();
        let repo = Repository::open(dir.path()).expect("repo");
        let graph = CommitGraph::open(&repo).expect("a usable commit-graph");
        let mut walk = repo.revwalk().expect("revwalk");
        walk.push_head().expect("head");
        let mut seen = 0;
        for oid in walk {
            let oid = oid.expect("oid");
            let commit = repo.find_commit(oid).expect("commit");
            let pos = graph.position(oid).expect("every commit is in the graph");
            let mut parents = Vec::new();
            let c = graph.commit(pos, &mut parents).expect("entry");
            assert_eq!(c.tree, commit.tree_id());
            assert_eq!(c.date, commit.time().seconds());
            assert_eq!(parents, commit.parent_ids().collect::<Vec<_>>());
            seen += 1;
        }
        assert_eq!(seen, 13);
        let head = repo.head().expect("head").target().expect("oid");
        let mut parents = Vec::new();
        let pos = graph.position(head).expect("head");
        graph.commit(pos, &mut parents).expect("octopus entry");
        assert_eq!(parents.len(), 3, "the octopus's parents come from EDGE");
        assert!(graph.position(Oid::ZERO_SHA1).is_none());
    }

    #[test]
    fn filters_rule_out_what_a_commit_did_not_touch() {
        let dir = repo();
        let repo = Repository::open(dir.path()).expect("repo");
        let graph = CommitGraph::open(&repo).expect("graph");
        let settings = graph.bloom_settings().expect("changed-path filters");
        let a = keys_for(&["a".to_string()], settings);
        let touched_b = Oid::from_str(&git(dir.path(), &["rev-parse", "main^1"])).expect("oid");
        let msg = git(
            dir.path(),
            &["log", "-1", "--format=%s", &touched_b.to_string()],
        );
        assert!(msg.starts_with('b'), "{msg}");
        let filter = graph
            .filter(graph.position(touched_b).expect("pos"))
            .expect("filter");
        assert_eq!(
            a[0].maybe_in(filter),
            Some(false),
            "a commit on b/ says a/ is unchanged"
        );
        let b = keys_for(&["b".to_string(), "f".to_string()], settings);
        assert!(b.iter().all(|k| k.maybe_in(filter) == Some(true)));
    }

    #[test]
    fn a_damaged_graph_is_not_used() {
        let dir = repo();
        let file = dir.path().join(".git/objects/info/commit-graph");
        let mut data = std::fs::read(&file).expect("graph");
        // Cut the file inside its tables.
        data.truncate(data.len() / 2);
        std::fs::write(&file, data).expect("write");
        let repo = Repository::open(dir.path()).expect("repo");
        assert!(CommitGraph::open(&repo).is_none());
    }
}
