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

/// A running command, shared with the thread that reaps it. The flag is set under the lock
/// when the process is reaped, so that its group is never signalled after its id is free.
struct Proc {
    pid: u32,
    reaped: Mutex<bool>,
}

impl Proc {
    fn signal_group(&self, sig: Signal) {
        if let Ok(reaped) = self.reaped.lock() {
            if !*reaped {
                child::signal_group(self.pid, sig);
            }
        }
    }
}

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
type Created = (Lease, Result<(TaskRecord, bool)>, String);

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

    /// `3 running, 12 queued, 5 merged, 2 kept`: for a view that has no line for each task.
    fn show_counts(&mut self) {
        let (mut queued, mut running, mut merged, mut kept, mut removed) = (0, 0, 0, 0, 0);
        for slot in &self.slots {
            match (slot.settled, slot.report.outcome) {
                (false, _) if slot.lease.is_none() && !slot.away => queued += 1,
                (false, _) => running += 1,
                (true, Outcome::Merged) => merged += 1,
                (true, Outcome::Kept) => kept += 1,
                (true, Outcome::Removed) => removed += 1,
            }
        }
        let parts: Vec<String> = [
            (running, "in hand"),
            (queued, "queued"),
            (merged, "merged"),
            (kept, "kept"),
            (removed, "removed"),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, word)| format!("{n} {word}"))
        .collect();
        self.view.counts(&parts.join(", "));
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

    /// Creates task `i` on a thread of its own, with its own handle on the repository; the
    /// lease goes with it and comes back in [`Msg::Created`].
    fn create(&mut self, i: usize) -> Result<()> {
        let repo = self.repo.reopen()?;
        let Some(lease) = self.slots[i].lease.take() else {
            return Ok(());
        };
        let settings = self.settings.clone();
        let name = self.slots[i].name.clone();
        let tx = self.tx.clone();
        self.creating += 1;
        self.slots[i].away = true;
        thread::spawn(move || {
            let (result, text) = captured(|ui| super::prepare(&repo, ui, &settings, &lease, &name));
            let _ = tx.send(Msg::Created(i, Box::new((lease, result, text))));
        });
        Ok(())
    }

    /// Task `i` was created (or not): its command starts, unless the run is stopping.
    fn created(
        &mut self,
        ui: &mut Ui,
        i: usize,
        lease: Lease,
        result: Result<(TaskRecord, bool)>,
        printed: &str,
    ) {
        self.creating -= 1;
        self.slots[i].away = false;
        self.slots[i].lease = Some(lease);
        self.view.with_ui(ui, |ui| {
            for line in printed.lines() {
                ui.note(line);
            }
        });
        match result {
            Ok((record, created)) => {
                if created {
                    self.note_created(&record);
                }
                let path = record.path.clone();
                self.slots[i].record = Some(record);
                self.slots[i].created = created;
                self.emit(ui, i, Event::Created { path });
                if cleanup::pending().is_none() {
                    self.start_command(ui, i);
                }
            }
            Err(err) if err.refusal == Some(Refusal::NoSpace) => {
                // Another checkout took the space meanwhile.
                self.space_wait = false;
                self.no_space(ui, i, err);
            }
            Err(err) => {
                self.space_wait = false;
                if !matches!(err.kind, Kind::Interrupted(_)) {
                    self.view.with_ui(ui, |ui| ui.error(&err));
                }
                self.not_started(ui, i, Reason::of_start(&err), &err);
            }
        }
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
        thread::spawn(move || watch(&watched, &tx));
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

    /// Merges task `i` back and takes it apart, or keeps it with the reason the finish gave.
    fn finish(&mut self, ui: &mut Ui, i: usize) {
        self.emit(ui, i, Event::Finishing);
        let text = format!("{}, finishing", self.ran(i));
        self.view.show(ui, i, Mark::Waiting, &text);
        let repo = match self.repo.reopen() {
            Ok(repo) => repo,
            Err(err) => return self.finished(ui, i, Err(err)),
        };
        let (Some(lease), Some(record)) =
            (self.slots[i].lease.take(), self.slots[i].record.clone())
        else {
            return;
        };
        let settings = self.settings.clone();
        let tx = self.tx.clone();
        self.finishing += 1;
        self.slots[i].away = true;
        // Finished on a thread of its own, so that the removal of one task's files overlaps
        // with the others' work; merges still take turns under the repository lock.
        thread::spawn(move || {
            let (result, text) = captured(|ui| {
                super::finish_task(&repo, ui, &settings, &lease, &record).map(|outcome| {
                    let commit = super::merged_commit(&repo, &outcome);
                    (outcome.target, commit)
                })
            });
            let _ = tx.send(Msg::Finished(i, Box::new((lease, result, text))));
        });
    }

    /// A finishing thread is done with task `i`.
    fn finished_on_thread(&mut self, ui: &mut Ui, i: usize, finished: Finished) {
        let (lease, result, printed) = finished;
        self.finishing -= 1;
        self.space_wait = false;
        self.slots[i].away = false;
        self.slots[i].lease = Some(lease);
        self.view.with_ui(ui, |ui| {
            for line in printed.lines() {
                ui.note(line);
            }
        });
        self.finished(ui, i, result);
    }

    /// Task `i` was merged, or is kept with the reason its finish gave.
    fn finished(&mut self, ui: &mut Ui, i: usize, result: Result<(String, Option<String>)>) {
        match result {
            Ok((target, commit)) => {
                let report = &mut self.slots[i].report;
                report.outcome = Outcome::Merged;
                report.reason = None;
                report.commit = commit;
                report.merged_into = Some(target);
                self.settle(ui, i, Mark::Good);
            }
            Err(err) => {
                if !matches!(err.kind, Kind::Interrupted(_)) {
                    self.view.with_ui(ui, |ui| ui.error(&err));
                }
                // What the finish may have committed (`--changes commit`) is looked at again.
                self.inspect(i, None);
                self.slots[i]
                    .report
                    .keep(Some(Reason::of_finish(&err)), Some(&err));
                self.settle(ui, i, Mark::Bad);
            }
        }
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

    /// First signal: pass it to every command's group and wait for them, up to the kill
    /// timeout; a second press, or the timeout, kills them. Then the tasks this run created
    /// that hold no work are removed and the rest are listed.
    fn stop(&mut self, ui: &mut Ui, sig: Signal) -> Result<u8> {
        let running: Vec<Arc<Proc>> = self.slots.iter().filter_map(|s| s.proc.clone()).collect();
        if !running.is_empty() {
            self.view.with_ui(ui, |ui| {
                ui.note(&format!(
                    "stopping {} running command(s); press Ctrl-C again to kill them at once",
                    running.len()
                ))
            });
        }
        for proc in &running {
            proc.signal_group(sig);
        }
        let deadline = Instant::now() + self.repo.config.kill_timeout;
        let mut killed = false;
        // Then wait for what the commands started, which may outlive them.
        while self.active + self.creating + self.finishing > 0
            || running.iter().any(|p| child::group_alive(p.pid))
        {
            if !killed && (cleanup::presses() >= 2 || Instant::now() >= deadline) {
                for proc in &running {
                    proc.signal_group(Signal::SIGKILL);
                    if proc.reaped.lock().map_or(true, |r| *r) {
                        child::signal_group(proc.pid, Signal::SIGKILL);
                    }
                }
                killed = true;
            }
            if let Ok(msg) = self.rx.recv_timeout(child::POLL) {
                self.handle(ui, msg);
            }
        }
        cleanup::settle();
        for i in 0..self.slots.len() {
            self.tidy(ui, i, sig);
        }
        self.view.close();
        self.list_unmerged(ui);
        if self.settings.json {
            let reports: Vec<Report> = self.slots.iter().map(|s| s.report.clone()).collect();
            super::print_json(ui, &self.journal.entry.id, &reports, Some(sig))?;
        }
        Err(Error::interrupted(sig))
    }

    /// After an interrupt: removes task `i` if this run created it and it holds no work,
    /// keeps it otherwise (reason interrupted); a task never reached was not started.
    fn tidy(&mut self, ui: &mut Ui, i: usize, sig: Signal) {
        if self.slots[i].settled {
            return;
        }
        if self.slots[i].lease.is_none() {
            self.slots[i].report.keep(Some(Reason::NotStarted), None);
            self.slots[i].settled = true;
            let event = super::final_event(&self.slots[i].report);
            self.emit(ui, i, event);
            return;
        }
        self.emit(
            ui,
            i,
            Event::Interrupted {
                signal: sig.as_str().to_string(),
            },
        );
        if self.slots[i].record.is_some() {
            self.inspect(i, None);
        }
        self.keep_or_remove(ui, i, Reason::Interrupted);
        if !self.slots[i].settled {
            self.slots[i].report.keep(Some(Reason::Interrupted), None);
            self.settle(ui, i, Mark::Bad);
        }
    }

    /// Every task that did not merge, with why, what it holds and where: the whole list,
    /// however many tasks the run had.
    fn list_unmerged(&self, ui: &mut Ui) {
        let log = |slot: &Slot| match &slot.report.log {
            Some(log) => format!(", log {}", fsutil::normalize(log).display()),
            None => String::new(),
        };
        let why = |slot: &Slot| match slot.report.reason {
            Some(reason) => format!(" ({})", reason.word()),
            None => String::new(),
        };
        let mut kept = Vec::new();
        let mut removed = Vec::new();
        for slot in &self.slots {
            match (slot.report.outcome, &slot.record) {
                (Outcome::Merged, _) => {}
                (Outcome::Removed, _) => removed.push(format!(
                    "  {}{}: it held no work{}",
                    slot.name,
                    why(slot),
                    log(slot)
                )),
                (Outcome::Kept, Some(record)) => {
                    let held = slot
                        .held
                        .as_ref()
                        .map_or("not looked at".into(), Holdings::describe);
                    kept.push(format!(
                        "  {}{}: {held}, {}{}",
                        slot.name,
                        why(slot),
                        record.path.display(),
                        log(slot)
                    ));
                }
                (Outcome::Kept, None) => {
                    kept.push(format!("  {}{}: not created", slot.name, why(slot)))
                }
            }
        }
        for (title, lines) in [("Kept tasks:", kept), ("Removed tasks:", removed)] {
            if !lines.is_empty() {
                ui.note(title);
                for line in lines {
                    ui.note(&line);
                }
            }
        }
    }
}

/// Runs `f` with a `Ui` of its own (never interactive), and returns what it printed too.
fn captured<T>(f: impl FnOnce(&mut Ui) -> T) -> (T, String) {
    let printed = Arc::new(Mutex::new(Vec::new()));
    let mut ui = Ui::capture(
        Box::new(Shared(printed.clone())),
        Box::new(Shared(printed.clone())),
    );
    let result = f(&mut ui);
    drop(ui);
    let text = printed
        .lock()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    (result, text)
}

/// Where a thread's `Ui` writes, to be shown by the main thread.
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut buf) = self.0.lock() {
            buf.extend_from_slice(data);
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a command's own thread looks after.
struct Watched {
    i: usize,
    proc: Arc<Proc>,
    bar: Option<ProgressBar>,
    log: PathBuf,
    record: TaskRecord,
    grace: Duration,
    /// Output events are wanted.
    events: bool,
}

/// How often the log is looked at for output events.
const OUTPUT_EVERY: u32 = 50;

/// Waits for one command (polling, so the view stays live) and shows its last output line;
/// once it ends, waits for the rest of its process group, then reads its worktree's status
/// here, so that many are read at once.
fn watch(w: &Watched, tx: &Sender<Msg>) {
    let (proc, i) = (&w.proc, w.i);
    let mut ticks = 0u32;
    let mut counter = LineCounter::default();
    loop {
        let exit = match proc.reaped.lock() {
            Ok(mut reaped) => match child::try_reap(proc.pid) {
                Ok(Some(exit)) => {
                    *reaped = true;
                    Some(exit)
                }
                Ok(None) => None,
                Err(_) => {
                    *reaped = true;
                    Some(Exit::Code(-1))
                }
            },
            Err(_) => Some(Exit::Code(-1)),
        };
        if let Some(exit) = exit {
            let _ = tx.send(Msg::Exited(i, exit, Instant::now()));
            // The command is done when its process group is.
            let stopped = child::settle_group(proc.pid, w.grace);
            if w.events {
                counter.report(i, &w.log, tx);
            }
            let (status, outside) = if cleanup::pending().is_none() {
                let outside = guard::processes_in(&w.record.path)
                    .iter()
                    .map(|b| format!("pid {} ({}) {}", b.pid, b.name, b.how))
                    .collect();
                (holdings::worktree_status(&w.record), outside)
            } else {
                (None, Vec::new())
            };
            let _ = tx.send(Msg::Done(i, status, stopped, outside));
            return;
        }
        if let Some(bar) = &w.bar {
            if ticks % 5 == 0 {
                if let Some(line) = view::last_line(&w.log) {
                    bar.set_message(line);
                }
            }
        }
        if w.events && ticks % OUTPUT_EVERY == OUTPUT_EVERY - 1 {
            counter.report(i, &w.log, tx);
        }
        ticks = ticks.wrapping_add(1);
        thread::sleep(child::POLL);
    }
}

/// Counts a log's lines as it grows, reading only what is new.
#[derive(Default)]
struct LineCounter {
    offset: u64,
    lines: u64,
    reported: Option<u64>,
}

impl LineCounter {
    /// Sends an output event when the log grew since the last one.
    fn report(&mut self, i: usize, log: &Path, tx: &Sender<Msg>) {
        if self.count(log).is_none() || self.offset == 0 || self.reported == Some(self.offset) {
            return;
        }
        self.reported = Some(self.offset);
        let _ = tx.send(Msg::Output(i, self.lines, view::last_line(log)));
    }

    fn count(&mut self, log: &Path) -> Option<()> {
        let mut file = File::open(log).ok()?;
        file.seek(SeekFrom::Start(self.offset)).ok()?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).ok()?;
        self.offset += buf.len() as u64;
        self.lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
        Some(())
    }
}
