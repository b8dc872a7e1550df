//! `git par run`: a command inside one task ([`single`]) or many at once ([`many`]), and what
//! both share: the command line and environment a task's command gets, what a task holds
//! afterwards, and the summary that `--json` prints.

pub mod child;
pub mod events;
pub mod holdings;
pub mod many;
pub mod outcome;
pub mod recover;
pub mod single;
pub mod view;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;

use crate::cli::{FinishChanges, StartChanges};
use crate::error::{Error, Refusal, Result};
use crate::git::Repo;
use crate::ops::lease::Lease;
use crate::ops::{drop, finish, start};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{hooks, space};
use events::Event;
use outcome::{Failure, Outcome, Reason};

/// What the user asked for, shared by both modes.
#[derive(Clone)]
pub struct Settings {
    pub command: Vec<String>,
    pub start: bool,
    pub base: Option<String>,
    pub finish: bool,
    pub json: bool,
    pub jobs: usize,
    /// Wait for a task another git par works in, instead of refusing it.
    pub wait: bool,
    /// Copy ignored files into the tasks `--start` creates.
    pub copy_ignored: bool,
    /// Run no hooks.
    pub no_hooks: bool,
    /// Stop a command that runs longer than this.
    pub timeout: Option<Duration>,
    /// What `--finish` does with uncommitted changes, and the message to commit them with.
    pub changes: Option<FinishChanges>,
    pub message: Option<String>,
    /// Where `--events` go.
    pub events: Option<PathBuf>,
}

impl Settings {
    pub fn hooks(&self, output: hooks::Output) -> hooks::Hooks {
        hooks::Hooks {
            enabled: !self.no_hooks,
            output,
        }
    }
}

/// Takes the lease of a task this run is to work in.
pub fn lease(repo: &Repo, ui: &mut Ui, settings: &Settings, task: &str) -> Result<Lease> {
    Lease::take(
        repo,
        ui,
        task,
        &format!("git par run {task}"),
        settings.wait,
    )
}

/// A task ready for its command, or created and kept without it.
pub struct Prepared {
    pub record: TaskRecord,
    /// This run created it.
    pub created: bool,
    /// Its postStart hook failed: the task stands, and its command is not run in it.
    pub hook_failed: Option<Error>,
}

/// The task's record, created first (as `git par start` would) when `--start` asks for it
/// and it does not exist.
pub fn prepare(
    repo: &Repo,
    ui: &mut Ui,
    settings: &Settings,
    lease: &Lease,
    task: &str,
    output: hooks::Output,
) -> Result<Prepared> {
    if let Some(record) = task::load(repo, task) {
        return Ok(Prepared {
            record,
            created: false,
            hook_failed: None,
        });
    }
    if !settings.start {
        return Err(
            Error::failed(format!("no task named '{task}'")).hint(format!(
                "create it with 'git par start {task}', or pass --start"
            )),
        );
    }
    let request = start::Request {
        task,
        base: settings.base.as_deref(),
        changes: Some(StartChanges::Leave),
        copy_ignored: settings.copy_ignored,
        // One task: it owns the terminal. Many: the live view does.
        progress: ui.stderr_is_terminal && matches!(output, hooks::Output::Terminal),
        hooks: settings.hooks(output),
        restore: None,
    };
    let started = start::start(repo, ui, lease, &request)?;
    crate::commands::start::report(ui, &started);
    // Its setup failed: the command is not run in it, and the task is kept.
    let hook_failed = started.hook_failed.map(|err| {
        err.hint(format!(
            "task '{task}' was created and is kept; its command was not run"
        ))
        .because(Refusal::HookFailed)
    });
    Ok(Prepared {
        record: started.record,
        created: true,
        hook_failed,
    })
}

/// Refuses a task whose worktree folder is gone: the command would run nowhere.
pub fn check_worktree(record: &TaskRecord) -> Result<()> {
    if record.path.is_dir() {
        return Ok(());
    }
    Err(Error::failed(format!(
        "task '{}' has no worktree at {}",
        record.task,
        record.path.display()
    ))
    .hint("'git par recover' looks into tasks that lost their worktree"))
}

/// The commit new tasks start from: `--base`, else what is checked out here.
pub fn base_commit(repo: &Repo, settings: &Settings) -> Result<git2::Oid> {
    match settings.base.as_deref() {
        Some(rev) => repo.resolve_commit(rev),
        None => Ok(repo.git.head()?.peel_to_commit()?.id()),
    }
}

/// The same refusal as `git par start` when the checkout of a new task would not fit, with
/// room kept for `in_flight` other checkouts of the same size being written now.
pub fn check_space(repo: &Repo, commit: git2::Oid, task: &str, in_flight: usize) -> Result<()> {
    let one = space::checkout_size(&repo.git, commit)?;
    space::ensure_free(
        one.saturating_mul(in_flight as u64 + 1),
        &task::worktree_path(repo, task),
        repo.config.min_free_space,
        task,
    )
}

/// `{task}` replaced by the task's name in every argument.
pub fn substitute(command: &[String], task: &str) -> Vec<String> {
    command.iter().map(|a| a.replace("{task}", task)).collect()
}

/// The task's command, in its worktree, with the `GIT_PAR_*` variables set and the
/// variables that would redirect git removed.
pub fn command_for(repo: &Repo, record: &TaskRecord, command: &[String]) -> Command {
    let argv = substitute(command, &record.task);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(&record.path);
    for var in crate::git::run::REPO_ENV {
        cmd.env_remove(var);
    }
    cmd.envs(hooks::env(repo, record));
    cmd
}

/// One task's line in the `--json` summary (keys in the man page; kept stable).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub task: String,
    pub outcome: Outcome,
    /// Why the task was kept or removed; none when it merged, or when it was kept because
    /// its command succeeded and `--finish` was not asked for.
    pub reason: Option<Reason>,
    /// The command's exit status (128 + signal when a signal ended it); none if it never ran.
    pub exit: Option<i32>,
    /// The signal that ended the command, if one did.
    pub signal: Option<String>,
    /// The command was stopped at `--timeout`.
    pub timed_out: bool,
    pub duration_ms: Option<u64>,
    /// Commits made on the task's branch during the run.
    pub commits: usize,
    /// Files that differ from where the task stood before the run, committed or not.
    pub changed_files: usize,
    /// What a kept task holds, in words (`2 commits, 1 uncommitted change`, `no work`).
    pub holds: Option<String>,
    /// The worktree of a kept task.
    pub path: Option<PathBuf>,
    /// The branch a merged task went into, and the commit that branch points at after it.
    pub merged_into: Option<String>,
    pub commit: Option<String>,
    pub log: Option<PathBuf>,
    /// Processes that still worked in the worktree after the command's process group ended
    /// (`pid N (name) how`).
    pub left_running: Vec<String>,
    /// What went wrong, when something did.
    pub error: Option<Failure>,
}

impl Report {
    pub fn new(task: &str) -> Report {
        Report {
            task: task.to_string(),
            outcome: Outcome::Kept,
            reason: Some(Reason::NotStarted),
            exit: None,
            signal: None,
            timed_out: false,
            duration_ms: None,
            commits: 0,
            changed_files: 0,
            holds: None,
            path: None,
            merged_into: None,
            commit: None,
            log: None,
            left_running: Vec::new(),
            error: None,
        }
    }

    /// `merged into main`, `kept (conflict)`, `removed (command-failed; it held no work)`.
    pub fn verdict(&self) -> String {
        match (self.outcome, self.reason) {
            (Outcome::Merged, _) => format!(
                "merged into {}",
                self.merged_into.as_deref().unwrap_or("its base")
            ),
            (Outcome::Removed, Some(reason)) => {
                format!("removed ({}; it held no work)", reason.word())
            }
            (Outcome::Removed, None) => "removed (it held no work)".into(),
            (Outcome::Kept, reason) => {
                let mut why: Vec<String> =
                    reason.map(|r| r.word().to_string()).into_iter().collect();
                why.extend(self.holds.clone());
                match why.is_empty() {
                    true => "kept".into(),
                    false => format!("kept ({})", why.join(": ")),
                }
            }
        }
    }

    /// The task was kept for `reason`, with `err` saying what went wrong, if anything did.
    pub fn keep(&mut self, reason: Option<Reason>, err: Option<&Error>) {
        self.outcome = Outcome::Kept;
        self.reason = reason;
        if let Some(err) = err {
            self.error = Some(err.into());
        }
    }
}

/// The event that says how task `report` ended.
pub fn final_event(report: &Report) -> Event {
    match report.outcome {
        Outcome::Merged => Event::Merged {
            into: report.merged_into.clone().unwrap_or_default(),
            commit: report.commit.clone(),
        },
        Outcome::Removed => Event::Removed {
            reason: report.reason,
            log: report.log.clone(),
        },
        Outcome::Kept => Event::Kept {
            reason: report.reason,
            holds: report.holds.clone(),
            path: report.path.clone(),
            error: report.error.clone(),
        },
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    /// The run's id, as in its events and in `git par list --json`.
    run: &'a str,
    interrupted: Option<&'a str>,
    tasks: &'a [Report],
}

/// The `--json` summary on stdout.
pub fn print_json(
    ui: &mut Ui,
    run: &str,
    reports: &[Report],
    interrupted: Option<nix::sys::signal::Signal>,
) -> Result<()> {
    let summary = Summary {
        run,
        interrupted: interrupted.map(|s| s.as_str()),
        tasks: reports,
    };
    ui.println(&serde_json::to_string_pretty(&summary)?)?;
    Ok(())
}

/// `1.2s`, `3m04s`: short enough for a line per task.
pub fn duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{:.1}s", d.as_secs_f64())
    } else if secs < 3600 {
        format!("{}m{:02}s", secs / 60, secs % 60)
    } else {
        format!("{}h{:02}m", secs / 3600, secs % 3600 / 60)
    }
}

/// Finishes a task as `git par finish <task>` would, with its default strategy; uncommitted
/// changes are dealt with as `--changes` says, else refused (the task is kept).
pub fn finish_task(
    repo: &Repo,
    ui: &mut Ui,
    settings: &Settings,
    lease: &Lease,
    record: &TaskRecord,
    hooks: hooks::Hooks,
) -> Result<finish::Outcome> {
    let request = finish::Request {
        into: None,
        strategy: None,
        message: None,
        changes_message: Some(settings.message.clone().unwrap_or_else(|| {
            format!(
                "Changes left by '{}' in task '{}'",
                substitute(&settings.command, &record.task).join(" "),
                record.task
            )
        })),
        changes: settings.changes,
        keep: false,
        dry_run: false,
        stop_processes: false,
        foreground: false,
        hooks,
    };
    let outcome = finish::finish(repo, ui, lease, record, &request)?;
    if let Some(err) = &outcome.hook_failed {
        ui.warn(&format!(
            "{} (task '{}' was finished)",
            err.message, record.task
        ));
    }
    Ok(outcome)
}

/// Where a merged task's work went: the branch and the commit it points at now.
pub fn merged_commit(repo: &Repo, outcome: &finish::Outcome) -> Option<String> {
    repo.branch_tip(&outcome.target).map(|c| c.to_string())
}

/// Removes a task this run created once it is known to hold no work; `git par drop` still
/// refuses if work appeared meanwhile.
pub fn remove_empty(repo: &Repo, ui: &mut Ui, lease: &Lease, record: &TaskRecord) -> Result<()> {
    // Taking back what this run itself just made: not a drop the user asked for.
    let request = drop::Request {
        force: false,
        stop_processes: false,
        hooks: hooks::Hooks::on_terminal(false),
        only_clean: false,
        foreground: false,
    };
    drop::drop_task(repo, ui, lease, record, &request).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_every_occurrence() {
        let cmd = vec!["echo".into(), "{task}-{task}".into(), "x{task}".into()];
        assert_eq!(substitute(&cmd, "t1"), vec!["echo", "t1-t1", "xt1"]);
    }

    #[test]
    fn durations_stay_short() {
        assert_eq!(duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(duration(Duration::from_secs(184)), "3m04s");
        assert_eq!(duration(Duration::from_secs(7380)), "2h03m");
    }
}
