//! Saved work: before anything of a task is deleted, what is not already safe in a branch is
//! kept under `refs/par/rescued/<task>/<date>`, where `git par rescued` and plain git find it.

use std::path::Path;

use crate::error::{Context, Result};
use crate::git::{git, Repo};
use crate::time;

pub const PREFIX: &str = "refs/par/rescued/";

/// git's empty tree, which `write-tree` names without storing.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// The message that marks a snapshot commit of uncommitted changes.
pub const SNAPSHOT_SUBJECT: &str = "git-par: uncommitted changes of task";

/// Keeps `commit` under a new rescue ref for `task`; returns the ref.
pub fn save(repo: &Repo, task: &str, commit: &str, why: &str) -> Result<String> {
    let now = crate::journal::now();
    let base = format!("{PREFIX}{task}/{}", time::stamp(now));
    let mut name = base.clone();
    let mut n = 1;
    while repo.git.find_reference(&name).is_ok() {
        n += 1;
        name = format!("{base}-{n}");
    }
    git(
        &repo.main_worktree,
        [
            "update-ref",
            "-m",
            &format!("git par: {why}"),
            &name,
            commit,
            "",
        ],
    )
    .run()
    .with_context(|| format!("could not save the work of task '{task}' under {name}"))?;
    Ok(name)
}

/// Saves the uncommitted state of a task's worktree (if any) and its branch tip: returns the
/// rescue ref, or `None` when everything is already safe in one of the `safe` commits (a base
/// branch's tip, or an earlier rescue).
pub fn save_task(
    repo: &Repo,
    task: &str,
    worktree: Option<&Path>,
    tip: Option<&str>,
    safe: &[String],
    why: &str,
) -> Result<Option<String>> {
    let contains = |holder: &str, commit: &str| -> Result<bool> {
        Ok(holder == commit
            || repo
                .git
                .graph_descendant_of(holder.parse()?, commit.parse()?)?)
    };
    let mut keep = None;
    if let Some(dir) = worktree.filter(|d| d.exists()) {
        let snapshot = crate::git::snapshot::capture(dir)?;
        if !snapshot.is_clean(dir)? {
            refuse_nested_repositories(dir, &snapshot)?;
            let already = safe.iter().any(|s| {
                let commit = s
                    .parse()
                    .ok()
                    .and_then(|oid| repo.git.find_commit(oid).ok());
                commit.is_some_and(|c| {
                    c.tree_id().to_string() == snapshot.worktree_tree
                        && c.parent_id(0).is_ok_and(|p| p.to_string() == snapshot.head)
                })
            });
            if !already {
                keep = Some(snapshot.commit(dir, &format!("{SNAPSHOT_SUBJECT} {task}"))?);
            }
        }
    }
    if keep.is_none() {
        if let Some(tip) = tip {
            let mut safe_already = false;
            for holder in safe {
                safe_already |= contains(holder, tip)?;
            }
            if !safe_already {
                keep = Some(tip.to_string());
            }
        }
    }
    keep.map(|commit| save(repo, task, &commit, why))
        .transpose()
}

/// A repository nested in the worktree (an agent's clone, say) goes into a snapshot only as a
/// pointer to its HEAD: its own files and history would be lost with the worktree. So saving
/// one is refused, naming it, before anything is deleted.
fn refuse_nested_repositories(dir: &Path, snapshot: &crate::git::snapshot::Snapshot) -> Result<()> {
    let out = git(
        dir,
        [
            "diff-tree",
            "-r",
            "-z",
            &snapshot.head,
            &snapshot.worktree_tree,
        ],
    )
    .run()?;
    let raw = out.stdout;
    let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut nested = Vec::new();
    while let (Some(meta), Some(path)) = (fields.next(), fields.next()) {
        let meta = String::from_utf8_lossy(meta);
        if meta.split(' ').nth(1) == Some("160000") {
            nested.push(String::from_utf8_lossy(path).into_owned());
        }
    }
    if nested.is_empty() {
        return Ok(());
    }
    Err(crate::error::Error::failed(format!(
        "{} holds git repositories that git par cannot save: {}",
        dir.display(),
        nested.join(", ")
    ))
    .hint("commit and push their work, or move them out of the worktree, then try again")
    .hint("nothing was removed"))
}

/// Saves what a folder holds when git's record of it may be gone (a worktree a crash left in
/// git-par's trash): its files (untracked included, ignored not) are read with the common git
/// dir and a private index started from `head` (or from nothing), and kept only when they
/// differ from `head` and from every `safe` commit. Returns the rescue ref, if one was made.
pub fn save_folder(
    repo: &Repo,
    task: &str,
    dir: &Path,
    head: Option<&str>,
    safe: &[String],
    why: &str,
) -> Result<Option<String>> {
    let index = repo
        .par_dir()
        .join(format!("folder-index.{}", std::process::id()));
    let with_index = |args: &[&str]| {
        git(dir, args)
            .env("GIT_DIR", &repo.common_dir)
            .env("GIT_WORK_TREE", dir)
            .env("GIT_INDEX_FILE", &index)
            .run()
    };
    let result = (|| -> Result<String> {
        match head {
            Some(head) => with_index(&["read-tree", head])?,
            None => with_index(&["read-tree", "--empty"])?,
        };
        with_index(&["add", "-A", "--", ":/"])?;
        Ok(with_index(&["write-tree"])?.stdout_str())
    })();
    let _ = std::fs::remove_file(&index);
    let _ = std::fs::remove_file(index.with_extension(format!("{}.lock", std::process::id())));
    let tree = result.with_context(|| format!("could not read what {} holds", dir.display()))?;
    // A folder half deleted by an interrupted removal holds fewer files than what was saved
    // of it: only a file that is new, or differs, from every known commit is worth a rescue.
    let adds_nothing = |commit: &String| {
        git(
            &repo.main_worktree,
            [
                "diff-tree",
                "-r",
                "--name-only",
                "--diff-filter=AMT",
                commit,
                &tree,
            ],
        )
        .run()
        .is_ok_and(|out| out.stdout.is_empty())
    };
    let empty = tree == EMPTY_TREE;
    if empty
        || head
            .map(str::to_string)
            .iter()
            .chain(safe)
            .any(adds_nothing)
    {
        return Ok(None);
    }
    let message = format!("{SNAPSHOT_SUBJECT} {task} (left in {})", dir.display());
    let mut args = vec!["commit-tree", tree.as_str(), "-m", message.as_str()];
    if let Some(head) = head {
        args.extend(["-p", head]);
    }
    let commit = git(&repo.main_worktree, &args).run()?.stdout_str();
    save(repo, task, &commit, why).map(Some)
}
