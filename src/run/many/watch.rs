//! The thread that looks after one running command: it reaps it, waits for the rest of its
//! process group, shows its last line of output and counts its lines for output events.

use super::*;

/// A running command, shared with the thread that reaps it. The flag is set under the lock
/// when the process is reaped, so that its group is never signalled after its id is free.
pub(super) struct Proc {
    pub(super) pid: u32,
    pub(super) reaped: Mutex<bool>,
}

impl Proc {
    pub(super) fn signal_group(&self, sig: Signal) {
        if let Ok(reaped) = self.reaped.lock() {
            if !*reaped {
                child::signal_group(self.pid, sig);
            }
        }
    }
}

/// Runs `f` with a `Ui` of its own (never interactive), and returns what it printed too.
pub(super) fn captured<T>(f: impl FnOnce(&mut Ui) -> T) -> (T, String) {
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
pub(super) struct Shared(Arc<Mutex<Vec<u8>>>);

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
pub(super) struct Watched {
    pub(super) i: usize,
    pub(super) proc: Arc<Proc>,
    pub(super) bar: Option<ProgressBar>,
    pub(super) log: PathBuf,
    pub(super) record: TaskRecord,
    pub(super) grace: Duration,
    /// Output events are wanted.
    pub(super) events: bool,
}

/// How often the log is looked at for output events.
pub(super) const OUTPUT_EVERY: u32 = 50;

/// Waits for one command (polling, so the view stays live) and shows its last output line;
/// once it ends, waits for the rest of its process group, then reads its worktree's status
/// here, so that many are read at once.
pub(super) fn watch(w: &Watched, tx: &Sender<Msg>) {
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
pub(super) struct LineCounter {
    offset: u64,
    lines: u64,
    reported: Option<u64>,
}

impl LineCounter {
    /// Sends an output event when the log grew since the last one.
    pub(super) fn report(&mut self, i: usize, log: &Path, tx: &Sender<Msg>) {
        if self.count(log).is_none() || self.offset == 0 || self.reported == Some(self.offset) {
            return;
        }
        self.reported = Some(self.offset);
        let _ = tx.send(Msg::Output(i, self.lines, view::last_line(log)));
    }

    pub(super) fn count(&mut self, log: &Path) -> Option<()> {
        let mut file = File::open(log).ok()?;
        file.seek(SeekFrom::Start(self.offset)).ok()?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf).ok()?;
        self.offset += buf.len() as u64;
        self.lines += buf.iter().filter(|b| **b == b'\n').count() as u64;
        Some(())
    }
}
