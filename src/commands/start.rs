//! `git par start`: a branch at the base and a worktree for it (see [`ops::start`]), with
//! uncommitted changes carried over on request.

use std::path::Path;

use crate::cli::{StartArgs, StartChanges};
use crate::error::{Error, Result};
use crate::git::status;
use crate::ops::lease::Lease;
use crate::ops::start::{self, Request};
use crate::rescue::restore::Saved;
use crate::ui::Ui;
use crate::{rescue, task};

pub fn run(args: StartArgs, ui: &mut Ui) -> Result<u8> {
    task::validate_name(&args.task)?;
    let repo = crate::open_repo(ui)?;
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
    Ok(0)
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
    if let Some((source, status)) = &started.left {
        ui.note(&format!(
            "Left {} uncommitted change(s) in {} (use --changes move|copy to carry them).",
            status.entries.len(),
            source.display()
        ));
    }
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
