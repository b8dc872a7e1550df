//! The work a run of many does on threads of its own besides the commands: creating tasks
//! (several at once; `start` registers each under the repository lock and checks out
//! outside it) and finishing them (merges take turns under the lock, removals overlap). Each
//! thread has its own handle on the repository and its own `Ui`, and takes the task's lease
//! with it and hands it back.

use super::*;
use crate::run;

impl Run<'_> {
    /// Creates task `i` on a thread of its own, with its own handle on the repository; the
    /// lease goes with it and comes back in [`Msg::Created`].
    pub(super) fn create(&mut self, i: usize) -> Result<()> {
        let repo = self.repo.reopen()?;
        let Some(lease) = self.slots[i].lease.take() else {
            return Ok(());
        };
        let settings = self.settings.clone();
        let name = self.slots[i].name.clone();
        let output = crate::hooks::Output::Log(self.log_path(&name));
        let tx = self.tx.clone();
        self.creating += 1;
        self.slots[i].away = true;
        thread::spawn(move || {
            let (result, text) =
                captured(|ui| run::prepare(&repo, ui, &settings, &lease, &name, output));
            let _ = tx.send(Msg::Created(i, Box::new((lease, result, text))));
        });
        Ok(())
    }

    /// Task `i` was created (or not): its command starts, unless the run is stopping.
    pub(super) fn created(
        &mut self,
        ui: &mut Ui,
        i: usize,
        lease: Lease,
        result: Result<run::Prepared>,
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
            Ok(prepared) => {
                let run::Prepared {
                    record,
                    created,
                    hook_failed,
                } = prepared;
                // A task whose postStart hook failed is kept whatever it holds: the run does
                // not count it among those it may remove.
                if created && hook_failed.is_none() {
                    self.note_created(&record);
                }
                let path = record.path.clone();
                self.slots[i].before = holdings::tip(self.repo, &record);
                self.slots[i].record = Some(record);
                self.slots[i].created = created && hook_failed.is_none();
                self.emit(ui, i, Event::Created { path });
                if let Some(err) = hook_failed {
                    self.view.with_ui(ui, |ui| ui.error(&err));
                    // The hook wrote there.
                    self.slots[i].report.log = Some(self.log_path(&self.slots[i].name));
                    self.inspect(i, None);
                    self.slots[i]
                        .report
                        .keep(Some(Reason::HookFailed), Some(&err));
                    self.settle(ui, i, Mark::Bad);
                    return;
                }
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

    /// Merges task `i` back and takes it apart, or keeps it with the reason the finish gave.
    pub(super) fn finish(&mut self, ui: &mut Ui, i: usize) {
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
        let hooks = settings.hooks(crate::hooks::Output::Log(self.log_path(&record.task)));
        let tx = self.tx.clone();
        self.finishing += 1;
        self.slots[i].away = true;
        // Finished on a thread of its own, so that the removal of one task's files overlaps
        // with the others' work; merges still take turns under the repository lock.
        thread::spawn(move || {
            let (result, text) = captured(|ui| {
                run::finish_task(&repo, ui, &settings, &lease, &record, hooks).map(|outcome| {
                    let commit = run::merged_commit(&repo, &outcome);
                    (outcome.target, commit)
                })
            });
            let _ = tx.send(Msg::Finished(i, Box::new((lease, result, text))));
        });
    }

    /// A finishing thread is done with task `i`.
    pub(super) fn finished_on_thread(&mut self, ui: &mut Ui, i: usize, finished: Finished) {
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
    pub(super) fn finished(
        &mut self,
        ui: &mut Ui,
        i: usize,
        result: Result<(String, Option<String>)>,
    ) {
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
}
