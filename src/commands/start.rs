//! `git par start`: a branch at the base and a worktree for it (see [`ops::start`]), with
//! uncommitted changes carried over on request.

use std::path::Path;

use crate::cli::{StartArgs, StartChanges};
use crate::error::{Error, Result};
use crate::git::status;
use crate::hooks::Hooks;
use crate::ops::lease::Lease;
use crate::ops::start::{self, Request};
use crate::rescue::restore::Saved;
use crate::ui::Ui;
use crate::{rescue, task};

pub fn run(args: StartArgs, ui: &mut Ui) -> Result<u8> {
    task::validate_name(&args.task)?;
    let repo = crate::open_repo(ui)?;
    if let Some(record) = task::load(&repo, &args.task) {
        return go_to_existing(ui, &args, &record);
    }
    let saved = args
        .from
        .as_deref()
        .map(|name| rescue::restore::read(&repo, name))
        .transpose()?;
    let restore = match &saved {
        Some(saved) => {
            let (restore, assumed) = rescue::restore::plan(&repo, saved, args.base.as_deref())?;
            if let Some(assumed) = assumed {
                ui.note(&format!("{}: {assumed}", saved.refname));
            }
            Some(restore)
        }
        None => None,
    };
    // Restoring carries the saved changes only: what is uncommitted here stays, unasked.
    let changes = match restore {
        Some(_) => None,
        None => decide_changes(ui, args.changes, &repo.current_worktree)?,
    };
    let lease = Lease::take(
        &repo,
        ui,
        &args.task,
        &format!("git par start {}", args.task),
        args.wait,
    )?;
    let request = Request {
        task: &args.task,
        base: args.base.as_deref(),
        changes,
        copy_ignored: copy_ignored(args.copy_ignored, args.no_copy_ignored, &repo),
        progress: ui.stderr_is_terminal,
        hooks: Hooks::on_terminal(!args.no_hooks),
        restore,
    };
    let started = start::start(&repo, ui, &lease, &request)?;
    match &saved {
        Some(saved) => report_restored(ui, &started, saved),
        None => report(ui, &started),
    }
    ui.println(&started.record.path.to_string_lossy())?;
    if !args.no_cd {
        crate::shell::request_cd(&started.record.path);
    }
    match started.hook_failed {
        // As git does when a post-checkout hook fails: the checkout stands, the exit is 1.
        Some(err) => Err(err.hint(format!(
            "task '{}' was started and is kept; 'git par drop {}' removes it",
            args.task, args.task
        ))),
        None => Ok(0),
    }
}

/// What `start` says on stderr once the task is there.
pub fn report(ui: &mut Ui, started: &start::Started) {
    let record = &started.record;
    ui.note(&format!(
        "Started task '{}' on branch '{}' from {} ({})",
        record.task,
        record.branch,
        started.base.label,
        &started.base.commit.to_string()[..7]
    ));
    if let Some((source, summary)) = &started.copied {
        ui.note(&crate::copy::describe(summary, source));
    }
    if let Some((source, status)) = &started.left {
        ui.note(&format!(
            "Left {} uncommitted change(s) in {} (use --changes move|copy to carry them).",
            status.entries.len(),
            source.display()
        ));
    }
}

/// `--copy-ignored`/`--no-copy-ignored` (the later wins), else `par.copyIgnored`.
pub fn copy_ignored(yes: bool, no: bool, repo: &crate::git::Repo) -> bool {
    match (yes, no) {
        (_, true) => false,
        (true, _) => true,
        _ => repo.config.copy_ignored,
    }
}

/// `start` of a task that exists: says so and goes there, as `git par cd` would (exit 0:
/// the user is where the task is). Options that shape a new task would be silently dropped,
/// so with one of them it is refused instead (exit 1), and nothing is changed.
fn go_to_existing(ui: &mut Ui, args: &StartArgs, record: &task::TaskRecord) -> Result<u8> {
    let name = &args.task;
    let path = &record.path;
    let shaping = args.base.is_some()
        || args.from.is_some()
        || matches!(args.changes, Some(StartChanges::Move | StartChanges::Copy))
        || args.copy_ignored;
    if shaping {
        return Err(Error::failed(format!(
            "task '{name}' already exists, on branch '{}'; nothing was changed",
            record.branch
        ))
        .hint(format!(
            "--base, --from, --changes and --copy-ignored apply only to a new task; go to it with 'git par cd {name}'"
        )));
    }
    if !path.is_dir() {
        return Err(Error::failed(format!(
            "task '{name}' already exists, but its worktree is missing: {}",
            path.display()
        ))
        .hint("'git par list' shows what is wrong with it, 'git par recover' repairs it"));
    }
    ui.note(&format!(
        "Task '{name}' already exists on branch '{}'; going to its worktree.",
        record.branch
    ));
    ui.println(&path.to_string_lossy())?;
    if !args.no_cd {
        crate::shell::request_cd(path);
    }
    Ok(0)
}

/// What `start --from` says on stderr once the task is back.
fn report_restored(ui: &mut Ui, started: &start::Started, saved: &Saved) {
    let record = &started.record;
    ui.note(&format!(
        "Restored task '{}' on branch '{}' from {} (base {}, {})",
        record.task,
        record.branch,
        saved.refname,
        started.base.label,
        &started.base.commit.to_string()[..7]
    ));
    if saved.changes.is_some() {
        ui.note("Its uncommitted changes are back, uncommitted.");
    }
    ui.note(&format!(
        "The saved work is kept; 'git par rescued --drop {}' deletes it.",
        saved.refname
    ));
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
    // Enter alone moves nothing: it leaves the changes where they are.
    match ui
        .prompter
        .select("What should happen to them?", &items, 2)?
    {
        Some(0) => Ok(Some(StartChanges::Move)),
        Some(1) => Ok(Some(StartChanges::Copy)),
        Some(2) => Ok(Some(StartChanges::Leave)),
        _ => Err(Error::failed("cancelled; nothing was changed")),
    }
}
