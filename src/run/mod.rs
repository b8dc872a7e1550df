//! `git par run`: a command inside one task ([`single`]) or many at once ([`many`]), and what
//! both share: the command line and environment a task's command gets, what a task holds
//! afterwards, and the summary that `--json` prints.

pub mod child;
pub mod holdings;
pub mod many;
pub mod single;
pub mod view;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;

use crate::cli::StartChanges;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ops::lease::Lease;
use crate::ops::{drop, finish, start};
use crate::space;
use crate::task::{self, TaskRecord};
use crate::ui::Ui;

/// What the user asked for, shared by both modes.
pub struct Settings {
    pub command: Vec<String>,
    pub start: bool,
    pub base: Option<String>,
    pub finish: bool,
    pub json: bool,
    pub jobs: usize,
    /// Wait for a task another git par works in, instead of refusing it.
    pub wait: bool,
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

/// The task's record, created first (as `git par start` would) when `--start` asks for it
/// and it does not exist. The flag says whether this run created it.
pub fn prepare(
    repo: &Repo,
    ui: &mut Ui,
    settings: &Settings,
    lease: &Lease,
    task: &str,
) -> Result<(TaskRecord, bool)> {
    if let Some(record) = task::load(repo, task) {
        return Ok((record, false));
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
        restore: None,
    };
    let started = start::start(repo, ui, lease, &request)?;
    crate::commands::start::report(ui, &started);
    Ok((started.record, true))
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

/// The same refusal as `git par start` when the checkout of a new task would not fit.
pub fn check_space(repo: &Repo, commit: git2::Oid, task: &str) -> Result<()> {
    space::ensure(
        &repo.git,
        commit,
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
    let base = record
        .base
        .clone()
        .unwrap_or_else(|| record.base_commit.clone());
    let vars: [(&str, OsString); 5] = [
        ("GIT_PAR_TASK", record.task.clone().into()),
        ("GIT_PAR_BRANCH", record.branch.clone().into()),
        ("GIT_PAR_BASE", base.into()),
        ("GIT_PAR_WORKTREE", record.path.clone().into()),
        ("GIT_PAR_MAIN_WORKTREE", repo.main_worktree.clone().into()),
    ];
    for (key, value) in vars {
        cmd.env(key, value);
    }
    cmd
}

/// What became of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Merged back and taken apart (`--finish`).
    Finished,
    /// Left in place, with whatever it holds.
    Kept,
    /// Created by this run, interrupted, and held no work: removed again.
    Removed,
    /// The command never ran in it (interrupted first, or the task could not be created).
    NotRun,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Outcome::Finished => "finished",
            Outcome::Kept => "kept",
            Outcome::Removed => "removed",
            Outcome::NotRun => "not run",
        }
    }
}

/// One task's line in the `--json` summary.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub task: String,
    /// The command's exit status (128 + signal when a signal ended it); none if it never ran.
    pub exit: Option<i32>,
    /// The signal that ended the command, if one did.
    pub signal: Option<String>,
    pub duration_ms: Option<u64>,
    /// Commits made on the task's branch during the run.
    pub commits: usize,
    /// Files that differ from where the task stood before the run, committed or not.
    pub changed_files: usize,
    pub outcome: Outcome,
    pub log: Option<PathBuf>,
    /// Why the task was kept or not run, when something went wrong.
    pub error: Option<String>,
}

impl Report {
    pub fn new(task: &str) -> Report {
        Report {
            task: task.to_string(),
            exit: None,
            signal: None,
            duration_ms: None,
            commits: 0,
            changed_files: 0,
            outcome: Outcome::NotRun,
            log: None,
            error: None,
        }
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    interrupted: Option<&'a str>,
    tasks: &'a [Report],
}

/// The `--json` summary on stdout.
pub fn print_json(
    ui: &mut Ui,
    reports: &[Report],
    interrupted: Option<nix::sys::signal::Signal>,
) -> Result<()> {
    let summary = Summary {
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
/// changes are asked about only where `ui` may prompt, and refused otherwise.
pub fn finish_task(
    repo: &Repo,
    ui: &mut Ui,
    lease: &Lease,
    record: &TaskRecord,
) -> Result<finish::Outcome> {
    let request = finish::Request {
        into: None,
        strategy: None,
        message: None,
        changes: None,
        keep: false,
        dry_run: false,
        stop_processes: false,
        foreground: false,
    };
    finish::finish(repo, ui, lease, record, &request)
}

/// Removes a task this run created once it is known to hold no work; `git par drop` still
/// refuses if work appeared meanwhile.
pub fn remove_empty(repo: &Repo, ui: &mut Ui, lease: &Lease, record: &TaskRecord) -> Result<()> {
    let request = drop::Request {
        force: false,
        stop_processes: false,
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
