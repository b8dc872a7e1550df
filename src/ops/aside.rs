//! Taking a task apart in the order that reads its files once: the proven worktree is moved
//! into its trash slot first (one rename), then one look there decides what to save, and the
//! save is made from there. The other order (save, move, look again for files written in
//! between) reads every file twice; this one is as safe: every write before the move is in
//! the trash when it is read, and a write after the look is missed by both.
//!
//! The look is `git status` through the worktree's admin dir (its index knows every file's
//! stat data, so a clean worktree costs one stat pass) beside a walk for repositories inside
//! it. Clean, nothing inside and no kept ignored files: only commits need saving (HEAD, its
//! reflog, the worktree's refs, the branch tip). Otherwise the full snapshot is made from the
//! trash. Any failure before the save is done puts the worktree back, so nothing is lost.
//!
//! A crash after the move leaves the entry in the `moved` phase: `git par recover` saves
//! everything from the trash (the full snapshot) before anything is deleted.
//!
//! Worktrees with submodules keep the other order: a submodule's git dir (inside the
//! worktree's admin dir) names the folder's old place in `core.worktree`, so git cannot read
//! the submodule from the trash.

use std::path::PathBuf;

use super::gate::{Owned, Trashed};
use super::{late_status, put_back, Removal};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::journal::Journal;
use crate::rescue::{self, inner, Files};

/// Whether the worktree can be moved before it is saved: it has no submodule git dirs.
pub fn applies(owned: Option<&Owned>) -> bool {
    owned.is_some_and(|o| !o.admin().join("modules").exists())
}

/// Moves the proven worktree into the trash, then saves what it holds from there (with
/// `r.keep_if_changed`, changes found there put it back and fail instead). Returns the rescue
/// ref, if anything needed saving, and the trashed worktree. The journal entry is in the
/// `moved` phase from before the rename until the caller records the save.
pub fn move_then_save(
    repo: &Repo,
    journal: &mut Journal,
    r: &Removal,
    owned: Owned,
    why: &str,
) -> Result<(Option<String>, Trashed)> {
    let identity = owned.identity();
    journal.update(|op| op.set_moved(identity))?;
    crate::cleanup::failpoint("aside:moving");
    let trashed = owned.trash(&journal.entry.id)?;
    crate::cleanup::failpoint("teardown:trashed");
    let tip = r.tip.map(|t| t.to_string());
    let task = &r.record.task;
    let saved = match trashed
        .admin
        .as_ref()
        .is_some_and(|a| a.join("modules").exists())
    {
        // Set up between the check and the move: such a worktree is saved where it was.
        true => Err(Error::failed(format!(
            "submodules were set up in task '{task}' while it was being removed"
        ))
        .hint("nothing was removed; run the command again")),
        false => save_trashed(
            repo,
            task,
            &trashed,
            tip.as_deref(),
            &r.safe,
            why,
            r.keep_if_changed,
        ),
    };
    match saved {
        Ok(saved) => Ok((saved, trashed)),
        Err(err) => Err(put_back(journal, &trashed, &r.record.path, err)),
    }
}

/// Saves everything a trashed worktree holds (it must still have git's record, its admin
/// dir): one look, then commits alone when it is clean, else the full snapshot. With
/// `keep_if_changed`, uncommitted changes fail instead (a finish keeps such a task).
fn save_trashed(
    repo: &Repo,
    task: &str,
    trashed: &Trashed,
    tip: Option<&str>,
    safe: &[String],
    why: &str,
    keep_if_changed: bool,
) -> Result<Option<String>> {
    let (changed, inner) = look(trashed)?;
    if let Some(files) = changed.as_deref().filter(|_| keep_if_changed) {
        return Err(Error::failed(format!(
            "task '{task}' was merged, but its worktree has new changes: {files}"
        ))
        .hint(format!(
            "the worktree and branch are kept; commit and finish again, or 'git par drop {task}'"
        )));
    }
    let files = match (
        &changed,
        inner.is_empty(),
        repo.config.keep_ignored.is_empty(),
    ) {
        (None, true, true) => Files::Clean,
        _ => Files::Unknown,
    };
    rescue::save_task_as(repo, task, Some(&trashed.path), files, tip, safe, why)
}

/// Saves what a worktree moved into the trash holds, for `git par recover` after a crash in
/// the `moved` phase: the same look and save as the command's own.
pub fn recover_trashed(
    repo: &Repo,
    task: &str,
    trashed: &Trashed,
    tip: Option<&str>,
    safe: &[String],
) -> Result<Option<String>> {
    save_trashed(repo, task, trashed, tip, safe, "recover", false)
}

/// One pass over the trashed worktree: `git status` (changed, staged and untracked paths)
/// while this thread walks it for repositories inside (see [`inner::find`]).
fn look(trashed: &Trashed) -> Result<(Option<String>, Vec<PathBuf>)> {
    if trashed.admin.is_none() {
        return Err(Error::failed(format!(
            "git's record of the worktree moved to {} is gone",
            trashed.path.display()
        )));
    }
    std::thread::scope(|scope| {
        let status = scope.spawn(|| late_status(trashed));
        let inner = inner::find(&trashed.path);
        let status = status
            .join()
            .unwrap_or_else(|_| Err(Error::failed("the look at the worktree failed")))?;
        Ok((status, inner))
    })
}
