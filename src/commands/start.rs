//! `git par start`: a branch at the base and a worktree for it, exactly as `git worktree add`
//! checks it out, with uncommitted changes carried over on request. Every step after the
//! journal entry is undone if the command is interrupted or fails.

use std::path::{Path, PathBuf};

use crate::cli::{StartArgs, StartChanges};
use crate::error::{Error, Result};
use crate::git::snapshot::{self, Snapshot};
use crate::git::status;
use crate::git::{git, Repo};
use crate::journal::{self, Journal, Op};
use crate::lock::RepoLock;
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{cleanup, recovery, space};

pub fn run(args: StartArgs, ui: &mut Ui) -> Result<u8> {
    task::validate_name(&args.task)?;
    let repo = crate::open_repo(ui)?;
    let request = Request {
        task: &args.task,
        base: args.base.as_deref(),
        changes: args.changes,
    };
    let path = start(&repo, ui, &request)?;
    ui.println(&path.to_string_lossy())?;
    if !args.no_cd {
        crate::shell::request_cd(&path);
    }
    Ok(0)
}

pub struct Request<'a> {
    pub task: &'a str,
    pub base: Option<&'a str>,
    pub changes: Option<StartChanges>,
}

/// Where a task starts from.
struct Base {
    branch: Option<String>,
    commit: git2::Oid,
    label: String,
}

fn resolve_base(repo: &Repo, base: Option<&str>) -> Result<Base> {
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

/// Creates the task and returns its worktree path.
pub fn start(repo: &Repo, ui: &mut Ui, req: &Request) -> Result<PathBuf> {
    let task = req.task;
    task::validate_name(task)?;
    let branch = task::branch_name(repo, task);
    let path = task::worktree_path(repo, task);
    let base = resolve_base(repo, req.base)?;
    refuse_if_taken(repo, task, &branch, &path)?;

    let source = repo.current_worktree.clone();
    let changes = decide_changes(ui, req.changes, &source)?;
    let carried = match changes {
        Some(StartChanges::Move | StartChanges::Copy) => {
            refuse_mid_operation(repo, &source)?;
            let snap = snapshot::capture(&source)?;
            (!snap.is_clean(&source)?)
                .then(|| snap.rebased(&source, &base.commit.to_string()))
                .transpose()?
                .map(|moved| (snap, moved))
        }
        _ => None,
    };
    space::ensure(
        &repo.git,
        base.commit,
        &path,
        repo.config.min_free_space,
        task,
    )?;
    cleanup::check()?;

    // Said after the checkout, but read while it runs: the other core is free meanwhile.
    let mut reminder = Background((changes.is_none() && !ui.interactive).then(|| {
        let source = source.clone();
        std::thread::spawn(move || status::status(&source))
    }));
    let created_dirs = missing_dirs(&path);
    let lock = RepoLock::acquire(&repo.par_dir(), ui, &format!("git par start {task}"))?;
    refuse_if_taken(repo, task, &branch, &path)?;
    let snapshot = carried
        .as_ref()
        .map(|(snap, _)| snap.commit(&source, "git-par: changes carried by start"))
        .transpose()?;
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Start {
            task: task.into(),
            branch: branch.clone(),
            path: path.clone(),
            base_commit: base.commit.to_string(),
            created_dirs,
            source: carried.as_ref().map(|_| source.clone()),
            snapshot,
        },
    )?;
    let record = TaskRecord {
        task: task.into(),
        branch: branch.clone(),
        base: base.branch.clone(),
        base_commit: base.commit.to_string(),
        path: path.clone(),
        created: journal::now(),
    };
    let result = register(repo, &record, base.commit, lock).and_then(|()| {
        cleanup::failpoint("start:branch");
        checkout_and_carry(repo, ui, &mut journal, &path, base.commit, carried, changes)
    });
    match result {
        Ok(()) => journal.done()?,
        Err(err) => {
            let undone = recovery::roll_back(repo, ui, &journal.entry);
            report_rollback(ui, task, &undone);
            if undone.is_ok() {
                journal.done()?;
            }
            return Err(err);
        }
    }
    ui.note(&format!(
        "Started task '{task}' on branch '{branch}' from {} ({})",
        base.label,
        &base.commit.to_string()[..7]
    ));
    if let Some(Ok(status)) = reminder.join() {
        if !status.is_clean() {
            ui.note(&format!(
                "Left {} uncommitted change(s) in {} (use --changes move|copy to carry them).",
                status.entries.len(),
                source.display()
            ));
        }
    }
    Ok(path)
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

fn checkout_and_carry(
    repo: &Repo,
    ui: &mut Ui,
    journal: &mut Journal,
    path: &Path,
    base: git2::Oid,
    carried: Option<(Snapshot, Snapshot)>,
    changes: Option<StartChanges>,
) -> Result<()> {
    cleanup::check()?;
    journal.set_phase("checkout")?;
    checkout(ui, path, base)?;
    journal.set_phase("checked-out")?;
    cleanup::failpoint("start:checkout");
    cleanup::check()?;
    let Some((original, moved)) = carried else {
        return Ok(());
    };
    journal.set_phase("carry")?;
    moved.apply(path)?;
    let arrived = snapshot::capture(path)?;
    if arrived.index_tree != moved.index_tree || arrived.worktree_tree != moved.worktree_tree {
        return Err(Error::failed(format!(
            "the changes carried into {} do not match what was saved",
            path.display()
        ))
        .hint("nothing was removed from where you started; the new task was rolled back"));
    }
    cleanup::failpoint("start:carry");
    cleanup::check()?;
    if changes == Some(StartChanges::Move) {
        let source = &repo.current_worktree;
        if snapshot::capture(source)? != original {
            ui.warn(&format!(
                "files in {} changed while they were being carried; they were copied, not moved",
                source.display()
            ));
            return Ok(());
        }
        cleanup::past_point_of_no_return();
        journal.set_phase("clean-source")?;
        cleanup::failpoint("start:clean");
        original.clean_out(source)?;
    }
    Ok(())
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

/// Under the repository lock: the branch, the task record, and the worktree registered with
/// git but not yet checked out. git itself does not guard `git worktree add` against another
/// one running at once (it reads the other's half-written entry and dies), so this part takes
/// turns; the checkout, the long part, does not.
fn register(repo: &Repo, record: &TaskRecord, base: git2::Oid, lock: RepoLock) -> Result<()> {
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
    task::save(repo, record)?;
    let path = record.path.to_string_lossy();
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
    drop(lock);
    Ok(())
}

/// Fills the new worktree exactly as `git worktree add` does after registering it: `git reset
/// --hard --no-recurse-submodules` (filters, LFS, eol rules, sparse checkout all apply), then
/// the post-checkout hook with the arguments `git worktree add` gives it.
fn checkout(ui: &Ui, path: &Path, head: git2::Oid) -> Result<()> {
    let what = || format!("could not check out the worktree at {}", path.display());
    let mut reset = vec!["reset", "--hard", "--no-recurse-submodules"];
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

fn refuse_mid_operation(repo: &Repo, source: &Path) -> Result<()> {
    let state = repo.git.state();
    if state != git2::RepositoryState::Clean {
        return Err(Error::failed(format!(
            "{} is in the middle of a {}; its changes cannot be carried",
            source.display(),
            format!("{state:?}").to_lowercase()
        ))
        .hint("finish or abort it first, or use '--changes leave'"));
    }
    Ok(())
}

/// Asks what to do with uncommitted changes here, only on a terminal and only when there are
/// some. `None` means "not asked and not told".
fn decide_changes(
    ui: &mut Ui,
    given: Option<StartChanges>,
    source: &Path,
) -> Result<Option<StartChanges>> {
    if given.is_some() || !ui.interactive {
        return Ok(given);
    }
    let status = status::status(source)?;
    if status.is_clean() {
        return Ok(Some(StartChanges::Leave));
    }
    ui.note(&format!(
        "{} has uncommitted changes ({} staged, {} unstaged, {} untracked).",
        source.display(),
        status.staged,
        status.unstaged,
        status.untracked
    ));
    let items = [
        "move them into the new task",
        "copy them into the new task (keep them here too)",
        "leave them here",
        "cancel",
    ];
    match ui.prompter.select("What should happen to them?", &items)? {
        0 => Ok(Some(StartChanges::Move)),
        1 => Ok(Some(StartChanges::Copy)),
        2 => Ok(Some(StartChanges::Leave)),
        _ => Err(Error::failed("cancelled; nothing was changed")),
    }
}

/// Folders on the way to `path` that do not exist yet (deepest first), for rollback.
fn missing_dirs(path: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut dir = Some(path);
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
    crate::fsutil::write_atomic(&exclude, text.as_bytes())
        .map_err(|e| Error::failed(format!("could not update {}: {e}", exclude.display())))
}
