//! One task: the command runs as if typed at the terminal, in git-par's own process group,
//! so editors, REPLs and agents work and a Ctrl-C typed there reaches the command itself.
//! git-par only records signals and waits; SIGTERM and SIGHUP sent to git-par alone are
//! passed on, and so is a SIGINT when no terminal could have delivered it.

use std::time::Instant;

use nix::sys::signal::Signal;

use super::child::{self, Exit};
use super::holdings::{self, Holdings};
use super::{Outcome, Report, Settings};
use crate::cleanup;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::hooks::Output;
use crate::journal::{Journal, Op, RunOp};
use crate::ops::lease::Lease;
use crate::task::TaskRecord;
use crate::ui::Ui;

pub fn run(repo: &Repo, ui: &mut Ui, settings: &Settings, task: &str) -> Result<u8> {
    let lease = super::lease(repo, ui, settings, task)?;
    let (record, created) = super::prepare(repo, ui, settings, &lease, task, Output::Terminal)?;
    super::check_worktree(&record)?;
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Run(RunOp {
            tasks: vec![task.to_string()],
            commands: Vec::new(),
        }),
    )?;
    let result = run_in(repo, ui, settings, &lease, &record, created, &mut journal);
    journal.done()?;
    result
}

fn run_in(
    repo: &Repo,
    ui: &mut Ui,
    settings: &Settings,
    lease: &Lease,
    record: &TaskRecord,
    created: bool,
    journal: &mut Journal,
) -> Result<u8> {
    let task = record.task.as_str();
    let before = holdings::tip(repo, record);
    let started = Instant::now();
    let foreground = child::in_terminal_foreground();
    let cmd = super::command_for(repo, record, &settings.command);
    let pid = child::spawn_foreground(cmd, task)?.id();
    journal.update(|op| {
        if let Op::Run(run) = op {
            run.commands.push(pid);
        }
    })?;
    let exit = wait(pid, foreground)?;
    let elapsed = started.elapsed();

    // A Ctrl-C typed at the terminal was the command's to handle; anything else asked
    // git-par to stop, so nothing more is done to the task than removing it if it is empty.
    let signal = cleanup::pending();
    cleanup::settle();
    let typed_ctrl_c = signal == Some(Signal::SIGINT) && foreground;
    let stopped = (signal.is_some() && !typed_ctrl_c)
        || matches!(
            exit.signal(),
            Some(Signal::SIGINT | Signal::SIGTERM | Signal::SIGHUP)
        );

    let mut report = Report::new(task);
    report.exit = Some(exit.status());
    report.signal = exit.signal().map(|s| s.as_str().to_string());
    report.duration_ms = Some(elapsed.as_millis() as u64);
    let held = holdings::inspect(repo, record, before);
    if let Ok(held) = &held {
        report.commits = held.new_commits;
        report.changed_files = held.changed_files;
    }
    report.outcome = Outcome::Kept;
    let mut failed = !exit.success();
    if stopped {
        if created && held.as_ref().is_ok_and(Holdings::is_empty) {
            match super::remove_empty(repo, ui, lease, record) {
                Ok(()) => report.outcome = Outcome::Removed,
                Err(err) => report.error = Some(err.message),
            }
        }
    } else if settings.finish && exit.success() {
        match super::finish_task(repo, ui, lease, record, settings.hooks(Output::Terminal)) {
            Ok(_) => report.outcome = Outcome::Finished,
            Err(err) => {
                ui.error(&err);
                report.error = Some(err.message);
                failed = true;
            }
        }
    }
    ui.note(&summary_line(record, exit, elapsed, &held, report.outcome));
    if settings.json {
        super::print_json(ui, std::slice::from_ref(&report), signal)?;
    }
    if exit.signal() == Some(Signal::SIGINT) {
        // Dying the same way lets a calling shell loop stop too, as it would for the
        // command typed alone.
        return Err(Error::interrupted(Signal::SIGINT));
    }
    if failed && exit.success() {
        return Ok(1);
    }
    Ok(exit.status().clamp(0, 255) as u8)
}

/// Waits for the command, passing on the signals that could not have reached it directly.
fn wait(pid: u32, foreground: bool) -> Result<Exit> {
    let mut passed_on = 0;
    loop {
        if let Some(exit) = child::try_reap(pid)? {
            return Ok(exit);
        }
        let presses = cleanup::presses();
        if presses > passed_on {
            passed_on = presses;
            match cleanup::pending() {
                Some(Signal::SIGINT) if foreground => {}
                Some(sig) => child::signal(pid, sig),
                None => {}
            }
        }
        std::thread::sleep(child::POLL);
    }
}

/// `task 'x': exited 0 after 1.2s, 1 commit, 3 files changed; finished`
fn summary_line(
    record: &TaskRecord,
    exit: Exit,
    elapsed: std::time::Duration,
    held: &Result<Holdings>,
    outcome: Outcome,
) -> String {
    let work = match held {
        Ok(h) => {
            let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
            format!(
                "{}, {} changed",
                plural(h.new_commits, "commit"),
                plural(h.changed_files, "file")
            )
        }
        Err(e) => format!("could not look at its work: {}", e.message),
    };
    let place = match outcome {
        Outcome::Kept => format!(" at {}", record.path.display()),
        _ => String::new(),
    };
    format!(
        "task '{}': {} after {}, {work}; {}{place}",
        record.task,
        exit.describe(),
        super::duration(elapsed),
        outcome.word()
    )
}
