//! The operations that take several steps and can be interrupted: start, finish, drop and
//! sync, each one typed value whose phases the journal stores, with each forward step beside
//! its undo. Commands and `run` both call them; commands keep argument handling and output.
//!
//! Everything that removes or moves a worktree goes through [`gate`]; everything that must
//! not be touched because the user or another process owns it is found by [`guard`]; one
//! command works in a task at a time through [`lease`].

pub mod aside;
pub mod background;
pub mod carry;
pub mod drop;
pub mod finish;
pub mod gate;
pub mod guard;
pub mod lease;
pub mod prune;
pub mod start;
pub mod sync;

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::git::{git, Repo};
use crate::journal::{Entry, Journal, Op};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{fsutil, rescue};
use gate::{Claim, Identity, Owned};

/// git's admin dir of the linked worktree registered at `path`, if there is one.
pub fn registered_admin(repo: &Repo, path: &Path) -> Option<PathBuf> {
    let real = fsutil::resolve(path);
    repo.worktrees()
        .into_iter()
        .find(|w| !w.is_main && fsutil::resolve(&w.path) == real)
        .map(|w| w.git_dir)
}

/// Deletes `refs/heads/<branch>` if it still points at `tip` and no worktree uses it.
pub fn delete_branch(repo: &Repo, branch: &str, tip: git2::Oid) -> Result<()> {
    guard::refuse_branch_in_use(repo, branch, None)?;
    let refname = format!("refs/heads/{branch}");
    repo.update_ref(&refname, &["-d", &refname, &tip.to_string()])
        .map_err(|e| e.context(format!("could not delete branch '{branch}'")))
}

/// What removal needs to know, shared by finish and drop.
pub struct Removal<'a> {
    pub record: &'a TaskRecord,
    /// The branch is deleted only if it still points here.
    pub tip: Option<git2::Oid>,
    /// Commits that need no saving again: a late look at the worktree, after it was moved
    /// aside, saves only what none of these holds.
    pub safe: Vec<String>,
    /// Stop processes working in the worktree instead of refusing.
    pub stop_processes: bool,
    /// The rescue commit just made of the worktree, if it held anything to save.
    pub rescued: Option<String>,
    /// Changes found in the worktree after it was moved aside put it back and keep the task
    /// (a finish without `--changes discard`), instead of being saved.
    pub keep_if_changed: bool,
}

/// The checks that must pass before anything of a task is removed: the worktree is the one
/// `start` made, no process works in it, and its branch is used by no other worktree.
/// `Ok(None)`: there is no worktree folder (deleted by hand).
pub fn check_removal(repo: &Repo, r: &Removal) -> Result<Option<Owned>> {
    let owned = gate::prove(repo, &r.record.claim(repo))?;
    if let Some(owned) = &owned {
        guard::settle_processes(
            &r.record.task,
            owned.path(),
            r.stop_processes,
            repo.config.kill_timeout,
        )?;
        let locked = owned.admin().join("locked");
        if locked.exists() {
            return Err(Error::failed(format!(
                "the worktree {} is locked",
                owned.path().display()
            ))
            .hint(format!(
                "unlock it first: git worktree unlock {}",
                owned.path().display()
            )));
        }
    }
    let own_admin = owned
        .as_ref()
        .map(|o| o.admin().to_path_buf())
        .or_else(|| registered_admin(repo, &r.record.path));
    guard::refuse_branch_in_use(repo, &r.record.branch, own_admin.as_deref())?;
    Ok(owned)
}

/// Takes a task apart once its work is safe: the proven worktree is renamed into the trash
/// (one atomic step, after which nothing of it is at the task's path), looked at once more
/// for files that appeared since the rescue, then git's record of it, the branch and the
/// task record go, and the trash is deleted. The journal knows the folder's identity before
/// the rename, so a crash anywhere leaves something `git par recover` finishes.
/// Returns the rescue of late changes, if any, and the trashed worktree still to delete
/// (see [`background::settle`]).
pub fn teardown(
    repo: &Repo,
    journal: &mut Journal,
    r: &Removal,
    owned: Option<Owned>,
) -> Result<(Option<String>, Option<gate::Trashed>)> {
    let record = r.record;
    let identity = owned.as_ref().map(Owned::identity);
    journal.update(|op| op.set_removing(identity))?;
    // What the worktree's files were when its work was saved: the rescue, else HEAD.
    let saved_as = r
        .rescued
        .clone()
        .or_else(|| owned.as_ref().and_then(|o| head_commit(o.path())));
    let trashed = owned.map(|o| o.trash(&journal.entry.id)).transpose()?;
    let mut late = None;
    if let Some(trashed) = &trashed {
        crate::cleanup::failpoint("teardown:trashed");
        let looked = late_status(trashed).and_then(|changed| match changed {
            Some(files) if r.keep_if_changed => Err(kept_for_changes(&record.task, &files)),
            Some(_) => match saved_as.as_deref() {
                Some(head) => save_late(repo, &record.task, trashed, head),
                None => Ok(None),
            },
            None => Ok(None),
        });
        late = match looked {
            Ok(saved) => saved,
            Err(err) => return Err(put_back(journal, trashed, &record.path, err)),
        };
    }
    let forgotten = take_down(repo, r, trashed.as_ref())?;
    Ok((late.or(forgotten), trashed))
}

/// Why a finish keeps a merged task: its worktree has changes the merge did not take.
fn kept_for_changes(task: &str, files: &str) -> Error {
    Error::failed(format!(
        "task '{task}' was merged, but its worktree has new changes: {files}"
    ))
    .hint(format!(
        "the worktree and branch are kept; commit and finish again, or 'git par drop {task}'"
    ))
}

/// Undoes a move into the trash after a look or save there failed, or found changes that
/// keep the task: nothing is lost, and the operation ends here (recover must not take it up
/// again). Returns `err`, with a hint when the worktree could not go back.
fn put_back(journal: &mut Journal, trashed: &gate::Trashed, path: &Path, err: Error) -> Error {
    match fs::rename(&trashed.path, path) {
        Ok(()) => match journal.update(|op| op.set_saved()) {
            Ok(()) => err,
            Err(e) => err.hint(format!("also: {}", e.message)),
        },
        Err(e) => err.hint(format!(
            "it waits at {} ({e}); 'git par recover' deals with it",
            trashed.path.display()
        )),
    }
}

/// The rest of taking a task apart once its worktree is in the trash (or gone) and its work
/// saved: git's record of the worktree (what it alone holds is saved first), the branch, the
/// task record. Returns the rescue of what git's record held, if any.
fn take_down(repo: &Repo, r: &Removal, trashed: Option<&gate::Trashed>) -> Result<Option<String>> {
    let record = r.record;
    let admin = match trashed {
        Some(trashed) => trashed.admin.clone(),
        // The folder was deleted by hand: only git's record of it is left.
        None => registered_admin(repo, &record.path),
    };
    let forgotten = match admin {
        Some(admin) => gate::forget_admin(repo, &record.task, &admin)?,
        None => None,
    };
    if let Some(tip) = r.tip {
        delete_branch(repo, &record.branch, tip)?;
    }
    task::remove(repo, &record.task)?;
    if trashed.is_none() {
        remove_task_dirs(repo, record.worktree_dir.as_deref(), &record.created_dirs);
    }
    Ok(forgotten)
}

/// The folders `start` made for a task (the worktree dir among them when that start made it),
/// each removed only when empty.
pub(crate) fn remove_task_dirs(repo: &Repo, worktree_dir: Option<&Path>, created: &[PathBuf]) {
    let dir = worktree_dir
        .map(Path::to_path_buf)
        .unwrap_or_else(|| repo.worktree_dir());
    gate::remove_created_dirs(&dir, created);
}

/// After a failed take-apart: a refusal before anything was removed ends the operation (its
/// journal entry goes); a failure during removal leaves the entry for `git par recover`.
pub fn settle_journal(journal: Journal, err: Error) -> Error {
    if journal.entry.op.removing() {
        return err.hint("run 'git par recover' to finish removing the task");
    }
    match journal.done() {
        Ok(()) => err,
        Err(e) => err.hint(format!("also: {}", e.message)),
    }
}

impl Op {
    /// Notes that removal has begun, with the identity of the folder being removed.
    fn set_removing(&mut self, identity: Option<Identity>) {
        match self {
            Op::Finish(op) => {
                op.phase = finish::Phase::Removing;
                op.subject.identity = identity;
            }
            Op::Drop(op) => {
                op.phase = drop::Phase::Removing;
                op.subject.identity = identity;
            }
            _ => {}
        }
    }

    /// Notes that the worktree is about to move into the trash before its work is saved
    /// (see [`aside`]), with the identity of the folder being moved.
    fn set_moved(&mut self, identity: Identity) {
        match self {
            Op::Finish(op) => {
                op.phase = finish::Phase::Moved;
                op.subject.identity = Some(identity);
            }
            Op::Drop(op) => {
                op.phase = drop::Phase::Moved;
                op.subject.identity = Some(identity);
            }
            _ => {}
        }
    }

    /// The work of the worktree moved into the trash is saved: it is being removed.
    fn set_saved_in_trash(&mut self) {
        match self {
            Op::Finish(op) if op.phase == finish::Phase::Moved => {
                op.phase = finish::Phase::Removing
            }
            Op::Drop(op) if op.phase == drop::Phase::Moved => op.phase = drop::Phase::Removing,
            _ => {}
        }
    }

    /// Back to before removal: the worktree was put back where it was.
    fn set_saved(&mut self) {
        match self {
            Op::Finish(op) => op.phase = finish::Phase::Merged,
            Op::Drop(op) => op.phase = drop::Phase::Saved,
            _ => {}
        }
    }

    /// Everything is done but deleting the trashed worktree (see [`background`]).
    fn set_deleting(&mut self) {
        match self {
            Op::Finish(op) => op.phase = finish::Phase::Deleting,
            Op::Drop(op) => op.phase = drop::Phase::Deleting,
            _ => {}
        }
    }

    pub fn deleting(&self) -> bool {
        match self {
            Op::Finish(op) => op.phase == finish::Phase::Deleting,
            Op::Drop(op) => op.phase == drop::Phase::Deleting,
            _ => false,
        }
    }

    /// The task a finish or drop takes apart.
    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Op::Finish(op) => Some(&op.subject),
            Op::Drop(op) => Some(&op.subject),
            _ => None,
        }
    }

    fn removing(&self) -> bool {
        match self {
            Op::Finish(op) => matches!(op.phase, finish::Phase::Moved | finish::Phase::Removing),
            Op::Drop(op) => matches!(op.phase, drop::Phase::Moved | drop::Phase::Removing),
            _ => false,
        }
    }
}

/// Puts right an operation whose process is gone: rolled back when it had not reached its
/// point of no return, carried forward when it had. Returns what was done, one line a step.
pub fn recover(repo: &Repo, ui: &mut Ui, entry: &Entry) -> Result<Vec<String>> {
    match &entry.op {
        Op::Start(op) => start::roll_back(repo, ui, &entry.id, op, true),
        Op::Finish(op) => finish::recover(repo, ui, &entry.id, op),
        Op::Drop(op) => drop::recover(repo, ui, &entry.id, op),
        Op::Sync(op) => sync::recover(repo, op),
        Op::Run(op) => crate::run::recover::account(repo, ui, op),
    }
}

/// What [`recover`] would do with an interrupted operation, for `recover --dry-run`: each
/// operation's module says whether it would finish it or roll it back, from its phase.
pub fn intent(repo: &Repo, entry: &Entry) -> String {
    match &entry.op {
        Op::Start(op) => start::intent(op),
        Op::Finish(op) => finish::intent(repo, op),
        Op::Drop(op) => drop::intent(op),
        Op::Sync(op) => sync::intent(op),
        Op::Run(op) => format!(
            "note it: the run of {} is over; its tasks stay as they are",
            op.tasks.join(", ")
        ),
    }
}

/// What finish and drop journal of the task they take apart: enough for recovery to prove
/// its worktree again and remove what `start` made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Subject {
    pub task: String,
    pub branch: String,
    pub path: PathBuf,
    pub worktree_dir: PathBuf,
    /// The folder being removed, once it was proven.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// The folders `start` made for the task (its record may be gone when recovery runs).
    #[serde(default)]
    pub created_dirs: Vec<PathBuf>,
}

impl Subject {
    pub fn of(repo: &Repo, record: &TaskRecord, identity: Option<Identity>) -> Subject {
        Subject {
            task: record.task.clone(),
            branch: record.branch.clone(),
            path: record.path.clone(),
            worktree_dir: record.claim(repo).worktree_dir,
            identity,
            created_dirs: record.created_dirs.clone(),
        }
    }
}

/// An interrupted finish or drop: its entry id, its subject, and the commits that hold the
/// task's work already (the target after a merge, a rescue).
pub struct Interrupted<'a> {
    pub id: &'a str,
    pub subject: &'a Subject,
    pub safe: Vec<String>,
    /// The worktree may be in the trash with its work not yet saved (the `moved` phase):
    /// everything in it is saved from there, not only what changed since a save.
    pub unsaved: bool,
}

/// Finishes taking a task apart from whatever state a crash left, saving anything not yet
/// safe first. Every path comes from the journal, so each is proven before it is acted on.
pub fn complete_removal(repo: &Repo, ui: &mut Ui, r: &Interrupted) -> Result<Vec<String>> {
    let (id, unsaved, r, safe_in) = (r.id, r.unsaved, r.subject, &r.safe);
    let mut done = Vec::new();
    let recorded = task::load(repo, &r.task).map(|rec| rec.branch);
    if r.branch != task::branch_name(repo, &r.task)
        && recorded.as_deref() != Some(r.branch.as_str())
    {
        return Err(Error::failed(format!(
            "the journal names branch '{}' for task '{}', which is not the task's",
            r.branch, r.task
        )));
    }
    check_journal_dir(repo, &r.task, &r.worktree_dir)?;
    if remade(repo, &r.task, &r.path, r.identity) {
        done.push(format!(
            "left task '{}' alone: it was started again since",
            r.task
        ));
        // Its own trashed worktree, if the crash left one, is still to be taken care of.
        let beside = r.path.parent().unwrap_or(&r.path);
        if let Some(trashed) = gate::find_trashed(repo, &r.worktree_dir, beside, id, r.identity)? {
            let head = safe_in.last().cloned().or_else(|| commit_of(repo, "HEAD"));
            if unsaved && trashed.admin.is_some() {
                aside::recover_trashed(repo, &r.task, &trashed, None, safe_in)?;
            } else if let Some(head) = head {
                rescue::save_folder(repo, &r.task, &trashed.path, &head, &[], "recover")?;
            }
            if let Some(admin) = &trashed.admin {
                gate::forget_admin(repo, &r.task, admin)?;
            }
            done.push(format!("deleted {}", trashed.path.display()));
            trashed.delete(ui)?;
        }
        return Ok(done);
    }
    let tip = repo.branch_tip(&r.branch).map(|t| t.to_string());
    let claim = Claim {
        task: r.task.to_string(),
        path: r.path.clone(),
        worktree_dir: r.worktree_dir.clone(),
        identity: r.identity,
    };
    // The interrupted command recorded the identity of the worktree it had proven; without
    // one it found no worktree, and whatever is at the path now is not the task's.
    let proven = match r.identity {
        Some(_) => gate::prove(repo, &claim),
        None if std::fs::symlink_metadata(&r.path).is_ok() => Err(Error::failed(
            "the interrupted command found no worktree there, so this is not the task's",
        )),
        None => Ok(None),
    };
    let owned = match proven {
        Ok(owned) => owned,
        Err(err) => {
            done.push(format!("left {} alone: {}", r.path.display(), err.message));
            None
        }
    };
    if let Some(owned) = &owned {
        guard::settle_processes(&r.task, owned.path(), false, repo.config.kill_timeout)?;
    }
    let beside = r.path.parent().unwrap_or(&r.path);
    // Moved into the trash in the `moved` phase, the worktree was not saved yet: everything
    // it holds, the branch tip with it, is saved from there (below).
    let unsaved_in_trash = match owned {
        None if unsaved => gate::find_trashed(repo, &r.worktree_dir, beside, id, r.identity)?
            .filter(|t| t.admin.is_some()),
        _ => None,
    };
    let mut safe = safe_in.clone();
    if unsaved_in_trash.is_none() {
        if let Some(saved) = rescue::save_task(
            repo,
            &r.task,
            owned.as_ref().map(Owned::path),
            tip.as_deref(),
            &safe,
            "recover",
        )? {
            done.push(format!("saved the work of task '{}' as {saved}", r.task));
            safe.extend(commit_of(repo, &saved));
        }
    }
    let unsaved = unsaved_in_trash.is_some();
    let trashed = match (owned, unsaved_in_trash) {
        (Some(owned), _) => {
            done.push(format!("removed the worktree {}", r.path.display()));
            Some(owned.trash(id)?)
        }
        (None, Some(trashed)) => Some(trashed),
        (None, None) => gate::find_trashed(repo, &r.worktree_dir, beside, id, r.identity)?,
    };
    if let Some(trashed) = trashed {
        // While git's record is there the trashed worktree is still whole and reads as a
        // worktree; without it, its files are read against the newest commit known to hold
        // the task's work.
        let head = safe.last().cloned().or(tip.clone());
        let saved = match &trashed.admin {
            Some(_) if unsaved => {
                aside::recover_trashed(repo, &r.task, &trashed, tip.as_deref(), &safe)?
            }
            Some(_) => late_changes(repo, &r.task, &trashed, head.as_deref())?,
            None => match head.or_else(|| commit_of(repo, "HEAD")) {
                Some(head) => {
                    rescue::save_folder(repo, &r.task, &trashed.path, &head, &[], "recover")?
                }
                None => None,
            },
        };
        if let Some(saved) = saved {
            done.push(format!(
                "saved what was left in {} as {saved}",
                trashed.path.display()
            ));
        }
        if let Some(admin) = &trashed.admin {
            gate::forget_admin(repo, &r.task, admin)?;
        }
        let path = trashed.path.clone();
        trashed.delete(ui)?;
        done.push(format!("deleted {}", path.display()));
    } else if let Some(admin) = registered_admin(repo, &r.path).filter(|_| !r.path.exists()) {
        if let Some(saved) = gate::forget_admin(repo, &r.task, &admin)? {
            done.push(format!(
                "saved what git's record of the worktree held as {saved}"
            ));
        }
    }
    if let Some(tip) = repo.branch_tip(&r.branch) {
        match guard::branch_in_use(repo, &r.branch, None) {
            Some(where_) => done.push(format!("kept branch '{}': it is {where_}", r.branch)),
            None => {
                delete_branch(repo, &r.branch, tip)?;
                done.push(format!("deleted branch '{}'", r.branch));
            }
        }
    }
    if let Some(record) = task::load(repo, &r.task).filter(|rec| rec.path == r.path) {
        if !record.path.exists() && repo.branch_tip(&record.branch).is_none() {
            task::remove(repo, &r.task)?;
            done.push(format!("forgot task '{}'", r.task));
        }
    }
    remove_task_dirs(repo, Some(&r.worktree_dir), &r.created_dirs);
    Ok(done)
}

/// A worktree dir read from a journal entry is believed only when it is the one the task's
/// record names or the current setting's.
pub fn check_journal_dir(repo: &Repo, task: &str, dir: &Path) -> Result<()> {
    let dir = fsutil::normalize(dir);
    let recorded = task::load(repo, task).and_then(|r| r.worktree_dir);
    if recorded.as_deref() == Some(dir.as_path()) || repo.worktree_dir() == dir {
        return Ok(());
    }
    Err(Error::failed(format!(
        "the journal names {} as the worktree dir of task '{task}', which is neither its record's nor par.worktreeDir",
        dir.display()
    )))
}

/// The commit checked out in the worktree at `dir`.
fn head_commit(dir: &Path) -> Option<String> {
    git(dir, ["rev-parse", "--verify", "-q", "HEAD^{commit}"])
        .run()
        .ok()
        .map(|o| o.stdout_str())
}

/// Files that appeared or changed in a worktree since it was last looked at, found after its
/// move into the trash by a stat pass with git's own index, read through the admin dir so
/// that `.git` files with relative paths (which the move broke) do not matter. Returns the
/// changed paths, for a message, or `None` when there are none.
fn late_status(trashed: &gate::Trashed) -> Result<Option<String>> {
    let Some(admin) = &trashed.admin else {
        return Ok(None);
    };
    // The index's fsmonitor and untracked cache data describe the folder's old place.
    let status = git(
        &trashed.path,
        [
            "-c",
            "core.fsmonitor=false",
            "-c",
            "core.untrackedCache=false",
            "--no-optional-locks",
            "status",
            "--porcelain",
            "-z",
            "--ignore-submodules=all",
            "--untracked-files=all",
        ],
    )
    .env("GIT_DIR", admin)
    .env("GIT_WORK_TREE", &trashed.path)
    .run()?;
    let paths: Vec<String> = status
        .stdout
        .split(|b| *b == 0)
        .filter(|e| e.len() > 3)
        .map(|e| String::from_utf8_lossy(&e[3..]).into_owned())
        .collect();
    Ok((!paths.is_empty()).then(|| {
        let mut shown: Vec<&str> = paths.iter().take(20).map(String::as_str).collect();
        if paths.len() > 20 {
            shown.push("…");
        }
        shown.join(", ")
    }))
}

/// Saves the files of a trashed worktree that differ from `head`. Its submodules are left out:
/// the rescue before the move saved them, and the git dir of each (under the admin dir) names
/// the folder's old place, so git cannot read them where they are now.
fn save_late(
    repo: &Repo,
    task: &str,
    trashed: &gate::Trashed,
    head: &str,
) -> Result<Option<String>> {
    let mut gitlinks = Vec::new();
    if let Some(admin) = &trashed.admin {
        let staged = git(&trashed.path, ["ls-files", "--stage", "-z"])
            .env("GIT_DIR", admin)
            .env("GIT_WORK_TREE", &trashed.path)
            .run()?;
        for entry in staged.stdout.split(|b| *b == 0) {
            let entry = String::from_utf8_lossy(entry);
            if let (Some("160000"), Some((_, path))) =
                (entry.split(' ').next(), entry.split_once('\t'))
            {
                gitlinks.push(path.to_string());
            }
        }
    }
    rescue::save_folder(
        repo,
        task,
        &trashed.path,
        head,
        &gitlinks,
        "changed while being removed",
    )
}

/// Saves what changed in a trashed worktree since `saved_as` (the rescue of it, else the
/// HEAD its admin dir names), if anything did.
pub fn late_changes(
    repo: &Repo,
    task: &str,
    trashed: &gate::Trashed,
    saved_as: Option<&str>,
) -> Result<Option<String>> {
    let Some(admin) = &trashed.admin else {
        return Ok(None);
    };
    if late_status(trashed)?.is_none() {
        return Ok(None);
    }
    let head = saved_as.map(str::to_string).or_else(|| {
        git(admin, ["rev-parse", "--verify", "-q", "HEAD^{commit}"])
            .env("GIT_DIR", admin)
            .run()
            .ok()
            .map(|o| o.stdout_str())
    });
    match head {
        Some(head) => save_late(repo, task, trashed, &head),
        None => Ok(None),
    }
}

/// True when task `task` was made again after the interrupted operation that journalled the
/// worktree `identity`: the folder at `path`, or the one its record names, is another. Such an
/// entry is stale and must touch nothing of the task (not even its branch).
pub fn remade(repo: &Repo, task: &str, path: &Path, identity: Option<Identity>) -> bool {
    let Some(journalled) = identity else {
        return false;
    };
    let differs = |found: Option<Identity>| found.is_some_and(|f| !f.same(journalled));
    differs(Identity::of(path)) || differs(task::load(repo, task).and_then(|r| r.identity))
}

/// The commit a ref points at, as text.
pub fn commit_of(repo: &Repo, refname: &str) -> Option<String> {
    repo.git.refname_to_id(refname).ok().map(|o| o.to_string())
}
