//! How a run of many ends: the counts a compact view shows, the stop sequence after a
//! signal (and the account of each task it leaves), and the summary of every task that did
//! not merge.

use super::*;
use crate::run;

impl Run<'_> {
    /// `3 running, 12 queued, 5 merged, 2 kept`: for a view that has no line for each task.
    pub(super) fn show_counts(&mut self) {
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

    /// First signal: pass it to every command's group and wait for them, up to the kill
    /// timeout; a second press, or the timeout, kills them. Then the tasks this run created
    /// that hold no work are removed and the rest are listed.
    pub(super) fn stop(&mut self, ui: &mut Ui, sig: Signal) -> Result<u8> {
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
            run::print_json(ui, &self.journal.entry.id, &reports, Some(sig))?;
        }
        Err(Error::interrupted(sig))
    }

    /// After an interrupt: removes task `i` if this run created it and it holds no work,
    /// keeps it otherwise (reason interrupted); a task never reached was not started.
    pub(super) fn tidy(&mut self, ui: &mut Ui, i: usize, sig: Signal) {
        if self.slots[i].settled {
            return;
        }
        if self.slots[i].lease.is_none() {
            self.slots[i].report.keep(Some(Reason::NotStarted), None);
            self.slots[i].settled = true;
            let event = run::final_event(&self.slots[i].report);
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
    pub(super) fn list_unmerged(&self, ui: &mut Ui) {
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
