//! Hooks: shell commands run in a task's worktree after it starts, before and after it is
//! finished, and before it is dropped, so a new task can install its dependencies and a
//! finish can run the tests first.
//!
//! Two sources, run in this order: `par.hook.<event>` in git config (the user's own, every
//! level, several values in order), then the `[hook]` section of a `.git-par.config` committed
//! in the repository (git config syntax, like `.gitmodules`). A committed file arrives with a
//! clone, from anyone, so its hooks run only once the user has approved its exact text (see
//! [`trust`]); an unapproved one is asked about on a terminal and skipped with a warning
//! anywhere else. Like git's own hooks, their standard output goes to standard error (stdout
//! carries results such as `start`'s path), or into the task's log in a many-task run.

pub mod trust;

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::cleanup;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::task::TaskRecord;
use crate::ui::Ui;

/// The file in a worktree whose `[hook]` section holds committed hooks.
pub const FILE: &str = ".git-par.config";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    PostStart,
    PreFinish,
    PostFinish,
    PreDrop,
}

impl Event {
    pub const ALL: [Event; 4] = [
        Event::PostStart,
        Event::PreFinish,
        Event::PostFinish,
        Event::PreDrop,
    ];

    /// The event a config key's last part names (git lowercases it).
    pub fn from_key(key: &str) -> Option<Event> {
        Event::ALL
            .into_iter()
            .find(|e| e.name().eq_ignore_ascii_case(key))
    }

    pub fn name(self) -> &'static str {
        match self {
            Event::PostStart => "postStart",
            Event::PreFinish => "preFinish",
            Event::PostFinish => "postFinish",
            Event::PreDrop => "preDrop",
        }
    }

    fn is_pre(self) -> bool {
        matches!(self, Event::PreFinish | Event::PreDrop)
    }
}

/// Where a hook's output goes.
#[derive(Debug, Clone)]
pub enum Output {
    /// git-par's standard error (a hook's stdout too, as git does with its hooks).
    Terminal,
    /// Appended to a task's log (a many-task run).
    Log(PathBuf),
}

/// Whether and where hooks run, as the command line asked.
#[derive(Debug, Clone)]
pub struct Hooks {
    pub enabled: bool,
    pub output: Output,
}

impl Hooks {
    pub fn on_terminal(enabled: bool) -> Hooks {
        Hooks {
            enabled,
            output: Output::Terminal,
        }
    }

    /// Runs the hooks for `event` in `dir` (the task's worktree, or where the task was
    /// merged once it is gone), one after another; the first that fails stops the rest.
    /// A failing hook is an error: for a `pre` event the caller has changed nothing yet.
    pub fn run(
        &self,
        repo: &Repo,
        ui: &mut Ui,
        event: Event,
        record: &TaskRecord,
        dir: &Path,
    ) -> Result<()> {
        if !self.enabled {
            return Ok(());
        }
        let mut commands: Vec<String> = repo
            .config
            .hooks
            .iter()
            .filter(|(e, _)| *e == event)
            .map(|(_, c)| c.clone())
            .collect();
        let interactive = ui.interactive && matches!(self.output, Output::Terminal);
        commands.extend(trust::committed(repo, ui, dir, event, interactive)?);
        for command in commands {
            cleanup::check()?;
            self.run_one(repo, ui, event, record, dir, &command)?;
        }
        Ok(())
    }

    fn run_one(
        &self,
        repo: &Repo,
        ui: &mut Ui,
        event: Event,
        record: &TaskRecord,
        dir: &Path,
        command: &str,
    ) -> Result<()> {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(command).current_dir(dir);
        for var in crate::git::run::REPO_ENV {
            cmd.env_remove(var);
        }
        cmd.envs(env(repo, record));
        cmd.env("GIT_PAR_HOOK", event.name());
        match &self.output {
            Output::Terminal => {
                ui.flush().ok();
                let err = std::io::stderr().lock();
                let err = std::os::fd::AsFd::as_fd(&err).try_clone_to_owned();
                let err = err.map_err(|e| Error::failed(format!("could not run a hook: {e}")))?;
                cmd.stdout(Stdio::from(err));
            }
            Output::Log(log) => {
                if let Some(parent) = log.parent() {
                    std::fs::create_dir_all(parent).ok();
                }
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(log)
                    .map_err(|e| Error::failed(format!("could not open {}: {e}", log.display())))?;
                let file2 = file
                    .try_clone()
                    .map_err(|e| Error::failed(format!("could not open {}: {e}", log.display())))?;
                cmd.stdin(Stdio::null())
                    .stdout(Stdio::from(file))
                    .stderr(Stdio::from(file2));
            }
        }
        cleanup::die_with_parent(&mut cmd);
        let status = cmd.status().map_err(|e| {
            Error::failed(format!(
                "could not run the {} hook '{command}': {e}",
                event.name()
            ))
        })?;
        cleanup::check()?;
        if status.success() {
            return Ok(());
        }
        let how = match (
            status.code(),
            std::os::unix::process::ExitStatusExt::signal(&status),
        ) {
            (Some(code), _) => format!("exit {code}"),
            (None, Some(sig)) => format!("signal {sig}"),
            _ => "failed".into(),
        };
        let err = Error::failed(format!(
            "the {} hook '{command}' failed ({how}) in {}",
            event.name(),
            dir.display()
        ));
        Err(match event.is_pre() {
            true => err.hint("nothing was changed; fix what it found, or pass --no-hooks"),
            false => err,
        })
    }
}

/// The `GIT_PAR_*` variables a task's commands and hooks get.
pub fn env(repo: &Repo, record: &TaskRecord) -> [(&'static str, OsString); 5] {
    let base = record
        .base
        .clone()
        .unwrap_or_else(|| record.base_commit.clone());
    [
        ("GIT_PAR_TASK", record.task.clone().into()),
        ("GIT_PAR_BRANCH", record.branch.clone().into()),
        ("GIT_PAR_BASE", base.into()),
        ("GIT_PAR_WORKTREE", record.path.clone().into()),
        ("GIT_PAR_MAIN_WORKTREE", repo.main_worktree.clone().into()),
    ]
}
