//! Many tasks: at most `jobs` commands at once, each in a process group of its own with its
//! output in a log file, tasks created (`--start`) just before their turn and finished
//! (`--finish`) one at a time as soon as their command succeeds.
//!
//! Commands are spawned from the main thread (so they die with it, see
//! [`cleanup::die_with_parent`]); one small thread per running command reaps it and shows
//! its last line of output, while the main thread creates, finishes and handles signals.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use git2::Oid;
use indicatif::ProgressBar;
use nix::sys::signal::Signal;

use super::child::{self, Exit};
use super::holdings::{self, Holdings};
use super::view::{self, Mark, View};
use super::{Outcome, Report, Settings};
use crate::cleanup::{self, GroupKeeper};
use crate::error::{Error, Kind, Result};
use crate::fsutil;
use crate::git::status::Status;
use crate::git::Repo;
use crate::hooks::Output;
use crate::journal::{Journal, Op, RunOp};
use crate::ops::lease::Lease;
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

struct Slot {
    name: String,
    /// Held from the task's turn until the run ends.
    lease: Option<Lease>,
    record: Option<TaskRecord>,
    created: bool,
    /// Branch tip when the command started.
    before: Option<Oid>,
    started: Option<Instant>,
    proc: Option<Arc<Proc>>,
    held: Option<Holdings>,
    report: Report,
}

/// A command ended: which task, how, when, and its worktree's status just after.
type Done = (usize, Exit, Instant, Option<Result<Status>>);

struct Run<'a> {
    repo: &'a Repo,
    settings: &'a Settings,
    slots: Vec<Slot>,
    view: View,
    done_tx: Sender<Done>,
    done_rx: Receiver<Done>,
    active: usize,
    /// Set when a task could not be created for want of disk space: no more are.
    out_of_space: bool,
    journal: Journal,
    keeper: GroupKeeper,
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
            record,
            created: false,
            before: None,
            started: None,
            proc: None,
            held: None,
            report: Report::new(name),
        });
    }
    // Forked before the journal's lock is taken, so the keeper never holds it.
    let keeper = GroupKeeper::spawn()?;
    let journal = Journal::begin(
        &repo.par_dir(),
        Op::Run(RunOp {
            tasks: tasks.to_vec(),
            commands: Vec::new(),
        }),
    )?;
    let (done_tx, done_rx) = mpsc::channel();
    let mut run = Run {
        repo,
        settings,
        slots,
        view: View::new(ui, tasks),
        done_tx,
        done_rx,
        active: 0,
        out_of_space: false,
        journal,
        keeper,
    };
    let result = run.drive(ui);
    run.journal.done()?;
    result
}

impl Run<'_> {
    fn drive(&mut self, ui: &mut Ui) -> Result<u8> {
        let mut next = 0;
        while cleanup::pending().is_none() {
            while self.active < self.settings.jobs && next < self.slots.len() {
                self.launch(ui, next);
                next += 1;
                if cleanup::pending().is_some() {
                    break;
                }
            }
            if self.active == 0 && next >= self.slots.len() {
                break;
            }
            match self.done_rx.recv_timeout(child::POLL * 5) {
                Ok(done) => self.ended(ui, done),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(sig) = cleanup::pending() {
            return self.stop(ui, sig);
        }
        self.view.close();
        self.list_kept(ui);
        let reports: Vec<Report> = self.slots.iter().map(|s| s.report.clone()).collect();
        if self.settings.json {
            super::print_json(ui, &reports, None)?;
        }
        let all_good = reports.iter().all(|r| {
            r.exit == Some(0) && (!self.settings.finish || r.outcome == Outcome::Finished)
        });
        Ok(if all_good { 0 } else { 1 })
    }

    fn log_path(&self, name: &str) -> PathBuf {
        let file = task::file_stem(name);
        self.repo.par_dir().join("logs").join(format!("{file}.log"))
    }

    /// Takes task `i`'s lease, creates the task if needed, then starts its command.
    fn launch(&mut self, ui: &mut Ui, i: usize) {
        let (repo, settings, name) = (self.repo, self.settings, self.slots[i].name.clone());
        match self
            .view
            .with_ui(ui, |ui| super::lease(repo, ui, settings, &name))
        {
            Ok(lease) => self.slots[i].lease = Some(lease),
            Err(err) => {
                self.view.with_ui(ui, |ui| ui.error(&err));
                self.not_run(ui, i, err.message);
                return;
            }
        }
        // A fresh log for this run: the postStart hook and the command append to it.
        let log = self.log_path(&name);
        if let Some(dir) = log.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = std::fs::File::create(&log);
        if self.slots[i].record.is_none() {
            if self.out_of_space {
                self.not_run(ui, i, "not created: out of disk space".into());
                return;
            }
            self.view.show(ui, i, Mark::Waiting, "creating the task");
            let Some(lease) = self.slots[i].lease.as_ref() else {
                return;
            };
            let output = Output::Log(self.log_path(&name));
            let prepared = self.view.with_ui(ui, |ui| {
                let commit = super::base_commit(repo, settings).map_err(|e| (e, false))?;
                super::check_space(repo, commit, &name).map_err(|e| (e, true))?;
                super::prepare(repo, ui, settings, lease, &name, output).map_err(|e| (e, false))
            });
            match prepared {
                Ok((record, created)) => {
                    self.slots[i].record = Some(record);
                    self.slots[i].created = created;
                }
                Err((err, space)) => {
                    if space {
                        self.out_of_space = true;
                        self.view.with_ui(ui, |ui| {
                            ui.error(&err);
                            ui.note("stopped creating tasks: there is not enough disk space");
                        });
                    } else if !matches!(err.kind, Kind::Interrupted(_)) {
                        self.view.with_ui(ui, |ui| ui.error(&err));
                    }
                    let why = if space {
                        "not created: out of disk space".into()
                    } else if task::load(repo, &name).is_some() {
                        // Made, but its postStart hook failed: kept, the command not run.
                        format!("created and kept, not run: {}", err.message)
                    } else {
                        format!("not created: {}", err.message)
                    };
                    self.not_run(ui, i, why);
                    return;
                }
            }
        }
        let Some(record) = self.slots[i].record.clone() else {
            return;
        };
        let log = self.log_path(&record.task);
        let cmd = super::command_for(self.repo, &record, &self.settings.command);
        self.slots[i].before = holdings::tip(self.repo, &record);
        let spawned = super::check_worktree(&record)
            .and_then(|()| child::spawn_in_group(cmd, &record.task, &log));
        let child = match spawned {
            Ok(child) => child,
            Err(err) => {
                self.slots[i].report.log = Some(log);
                self.view.with_ui(ui, |ui| ui.error(&err));
                self.slots[i].report.outcome = Outcome::Kept;
                self.slots[i].report.error = Some(err.message.clone());
                self.view.show(
                    ui,
                    i,
                    Mark::Bad,
                    &format!("could not start: {}", err.message),
                );
                return;
            }
        };
        let started = Instant::now();
        let proc = Arc::new(Proc {
            pid: child.id(),
            reaped: Mutex::new(false),
        });
        let bar = self.view.running(ui, i, &log);
        let slot = &mut self.slots[i];
        slot.started = Some(started);
        slot.proc = Some(proc.clone());
        slot.report.log = Some(log.clone());
        slot.report.outcome = Outcome::Kept;
        self.active += 1;
        self.keeper.add(proc.pid);
        self.note_commands();
        let tx = self.done_tx.clone();
        let watched = Watched {
            i,
            proc,
            bar,
            log,
            record,
        };
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

    fn not_run(&mut self, ui: &mut Ui, i: usize, why: String) {
        self.view.show(ui, i, Mark::Bad, &why);
        let report = &mut self.slots[i].report;
        report.outcome = Outcome::NotRun;
        report.error = Some(why);
    }

    /// Records how a command ended, then finishes its task when that was asked for.
    fn ended(&mut self, ui: &mut Ui, (i, exit, at, status): Done) {
        self.active -= 1;
        let elapsed = self.slots[i].started.map_or(Duration::ZERO, |s| at - s);
        let group = self.slots[i].proc.take().map(|proc| proc.pid);
        self.note_commands();
        if let Some(pid) = group {
            if !(self.settings.finish && exit.success() && cleanup::pending().is_none()) {
                self.keeper.remove(pid);
            }
        }
        let slot = &mut self.slots[i];
        slot.report.exit = Some(exit.status());
        slot.report.signal = exit.signal().map(|s| s.as_str().to_string());
        slot.report.duration_ms = Some(elapsed.as_millis() as u64);
        let ran = format!("{} after {}", exit.describe(), super::duration(elapsed));
        if cleanup::pending().is_some() {
            // Interrupted: the task is looked at once every command has stopped.
            self.view.show(ui, i, Mark::Bad, &ran);
            return;
        }
        self.inspect(i, status);
        let finish = self.settings.finish && exit.success();
        if !finish {
            let mark = if exit.success() {
                Mark::Good
            } else {
                Mark::Bad
            };
            let text = format!("{ran}, {}", self.kept_words(i));
            self.view.show(ui, i, mark, &text);
            return;
        }
        if let Some(pid) = group {
            // The command is done when its process group is: what it left running is given
            // par.killTimeout to end, then stopped, before its worktree is merged and removed.
            self.view.show(
                ui,
                i,
                Mark::Waiting,
                &format!("{ran}, waiting for what it started"),
            );
            end_group(pid, self.repo.config.kill_timeout);
            self.keeper.remove(pid);
        }
        self.view
            .show(ui, i, Mark::Waiting, &format!("{ran}, finishing"));
        let (repo, settings) = (self.repo, self.settings);
        let log = self.log_path(&self.slots[i].name);
        let (Some(lease), Some(record)) = (&self.slots[i].lease, &self.slots[i].record) else {
            return;
        };
        match self.view.with_ui(ui, |ui| {
            let hooks = settings.hooks(Output::Log(log));
            super::finish_task(repo, ui, lease, record, hooks)
        }) {
            Ok(outcome) => {
                self.slots[i].report.outcome = Outcome::Finished;
                let text = format!("{ran}, merged into {}", outcome.target);
                self.view.show(ui, i, Mark::Good, &text);
            }
            Err(err) => {
                if !matches!(err.kind, Kind::Interrupted(_)) {
                    self.view.with_ui(ui, |ui| ui.error(&err));
                }
                self.slots[i].report.error = Some(err.message.clone());
                let text = format!("{ran}, not finished, {}", self.kept_words(i));
                self.view.show(ui, i, Mark::Bad, &text);
            }
        }
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

    fn kept_words(&self, i: usize) -> String {
        match &self.slots[i].held {
            Some(held) => format!("kept ({})", held.describe()),
            None => "kept".into(),
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
        while self.active > 0 || running.iter().any(|p| child::group_alive(p.pid)) {
            if !killed && (cleanup::presses() >= 2 || Instant::now() >= deadline) {
                for proc in &running {
                    proc.signal_group(Signal::SIGKILL);
                    if proc.reaped.lock().map_or(true, |r| *r) {
                        child::signal_group(proc.pid, Signal::SIGKILL);
                    }
                }
                killed = true;
            }
            if let Ok(done) = self.done_rx.recv_timeout(child::POLL) {
                self.ended(ui, done);
            }
        }
        cleanup::settle();
        for i in 0..self.slots.len() {
            self.tidy(ui, i);
        }
        self.view.close();
        self.list_kept(ui);
        if self.settings.json {
            let reports: Vec<Report> = self.slots.iter().map(|s| s.report.clone()).collect();
            super::print_json(ui, &reports, Some(sig))?;
        }
        Err(Error::interrupted(sig))
    }

    /// After an interrupt: removes task `i` if this run created it and it holds no work.
    fn tidy(&mut self, ui: &mut Ui, i: usize) {
        let slot = &self.slots[i];
        if slot.report.outcome != Outcome::Kept || slot.record.is_none() {
            return;
        }
        self.inspect(i, None);
        let slot = &self.slots[i];
        let empty = slot.held.as_ref().is_some_and(Holdings::is_empty);
        if !(slot.created && empty) {
            let ran = slot.report.exit.is_some();
            let text = if ran {
                self.kept_words(i)
            } else {
                format!("not run, {}", self.kept_words(i))
            };
            self.view.show(ui, i, Mark::Bad, &text);
            return;
        }
        let repo = self.repo;
        let (Some(lease), Some(record)) = (&slot.lease, &slot.record) else {
            return;
        };
        match self
            .view
            .with_ui(ui, |ui| super::remove_empty(repo, ui, lease, record))
        {
            Ok(()) => {
                self.slots[i].report.outcome = Outcome::Removed;
                self.view
                    .show(ui, i, Mark::Bad, "stopped; removed (it held no work)");
            }
            Err(err) => {
                self.slots[i].report.error = Some(err.message.clone());
                self.view
                    .show(ui, i, Mark::Bad, &format!("kept: {}", err.message));
            }
        }
    }

    /// The tasks left in place, with what they hold and where.
    fn list_kept(&self, ui: &mut Ui) {
        let kept: Vec<&Slot> = self
            .slots
            .iter()
            .filter(|s| s.report.outcome == Outcome::Kept)
            .collect();
        if kept.is_empty() {
            return;
        }
        ui.note("Kept tasks:");
        for slot in kept {
            let Some(record) = &slot.record else { continue };
            let held = slot
                .held
                .as_ref()
                .map_or("not looked at".into(), Holdings::describe);
            let mut line = format!("  {}: {held}, {}", slot.name, record.path.display());
            if let Some(log) = &slot.report.log {
                line.push_str(&format!(", log {}", fsutil::normalize(log).display()));
            }
            ui.note(&line);
        }
    }
}

/// Waits up to `grace` for the rest of a command's process group to end, then stops it:
/// SIGTERM, and SIGKILL a second later to what is left.
fn end_group(pid: u32, grace: Duration) {
    let deadline = Instant::now() + grace;
    while child::group_alive(pid) && Instant::now() < deadline && cleanup::pending().is_none() {
        thread::sleep(child::POLL);
    }
    if child::group_alive(pid) {
        child::signal_group(pid, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(1);
        while child::group_alive(pid) && Instant::now() < deadline {
            thread::sleep(child::POLL);
        }
        child::signal_group(pid, Signal::SIGKILL);
    }
}

/// What a command's own thread looks after.
struct Watched {
    i: usize,
    proc: Arc<Proc>,
    bar: Option<ProgressBar>,
    log: PathBuf,
    record: TaskRecord,
}

/// Waits for one command (polling, so the view stays live) and shows its last output line;
/// once it ends, reads its worktree's status here, so that many are read at once.
fn watch(w: &Watched, tx: &Sender<Done>) {
    let (proc, i) = (&w.proc, w.i);
    let mut ticks = 0u32;
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
            let at = Instant::now();
            let status = if cleanup::pending().is_none() {
                holdings::worktree_status(&w.record)
            } else {
                None
            };
            let _ = tx.send((i, exit, at, status));
            return;
        }
        if let Some(bar) = &w.bar {
            if ticks % 5 == 0 {
                if let Some(line) = view::last_line(&w.log) {
                    bar.set_message(line);
                }
            }
        }
        ticks = ticks.wrapping_add(1);
        thread::sleep(child::POLL);
    }
}
