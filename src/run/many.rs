//! Many tasks: at most `jobs` in hand at once (being created or running their command), each
//! command in a process group of its own with its output in a log file, tasks created
//! (`--start`) just before their turn and finished (`--finish`) one at a time as soon as
//! their command's whole process group is done.
//!
//! Tasks are created on threads of their own, several at once: `start` registers each
//! worktree under the repository lock (git's `worktree add` is not safe to run twice at
//! once) and checks it out outside it. Commands are spawned from the main thread (so they
//! die with it, see [`cleanup::die_with_parent`]); one small thread per running command
//! reaps it, waits for the rest of its process group, and reports its output; the main
//! thread finishes tasks (while others are still being created), stops commands at their
//! time limit and handles signals. A task whose checkout
//! does not fit on the disk waits until a finished task frees space, and is given up (reason
//! no-space) only when nothing else runs.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use git2::Oid;
use indicatif::ProgressBar;
use nix::sys::signal::Signal;

use super::child::{self, Exit};
use super::events::{Event, Events};
use super::holdings::{self, Holdings};
use super::outcome::{self, Outcome, Reason};
use super::view::{self, Mark, View};
use super::{Report, Settings};
use crate::cleanup::{self, GroupKeeper};
use crate::error::{Error, Kind, Refusal, Result};
use crate::fsutil;
use crate::git::status::Status;
use crate::git::Repo;
use crate::journal::{CreatedTask, Journal, Op, RunOp};
use crate::ops::guard;
use crate::ops::lease::{Lease, Running};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;

mod ending;
mod threads;
mod watch;

use watch::{captured, Proc, Watched};

/// Where a task's time limit stands.
#[derive(Clone, Copy)]
enum Limit {
    None,
    At(Instant),
    /// Passed: SIGINT was sent then; SIGKILL follows after `par.killTimeout`.
    Stopping(Instant),
    Killed,
}

struct Slot {
    name: String,
    /// Held from the task's turn until the run ends (by its creating thread meanwhile).
    lease: Option<Lease>,
    /// Being created or finished on a thread of its own, which has its lease meanwhile.
    away: bool,
    record: Option<TaskRecord>,
    created: bool,
    /// Branch tip when the command started.
    before: Option<Oid>,
    started: Option<Instant>,
    proc: Option<Arc<Proc>>,
    limit: Limit,
    exit: Option<Exit>,
    held: Option<Holdings>,
    /// Its final outcome was decided (and its event written).
    settled: bool,
    report: Report,
}

/// What a creating thread hands back: the lease, the task (or why not), what it printed.
type Created = (Lease, Result<super::Prepared>, String);

/// What a finishing thread hands back: the lease, the branch merged into and where it
/// points now (or why not), what it printed.
type Finished = (Lease, Result<(String, Option<String>)>, String);

/// What a creating or command's thread tells the main thread.
enum Msg {
    /// A task was created (or not), with its lease back and what the creation printed.
    Created(usize, Box<Created>),
    /// A task was finished (or not).
    Finished(usize, Box<Finished>),
    /// New output: lines in the log so far, and the last one.
    Output(usize, u64, Option<String>),
    /// The command's main process ended.
    Exited(usize, Exit, Instant),
    /// The rest of its process group is done too: the worktree's status just after, how
    /// many processes had to be stopped, and those still working in the worktree.
    Done(usize, Option<Result<Status>>, usize, Vec<String>),
}

/// What came of giving a task its turn.
enum Launch {
    /// Its command runs, or the task ended without one.
    Taken,
    /// Its checkout does not fit now: try again when a task has freed space.
    NoSpace(Error),
}

struct Run<'a> {
    repo: &'a Repo,
    settings: &'a Settings,
    slots: Vec<Slot>,
    view: View,
    tx: Sender<Msg>,
    rx: Receiver<Msg>,
    /// Commands whose process group is not done yet.
    active: usize,
    /// Tasks being created.
    creating: usize,
    /// Tasks being finished.
    finishing: usize,
    /// Tasks waiting for their turn, in order.
    queue: VecDeque<usize>,
    /// A task waits for disk space: no other is created until a task is done.
    space_wait: bool,
    journal: Journal,
    keeper: GroupKeeper,
    events: Events,
}

pub fn run(repo: &Repo, ui: &mut Ui, settings: &Settings, tasks: &[String]) -> Result<u8> {
    let mut slots = Vec::new();
    for name in tasks {
        let record = task::load(repo, name);
        if record.is_none() && !settings.start {
            return Err(
                Error::failed(format!("no task named '{name}'")).hint(format!(
                    "create it with 'git par start {name}', or pass --start"
                )),
            );
        }
        slots.push(Slot {
            name: name.clone(),
            lease: None,
            away: false,
            record,
            created: false,
            before: None,
            started: None,
            proc: None,
            limit: Limit::None,
            exit: None,
            held: None,
            settled: false,
            report: Report::new(name),
        });
    }
    // Forked before the journal's lock is taken, so the keeper never holds it.
    let keeper = GroupKeeper::spawn()?;
    let journal = Journal::begin(&repo.par_dir(), Op::Run(RunOp::new(tasks.to_vec())))?;
    let events = match Events::open(settings.events.as_deref(), &journal.entry.id) {
        Ok(events) => events,
        Err(err) => {
            journal.done()?;
            return Err(err);
        }
    };
    let (tx, rx) = mpsc::channel();
    let mut run = Run {
        repo,
        settings,
        slots,
        view: View::new(ui, tasks),
        tx,
        rx,
        active: 0,
        creating: 0,
        finishing: 0,
        queue: (0..tasks.len()).collect(),
        space_wait: false,
        journal,
        keeper,
        events,
    };
    let result = run.drive(ui);
    run.journal.done()?;
    result
}

impl Run<'_> {
    fn drive(&mut self, ui: &mut Ui) -> Result<u8> {
        for i in 0..self.slots.len() {
            self.emit(ui, i, Event::Queued);
        }
        while cleanup::pending().is_none() {
            while self.active + self.creating < self.settings.jobs {
                let Some(i) = self.next_task() else {
                    break;
                };
                if let Launch::NoSpace(err) = self.launch(ui, i) {
                    self.no_space(ui, i, err);
                }
                if cleanup::pending().is_some() {
                    break;
                }
            }
            if self.active + self.creating + self.finishing == 0 && self.queue.is_empty() {
                break;
            }
            match self.rx.recv_timeout(child::POLL * 5) {
                Ok(msg) => self.handle(ui, msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.enforce_limits(ui);
            self.show_counts();
        }
        if let Some(sig) = cleanup::pending() {
            return self.stop(ui, sig);
        }
        self.view.close();
        self.list_unmerged(ui);
        let reports: Vec<Report> = self.slots.iter().map(|s| s.report.clone()).collect();
        if self.settings.json {
            super::print_json(ui, &self.journal.entry.id, &reports, None)?;
        }
        Ok(outcome::exit_status(reports.iter().map(|r| r.reason)))
    }

    /// The next task to take in hand: the first in the queue, or, while that one waits for
    /// disk space, the first that needs none (it exists already).
    fn next_task(&mut self) -> Option<usize> {
        if !self.space_wait {
            return self.queue.pop_front();
        }
        let at = self
            .queue
            .iter()
            .position(|&i| self.slots[i].record.is_some())?;
        self.queue.remove(at)
    }

    fn emit(&mut self, ui: &mut Ui, i: usize, event: Event) {
        let name = self.slots[i].name.clone();
        self.events.emit(ui, &name, event);
    }

    fn log_path(&self, name: &str) -> PathBuf {
        let file = task::file_stem(name);
        self.repo.par_dir().join("logs").join(format!("{file}.log"))
    }

    /// Task `i`'s checkout does not fit now: it waits for a task to free space, unless none
    /// is in hand that could.
    fn no_space(&mut self, ui: &mut Ui, i: usize, err: Error) {
        if self.active + self.creating + self.finishing == 0 {
            self.view.with_ui(ui, |ui| ui.error(&err));
            self.not_started(ui, i, Reason::NoSpace, &err);
            return;
        }
        self.view
            .show(ui, i, Mark::Waiting, "waiting for disk space");
        self.queue.push_front(i);
        self.space_wait = true;
    }

    /// Takes task `i`'s lease, then starts its creation (when its checkout fits) or its
    /// command.
    fn launch(&mut self, ui: &mut Ui, i: usize) -> Launch {
        let (repo, settings, name) = (self.repo, self.settings, self.slots[i].name.clone());
        if self.slots[i].lease.is_none() {
            match self
                .view
                .with_ui(ui, |ui| super::lease(repo, ui, settings, &name))
            {
                Ok(lease) => self.slots[i].lease = Some(lease),
                Err(err) => {
                    self.view.with_ui(ui, |ui| ui.error(&err));
                    self.not_started(ui, i, Reason::of_start(&err), &err);
                    return Launch::Taken;
                }
            }
        }
        // A fresh log for this run: the postStart hook and the command append to it.
        let log = self.log_path(&name);
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::File::create(&log);
        if self.slots[i].record.is_none() {
            let fits = super::base_commit(repo, settings)
                .and_then(|commit| super::check_space(repo, commit, &name, self.creating));
            match fits {
                Err(err) if err.refusal == Some(Refusal::NoSpace) => return Launch::NoSpace(err),
                Err(err) => {
                    self.view.with_ui(ui, |ui| ui.error(&err));
                    self.not_started(ui, i, Reason::NotStarted, &err);
                    return Launch::Taken;
                }
                Ok(()) => {}
            }
            self.view.show(ui, i, Mark::Waiting, "creating the task");
            self.emit(ui, i, Event::Creating);
            if let Err(err) = self.create(i) {
                self.view.with_ui(ui, |ui| ui.error(&err));
                self.not_started(ui, i, Reason::NotStarted, &err);
            }
            return Launch::Taken;
        }
        self.start_command(ui, i);
        Launch::Taken
    }

    /// Starts task `i`'s command in its worktree.
    fn start_command(&mut self, ui: &mut Ui, i: usize) {
        let Some(record) = self.slots[i].record.clone() else {
            return;
        };
        let log = self.log_path(&record.task);
        self.slots[i].report.log = Some(log.clone());
        let cmd = super::command_for(self.repo, &record, &self.settings.command);
        self.slots[i].before = holdings::tip(self.repo, &record);
        let spawned = super::check_worktree(&record)
            .and_then(|()| child::spawn_in_group(cmd, &record.task, &log));
        let child = match spawned {
            Ok(child) => child,
            Err(err) => {
                self.view.with_ui(ui, |ui| ui.error(&err));
                self.not_started(ui, i, Reason::NotStarted, &err);
                return;
            }
        };
        let started = Instant::now();
        let proc = Arc::new(Proc {
            pid: child.id(),
            reaped: Mutex::new(false),
        });
        let bar = self.view.running(ui, i, &log);
        let running = Running {
            pid: proc.pid,
            started: crate::journal::now(),
            run: self.journal.entry.id.clone(),
        };
        let slot = &mut self.slots[i];
        slot.started = Some(started);
        slot.proc = Some(proc.clone());
        slot.limit = match self.settings.timeout {
            Some(limit) => Limit::At(started + limit),
            None => Limit::None,
        };
        slot.report.reason = None;
        if let Some(lease) = slot.lease.as_mut() {
            let _ = lease.set_running(Some(running));
        }
        self.active += 1;
        self.keeper.add(proc.pid);
        self.note_commands();
        self.emit(
            ui,
            i,
            Event::Started {
                pid: proc.pid,
                log: Some(log.clone()),
            },
        );
        let watched = Watched {
            i,
            proc,
            bar,
            log,
            record,
            grace: self.repo.config.kill_timeout,
            events: self.settings.events.is_some(),
        };
        let tx = self.tx.clone();
        thread::spawn(move || watch::watch(&watched, &tx));
    }

    /// Keeps the journal's list of running commands current, for recovery after a crash.
    fn note_commands(&mut self) {
        let running: Vec<u32> = self
            .slots
            .iter()
            .filter_map(|s| s.proc.as_ref().map(|p| p.pid))
            .collect();
        let _ = self.journal.update(|op| {
            if let Op::Run(run) = op {
                run.commands = running;
            }
        });
    }

    /// Journals a task this run created, so that `recover` can account for it after a crash.
    fn note_created(&mut self, record: &TaskRecord) {
        let created = CreatedTask {
            task: record.task.clone(),
            identity: record.identity,
        };
        let _ = self.journal.update(|op| {
            if let Op::Run(run) = op {
                run.created.push(created);
            }
        });
    }

    /// Task `i` ends without its command having run.
    fn not_started(&mut self, ui: &mut Ui, i: usize, reason: Reason, err: &Error) {
        let slot = &mut self.slots[i];
        slot.report.keep(Some(reason), Some(err));
        slot.report.path = slot.record.as_ref().map(|r| r.path.clone());
        slot.settled = true;
        let text = format!("not started: {}", err.message);
        self.view.show(ui, i, Mark::Bad, &text);
        let event = super::final_event(&self.slots[i].report);
        self.emit(ui, i, event);
    }

    fn handle(&mut self, ui: &mut Ui, msg: Msg) {
        match msg {
            Msg::Created(i, created) => {
                let (lease, result, printed) = *created;
                self.created(ui, i, lease, result, &printed)
            }
            Msg::Finished(i, finished) => self.finished_on_thread(ui, i, *finished),
            Msg::Output(i, lines, last_line) => {
                self.emit(ui, i, Event::Output { lines, last_line })
            }
            Msg::Exited(i, exit, at) => self.exited(ui, i, exit, at),
            Msg::Done(i, status, stopped, outside) => self.done(ui, i, status, stopped, outside),
        }
    }

    /// The command's main process ended; the rest of its group may still run.
    fn exited(&mut self, ui: &mut Ui, i: usize, exit: Exit, at: Instant) {
        let slot = &mut self.slots[i];
        let elapsed = slot.started.map_or(Duration::ZERO, |s| at - s);
        slot.exit = Some(exit);
        slot.report.exit = Some(exit.status());
        slot.report.signal = exit.signal().map(|s| s.as_str().to_string());
        slot.report.duration_ms = Some(elapsed.as_millis() as u64);
        let event = Event::Exited {
            code: match exit {
                Exit::Code(code) => Some(code),
                Exit::Signal(_) => None,
            },
            signal: slot.report.signal.clone(),
            duration_ms: elapsed.as_millis() as u64,
        };
        // Stamped when the process ended, not when this thread got to it.
        let when = std::time::SystemTime::now()
            .checked_sub(at.elapsed())
            .unwrap_or_else(std::time::SystemTime::now);
        let name = self.slots[i].name.clone();
        self.events.emit_at(ui, &name, event, when);
        let text = format!("{}, waiting for what it started", self.ran(i));
        self.view.show(ui, i, Mark::Waiting, &text);
    }

    /// `exited 0 after 1.2s`
    fn ran(&self, i: usize) -> String {
        let slot = &self.slots[i];
        let exit = slot.exit.map_or("ended".into(), Exit::describe);
        let took = Duration::from_millis(slot.report.duration_ms.unwrap_or(0));
        let limit = if slot.report.timed_out {
            ", timed out"
        } else {
            ""
        };
        format!("{exit} after {}{limit}", super::duration(took))
    }

    /// Stops commands past their time limit: SIGINT to the group, then SIGKILL after
    /// `par.killTimeout`, as for Ctrl-C.
    fn enforce_limits(&mut self, ui: &mut Ui) {
        let now = Instant::now();
        let grace = self.repo.config.kill_timeout;
        for i in 0..self.slots.len() {
            let slot = &mut self.slots[i];
            let (Some(proc), None) = (&slot.proc, slot.exit) else {
                continue;
            };
            match slot.limit {
                Limit::At(at) if now >= at => {
                    proc.signal_group(Signal::SIGINT);
                    slot.limit = Limit::Stopping(now);
                    slot.report.timed_out = true;
                    let after_ms = slot.started.map_or(0, |s| (now - s).as_millis() as u64);
                    self.emit(ui, i, Event::TimedOut { after_ms });
                    self.view
                        .show(ui, i, Mark::Waiting, "timed out: stopping the command");
                }
                Limit::Stopping(since) if now >= since + grace => {
                    proc.signal_group(Signal::SIGKILL);
                    slot.limit = Limit::Killed;
                }
                _ => {}
            }
        }
    }

    /// The command's whole process group is done: decide what becomes of the task.
    fn done(
        &mut self,
        ui: &mut Ui,
        i: usize,
        status: Option<Result<Status>>,
        stopped: usize,
        outside: Vec<String>,
    ) {
        self.active -= 1;
        self.space_wait = false;
        let group = self.slots[i].proc.take().map(|proc| proc.pid);
        if let Some(pid) = group {
            self.keeper.remove(pid);
        }
        self.note_commands();
        if let Some(lease) = self.slots[i].lease.as_mut() {
            let _ = lease.set_running(None);
        }
        if stopped > 0 {
            let name = self.slots[i].name.clone();
            self.view.with_ui(ui, |ui| {
                ui.warn(&format!(
                    "task '{name}': stopped {stopped} process(es) its command left running"
                ))
            });
        }
        if !outside.is_empty() {
            let name = self.slots[i].name.clone();
            let list = outside.join(", ");
            self.view.with_ui(ui, |ui| {
                ui.warn(&format!(
                    "task '{name}': still at work in its worktree, outside the command's process group: {list}"
                ))
            });
        }
        self.slots[i].report.left_running = outside;
        if cleanup::pending().is_some() {
            // Interrupted: the task is looked at once every command has stopped.
            let text = self.ran(i);
            self.view.show(ui, i, Mark::Bad, &text);
            return;
        }
        self.inspect(i, status);
        let exit = self.slots[i].exit.unwrap_or(Exit::Code(-1));
        let failed = match self.slots[i].report.timed_out {
            true => Some(Reason::TimedOut),
            false => (!exit.success()).then_some(Reason::CommandFailed),
        };
        if let Some(reason) = failed {
            self.keep_or_remove(ui, i, reason);
        } else if self.settings.finish {
            self.finish(ui, i);
        } else {
            self.slots[i].report.keep(None, None);
            self.settle(ui, i, Mark::Good);
        }
    }

    /// A task whose command failed: removed when this run created it and it holds no work
    /// (its log stays), kept otherwise.
    fn keep_or_remove(&mut self, ui: &mut Ui, i: usize, reason: Reason) {
        let slot = &self.slots[i];
        let empty = slot.held.as_ref().is_some_and(Holdings::is_empty);
        if !(slot.created && empty) {
            self.slots[i].report.keep(Some(reason), None);
            self.settle(ui, i, Mark::Bad);
            return;
        }
        let repo = self.repo;
        let (Some(lease), Some(record)) = (&slot.lease, &slot.record) else {
            return;
        };
        let removed = self
            .view
            .with_ui(ui, |ui| super::remove_empty(repo, ui, lease, record));
        let report = &mut self.slots[i].report;
        match removed {
            Ok(()) => {
                report.outcome = Outcome::Removed;
                report.reason = Some(reason);
            }
            Err(err) => report.keep(Some(reason), Some(&err)),
        }
        self.settle(ui, i, Mark::Bad);
    }

    /// Task `i`'s outcome is decided: fill in where a kept task is and what it holds, show
    /// it, and write its last event.
    fn settle(&mut self, ui: &mut Ui, i: usize, mark: Mark) {
        let slot = &mut self.slots[i];
        slot.settled = true;
        if slot.report.outcome == Outcome::Kept {
            slot.report.path = slot.record.as_ref().map(|r| r.path.clone());
            slot.report.holds = slot.held.as_ref().map(Holdings::describe);
        }
        let text = match slot.exit {
            Some(_) => format!("{}, {}", self.ran(i), self.slots[i].report.verdict()),
            None => self.slots[i].report.verdict(),
        };
        self.view.show(ui, i, mark, &text);
        let event = super::final_event(&self.slots[i].report);
        self.emit(ui, i, event);
    }

    /// Looks at what task `i` holds now (before a finish can take it apart), with its
    /// worktree's status when it was read already.
    fn inspect(&mut self, i: usize, status: Option<Result<Status>>) {
        let slot = &mut self.slots[i];
        let Some(record) = &slot.record else {
            return;
        };
        let status = match status {
            Some(Ok(status)) => Ok(Some(status)),
            _ => holdings::worktree_status(record).transpose(),
        };
        let held = status.and_then(|s| holdings::combine(self.repo, record, slot.before, s));
        if let Ok(held) = held {
            slot.report.commits = held.new_commits;
            slot.report.changed_files = held.changed_files;
            slot.held = Some(held);
        }
    }
}
