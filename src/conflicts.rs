//! Which tasks would collide (`git par list --conflicts`): for each task, whether its committed
//! work merges cleanly into its base's current tip, and which other tasks of the same base would
//! make it conflict if they were merged first, with the files.
//!
//! Everything is worked out with `git merge-tree --write-tree`, which writes objects but
//! touches no working tree, index or ref. merge-tree costs tens of milliseconds on a large
//! repository, so it runs only where a conflict is possible: each task's changed paths are
//! read once (a tree diff from its merge base), and two changes that touch no common path,
//! no path inside the other's files, and no folder the other emptied cannot conflict (see
//! [`Changes::may_collide`]). What is left runs on all cores.
//!
//! "B merged first, then A" is the merge `finish` would make: A's tip merged into the tree
//! the base has after B (B's tip when B fast-forwards, else B's clean merge with the base),
//! from A's merge base with the base. Uncommitted changes do not count: they are not part of
//! any merge until they are committed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use git2::{Delta, Oid};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::git::{git, Repo};

/// One task as the forecast needs it.
pub struct Subject<'a> {
    pub task: &'a str,
    pub branch: &'a str,
    pub base: Option<&'a str>,
}

/// What the forecast says of one task (the `conflicts` object of `git par list --json`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Forecast {
    /// Whether the task's committed work merges cleanly into its base's current tip; null when
    /// that could not be worked out (`reason` says why).
    pub merges_cleanly: Option<bool>,
    /// The files that would conflict with the base's current tip.
    pub base_files: Vec<String>,
    /// Other tasks of the same base that, merged first, would make this one conflict, with
    /// the files (beyond those that conflict with the base already).
    pub with_tasks: Vec<Collision>,
    /// Why the task could not be looked at, when it could not.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Collision {
    pub task: String,
    pub files: Vec<String>,
}

impl Forecast {
    fn unknown(reason: String) -> Forecast {
        Forecast {
            reason: Some(reason),
            ..Forecast::default()
        }
    }

    /// A short text for the table: `clean`, or what it would conflict with.
    pub fn describe(&self, base: Option<&str>) -> String {
        let mut parts = Vec::new();
        match self.merges_cleanly {
            None => return format!("? {}", self.reason.as_deref().unwrap_or("unknown")),
            Some(false) => parts.push(format!(
                "conflicts with {} in {}",
                base.unwrap_or("its base"),
                self.base_files.join(", ")
            )),
            Some(true) => {}
        }
        for c in &self.with_tasks {
            parts.push(format!("after {}: {}", c.task, c.files.join(", ")));
        }
        if parts.is_empty() {
            "merges cleanly".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The `--porcelain` field: `-` when not worked out, `:clean`, or what the task would
/// conflict with, space-separated: `:base` for its base, then task names (task names hold no
/// `:` and no white space).
pub fn porcelain(forecast: Option<&Forecast>) -> String {
    let Some(f) = forecast.filter(|f| f.merges_cleanly.is_some()) else {
        return "-".into();
    };
    let mut names: Vec<&str> = Vec::new();
    if f.merges_cleanly == Some(false) {
        names.push(":base");
    }
    names.extend(f.with_tasks.iter().map(|c| c.task.as_str()));
    if names.is_empty() {
        ":clean".into()
    } else {
        names.join(" ")
    }
}

/// A task that could be looked at: its tips and its change.
struct Side {
    task: String,
    base: String,
    tip: Oid,
    base_tip: Oid,
    merge_base: Oid,
    /// The base already holds all of it: it adds nothing and conflicts with nothing.
    merged: bool,
    /// Its tip is a descendant of the base's tip: it merges by fast-forward.
    fast_forward: bool,
    changes: Changes,
}

/// The paths a change touches, as the pre-filter needs them.
#[derive(Debug, Default)]
struct Changes {
    /// Every path added, deleted or modified.
    paths: BTreeSet<Vec<u8>>,
    /// Every folder holding one of `paths`, at any depth.
    dirs: BTreeSet<Vec<u8>>,
    /// Every folder holding an added path, and one holding a deleted path: git's directory
    /// rename detection moves a file added in a folder that the other side emptied.
    added_in: BTreeSet<Vec<u8>>,
    deleted_in: BTreeSet<Vec<u8>>,
}

fn parents(path: &[u8]) -> impl Iterator<Item = &[u8]> {
    path.iter()
        .enumerate()
        .filter(|(_, b)| **b == b'/')
        .map(move |(i, _)| &path[..i])
}

impl Changes {
    fn between(repo: &git2::Repository, from: Oid, to: Oid) -> Result<Changes> {
        let old = repo.find_commit(from)?.tree()?;
        let new = repo.find_commit(to)?.tree()?;
        let mut opts = git2::DiffOptions::new();
        opts.skip_binary_check(true).ignore_submodules(false);
        let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), Some(&mut opts))?;
        let mut changes = Changes::default();
        for delta in diff.deltas() {
            for (file, side) in [
                (delta.old_file(), Delta::Deleted),
                (delta.new_file(), Delta::Added),
            ] {
                let Some(path) = file.path_bytes() else {
                    continue;
                };
                changes.paths.insert(path.to_vec());
                for dir in parents(path) {
                    changes.dirs.insert(dir.to_vec());
                    if delta.status() == side {
                        let set = if side == Delta::Added {
                            &mut changes.added_in
                        } else {
                            &mut changes.deleted_in
                        };
                        set.insert(dir.to_vec());
                    }
                }
            }
        }
        Ok(changes)
    }

    /// Whether merging the two changes could conflict. No common path, no file of one where
    /// the other has a folder, and no file added in a folder the other emptied: then
    /// merge-ort has nothing to fight over.
    fn may_collide(&self, other: &Changes) -> bool {
        let meets = |a: &BTreeSet<Vec<u8>>, b: &BTreeSet<Vec<u8>>| {
            let (small, large) = if a.len() <= b.len() { (a, b) } else { (b, a) };
            small.iter().any(|p| large.contains(p))
        };
        meets(&self.paths, &other.paths)
            || meets(&self.paths, &other.dirs)
            || meets(&self.dirs, &other.paths)
            || meets(&self.added_in, &other.deleted_in)
            || meets(&self.deleted_in, &other.added_in)
    }
}

/// What one `git merge-tree` said: the clean tree, or the conflicting files.
#[derive(Debug, Clone)]
enum Merged {
    Clean(Oid),
    Conflicts(Vec<String>),
}

/// `git merge-tree --write-tree` of `ours` and `theirs` (commits, or trees with `merge_base`).
fn merge_tree(dir: &Path, ours: Oid, theirs: Oid, merge_base: Option<Oid>) -> Result<Merged> {
    let mut args = vec![
        "merge-tree".to_string(),
        "--write-tree".into(),
        "--name-only".into(),
        "--no-messages".into(),
        "-z".into(),
    ];
    if let Some(mb) = merge_base {
        args.push(format!("--merge-base={mb}"));
    }
    args.push(ours.to_string());
    args.push(theirs.to_string());
    let out = git(dir, &args).output()?;
    let mut fields = out.stdout.split(|b| *b == 0);
    let tree = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
    // git also exits 1 when it cannot start the merge (a commit it cannot find): only a
    // result that begins with a tree is a conflict.
    let has_tree = Oid::from_str(tree.trim()).is_ok();
    match out.code {
        0 => Ok(Merged::Clean(tree.trim().parse()?)),
        1 if has_tree => {
            let mut files: Vec<String> = fields
                .take_while(|f| !f.is_empty())
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            files.dedup();
            Ok(Merged::Conflicts(files))
        }
        _ => Err(Error::failed(format!(
            "git merge-tree failed: {}",
            out.stderr_str()
        ))),
    }
}

/// One merge to work out: `ours` and `theirs` (commits, or trees with `merge_base`).
#[derive(Debug, Clone, Copy)]
struct Merge {
    merge_base: Option<Oid>,
    ours: Oid,
    theirs: Oid,
}

/// Every merge, through `git merge-tree --stdin`: one git process per core instead of one per
/// merge, which is most of the cost on a large repository. Should a batch fail (one bad merge
/// ends the whole process), its merges run one by one, so each gets its own answer.
fn merge_all(dir: &Path, merges: &[Merge]) -> Vec<Result<Merged>> {
    if merges.is_empty() {
        return Vec::new();
    }
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let chunks: Vec<&[Merge]> = merges.chunks(merges.len().div_ceil(cores)).collect();
    on_all_cores(&chunks, |chunk| {
        merge_batch(dir, chunk).unwrap_or_else(|_| {
            chunk
                .iter()
                .map(|m| merge_tree(dir, m.ours, m.theirs, m.merge_base))
                .collect()
        })
    })
    .into_iter()
    .flatten()
    .collect()
}

fn merge_batch(dir: &Path, merges: &[Merge]) -> Result<Vec<Result<Merged>>> {
    let mut input = String::new();
    for m in merges {
        if let Some(mb) = m.merge_base {
            input.push_str(&format!("{mb} -- "));
        }
        input.push_str(&format!("{} {}\n", m.ours, m.theirs));
    }
    let out = git(
        dir,
        [
            "merge-tree",
            "--stdin",
            "--write-tree",
            "--name-only",
            "--no-messages",
            "-z",
        ],
    )
    .stdin(input.into_bytes())
    .output()?;
    if out.code != 0 {
        return Err(Error::failed(format!(
            "git merge-tree --stdin failed: {}",
            out.stderr_str()
        )));
    }
    // Each merge: `<1 clean | 0 conflicted>\0<tree>\0`, the conflicted files `<path>\0`,
    // then an empty field.
    let mut fields = out.stdout.split(|b| *b == 0);
    let mut results = Vec::with_capacity(merges.len());
    for _ in merges {
        let status = fields.next().unwrap_or_default();
        let tree = String::from_utf8_lossy(fields.next().unwrap_or_default()).into_owned();
        let mut files: Vec<String> = fields
            .by_ref()
            .take_while(|f| !f.is_empty())
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        files.dedup();
        results.push(match status {
            b"1" => Ok(Merged::Clean(tree.parse()?)),
            b"0" => Ok(Merged::Conflicts(files)),
            _ => {
                return Err(Error::failed(format!(
                    "git merge-tree --stdin said '{}'",
                    String::from_utf8_lossy(status)
                )))
            }
        });
    }
    Ok(results)
}

/// Runs `f` on every item, as many at once as there are cores, results in item order.
fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let queue = Mutex::new(items.iter().enumerate());
    let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(items.len().max(1));
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                while let Some((i, item)) = queue.lock().ok().and_then(|mut q| q.next()) {
                    let r = f(item);
                    if let Ok(mut all) = results.lock() {
                        all.push((i, r));
                    }
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// The forecast for every task, by name.
pub fn forecast(repo: &Repo, subjects: &[Subject]) -> BTreeMap<String, Forecast> {
    let mut out = BTreeMap::new();
    let mut sides = Vec::new();
    let mut base_changes: HashMap<(Oid, Oid), Changes> = HashMap::new();
    for s in subjects {
        match side(repo, s, &mut base_changes) {
            Ok(side) => sides.push(side),
            Err(reason) => {
                out.insert(s.task.to_string(), Forecast::unknown(reason));
            }
        }
    }
    let dir: PathBuf = repo.main_worktree.clone();

    // Which task would collide with which: pairs of the same base whose changes meet.
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (a, sa) in sides.iter().enumerate() {
        for (b, sb) in sides.iter().enumerate() {
            if a != b
                && sa.base == sb.base
                && !sa.merged
                && !sb.merged
                && sa.changes.may_collide(&sb.changes)
            {
                pairs.push((a, b));
            }
        }
    }
    // Each task against its base: merge-tree where it cannot fast-forward and either its
    // change meets the base's, or another task needs the base's tree after it.
    let needed: Vec<usize> = (0..sides.len())
        .filter(|&i| {
            let s = &sides[i];
            let meets_base = base_changes
                .get(&(s.merge_base, s.base_tip))
                .is_some_and(|c| c.may_collide(&s.changes));
            !s.merged && !s.fast_forward && (meets_base || pairs.iter().any(|p| p.1 == i))
        })
        .collect();
    let with_base_merges: Vec<Merge> = needed
        .iter()
        .map(|&i| Merge {
            merge_base: None,
            ours: sides[i].base_tip,
            theirs: sides[i].tip,
        })
        .collect();
    let merged = merge_all(&dir, &with_base_merges);
    let mut with_base: HashMap<usize, Merged> = HashMap::new();
    for (&i, result) in needed.iter().zip(merged) {
        match result {
            Ok(m) => {
                with_base.insert(i, m);
            }
            Err(e) => {
                out.insert(sides[i].task.clone(), Forecast::unknown(e.message));
            }
        }
    }
    // The base's tree once `b` is merged into it, when it merges cleanly.
    let after = |b: usize| -> Option<Oid> {
        let s = &sides[b];
        match with_base.get(&b) {
            Some(Merged::Clean(tree)) => Some(*tree),
            Some(Merged::Conflicts(_)) => None,
            // Not worked out (merge-tree failed): it cannot be said to merge first.
            None => s.fast_forward.then_some(s.tip),
        }
    };
    // Two tasks that both fast-forward (both forked at the base's tip) make the same merge
    // either way round, from the same merge base: it runs once and counts for both.
    let mirrored = |a: usize, b: usize| sides[a].fast_forward && sides[b].fast_forward;
    let jobs: Vec<(usize, usize, Oid)> = pairs
        .iter()
        .filter(|&&(a, b)| !(a > b && mirrored(a, b)))
        .filter_map(|&(a, b)| Some((a, b, after(b)?)))
        .collect();
    let pair_merges: Vec<Merge> = jobs
        .iter()
        .map(|&(a, _, ours)| Merge {
            merge_base: Some(sides[a].merge_base),
            ours,
            theirs: sides[a].tip,
        })
        .collect();
    let pair_results = merge_all(&dir, &pair_merges);
    let mut collisions: HashMap<usize, Vec<Collision>> = HashMap::new();
    for (&(a, b, _), result) in jobs.iter().zip(pair_results) {
        let files = match result {
            Ok(Merged::Conflicts(files)) => files,
            Ok(Merged::Clean(_)) => continue,
            Err(e) => vec![format!("(could not tell: {})", e.message)],
        };
        let ways = if mirrored(a, b) {
            vec![(a, b), (b, a)]
        } else {
            vec![(a, b)]
        };
        for (x, y) in ways {
            let known: &[String] = match with_base.get(&x) {
                Some(Merged::Conflicts(f)) => f,
                _ => &[],
            };
            let files: Vec<String> = files
                .iter()
                .filter(|f| !known.contains(f))
                .cloned()
                .collect();
            if !files.is_empty() {
                collisions.entry(x).or_default().push(Collision {
                    task: sides[y].task.clone(),
                    files,
                });
            }
        }
    }
    for list in collisions.values_mut() {
        list.sort_by(|p, q| p.task.cmp(&q.task));
    }
    for (i, s) in sides.iter().enumerate() {
        if out.contains_key(&s.task) {
            continue;
        }
        let base_files = match with_base.get(&i) {
            Some(Merged::Conflicts(files)) => files.clone(),
            _ => Vec::new(),
        };
        out.insert(
            s.task.clone(),
            Forecast {
                merges_cleanly: Some(base_files.is_empty()),
                base_files,
                with_tasks: collisions.remove(&i).unwrap_or_default(),
                reason: None,
            },
        );
    }
    out
}

/// Reads one task's tips and change; the error is why it cannot be looked at.
fn side(
    repo: &Repo,
    s: &Subject,
    base_changes: &mut HashMap<(Oid, Oid), Changes>,
) -> std::result::Result<Side, String> {
    let g = &repo.git;
    let tip = repo
        .branch_tip(s.branch)
        .ok_or_else(|| format!("its branch '{}' is gone", s.branch))?;
    let base = s.base.ok_or("it has no base branch")?;
    let base_tip = repo
        .branch_tip(base)
        .ok_or_else(|| format!("its base branch '{base}' is gone"))?;
    let merge_base = g
        .merge_base(tip, base_tip)
        .map_err(|_| format!("it has no history in common with '{base}'"))?;
    let merged = merge_base == tip;
    let fast_forward = merge_base == base_tip;
    let changes = if merged {
        Changes::default()
    } else {
        Changes::between(g, merge_base, tip).map_err(|e| e.message)?
    };
    if !merged && !fast_forward && !base_changes.contains_key(&(merge_base, base_tip)) {
        let theirs = Changes::between(g, merge_base, base_tip).map_err(|e| e.message)?;
        base_changes.insert((merge_base, base_tip), theirs);
    }
    Ok(Side {
        task: s.task.to_string(),
        base: base.to_string(),
        tip,
        base_tip,
        merge_base,
        merged,
        fast_forward,
        changes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(added: &[&str], deleted: &[&str], modified: &[&str]) -> Changes {
        let mut c = Changes::default();
        for (list, kind) in [(added, 'a'), (deleted, 'd'), (modified, 'm')] {
            for p in list {
                let p = p.as_bytes();
                c.paths.insert(p.to_vec());
                for d in parents(p) {
                    c.dirs.insert(d.to_vec());
                    match kind {
                        'a' => c.added_in.insert(d.to_vec()),
                        'd' => c.deleted_in.insert(d.to_vec()),
                        _ => false,
                    };
                }
            }
        }
        c
    }

    /// A repository with `f` on main and two branches changing its one line: `a` and `b`.
    fn two_branches() -> (tempfile::TempDir, Oid, Oid, Oid) {
        let dir = tempfile::tempdir().expect("temp dir");
        let sh = |script: &str| {
            let ok = std::process::Command::new("sh")
                .args(["-c", script])
                .current_dir(dir.path())
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_AUTHOR_NAME", "t")
                .env("GIT_AUTHOR_EMAIL", "t@example.com")
                .env("GIT_COMMITTER_NAME", "t")
                .env("GIT_COMMITTER_EMAIL", "t@example.com")
                .status()
                .expect("sh")
                .success();
            assert!(ok, "{script}");
        };
        sh("git init -q -b main . && echo 0 > f && git add f && git commit -qm 0");
        sh("git checkout -qb a && echo a > f && git commit -qam a");
        sh("git checkout -q main && git checkout -qb b && echo b > f && git commit -qam b");
        let repo = git2::Repository::open(dir.path()).expect("open");
        let tip = |b: &str| repo.refname_to_id(&format!("refs/heads/{b}")).expect("tip");
        let (main, a, b) = (tip("main"), tip("a"), tip("b"));
        (dir, main, a, b)
    }

    #[test]
    fn merges_run_in_one_batch_and_one_by_one_when_the_batch_fails() {
        let (dir, main, a, b) = two_branches();
        let merge = |ours, theirs| Merge {
            merge_base: None,
            ours,
            theirs,
        };
        let good = [merge(main, a), merge(a, b), merge(main, b)];
        let results = merge_all(dir.path(), &good);
        assert!(matches!(results[0], Ok(Merged::Clean(_))));
        assert!(matches!(&results[1], Ok(Merged::Conflicts(f)) if f == &["f".to_string()]));
        assert!(matches!(results[2], Ok(Merged::Clean(_))));
        assert!(merge_batch(dir.path(), &good).is_ok());
        // A commit that does not exist ends the whole batch: each merge is then run alone.
        let missing = Oid::from_str("1111111111111111111111111111111111111111").expect("oid");
        let bad = [merge(a, b), merge(main, missing)];
        assert!(merge_batch(dir.path(), &bad).is_err());
        let results = merge_all(dir.path(), &bad[..]);
        assert!(matches!(&results[0], Ok(Merged::Conflicts(f)) if f == &["f".to_string()]));
        assert!(results[1].is_err());
    }

    #[test]
    fn changes_that_touch_nothing_in_common_cannot_collide() {
        let a = changes(&[], &[], &["src/a.c", "README"]);
        let b = changes(&["src/b.c"], &[], &["Makefile"]);
        assert!(!a.may_collide(&b));
    }

    #[test]
    fn the_same_file_a_file_against_a_folder_and_a_folder_rename_may_collide() {
        let same = changes(&[], &[], &["src/a.c"]);
        assert!(same.may_collide(&changes(&[], &[], &["src/a.c"])));
        let file = changes(&["x"], &[], &[]);
        assert!(file.may_collide(&changes(&["x/y"], &[], &[])));
        // One side moves old/ away; a file the other adds in old/ would follow it.
        let moved = changes(&["new/f"], &["old/f"], &[]);
        assert!(moved.may_collide(&changes(&["old/g"], &[], &[])));
    }
}
