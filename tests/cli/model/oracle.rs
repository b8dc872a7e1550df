//! The model test's oracle, "nothing is lost": what existed before a git-par command (every
//! commit, every file's content, the sentinel folder outside the repository) and whether all
//! of it can still be found afterwards.
//!
//! Cheap on purpose, since it runs around every command: one `git rev-list` and one
//! `git hash-object --stdin-paths` per side, plus one `rev-list` per nested repository.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use crate::env::TestEnv;

/// Files and nested repositories where a user's work can be: the main worktree and every
/// folder of the worktree dir (not `.git`, not symlinks). With `trash`, also the folders a
/// removal set aside as `.par-trash.<id>`, which only count while a crash is not yet recovered.
pub struct Scan {
    pub files: Vec<PathBuf>,
    pub repos: Vec<PathBuf>,
}

impl Scan {
    pub fn take(root: &Path, trash: bool) -> Scan {
        let mut scan = Scan {
            files: Vec::new(),
            repos: Vec::new(),
        };
        let mut tops = vec![root.join("repo")];
        let wt_dir = root.join("repo.par");
        for entry in read_dir_sorted(&wt_dir) {
            let slot = entry
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(".par-trash."));
            if slot {
                if trash {
                    tops.push(entry);
                }
            } else {
                tops.push(entry);
            }
        }
        for top in tops {
            scan.walk(&top, true);
        }
        scan
    }

    fn walk(&mut self, dir: &Path, top: bool) {
        let Ok(meta) = fs::symlink_metadata(dir) else {
            return;
        };
        if meta.is_file() {
            // git par's documented rule: ignored files are build output, dropped with their
            // worktree, unless par.keepIgnored names them (the model keeps `*.ign`). The
            // model's build output is `ignored/y-<step>`.
            let build_output = dir.parent().is_some_and(|p| p.ends_with("ignored"))
                && dir
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("y-"));
            if !build_output {
                self.files.push(dir.to_path_buf());
            }
            return;
        }
        if !meta.is_dir() {
            return;
        }
        if !top && fs::symlink_metadata(dir.join(".git")).is_ok() {
            self.repos.push(dir.to_path_buf());
        }
        for entry in read_dir_sorted(dir) {
            if entry.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            self.walk(&entry, false);
        }
    }
}

fn read_dir_sorted(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    entries.sort();
    entries
}

/// Blob ids of `files`, in order (`None` for one that vanished or could not be read).
pub fn hash_files(env: &TestEnv, root: &Path, files: &[PathBuf]) -> Vec<Option<String>> {
    if files.is_empty() {
        return Vec::new();
    }
    let run = |files: &[PathBuf]| -> Option<Vec<String>> {
        let mut child = env
            .command("git", root)
            .args(["hash-object", "--no-filters", "--stdin-paths"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("git hash-object");
        let mut input = String::new();
        for f in files {
            input.push_str(&f.to_string_lossy());
            input.push('\n');
        }
        let mut stdin = child.stdin.take().expect("stdin");
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });
        let out = child.wait_with_output().expect("git hash-object");
        let _ = writer.join();
        let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        (out.status.success() && lines.len() == files.len()).then_some(lines)
    };
    if let Some(all) = run(files) {
        return all.into_iter().map(Some).collect();
    }
    // One file went away or is unreadable: hash them one by one.
    files
        .iter()
        .map(|f| run(std::slice::from_ref(f)).and_then(|mut v| v.pop()))
        .collect()
}

/// Ids printed by `git <args>` in `dir` (first word of each line); empty if git fails.
fn ids(env: &TestEnv, dir: &Path, args: &[&str]) -> Vec<String> {
    let out = env
        .command("git", dir)
        .args(args)
        .stderr(Stdio::null())
        .output()
        .expect("run git");
    let found = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect();
    if out.status.success() || !args.contains(&"--all") {
        return found;
    }
    // `--all` dies on one bad worktree HEAD: the null id `git worktree add` writes first, left
    // by a start killed right then, which would make everything look lost. Each worktree is
    // asked on its own instead (its HEAD, its HEAD reflog, and all refs), the bad one skipped.
    let common = env
        .command("git", dir)
        .args(["rev-parse", "--path-format=absolute", "--git-common-dir"])
        .output()
        .expect("run git");
    let common = PathBuf::from(String::from_utf8_lossy(&common.stdout).trim());
    let mut git_dirs = vec![common.clone()];
    git_dirs.extend(read_dir_sorted(&common.join("worktrees")));
    let mut found: Vec<String> = Vec::new();
    for git_dir in git_dirs {
        let out = env
            .command("git", dir)
            .arg(format!("--git-dir={}", git_dir.display()))
            .arg(args[0])
            // Before `--all`: git reads its options in order.
            .arg("--single-worktree")
            .args(&args[1..])
            .stderr(Stdio::null())
            .output()
            .expect("run git");
        found.extend(
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().next())
                .map(str::to_string),
        );
    }
    found
}

const EMPTY_BLOB: &str = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";

/// What must survive a git-par command.
pub struct Before {
    /// Commit id → where it was seen.
    pub commits: BTreeMap<String, String>,
    /// Blob id → a file that held it.
    pub blobs: BTreeMap<String, String>,
    pub sentinel: BTreeMap<String, String>,
}

impl Before {
    pub fn take(env: &TestEnv, root: &Path) -> Before {
        let mut commits = BTreeMap::new();
        // `--all` covers every worktree's HEAD and `--reflog` every worktree's HEAD reflog.
        for id in ids(env, &root.join("repo"), &["rev-list", "--all", "--reflog"]) {
            commits.insert(id, "repo".to_string());
        }
        // A sync carrying uncommitted changes keeps them in a commit of its own under
        // refs/par/carrying/<task> while they are out of the worktree, and drops it once they
        // are back. What must survive is what that commit carries, not the commit: its files
        // must be in a worktree or a commit afterwards.
        let mut blobs = BTreeMap::new();
        let carried = ids(
            env,
            &root.join("repo"),
            &[
                "rev-list",
                "--glob=refs/par/carrying/*",
                "--not",
                "--exclude=refs/par/carrying/*",
                "--all",
            ],
        );
        for id in carried {
            commits.remove(&id);
            let tree = env
                .command("git", &root.join("repo"))
                .args(["ls-tree", "-r", "--format=%(objecttype) %(objectname)", &id])
                .output()
                .expect("run git");
            for line in String::from_utf8_lossy(&tree.stdout).lines() {
                if let Some(blob) = line.strip_prefix("blob ").filter(|b| *b != EMPTY_BLOB) {
                    blobs.insert(blob.to_string(), format!("the changes carried in {id}"));
                }
            }
        }
        let scan = Scan::take(root, false);
        for repo in &scan.repos {
            for id in ids(env, repo, &["rev-list", "--all", "--reflog"]) {
                commits
                    .entry(id)
                    .or_insert_with(|| format!("nested repository {}", rel(root, repo)));
            }
        }
        for (file, blob) in scan.files.iter().zip(hash_files(env, root, &scan.files)) {
            // An empty file holds no bytes to lose; a killed checkout leaves such files.
            if let Some(blob) = blob.filter(|b| b != EMPTY_BLOB) {
                blobs.entry(blob).or_insert_with(|| rel(root, file));
            }
        }
        Before {
            commits,
            blobs,
            sentinel: sentinel(root),
        }
    }

    /// Every loss, one line each; empty when nothing was lost.
    pub fn lost(&self, env: &TestEnv, root: &Path, crashed: bool) -> Vec<String> {
        let mut found: HashSet<String> = HashSet::new();
        found.extend(ids(
            env,
            &root.join("repo"),
            &["rev-list", "--objects", "--all", "--reflog"],
        ));
        // A nested clone's commits that its origin holds are safe there.
        found.extend(ids(env, &root.join("upstream"), &["rev-list", "--all"]));
        let scan = Scan::take(root, crashed);
        for repo in &scan.repos {
            found.extend(ids(env, repo, &["rev-list", "--all", "--reflog"]));
        }
        found.extend(hash_files(env, root, &scan.files).into_iter().flatten());
        let mut lost = Vec::new();
        for (commit, place) in &self.commits {
            if !found.contains(commit) {
                lost.push(format!(
                    "commit {commit} (was reachable in {place}) is reachable from nothing"
                ));
            }
        }
        for (blob, file) in &self.blobs {
            if !found.contains(blob) {
                lost.push(format!(
                    "file {file} (blob {blob}) is in no worktree and no commit"
                ));
            }
        }
        let now = sentinel(root);
        if now != self.sentinel {
            for (path, was) in &self.sentinel {
                match now.get(path) {
                    None => lost.push(format!("sentinel {path} ({was}) was deleted")),
                    Some(is) if is != was => {
                        lost.push(format!("sentinel {path} changed from {was} to {is}"))
                    }
                    Some(_) => {}
                }
            }
            for path in now.keys().filter(|p| !self.sentinel.contains_key(*p)) {
                lost.push(format!("sentinel folder gained {path}"));
            }
        }
        lost
    }
}

/// The sentinel folder beside the repository, entry by entry: path → what it is.
pub fn sentinel(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for path in read_dir_sorted(dir) {
            let Ok(meta) = fs::symlink_metadata(&path) else {
                continue;
            };
            let what = if meta.file_type().is_symlink() {
                format!("symlink to {:?}", fs::read_link(&path).ok())
            } else if meta.is_dir() {
                walk(root, &path, out);
                "folder".to_string()
            } else {
                format!(
                    "{:?}",
                    String::from_utf8_lossy(&fs::read(&path).unwrap_or_default())
                )
            };
            out.insert(rel(root, &path), what);
        }
    }
    let mut out = BTreeMap::new();
    let dir = root.join("sentinel");
    out.insert(
        "sentinel".to_string(),
        if dir.is_dir() { "folder" } else { "missing" }.to_string(),
    );
    walk(root, &dir, &mut out);
    out
}

pub fn rel(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

/// A start killed inside `git worktree add` leaves the null id as the new worktree's HEAD;
/// `git rev-list --all` then fails, and the oracle used to see nothing reachable at all
/// (model test, seed 20261201, step 38: "lost after 'git par start t1'").
#[test]
fn a_worktree_head_left_null_by_a_killed_worktree_add_hides_nothing() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.par(["start", "u"]).ok();
    let tips = [
        env.git_out(["rev-parse", "main"]),
        env.git_out(["rev-parse", "par/t"]),
    ];
    fs::write(
        env.repo().join(".git/worktrees/u/HEAD"),
        "0000000000000000000000000000000000000000\n",
    )
    .expect("null HEAD");
    let found = ids(&env, &env.repo(), &["rev-list", "--all", "--reflog"]);
    for tip in tips {
        assert!(found.contains(&tip), "{tip} not found in {found:?}");
    }
}
