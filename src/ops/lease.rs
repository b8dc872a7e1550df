//! One command per task at a time. `start`, `run`, `finish`, `drop` and `sync` each hold the
//! task's lease while they work in it: an exclusive flock on `par/leases/<task>.lock`, which
//! the kernel drops when its holder dies, so a dead holder's lease is simply free. The file
//! says who holds it, for the refusal a second command prints and for `git par list`.
//!
//! Leases are per open file, so a process holds each task's lease once and passes it down:
//! `run --finish` takes the lease and hands it to the finish it calls.

use std::fs::{self, File};
use std::io::{Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::fcntl::Flock;
use serde::{Deserialize, Serialize};

use crate::cleanup;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::lock::flock_file;
use crate::ui::Ui;

/// Who holds a lease, as its file says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Holder {
    pub pid: u32,
    /// The command, as `git par drop x`.
    pub command: String,
    /// Seconds since the epoch.
    pub since: i64,
    /// The command a `git par run` runs in the task now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub running: Option<Running>,
}

/// A `git par run`'s command at work in a task, as its lease file says.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Running {
    /// The command's process id (it leads a process group of its own with many tasks).
    pub pid: u32,
    /// When it started, in seconds since the epoch.
    pub started: i64,
    /// The run it belongs to: its journal entry's id.
    pub run: String,
}

pub struct Lease {
    task: String,
    holder: Holder,
    lock: Flock<File>,
}

impl Lease {
    /// Takes the lease of `task`, refusing at once when another process holds it, or waiting
    /// for it when `wait` is set.
    pub fn take(repo: &Repo, ui: &mut Ui, task: &str, command: &str, wait: bool) -> Result<Lease> {
        let path = lease_file(repo, task);
        let started = Instant::now();
        let mut said = false;
        let mut lock = loop {
            if let Some(lock) = flock_file(&path, false)? {
                break lock;
            }
            let holder = holder_at(&path);
            let who = describe(holder.as_ref());
            if !wait {
                return Err(Error::failed(format!("task '{task}' is busy: {who}"))
                    .hint("wait for it to end, or pass --wait to wait for it"));
            }
            cleanup::check()?;
            if !said && started.elapsed() >= Duration::from_millis(300) {
                ui.note(&format!("waiting for task '{task}': {who}…"));
                said = true;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let holder = Holder {
            pid: std::process::id(),
            command: command.to_string(),
            since: crate::journal::now(),
            running: None,
        };
        write_holder(&mut lock, &holder)?;
        Ok(Lease {
            task: task.to_string(),
            holder,
            lock,
        })
    }

    /// Says in the lease file which command of a run works in the task now (or that none
    /// does), for `git par list`.
    pub fn set_running(&mut self, running: Option<Running>) -> Result<()> {
        self.holder.running = running;
        write_holder(&mut self.lock, &self.holder)
    }

    /// Checks that this lease is for `task` (operations take the lease their caller holds).
    pub fn covers(&self, task: &str) -> Result<()> {
        if self.task == task {
            return Ok(());
        }
        Err(Error::failed(format!(
            "internal: the lease of task '{}' was given for task '{task}'",
            self.task
        )))
    }
}

/// Writes who holds the lease in one write over the old text, padded with spaces to its
/// length rather than truncated first, so that a reader (`git par list`) never finds the file
/// empty or cut short.
fn write_holder(lock: &mut File, holder: &Holder) -> Result<()> {
    let mut text = serde_json::to_vec(holder)?;
    let old = lock.metadata()?.len() as usize;
    if text.len() < old {
        text.resize(old, b' ');
    }
    lock.rewind()?;
    lock.write_all(&text)?;
    Ok(())
}

fn lease_file(repo: &Repo, task: &str) -> PathBuf {
    repo.par_dir()
        .join("leases")
        .join(format!("{}.lock", crate::task::file_stem(task)))
}

fn describe(holder: Option<&Holder>) -> String {
    match holder {
        Some(h) => format!("'{}' (pid {}) is working in it", h.command, h.pid),
        None => "another git par is working in it".into(),
    }
}

fn holder_at(path: &Path) -> Option<Holder> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// Who works in `task` now, if anyone (a held lease; a free one is a dead holder's).
pub fn holder(repo: &Repo, task: &str) -> Option<Holder> {
    let path = lease_file(repo, task);
    if !path.exists() {
        return None;
    }
    match flock_file(&path, false) {
        Ok(None) => holder_at(&path),
        _ => None,
    }
}
