//! One task: the command runs as if typed at the terminal, in git-par's own process group,
//! so editors, REPLs and agents work and a Ctrl-C typed there reaches the command itself.
//! git-par only records signals and waits; SIGTERM and SIGHUP sent to git-par alone are
//! passed on, and so is a SIGINT when no terminal could have delivered it. git-par adopts
//! what the command leaves running (it is their subreaper), so the command is done when
//! those are too.

use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use super::child::{self, Exit};
use super::events::{Event, Events};
use super::holdings::{self, Holdings};
use super::outcome::{Outcome, Reason};
use super::{Report, Settings};
use crate::cleanup;
use crate::error::{Error, Kind, Result};
use crate::git::Repo;
use crate::hooks::Output;
use crate::journal::{CreatedTask, Journal, Op, RunOp};
use crate::ops::guard;
use crate::ops::lease::{Lease, Running};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;

pub fn run(repo: &Repo, ui: &mut Ui, settings: &Settings, task: &str) -> Result<u8> {
    if task::load(repo, task).is_none() && !settings.start {
        return Err(
            Error::failed(format!("no task named '{task}'")).hint(format!(
                "create it with 'git par start {task}', or pass --start"
            )),
        );
    }
    let mut journal = Journal::begin(&repo.par_dir(), Op::Run(RunOp::new(vec![task.into()])))?;
    let mut one = match Events::open(settings.events.as_deref(), &journal.entry.id) {
        Ok(events) => One {
            repo,
            settings,
            run: journal.entry.id.clone(),
            events,
            report: Report::new(task),
        },
        Err(err) => {
            journal.done()?;
            return Err(err);
        }
    };
    one.events.emit(ui, task, Event::Queued);
    let result = one.run(ui, &mut journal);
    journal.done()?;
    result
}

struct One<'a> {
    repo: &'a Repo,
    settings: &'a Settings,
    /// The run's id (its journal entry's).
    run: String,
    events: Events,
    report: Report,
}

/// The task's lease and record, and whether this run created it.
struct Taken {
    lease: Lease,
    record: TaskRecord,
    created: bool,
}

impl One<'_> {
    fn run(&mut self, ui: &mut Ui, journal: &mut Journal) -> Result<u8> {
        let taken = match self.take(ui, journal) {
            Ok(taken) => taken,
            Err(err) => return self.not_started(ui, &err),
        };
        self.run_in(ui, journal, taken)
    }

    fn take(&mut self, ui: &mut Ui, journal: &mut Journal) -> Result<Taken> {
        let (repo, settings) = (self.repo, self.settings);
        let task = self.report.task.clone();
        let lease = super::lease(repo, ui, settings, &task)?;
        if task::load(repo, &task).is_none() {
            self.events.emit(ui, &task, Event::Creating);
        }
        let super::Prepared {
            record,
            created,
            hook_failed,
        } = super::prepare(repo, ui, settings, &lease, &task, Output::Terminal)?;
        if let Some(err) = hook_failed {
            // Created, but not for this run to remove: the hook's user decides.
            self.events
                .emit(ui, &task, Event::Created { path: record.path });
            return Err(err);
        }
        if created {
            let entry = CreatedTask {
                task: task.clone(),
                identity: record.identity,
            };
            journal.update(|op| {
                if let Op::Run(run) = op {
                    run.created.push(entry);
                }
            })?;
            let path = record.path.clone();
            self.events.emit(ui, &task, Event::Created { path });
        }
        super::check_worktree(&record)?;
        Ok(Taken {
            lease,
            record,
            created,
        })
    }

    /// The command never ran: the error is shown, the task kept.
    fn not_started(&mut self, ui: &mut Ui, err: &Error) -> Result<u8> {
        let reason = Reason::of_start(err);
        self.report.keep(Some(reason), Some(err));
        self.report.path = task::load(self.repo, &self.report.task).map(|r| r.path);
        let event = super::final_event(&self.report);
        self.events.emit(ui, &self.report.task, event);
        if self.settings.json {
            super::print_json(ui, &self.run, std::slice::from_ref(&self.report), None)?;
        }
        match err.kind {
            Kind::Interrupted(sig) => Err(Error::interrupted(sig)),
            _ => {
                ui.error(err);
                Ok(1)
            }
        }
    }

    fn run_in(&mut self, ui: &mut Ui, journal: &mut Journal, taken: Taken) -> Result<u8> {
        let Taken {
            mut lease,
            record,
            created,
        } = taken;
        let (repo, settings) = (self.repo, self.settings);
        let task = record.task.clone();
        let before = holdings::tip(repo, &record);
        let foreground = child::in_terminal_foreground();
        let cmd = super::command_for(repo, &record, &settings.command);
        child::adopt_orphans();
        let started = Instant::now();
        let pid = match child::spawn_foreground(cmd, &task) {
            Ok(child) => child.id(),
            Err(err) => return self.not_started(ui, &err),
        };
        self.report.reason = None;
        journal.update(|op| {
            if let Op::Run(run) = op {
                run.commands.push(pid);
            }
        })?;
        let _ = lease.set_running(Some(Running {
            pid,
            started: crate::journal::now(),
            run: journal.entry.id.clone(),
        }));
        self.events
            .emit(ui, &task, Event::Started { pid, log: None });
        let (exit, timed_out) = self.wait(ui, pid, foreground, started)?;
        let elapsed = started.elapsed();
        self.events.emit(
            ui,
            &task,
            Event::Exited {
                code: match exit {
                    Exit::Code(code) => Some(code),
                    Exit::Signal(_) => None,
                },
                signal: exit.signal().map(|s| s.as_str().to_string()),
                duration_ms: elapsed.as_millis() as u64,
            },
        );
        // The command is done when what it left running is: given par.killTimeout, then
        // stopped (at once after a time limit).
        let grace = match timed_out {
            true => Duration::ZERO,
            false => repo.config.kill_timeout,
        };
        let stopped = child::settle_orphans(grace);
        if stopped > 0 {
            ui.warn(&format!(
                "task '{task}': stopped {stopped} process(es) its command left running"
            ));
        }
        let _ = lease.set_running(None);

        // A Ctrl-C typed at the terminal was the command's to handle; anything else asked
        // git-par to stop, so nothing more is done to the task than removing it if it is empty.
        let signal = cleanup::pending();
        cleanup::settle();
        let typed_ctrl_c = signal == Some(Signal::SIGINT) && foreground;
        let interrupted = !timed_out
            && ((signal.is_some() && !typed_ctrl_c)
                || matches!(
                    exit.signal(),
                    Some(Signal::SIGINT | Signal::SIGTERM | Signal::SIGHUP)
                ));
        if !interrupted {
            self.report.left_running = guard::processes_in(&record.path)
                .iter()
                .map(|b| format!("pid {} ({}) {}", b.pid, b.name, b.how))
                .collect();
            if !self.report.left_running.is_empty() {
                ui.warn(&format!(
                    "task '{task}': still at work in its worktree: {}",
                    self.report.left_running.join(", ")
                ));
            }
        }

        let report = &mut self.report;
        report.exit = Some(exit.status());
        report.signal = exit.signal().map(|s| s.as_str().to_string());
        report.duration_ms = Some(elapsed.as_millis() as u64);
        report.timed_out = timed_out;
        report.log = None;
        let held = holdings::inspect(repo, &record, before);
        if let Ok(held) = &held {
            report.commits = held.new_commits;
            report.changed_files = held.changed_files;
        }
        let failed = if interrupted {
            Some(Reason::Interrupted)
        } else if timed_out {
            Some(Reason::TimedOut)
        } else {
            (!exit.success()).then_some(Reason::CommandFailed)
        };
        let mut finished = None;
        if let Some(reason) = failed {
            if interrupted {
                let signal = signal.or(exit.signal()).unwrap_or(Signal::SIGINT);
                let event = Event::Interrupted {
                    signal: signal.as_str().to_string(),
                };
                self.events.emit(ui, &task, event);
            }
            self.report.keep(Some(reason), None);
            if created && held.as_ref().is_ok_and(Holdings::is_empty) {
                match super::remove_empty(repo, ui, &lease, &record) {
                    Ok(()) => self.report.outcome = Outcome::Removed,
                    Err(err) => self.report.error = Some((&err).into()),
                }
            }
        } else if settings.finish {
            self.events.emit(ui, &task, Event::Finishing);
            match super::finish_task(
                repo,
                ui,
                settings,
                &lease,
                &record,
                settings.hooks(Output::Terminal),
            ) {
                Ok(outcome) => {
                    self.report.outcome = Outcome::Merged;
                    self.report.commit = super::merged_commit(repo, &outcome);
                    self.report.merged_into = Some(outcome.target.clone());
                    finished = Some(outcome);
                }
                Err(err) => {
                    ui.error(&err);
                    self.report.keep(Some(Reason::of_finish(&err)), Some(&err));
                }
            }
        } else {
            self.report.keep(None, None);
        }
        let held = match (&finished, self.report.outcome) {
            // What a refused finish committed (`--changes commit`) is looked at again.
            (None, Outcome::Kept) if settings.finish => holdings::inspect(repo, &record, before),
            _ => held,
        };
        if self.report.outcome == Outcome::Kept {
            self.report.path = Some(record.path.clone());
            self.report.holds = held.as_ref().ok().map(Holdings::describe);
        }
        ui.note(&summary_line(&record, exit, elapsed, &held, &self.report));
        let event = super::final_event(&self.report);
        self.events.emit(ui, &task, event);
        if settings.json {
            super::print_json(ui, &self.run, std::slice::from_ref(&self.report), signal)?;
        }
        if exit.signal() == Some(Signal::SIGINT) && !timed_out {
            // Dying the same way lets a calling shell loop stop too, as it would for the
            // command typed alone.
            return Err(Error::interrupted(Signal::SIGINT));
        }
        if !exit.success() && !timed_out {
            return Ok(exit.status().clamp(0, 255) as u8);
        }
        Ok(match self.report.reason {
            Some(_) => 1,
            None => 0,
        })
    }

    /// Waits for the command, passing on the signals that could not have reached it
    /// directly, and stopping it at its time limit (SIGINT, then SIGKILL after
    /// `par.killTimeout`). Says whether the limit was reached.
    fn wait(
        &mut self,
        ui: &mut Ui,
        pid: u32,
        foreground: bool,
        started: Instant,
    ) -> Result<(Exit, bool)> {
        let mut passed_on = 0;
        let deadline = self.settings.timeout.map(|t| started + t);
        let mut stopping: Option<Instant> = None;
        let mut killed = false;
        loop {
            if let Some(exit) = child::try_reap(pid)? {
                return Ok((exit, stopping.is_some()));
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
            let now = Instant::now();
            match (deadline, stopping) {
                (Some(at), None) if now >= at => {
                    child::signal(pid, Signal::SIGINT);
                    stopping = Some(now);
                    let after_ms = (now - started).as_millis() as u64;
                    let task = self.report.task.clone();
                    self.events.emit(ui, &task, Event::TimedOut { after_ms });
                    ui.note(&format!(
                        "task '{task}': timed out after {}; stopping the command",
                        super::duration(now - started)
                    ));
                }
                (_, Some(since)) if !killed && now >= since + self.repo.config.kill_timeout => {
                    child::signal(pid, Signal::SIGKILL);
                    killed = true;
                }
                _ => {}
            }
            std::thread::sleep(child::POLL);
        }
    }
}

/// `task 'x': exited 0 after 1.2s, 1 commit, 3 files changed; merged into main`
fn summary_line(
    record: &TaskRecord,
    exit: Exit,
    elapsed: Duration,
    held: &Result<Holdings>,
    report: &Report,
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
    let place = match report.outcome {
        Outcome::Kept => format!(" at {}", record.path.display()),
        _ => String::new(),
    };
    let verdict = match (report.outcome, report.reason) {
        (Outcome::Kept, Some(reason)) => format!("kept ({})", reason.word()),
        (Outcome::Kept, None) => "kept".into(),
        _ => report.verdict(),
    };
    format!(
        "task '{}': {} after {}, {work}; {verdict}{place}",
        record.task,
        exit.describe(),
        super::duration(elapsed),
    )
}
