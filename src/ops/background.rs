//! Deleting a finished or dropped task's files after the command has returned.
//!
//! Once the task is taken apart (merged or saved, its worktree renamed into its trash slot,
//! git's record, the branch and the task record gone), all that is left is unlinking the
//! trash, which on a big worktree is most of the time `finish` and `drop` take. The journal
//! entry moves to its `deleting` phase and is handed, still locked, to a detached process
//! (`git par __delete-trash <id>`, lock on fd 3) at low CPU and I/O priority, which proves
//! the slot again from the entry (never from a path it was given) and deletes it through the
//! gate. While it runs its entry is live, so nothing else touches the slot. If it dies (a
//! crash, a reboot, a full disk), the entry is an orphan in the `deleting` phase: the next
//! `git par` command hands it to a new background process, and `git par recover` finishes it
//! in the foreground. `git par recover --wait` waits for all of them.
//!
//! | phase      | done so far                          | after a crash                      |
//! |------------|--------------------------------------|------------------------------------|
//! | `deleting` | everything but unlinking the trash   | the trash is deleted (again)       |

use std::path::PathBuf;

use super::{gate, Subject};
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::journal::{self, Journal, Op, Orphan};
use crate::ui::Ui;

/// Ends a finish or drop whose teardown left `pending` (its trashed worktree) to delete:
/// in a background process when the settings allow, else here and now.
pub fn settle(
    repo: &Repo,
    ui: &mut Ui,
    mut journal: Journal,
    pending: Option<gate::Trashed>,
    foreground: bool,
) -> Result<()> {
    let Some(trashed) = pending else {
        return journal.done();
    };
    let background = !foreground && repo.config.remove_in_background;
    // A journal that cannot be written (a full disk) keeps its `removing` phase, which
    // recovery finishes too; deleting here frees the space.
    if background && journal.update(Op::set_deleting).is_ok() {
        let id = journal.entry.id.clone();
        match hand_off(repo, &id, journal.into_lock()) {
            Ok(()) => return Ok(()),
            Err(err) => {
                ui.warn(&format!(
                    "{}; deleting {} now",
                    err.message,
                    trashed.path.display()
                ));
                // The lock was dropped with the failed hand-off: take the entry back.
                let orphan = journal::orphans(&repo.par_dir())
                    .into_iter()
                    .find(|o| o.id == id);
                trashed.delete(ui)?;
                if let Some(orphan) = orphan {
                    finish_entry(repo, ui, &orphan, false)?;
                    orphan.done()?;
                }
                return Ok(());
            }
        }
    }
    let subject = journal.entry.op.subject().cloned();
    trashed.delete(ui)?;
    if let Some(subject) = subject {
        super::remove_task_dirs(repo, Some(&subject.worktree_dir), &subject.created_dirs);
    }
    journal.done()
}

/// Starts the detached process that deletes entry `id`'s trash, giving it `lock`.
fn hand_off(repo: &Repo, id: &str, lock: nix::fcntl::Flock<std::fs::File>) -> Result<()> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::failed(format!("could not find git-par's own binary: {e}")))?;
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["__delete-trash", id])
        .current_dir(&repo.main_worktree);
    crate::cleanup::spawn_detached(&mut cmd, lock)
}

/// `git par __delete-trash <id>`: the detached process's work.
pub fn run_detached(id: &str, ui: &mut Ui) -> Result<u8> {
    let lock = crate::cleanup::handed_lock()?;
    let repo = Repo::discover()?;
    let orphan = journal::adopt(&repo.par_dir(), id, lock)?;
    crate::cleanup::failpoint("background:deleting");
    match finish_entry(&repo, ui, &orphan, true) {
        Ok(()) => orphan.done()?,
        Err(err) => {
            // Not handed on again: the next commands point at `git par recover` instead.
            let note = orphan.path.with_extension(journal::FAILED);
            let _ = std::fs::write(&note, format!("{}\n", err.message));
            return Err(err);
        }
    }
    Ok(0)
}

/// Deletes the trash of a `deleting` entry and the folders its task's start made, proving
/// the slot from the entry: the task's worktree dir as its record or the setting names it,
/// the slot beside the task's path named after the entry, the folder that was moved there.
/// With `lock_dirs` (the detached process), the folders are removed under the repository
/// lock, which `start` holds while it registers a worktree: a start between making its
/// folders and filling them must not lose them to this `rmdir`.
pub fn finish_entry(repo: &Repo, ui: &mut Ui, orphan: &Orphan, lock_dirs: bool) -> Result<()> {
    let entry = orphan.entry.as_ref().map_err(|why| {
        Error::failed(format!("journal entry {} cannot be read: {why}", orphan.id))
    })?;
    let subject = entry
        .op
        .subject()
        .filter(|_| entry.op.deleting())
        .ok_or_else(|| {
            Error::failed(format!("journal entry {} has nothing to delete", orphan.id))
        })?;
    delete_slot(repo, ui, &entry.id, subject)?;
    let _lock = match lock_dirs {
        true => Some(crate::lock::RepoLock::acquire(
            &repo.par_dir(),
            ui,
            "git par (background deletion)",
        )?),
        false => None,
    };
    super::remove_task_dirs(repo, Some(&subject.worktree_dir), &subject.created_dirs);
    Ok(())
}

/// The deletion itself, shared with `recover` (the entry is `Subject` and id).
pub fn delete_trash(repo: &Repo, ui: &mut Ui, id: &str, subject: &Subject) -> Result<()> {
    delete_slot(repo, ui, id, subject)?;
    super::remove_task_dirs(repo, Some(&subject.worktree_dir), &subject.created_dirs);
    Ok(())
}

/// The trash slot alone, proven from the entry.
fn delete_slot(repo: &Repo, ui: &mut Ui, id: &str, subject: &Subject) -> Result<()> {
    super::check_journal_dir(repo, &subject.task, &subject.worktree_dir)?;
    let beside = subject.path.parent().unwrap_or(&subject.path);
    if let Some(trashed) =
        gate::find_trashed(repo, &subject.worktree_dir, beside, id, subject.identity)?
    {
        trashed.delete(ui)?;
    }
    Ok(())
}

/// Orphaned `deleting` entries (their background process died) go to new background
/// processes; returns those that failed before and are left for `git par recover`.
pub fn resume(repo: &Repo, orphans: Vec<Orphan>) -> Vec<Orphan> {
    let mut left = Vec::new();
    for orphan in orphans {
        let deleting = orphan.entry.as_ref().is_ok_and(|e| e.op.deleting());
        let failed = orphan.path.with_extension(journal::FAILED).exists();
        if !deleting || failed {
            left.push(orphan);
            continue;
        }
        let id = orphan.id.clone();
        if hand_off(repo, &id, orphan.into_lock()).is_err() {
            // Its lock went with the failed attempt; the next command or `recover` tries again.
            continue;
        }
    }
    left
}

/// Waits until every background deletion has ended (successfully or not).
pub fn wait_all(repo: &Repo) -> Result<()> {
    let pending: Vec<PathBuf> = journal::entries(&repo.par_dir())
        .into_iter()
        .filter(|(_, e)| e.as_ref().is_some_and(|e| e.op.deleting()))
        .map(|(p, _)| p)
        .collect();
    for path in pending {
        journal::wait_for(&path)?;
    }
    Ok(())
}
