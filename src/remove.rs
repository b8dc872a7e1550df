//! Removing a task's worktree, with every check that today's tools skip: the folder must be a
//! worktree git has registered, lie inside the worktree dir once symlinks are resolved, and be
//! neither the main worktree nor a symlink. Removal itself is git's (`git worktree remove`),
//! which unlinks symlinks inside the tree and never descends through them.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::git::worktrees::Worktree;
use crate::git::{git, Repo};
use crate::journal::Journal;
use crate::task::TaskRecord;
use crate::ui::Ui;
use crate::{delete, fsutil};

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

/// The folder inside the worktree dir where worktrees wait to be deleted (same file system,
/// so moving one there is a single atomic rename).
pub fn trash_dir(repo: &Repo) -> std::path::PathBuf {
    repo.worktree_dir().join(TRASH)
}

pub const TRASH: &str = ".par-trash";

/// Takes a task apart once its work is safe. The worktree is renamed into the trash (one
/// atomic step, after which nothing of it is at the task's path), git's record of it, the
/// branch and the task record go, and then the trash is deleted, interruptibly and with
/// progress. The journal knows the trash path before the rename, so a crash anywhere leaves
/// something `git par recover` finishes.
pub fn teardown(
    repo: &Repo,
    ui: &mut Ui,
    journal: &mut Journal,
    record: &TaskRecord,
    tip: Option<git2::Oid>,
) -> Result<()> {
    let path = &record.path;
    let wt = registered(repo, path);
    if let Some(wt) = wt.as_ref().filter(|w| w.locked) {
        return Err(
            Error::failed(format!("the worktree {} is locked", wt.path.display())).hint(format!(
                "unlock it first: git worktree unlock {}",
                wt.path.display()
            )),
        );
    }
    if wt.is_none() && fs::symlink_metadata(path).is_ok() {
        return Err(Error::failed(format!(
            "refusing to remove {}: git has no worktree registered there",
            path.display()
        ))
        .hint("move it away by hand if it holds anything of yours, then try again"));
    }
    let to = trash_dir(repo).join(&journal.entry.id);
    journal.update(|op| op.set_trash(to.clone()))?;
    journal.set_phase("removing")?;
    let trash = move_to_trash(repo, path, &to)?;
    if trash.is_some() {
        crate::cleanup::failpoint("teardown:trashed");
    }
    if let Some(wt) = &wt {
        forget_worktree(repo, wt)?;
    }
    if let Some(tip) = tip {
        delete_branch(repo, &record.branch, tip)?;
    }
    crate::task::remove(repo, &record.task)?;
    if let Some(trash) = trash {
        empty_trash(ui, &trash)?;
    }
    fsutil::remove_empty_parents(path.parent().unwrap_or(path), &repo.worktree_dir());
    Ok(())
}

/// After a failed take-apart: a refusal before anything was removed ends the operation (its
/// journal entry goes); a failure during removal leaves the entry for `git par recover`.
pub fn settle_journal(journal: Journal, err: Error) -> Error {
    if journal.entry.phase == "removing" {
        return err.hint("run 'git par recover' to finish removing the task");
    }
    match journal.done() {
        Ok(()) => err,
        Err(e) => err.hint(format!("also: {}", e.message)),
    }
}

/// Moves the worktree folder at `path` (if there is one) to `to` in the trash, after every
/// safety check. One rename: afterwards nothing of it is at the task's path.
pub fn move_to_trash(repo: &Repo, path: &Path, to: &Path) -> Result<Option<PathBuf>> {
    if fs::symlink_metadata(path).is_err() {
        return Ok(None);
    }
    check_removable(repo, path)?;
    fs::create_dir_all(trash_dir(repo))?;
    fs::rename(path, to).map_err(|e| {
        Error::failed(format!(
            "could not move {} out of the way: {e}",
            path.display()
        ))
    })?;
    Ok(Some(to.to_path_buf()))
}

/// Deletes git's administrative folder for a linked worktree (what `git worktree prune`
/// does for one whose folder is gone). It is first renamed out of `worktrees/`, so a git
/// listing worktrees at that moment sees it whole or not at all.
pub fn forget_worktree(repo: &Repo, wt: &Worktree) -> Result<()> {
    let admin = fsutil::resolve(&wt.git_dir);
    if !admin.starts_with(repo.common_dir.join("worktrees")) || !admin.exists() {
        return Ok(());
    }
    let name = admin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = repo
        .par_dir()
        .join("forgotten")
        .join(format!("{name}.{}", std::process::id()));
    let fail = |e: std::io::Error| {
        Error::failed(format!(
            "could not remove git's record {}: {e}",
            admin.display()
        ))
    };
    fs::create_dir_all(aside.parent().unwrap_or(&aside)).map_err(fail)?;
    fs::rename(&admin, &aside).map_err(fail)?;
    fs::remove_dir_all(&aside).map_err(fail)
}

/// Deletes `refs/heads/<branch>` if it still points at `tip`.
pub fn delete_branch(repo: &Repo, branch: &str, tip: git2::Oid) -> Result<()> {
    let refname = format!("refs/heads/{branch}");
    let delete = || {
        git(
            &repo.main_worktree,
            ["update-ref", "-d", &refname, &tip.to_string()],
        )
        .run()
    };
    let mut result = delete();
    // A git killed by the same Ctrl-C while it updated the branch leaves its lock behind; a
    // lock that no process holds open is such a leftover, and may go.
    let lock = repo.common_dir.join(format!("{refname}.lock"));
    if result.is_err() && lock.exists() && fsutil::holder_of(&lock).is_none() {
        let _ = fs::remove_file(&lock);
        result = delete();
    }
    result.map_err(|e| e.context(format!("could not delete branch '{branch}'")))?;
    Ok(())
}

/// Deletes a folder from the trash, showing progress on a terminal. A first Ctrl-C does not
/// stop it (the command is past its point of no return, or rolling back); a second one does,
/// leaving the rest for `git par recover`.
pub fn empty_trash(ui: &mut Ui, trash: &Path) -> Result<()> {
    let show = ui.stderr_is_terminal;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut told = crate::cleanup::presses() > 0;
    let outcome = delete::delete_tree(trash, &mut |n| {
        if !told && crate::cleanup::presses() > 0 {
            told = true;
            ui.note("Finishing the removal; press Ctrl-C again to stop and leave the rest to 'git par recover'.");
        }
        if show && n >= 4096 {
            let bar = bar.get_or_insert_with(|| {
                let bar = indicatif::ProgressBar::new_spinner();
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar
            });
            bar.set_message(format!("Removing worktree: {n} files"));
            bar.tick();
        }
    })?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if outcome == delete::Outcome::Interrupted {
        let sig = crate::cleanup::pending().unwrap_or(nix::sys::signal::Signal::SIGINT);
        return Err(Error::interrupted(sig)
            .hint(format!("{} is only partly deleted", trash.display()))
            .hint("run 'git par recover' to finish deleting it"));
    }
    let _ = fs::remove_dir(trash.parent().unwrap_or(trash));
    Ok(())
}
