//! Repositories inside a task's worktree (submodules, an agent's clone), which go with the
//! worktree: a linked worktree keeps its submodules' git dirs in its own admin dir, and a
//! clone keeps its `.git` inside. Their commits and uncommitted files are fetched into the
//! main repository, so a rescue commit can keep them.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::{git, snapshot, Repo};
use crate::rescue::record::{Piece, Source};

/// A repository found inside a worktree.
pub struct Inner {
    pub dir: PathBuf,
    /// Its folder relative to the worktree, `/`-separated.
    pub path: String,
    pub source: Source,
    /// The repositories inside this one, relative to it: saved on their own.
    pub inside: Vec<String>,
}

/// Every folder below `top` (not `top` itself) holding a `.git`, ignored folders included.
/// Symlinks are never followed, and nothing inside a `.git` is looked at.
pub fn find(top: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = fs::read_dir(top.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if name == ".git" {
                if !rel.as_os_str().is_empty() {
                    found.push(rel.clone());
                }
            } else if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(rel.join(name));
            }
        }
    }
    found.sort();
    found
}

/// The repositories inside the worktree at `top`, told apart: a gitlink in its index is a
/// submodule, anything else nested.
pub fn list(top: &Path) -> Result<Vec<Inner>> {
    let found = find(top);
    if found.is_empty() {
        return Ok(Vec::new());
    }
    let staged = git(top, ["ls-files", "-z", "--stage"]).run()?.stdout;
    let gitlinks: HashSet<&[u8]> = staged
        .split(|b| *b == 0)
        .filter(|e| e.starts_with(b"160000 "))
        .filter_map(|e| e.iter().position(|b| *b == b'\t').map(|i| &e[i + 1..]))
        .collect();
    Ok(told_apart(top, found, &gitlinks))
}

/// The repositories found below `top`; a gitlink path among `gitlinks` is a submodule.
pub fn told_apart(top: &Path, found: Vec<PathBuf>, gitlinks: &HashSet<&[u8]>) -> Vec<Inner> {
    let paths: Vec<String> = found
        .iter()
        .map(|rel| rel.to_string_lossy().into_owned())
        .collect();
    paths
        .iter()
        .zip(&found)
        .map(|(path, rel)| {
            let source = if gitlinks.contains(path.as_bytes()) {
                Source::Submodule
            } else {
                Source::Nested
            };
            let inside = paths
                .iter()
                .filter_map(|p| p.strip_prefix(&format!("{path}/")))
                .map(str::to_string)
                .collect();
            Inner {
                dir: top.join(rel),
                path: path.clone(),
                source,
                inside,
            }
        })
        .collect()
}

fn kind(source: Source) -> &'static str {
    match source {
        Source::Submodule => "submodule",
        _ => "nested repository",
    }
}

/// Saves what the repository holds that its remotes do not: HEAD, its refs (remote-tracking
/// ones aside), its HEAD reflog, and its staged and uncommitted files as commits on top of
/// HEAD. Returns those commits, now in the main repository's object store. `Ok(None)` when the
/// folder is not a repository git can open (its files are then plain files of the worktree).
pub fn save(repo: &Repo, task: &str, inner: &Inner, keep: &[String]) -> Result<Option<Vec<Piece>>> {
    let what = || {
        format!(
            "could not save the {} {} in task '{task}'",
            kind(inner.source),
            inner.path
        )
    };
    let fail = |err: Error| {
        err.context(what())
            .hint("nothing was removed")
            .hint(format!(
                "commit and push its work, or move it out of the worktree, then try again ({})",
                inner.dir.display()
            ))
    };
    let dir = &inner.dir;
    let at = |args: &[&str]| git(dir, ["-c", "core.fsmonitor=false"]).args(args);
    let out = at(&[
        "rev-parse",
        "--path-format=absolute",
        "--show-toplevel",
        "--git-dir",
        "--git-common-dir",
    ])
    .output()?;
    let text = out.stdout_str();
    let lines: Vec<&str> = text.lines().collect();
    let [top, git_dir, common_dir] = lines[..] else {
        return Ok(None);
    };
    if !out.success() || crate::fsutil::resolve(Path::new(top)) != crate::fsutil::resolve(dir) {
        return Ok(None);
    }
    let pieces = candidates(&at, inner, Path::new(git_dir), keep).map_err(fail)?;
    if crate::fsutil::resolve(Path::new(common_dir)) == repo.common_dir {
        // A worktree of this very repository: its commits are already here.
        return Ok(Some(pieces));
    }
    let mut args = vec!["rev-list", "--ignore-missing"];
    args.extend(pieces.iter().map(|p| p.commit.as_str()));
    args.extend(["--not", "--remotes"]);
    let unsafe_here: HashSet<String> = at(&args)
        .run()
        .map_err(fail)?
        .stdout_str()
        .lines()
        .map(str::to_string)
        .collect();
    let pieces: Vec<Piece> = pieces
        .into_iter()
        .filter(|p| unsafe_here.contains(&p.commit))
        .collect();
    if pieces.is_empty() {
        return Ok(Some(pieces));
    }
    let mut fetch: Vec<&str> = vec![
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--no-auto-gc",
        "--no-recurse-submodules",
        git_dir,
    ];
    let wanted: HashSet<&str> = pieces.iter().map(|p| p.commit.as_str()).collect();
    fetch.extend(wanted);
    git(&repo.main_worktree, fetch).run().map_err(fail)?;
    Ok(Some(pieces))
}

/// Everything the repository at `inner.dir` holds that might be work, newest state first.
fn candidates(
    at: &dyn Fn(&[&str]) -> crate::git::run::Git,
    inner: &Inner,
    git_dir: &Path,
    keep: &[String],
) -> Result<Vec<Piece>> {
    let piece =
        |commit: &str, what: &str| Piece::new(commit, inner.source, what, Some(&inner.path));
    let rev = |spec: &str| -> Result<Option<String>> {
        let out = at(&["rev-parse", "--verify", "--quiet", spec]).output()?;
        Ok(out.success().then(|| out.stdout_str()))
    };
    let head = rev("HEAD^{commit}")?;
    let head_tree = match &head {
        Some(head) => rev(&format!("{head}^{{tree}}"))?.unwrap_or_default(),
        None => at(&["mktree"]).stdin(Vec::new()).run()?.stdout_str(),
    };
    let mut pieces = Vec::new();
    let (index_tree, files_tree) =
        snapshot::private_trees(&inner.dir, head.as_deref(), keep, &inner.inside)?;
    let commit = |tree: &str, what: &str| -> Result<String> {
        let message = format!("git-par: {what} of {}", inner.path);
        let mut args = vec!["commit-tree", tree, "-m", &message];
        if let Some(head) = &head {
            args.extend(["-p", head]);
        }
        Ok(at(&args).run()?.stdout_str())
    };
    if files_tree != head_tree {
        pieces.push(piece(&commit(&files_tree, "uncommitted files")?, "files"));
    }
    if index_tree != head_tree && index_tree != files_tree {
        pieces.push(piece(&commit(&index_tree, "staged files")?, "staged"));
    }
    if let Some(head) = &head {
        pieces.push(piece(head, "HEAD"));
    }
    let refs = at(&[
        "for-each-ref",
        "--format=%(objecttype)\t%(objectname)\t%(*objecttype)\t%(*objectname)\t%(refname)",
    ])
    .run()?
    .stdout_str();
    for line in refs.lines() {
        let f: Vec<&str> = line.splitn(5, '\t').collect();
        let [kind, oid, peeled_kind, peeled, name] = f[..] else {
            continue;
        };
        if name.starts_with("refs/remotes/") {
            continue;
        }
        if kind == "commit" {
            pieces.push(piece(oid, name));
        } else if peeled_kind == "commit" {
            pieces.push(piece(peeled, name));
        }
    }
    for commit in super::reflog(&git_dir.join("logs/HEAD")) {
        pieces.push(piece(&commit, "reflog"));
    }
    Ok(pieces)
}
