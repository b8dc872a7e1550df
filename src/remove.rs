//! Removing a task's worktree, with every check that today's tools skip: the folder must be a
//! worktree git has registered, lie inside the worktree dir once symlinks are resolved, and be
//! neither the main worktree nor a symlink. Removal itself is git's (`git worktree remove`),
//! which unlinks symlinks inside the tree and never descends through them.

use std::fs;
use std::path::Path;

use crate::error::{Error, Result};
use crate::fsutil;
use crate::git::worktrees::Worktree;
use crate::git::{git, Repo};

/// Refuses any path that a task's removal must never touch.
pub fn check_removable(repo: &Repo, path: &Path) -> Result<()> {
    let refuse = |why: &str| {
        Err(
            Error::failed(format!("refusing to remove {}: {why}", path.display())).hint(
                "git par only removes task worktrees inside the worktree dir (par.worktreeDir)",
            ),
        )
    };
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return refuse(&e.to_string()),
    };
    if meta.as_ref().is_some_and(|m| m.file_type().is_symlink()) {
        return refuse("it is a symlink");
    }
    let real = fsutil::resolve(path);
    let dir = repo.worktree_dir();
    if real == dir || !fsutil::is_within(&real, &dir) {
        return refuse(&format!(
            "it is not inside the worktree dir {}",
            dir.display()
        ));
    }
    let main = fsutil::resolve(&repo.main_worktree);
    if fsutil::is_within(&main, &real) || real == main {
        return refuse("it holds the main worktree");
    }
    if fsutil::is_within(&repo.common_dir, &real) {
        return refuse("it holds the repository's git dir");
    }
    Ok(())
}

/// The registered worktree at `path`, if git knows one there.
pub fn registered(repo: &Repo, path: &Path) -> Option<Worktree> {
    let real = fsutil::resolve(path);
    repo.worktrees()
        .into_iter()
        .find(|w| !w.is_main && fsutil::resolve(&w.path) == real)
}

/// How much the caller has made sure of before removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// git checks the worktree is clean and refuses otherwise.
    IfClean,
    /// The work was saved (or the tree is our own half-made one): remove whatever is there.
    Force,
}

/// Removes the task worktree at `path`: a registered one through git, an unregistered folder
/// (only ever one this process or a journal says git-par made) directly.
pub fn remove_worktree(repo: &Repo, path: &Path, mode: Mode, unregistered_ok: bool) -> Result<()> {
    check_removable(repo, path)?;
    match registered(repo, path) {
        Some(wt) if path.exists() => {
            let mut args = vec!["worktree", "remove"];
            if mode == Mode::Force {
                args.push("--force");
                if wt.locked {
                    args.push("--force");
                }
            }
            let path_arg = path.to_string_lossy().into_owned();
            args.push(&path_arg);
            git(&repo.main_worktree, &args).run().map_err(|e| {
                e.context(format!("could not remove the worktree {}", path.display()))
            })?;
        }
        Some(wt) => {
            // The folder is gone: drop git's record of it, as `git worktree prune` would.
            let admin = fsutil::resolve(&wt.git_dir);
            if admin.starts_with(repo.common_dir.join("worktrees")) {
                fs::remove_dir_all(&admin)?;
            }
        }
        None if unregistered_ok => fsutil::remove_tree(path)?,
        None if path.exists() => {
            return Err(Error::failed(format!(
                "refusing to remove {}: git has no worktree registered there",
                path.display()
            ))
            .hint("move it away by hand if it is yours, then run 'git par recover'"))
        }
        None => {}
    }
    fsutil::remove_empty_parents(path.parent().unwrap_or(path), &repo.worktree_dir());
    Ok(())
}
