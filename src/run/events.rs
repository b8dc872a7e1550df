//! `--events <file|->`: JSON Lines, one object per change of a task's state, for programs
//! that drive a run. Every line has `schema` (this format's version), `time` (UTC, with
//! milliseconds), `run` (the run's id), `task` and `event`; the rest depends on the event.
//! The man page documents every event and field, and they are kept stable: a change that
//! would break a reader gets a new schema number.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use super::outcome::{Failure, Reason};
use crate::error::{Error, Result};
use crate::ui::Ui;

/// The version of the events' format.
pub const SCHEMA: u32 = 1;

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Event {
    /// The task waits for its turn.
    Queued,
    /// Its branch and worktree are being made (`--start`).
    Creating,
    Created {
        path: PathBuf,
    },
    /// Its command runs, as process `pid` (which leads a process group of its own when the
    /// run has many tasks).
    Started {
        pid: u32,
        log: Option<PathBuf>,
    },
    /// New output in the log: how many lines there are so far, and the last one.
    Output {
        lines: u64,
        last_line: Option<String>,
    },
    /// The command ended: its exit code, or the signal that killed it.
    Exited {
        code: Option<i32>,
        signal: Option<String>,
        duration_ms: u64,
    },
    /// The command ran past `--timeout`: it is being stopped.
    TimedOut {
        after_ms: u64,
    },
    /// The task is being merged.
    Finishing,
    Merged {
        into: String,
        commit: Option<String>,
    },
    Kept {
        reason: Option<Reason>,
        holds: Option<String>,
        path: Option<PathBuf>,
        error: Option<Failure>,
    },
    Removed {
        reason: Option<Reason>,
        log: Option<PathBuf>,
    },
    /// The run got a signal while the task was in hand.
    Interrupted {
        signal: String,
    },
}

#[derive(Serialize)]
struct Line<'a> {
    schema: u32,
    time: String,
    run: &'a str,
    task: &'a str,
    #[serde(flatten)]
    event: &'a Event,
}

enum Sink {
    None,
    Stdout,
    File(File),
}

pub struct Events {
    sink: Sink,
    run: String,
}

impl Events {
    /// Events to `path` (`-`: standard output), or nowhere.
    pub fn open(path: Option<&Path>, run: &str) -> Result<Events> {
        let sink = match path {
            None => Sink::None,
            Some(p) if p == Path::new("-") => Sink::Stdout,
            Some(p) => Sink::File(File::create(p).map_err(|e| {
                Error::failed(format!(
                    "could not create the events file {}: {e}",
                    p.display()
                ))
            })?),
        };
        Ok(Events {
            sink,
            run: run.to_string(),
        })
    }

    /// Writes one event of `task`, whole and at once; a reader that went away stops the
    /// events, not the run.
    pub fn emit(&mut self, ui: &mut Ui, task: &str, event: Event) {
        self.emit_at(ui, task, event, SystemTime::now());
    }

    /// [`Events::emit`] for a change that happened at `at` (on another thread, a moment ago).
    pub fn emit_at(&mut self, ui: &mut Ui, task: &str, event: Event, at: SystemTime) {
        if matches!(self.sink, Sink::None) {
            return;
        }
        let line = Line {
            schema: SCHEMA,
            time: timestamp(at),
            run: &self.run,
            task,
            event: &event,
        };
        let Ok(mut text) = serde_json::to_string(&line) else {
            return;
        };
        text.push('\n');
        let written = match &mut self.sink {
            Sink::None => Ok(()),
            Sink::Stdout => {
                let out = ui.out();
                out.write_all(text.as_bytes()).and_then(|()| out.flush())
            }
            Sink::File(file) => file.write_all(text.as_bytes()),
        };
        if written.is_err() {
            self.sink = Sink::None;
        }
    }
}

/// `2026-12-01T08:32:33.123Z`
fn timestamp(at: SystemTime) -> String {
    let ms = at
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let secs = crate::time::iso8601(ms / 1000);
    format!("{}.{:03}Z", secs.trim_end_matches('Z'), ms % 1000)
}
