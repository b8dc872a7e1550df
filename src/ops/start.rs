//! Starting a task: a branch at the base and a worktree for it, checked out exactly as `git
//! worktree add` checks one out, with uncommitted changes carried over on request.
//!
//! | phase            | done so far                               | a crash here is put right by |
//! |------------------|-------------------------------------------|------------------------------|
//! | `begin`          | nothing, or the branch                    | deleting the branch          |
//! | `registered`     | branch, record, worktree registered       | removing all three           |
//! | `checking-out`   | the checkout is being written             | the same                     |
//! | `checked-out`    | the worktree is whole                     | the same, saving new work    |
//! | `copying-ignored`| ignored files are being copied into it    | the same, saving new work    |
//! | `carrying`       | carried changes are being applied         | the same, saving new work    |
//! | `cleaning-source`| the changes arrived and were verified     | finishing the move           |
//!
//! Restoring saved work (`start --from`) is the same operation: the branch starts at the
//! saved HEAD instead of the base, and the saved uncommitted changes are what is carried.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::gate::{self, Claim, Identity};
use super::lease::Lease;
use crate::cli::StartChanges;
use crate::error::{Error, Result};
use crate::git::snapshot::{self, Snapshot};
use crate::git::status::{self, Status};
use crate::git::{git, Repo};
use crate::hooks::{Event, Hooks};
use crate::journal::{self, Journal, Op};
use crate::lock::RepoLock;
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{cleanup, copy, fsutil, rescue, space};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Begin,
    Registered,
    CheckingOut,
    CheckedOut,
    CopyingIgnored,
    Carrying,
    CleaningSource,
}

/// What the journal keeps of a start.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journaled {
    pub phase: Phase,
    pub task: String,
    pub branch: String,
    pub path: PathBuf,
    pub worktree_dir: PathBuf,
    /// The commit the branch was made at: the base, or the saved HEAD of restored work.
    pub base_commit: String,
    /// Folders that did not exist before (deepest first), removed again on rollback.
    pub created_dirs: Vec<PathBuf>,
    /// The worktree made, once registered.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// Worktree the changes were carried from, and the snapshot of them (a commit).
    pub source: Option<PathBuf>,
    pub snapshot: Option<String>,
}

pub struct Request<'a> {
    pub task: &'a str,
    pub base: Option<&'a str>,
    /// Decided by the caller (a prompt, or a flag); `None`: not asked and not told.
    pub changes: Option<StartChanges>,
    /// Copy ignored files from where the start runs into the new worktree.
    pub copy_ignored: bool,
    /// Show the copy's progress (a terminal, and no other display on it).
    pub progress: bool,
    /// postStart, once the task is there.
    pub hooks: Hooks,
    /// Saved work to bring back instead of starting fresh (nothing is carried from here).
    pub restore: Option<Restore>,
}

/// Saved work a start brings back: the task's base as it was, its branch at the commit its
/// worktree had checked out, and its uncommitted changes as uncommitted changes.
pub struct Restore {
    pub base: Base,
    pub head: git2::Oid,
    pub changes: Option<Snapshot>,
}

/// Where a task starts from.
#[derive(Clone)]
pub struct Base {
    pub branch: Option<String>,
    pub commit: git2::Oid,
    pub label: String,
}

pub struct Started {
    pub record: TaskRecord,
    pub base: Base,
    /// Uncommitted changes left in the worktree the user started from (reported, not carried).
    pub left: Option<(PathBuf, Status)>,
    /// What `copy_ignored` copied, and from where.
    pub copied: Option<(PathBuf, copy::Summary)>,
    /// The postStart hook failed; the task stands.
    pub hook_failed: Option<Error>,
}

pub fn resolve_base(repo: &Repo, base: Option<&str>) -> Result<Base> {
    match base {
        Some(rev) => {
            let commit = repo.resolve_commit(rev)?;
            let branch = repo.branch_tip(rev).map(|_| rev.to_string());
            Ok(Base {
                branch,
                commit,
                label: rev.to_string(),
            })
        }
        None => {
            let head = repo.git.head().map_err(|_| {
                Error::failed("the repository has no commits yet")
                    .hint("make a first commit, then start tasks from it")
            })?;
            let commit = head.peel_to_commit()?.id();
            let branch = repo.current_branch();
            let label = branch
                .clone()
                .unwrap_or_else(|| commit.to_string()[..12].to_string());
            Ok(Base {
                branch,
                commit,
                label,
            })
        }
    }
}

fn advance(journal: &mut Journal, phase: Phase) -> Result<()> {
    journal.update(|op| {
        if let Op::Start(s) = op {
            s.phase = phase;
        }
    })
}

/// Creates the task. Every step after the journal entry is undone if the command is
/// interrupted or fails.
pub fn start(repo: &Repo, ui: &mut Ui, lease: &Lease, req: &Request) -> Result<Started> {
    let task = req.task;
    lease.covers(task)?;
    task::validate_name(task)?;
    let branch = task::branch_name(repo, task);
    let worktree_dir = repo.worktree_dir();
    let path = task::worktree_path(repo, task);
    let base = match &req.restore {
        Some(restore) => restore.base.clone(),
        None => resolve_base(repo, req.base)?,
    };
    let head = req.restore.as_ref().map_or(base.commit, |r| r.head);
    refuse_if_taken(repo, task, &branch, &path)?;

    let source = repo.current_worktree.clone();
    let carried = match (&req.restore, req.changes) {
        (Some(restore), _) => restore.changes.clone().map(|snap| (snap.clone(), snap)),
        (None, Some(StartChanges::Move | StartChanges::Copy)) => {
            super::guard::refuse_in_progress(&source, repo.git.path(), "the worktree")?;
            let snap = snapshot::capture(&source)?;
            (!snap.is_clean(&source)?)
                .then(|| snap.rebased(&source, &base.commit.to_string()))
                .transpose()?
                .map(|moved| (snap, moved))
        }
        _ => None,
    };
    space::ensure(&repo.git, head, &path, repo.config.min_free_space, task)?;
    // Worked out before anything is made: a listing that fails leaves nothing to undo.
    let copy_plan = req
        .copy_ignored
        .then(|| copy::plan(repo, &source, &path, &repo.config.copy_ignored_exclude))
        .transpose()?;
    cleanup::check()?;

    // Said after the checkout, but read while it runs: the other core is free meanwhile.
    let mut reminder = Background((req.changes.is_none() && !ui.interactive).then(|| {
        let source = source.clone();
        std::thread::spawn(move || status::status(&source))
    }));
    let created_dirs = missing_dirs(&path);
    let lock = RepoLock::acquire(&repo.par_dir(), ui, &format!("git par start {task}"))?;
    refuse_if_taken(repo, task, &branch, &path)?;
    let snapshot = carried
        .as_ref()
        .filter(|_| req.restore.is_none())
        .map(|(snap, _)| snap.commit(&source, "git-par: changes carried by start"))
        .transpose()?;
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Start(Journaled {
            phase: Phase::Begin,
            task: task.into(),
            branch: branch.clone(),
            path: path.clone(),
            worktree_dir: worktree_dir.clone(),
            base_commit: head.to_string(),
            created_dirs: created_dirs.clone(),
            identity: None,
            source: snapshot.as_ref().map(|_| source.clone()),
            snapshot,
        }),
    )?;
    let mut record = TaskRecord {
        task: task.into(),
        branch: branch.clone(),
        base: base.branch.clone(),
        base_commit: base.commit.to_string(),
        path: path.clone(),
        created: journal::now(),
        worktree_dir: Some(worktree_dir),
        identity: None,
        created_dirs,
    };
    let mut copied = None;
    let result = register(repo, &mut journal, &mut record, head, lock).and_then(|()| {
        cleanup::failpoint("start:branch");
        checkout_and_carry(
            repo,
            ui,
            &mut journal,
            &path,
            head,
            carried,
            match req.restore {
                Some(_) => Carry::Restore,
                None => Carry::From(req.changes),
            },
            copy_plan
                .as_ref()
                .map(|plan| (plan, req.progress, &mut copied)),
        )
    });
    if let Err(err) = result {
        let undone = match &journal.entry.op {
            Op::Start(op) => roll_back(repo, ui, &journal.entry.id, op, false),
            _ => Ok(Vec::new()),
        };
        report_rollback(ui, task, &undone);
        if undone.is_ok() {
            journal.done()?;
        }
        return Err(err);
    }
    journal.done()?;
    let left = reminder
        .join()
        .and_then(|status| status.ok())
        .filter(|status| !status.is_clean())
        .map(|status| (source.clone(), status));
    let copied = copied.map(|summary| (source.clone(), summary));
    let hook_failed = req
        .hooks
        .run(repo, ui, Event::PostStart, &record, &record.path)
        .err();
    Ok(Started {
        record,
        base,
        left,
        copied,
        hook_failed,
    })
}

fn report_rollback(ui: &mut Ui, task: &str, undone: &Result<Vec<String>>) {
    match undone {
        Ok(steps) => {
            for step in steps {
                ui.note(&format!("rolled back: {step}"));
            }
        }
        Err(e) => {
            ui.warn(&format!(
                "could not roll back task '{task}' completely: {}",
                e.message
            ));
            ui.hint("run 'git par recover' to finish the clean-up");
        }
    }
}

/// Under the repository lock: the branch, the worktree registered with git but not yet
/// checked out, and the task record with the new folder's identity. git itself does not
/// guard `git worktree add` against another one running at once (it reads the other's
/// half-written entry and dies), so this part takes turns; the checkout, the long part, does
/// not.
fn register(
    repo: &Repo,
    journal: &mut Journal,
    record: &mut TaskRecord,
    base: git2::Oid,
    lock: RepoLock,
) -> Result<()> {
    ensure_excluded(repo)?;
    let commit = repo.git.find_commit(base)?;
    repo.git
        .branch(&record.branch, &commit, false)
        .map_err(|e| {
            Error::failed(format!(
                "could not create branch '{}': {}",
                record.branch,
                e.message()
            ))
        })?;
    let path = record.path.to_string_lossy().into_owned();
    let list = gate::worktree_list(repo)?;
    git(
        &repo.main_worktree,
        [
            "worktree",
            "add",
            "--no-checkout",
            "--quiet",
            &path,
            &record.branch,
        ],
    )
    .critical()
    .run()
    .map_err(|e| e.context(format!("could not create the worktree at {path}")))?;
    drop(list);
    record.identity = Identity::of(&record.path);
    let identity = record.identity;
    journal.update(|op| {
        if let Op::Start(s) = op {
            s.identity = identity;
            s.phase = Phase::Registered;
        }
    })?;
    task::save(repo, record)?;
    drop(lock);
    Ok(())
}

/// Ignored files to copy (what, whether to show progress), and where to say what was copied.
type CopyStep<'a> = (&'a copy::Plan, bool, &'a mut Option<copy::Summary>);

/// Where carried changes come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carry {
    /// The worktree `start` runs in, as the caller decided.
    From(Option<StartChanges>),
    /// Saved work.
    Restore,
}

#[allow(clippy::too_many_arguments)]
fn checkout_and_carry(
    repo: &Repo,
    ui: &mut Ui,
    journal: &mut Journal,
    path: &Path,
    base: git2::Oid,
    carried: Option<(Snapshot, Snapshot)>,
    how: Carry,
    copy_step: Option<CopyStep>,
) -> Result<()> {
    cleanup::check()?;
    advance(journal, Phase::CheckingOut)?;
    checkout(ui, path, base, repo.config.checkout_workers)?;
    advance(journal, Phase::CheckedOut)?;
    cleanup::failpoint("start:checkout");
    cleanup::check()?;
    if let Some((plan, progress, copied)) = copy_step {
        // Before carried changes arrive: a move's point of no return comes after everything
        // that can still fail.
        advance(journal, Phase::CopyingIgnored)?;
        let identity = match &journal.entry.op {
            Op::Start(op) => op.identity,
            _ => None,
        };
        *copied = Some(copy::run(plan, path, identity, progress)?);
        cleanup::failpoint("start:copied");
        cleanup::check()?;
    }
    let Some((original, moved)) = carried else {
        return Ok(());
    };
    advance(journal, Phase::Carrying)?;
    moved.apply(path)?;
    // Saved work may hold ignored files par.keepIgnored named: they count as arrived.
    let keep: &[String] = match how {
        Carry::Restore => &repo.config.keep_ignored,
        Carry::From(_) => &[],
    };
    let arrived = snapshot::capture_keeping(path, keep)?;
    if arrived.index_tree != moved.index_tree || arrived.worktree_tree != moved.worktree_tree {
        return Err(Error::failed(format!(
            "the changes carried into {} do not match what was saved",
            path.display()
        ))
        .hint("nothing was removed from where you started; the new task was rolled back"));
    }
    cleanup::failpoint("start:carry");
    cleanup::check()?;
    if how == Carry::From(Some(StartChanges::Move)) {
        let source = &repo.current_worktree;
        if snapshot::capture(source)? != original {
            ui.warn(&format!(
                "files in {} changed while they were being carried; they were copied, not moved",
                source.display()
            ));
            return Ok(());
        }
        cleanup::past_point_of_no_return();
        advance(journal, Phase::CleaningSource)?;
        cleanup::failpoint("start:clean");
        let left = original.clean_out(source)?;
        if !left.is_empty() {
            ui.warn(&format!(
                "files in {} changed while they were being carried ({}); they were copied, not moved",
                source.display(),
                left.join(", ")
            ));
        }
    }
    Ok(())
}

/// What [`roll_back`] would do after a crash, for `recover --dry-run`.
pub fn intent(op: &Journaled) -> String {
    match (op.phase, &op.source) {
        (Phase::CleaningSource, Some(source)) => format!(
            "finish it: the changes carried into task '{}' arrived, so they are cleaned out of {}",
            op.task,
            source.display()
        ),
        (Phase::CleaningSource, None) => format!("finish it: task '{}' is whole", op.task),
        _ => format!(
            "roll it back: the half-made task '{}' (branch '{}', {}) is removed, anything written in it since saved first",
            op.task,
            op.branch,
            op.path.display()
        ),
    }
}

/// Undoes a start (or, past its point of no return, completes it); returns what was done.
/// `crashed`: the start that wrote the entry is gone, and someone may have worked in the new
/// worktree since, so its work is saved before it goes.
pub fn roll_back(
    repo: &Repo,
    ui: &mut Ui,
    id: &str,
    op: &Journaled,
    crashed: bool,
) -> Result<Vec<String>> {
    let mut done = Vec::new();
    if op.phase == Phase::CleaningSource {
        // The changes were verified in the new worktree before the source was cleaned: the
        // move had passed its point of no return, so finish it instead of undoing it.
        if let (Some(source), Some(snapshot)) = (&op.source, &op.snapshot) {
            let is_worktree = repo
                .worktrees()
                .iter()
                .any(|w| fsutil::resolve(&w.path) == fsutil::resolve(source));
            if !is_worktree {
                return Err(Error::failed(format!(
                    "the journal names {} as the source of carried changes, but git knows no worktree there",
                    source.display()
                )));
            }
            let left = Snapshot::from_commit(source, snapshot)?.clean_out(source)?;
            done.push(match left.is_empty() {
                true => format!("finished moving the changes out of {}", source.display()),
                false => format!(
                    "finished moving the changes: they are in task '{}', and also left in {}, where {} changed since",
                    op.task,
                    source.display(),
                    left.join(", ")
                ),
            });
        }
        return Ok(done);
    }
    super::check_journal_dir(repo, &op.task, &op.worktree_dir)?;
    if crashed && super::remade(repo, &op.task, &op.path, op.identity) {
        return Ok(vec![format!(
            "left task '{}' alone: it was started again since",
            op.task
        )]);
    }
    let claim = Claim {
        task: op.task.clone(),
        path: op.path.clone(),
        worktree_dir: op.worktree_dir.clone(),
        identity: op.identity,
    };
    let admin = super::registered_admin(repo, &op.path);
    if op.identity.is_some() || !crashed {
        if let Some(owned) = gate::prove(repo, &claim)? {
            // Whoever still works in it (an agent started there after the crash) would lose
            // what it writes next: recover leaves the entry for later.
            if crashed {
                super::guard::settle_processes(
                    &op.task,
                    owned.path(),
                    false,
                    repo.config.kill_timeout,
                )?;
            }
            // A worktree someone may have worked in since a crash keeps its work: files that
            // are new or differ from what start put there (a half-written checkout's missing
            // files are not work), and repositories cloned into it.
            if crashed {
                let head = op.snapshot.as_deref().unwrap_or(&op.base_commit);
                let saved = rescue::save_folder(
                    repo,
                    &op.task,
                    owned.path(),
                    head,
                    &[],
                    "start rolled back",
                )?;
                if let Some(saved) = saved {
                    done.push(format!(
                        "saved the changes in {} as {saved}",
                        op.path.display()
                    ));
                }
            }
            let trashed = owned.trash(id)?;
            if let Some(admin) = &trashed.admin {
                gate::forget_admin(repo, &op.task, admin)?;
            }
            trashed.delete(ui)?;
            done.push(format!("removed the worktree {}", op.path.display()));
        } else if let Some(admin) = &admin {
            if let Some(saved) = gate::forget_admin(repo, &op.task, admin)? {
                done.push(format!("saved what git's record of it held as {saved}"));
            }
            done.push(format!(
                "removed git's record of the worktree {}",
                op.path.display()
            ));
        }
    } else if std::fs::symlink_metadata(&op.path).is_ok() {
        // Crashed before the worktree was registered: whatever is at the path is not ours.
        done.push(format!(
            "left {} alone: it is not the task's",
            op.path.display()
        ));
    }
    let branch_is_ours = op.branch == task::branch_name(repo, &op.task);
    if let Some(tip) = repo.branch_tip(&op.branch).filter(|_| branch_is_ours) {
        if super::guard::branch_in_use(repo, &op.branch, None).is_none() {
            if tip.to_string() != op.base_commit {
                let saved = rescue::save(repo, &op.task, &tip.to_string(), "start rolled back")?;
                done.push(format!("saved branch '{}' as {saved}", op.branch));
            }
            super::delete_branch(repo, &op.branch, tip)?;
            done.push(format!("deleted branch '{}'", op.branch));
        }
    }
    let record_is_this = task::load(repo, &op.task).is_some_and(|r| r.path == op.path);
    if record_is_this {
        task::remove(repo, &op.task)?;
    }
    gate::remove_created_dirs(&op.worktree_dir, &op.created_dirs);
    Ok(done)
}

/// A read running beside the command. Joined on every way out, so the git it runs never
/// outlives git-par (an early error or interrupt included).
struct Background<T>(Option<std::thread::JoinHandle<T>>);

impl<T> Background<T> {
    fn join(&mut self) -> Option<T> {
        self.0.take().and_then(|handle| handle.join().ok())
    }
}

impl<T> Drop for Background<T> {
    fn drop(&mut self) {
        self.join();
    }
}

/// Fills the new worktree exactly as `git worktree add` does after registering it: `git reset
/// --hard --no-recurse-submodules` (filters, LFS, eol rules, sparse checkout all apply), then
/// the post-checkout hook with the arguments `git worktree add` gives it. The files are
/// written by `workers` parallel workers (`par.checkoutWorkers`, as git's `checkout.workers`:
/// 0 is one per core), however small the checkout: git's threshold of 100 files is for
/// checkouts that update a few files, and a new worktree writes them all.
fn checkout(ui: &Ui, path: &Path, head: git2::Oid, workers: i64) -> Result<()> {
    let what = || format!("could not check out the worktree at {}", path.display());
    let workers = format!("checkout.workers={workers}");
    let mut reset = vec!["-c", &workers, "-c", "checkout.thresholdForParallelism=1"];
    reset.extend(["reset", "--hard", "--no-recurse-submodules"]);
    if !ui.stderr_is_terminal {
        reset.push("--quiet");
    }
    git(path, &reset)
        .show_stderr()
        .run()
        .map_err(|e| e.context(what()))?;
    let head = head.to_string();
    let null = "0".repeat(head.len());
    git(
        path,
        [
            "hook",
            "run",
            "--ignore-missing",
            "post-checkout",
            "--",
            &null,
            &head,
            "1",
        ],
    )
    .show_stderr()
    .run()
    .map_err(|e| e.context(what()))?;
    Ok(())
}

fn refuse_if_taken(repo: &Repo, task: &str, branch: &str, path: &Path) -> Result<()> {
    if repo.branch_tip(branch).is_some() {
        return Err(
            Error::failed(format!("a branch named '{branch}' already exists")).hint(format!(
                "pick another task name, or drop the old one with 'git par drop {task}'"
            )),
        );
    }
    if task::load(repo, task).is_some() {
        return Err(Error::failed(format!("task '{task}' already exists"))
            .hint(format!("'git par path {task}' shows where it is")));
    }
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(Error::failed(format!(
            "the worktree path {} already exists",
            path.display()
        ))
        .hint("move it away, pick another task name, or set par.worktreeDir"));
    }
    Ok(())
}

/// Folders on the way to `path` that do not exist yet (deepest first), for rollback.
fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut dir = path.parent();
    while let Some(d) = dir {
        if d.exists() {
            break;
        }
        missing.push(d.to_path_buf());
        dir = d.parent();
    }
    missing
}

/// Keeps a worktree dir inside the repository out of `git status`, through
/// `.git/info/exclude` (never a tracked `.gitignore`).
fn ensure_excluded(repo: &Repo) -> Result<()> {
    let dir = repo.worktree_dir();
    let Ok(rel) = dir.strip_prefix(&repo.main_worktree) else {
        return Ok(());
    };
    let line = format!("/{}/", rel.to_string_lossy());
    let exclude = repo.common_dir.join("info").join("exclude");
    let current = std::fs::read_to_string(&exclude).unwrap_or_default();
    if current.lines().any(|l| l.trim() == line) {
        return Ok(());
    }
    let mut text = current;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    text.push('\n');
    fsutil::write_atomic(&exclude, text.as_bytes())
        .map_err(|e| Error::failed(format!("could not update {}: {e}", exclude.display())))
}
