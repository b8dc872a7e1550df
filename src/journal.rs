//! The record of a multi-step change, written before the first step, so that after a crash
//! the next `git par` notices and `git par recover` can finish or roll it back.
//!
//! One JSON file per operation in `<common git dir>/par/journal/`, replaced atomically at
//! each phase. Its owner holds an flock on a companion `.lock` file while it runs: a journal
//! whose lock can be taken belongs to a process that is gone.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use nix::fcntl::Flock;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::lock::flock_file;

/// What was being done, with what recovery needs to put it right.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    Start {
        task: String,
        branch: String,
        path: PathBuf,
        base_commit: String,
        /// Folders that did not exist before and may be removed on rollback.
        created_dirs: Vec<PathBuf>,
        /// Worktree the changes were carried from, and the snapshot of them (a commit).
        source: Option<PathBuf>,
        snapshot: Option<String>,
    },
    Finish {
        task: String,
        branch: String,
        path: PathBuf,
        target: String,
        target_before: String,
        task_tip: String,
        /// The worktree the target branch is checked out in, if any.
        target_worktree: Option<PathBuf>,
        /// The commit the target moves to when it is not the task's tip or a merge of it
        /// (a squash, a rebase): how recovery tells that the merge happened.
        #[serde(default)]
        new_tip: Option<String>,
        /// Where the worktree was moved to be deleted.
        trash: Option<PathBuf>,
    },
    Drop {
        task: String,
        branch: String,
        path: PathBuf,
        rescue: Option<String>,
        trash: Option<PathBuf>,
    },
    Sync {
        task: String,
        path: PathBuf,
        head_before: String,
        rebase: bool,
    },
    Run {
        tasks: Vec<String>,
        /// Process ids of the commands still running (each leads its own process group
        /// when the run has many tasks). Not `pid`: that key is the entry's own.
        #[serde(default)]
        commands: Vec<u32>,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub pid: u32,
    pub started: i64,
    pub phase: String,
    #[serde(flatten)]
    pub op: Op,
}

/// A journal entry owned by this process; dropping it without [`Journal::done`] leaves the
/// file for recovery.
pub struct Journal {
    pub entry: Entry,
    path: PathBuf,
    lock_path: PathBuf,
    _lock: Flock<File>,
}

pub fn journal_dir(par_dir: &Path) -> PathBuf {
    par_dir.join("journal")
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl Journal {
    pub fn begin(par_dir: &Path, op: Op) -> Result<Journal> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let id = format!("{nanos}-{}", std::process::id());
        let dir = journal_dir(par_dir);
        let path = dir.join(format!("{id}.json"));
        let lock_path = dir.join(format!("{id}.lock"));
        // Locked under a temporary name, then renamed: an `<id>.lock` is never seen unlocked
        // while its owner lives, so a free one without its `.json` is a dead process's.
        let lock_temp = dir.join(format!(".{id}.lock.tmp{}", std::process::id()));
        let lock = flock_file(&lock_temp, false)?
            .ok_or_else(|| Error::failed("could not lock a new journal entry"))?;
        std::fs::rename(&lock_temp, &lock_path)
            .map_err(|e| Error::failed(format!("could not create {}: {e}", lock_path.display())))?;
        let entry = Entry {
            id,
            pid: std::process::id(),
            started: now(),
            phase: "begin".into(),
            op,
        };
        let journal = Journal {
            entry,
            path,
            lock_path,
            _lock: lock,
        };
        journal.write()?;
        Ok(journal)
    }

    fn write(&self) -> Result<()> {
        let json = serde_json::to_vec_pretty(&self.entry)?;
        fsutil::write_atomic(&self.path, &json).map_err(|e| {
            Error::failed(format!(
                "could not write journal {}: {e}",
                self.path.display()
            ))
        })
    }

    pub fn set_phase(&mut self, phase: &str) -> Result<()> {
        self.entry.phase = phase.to_string();
        self.write()
    }

    pub fn update(&mut self, f: impl FnOnce(&mut Op)) -> Result<()> {
        f(&mut self.entry.op);
        self.write()
    }

    /// The operation is complete (or fully rolled back): forget it.
    pub fn done(self) -> Result<()> {
        fsutil::remove_file_if_exists(&self.path)?;
        fsutil::remove_file_if_exists(&self.lock_path)?;
        Ok(())
    }
}

/// An entry whose owner is gone, held locked while recovery works on it.
pub struct Orphan {
    pub entry: Entry,
    pub path: PathBuf,
    lock_path: PathBuf,
    _lock: Flock<File>,
}

impl Orphan {
    pub fn done(self) -> Result<()> {
        fsutil::remove_file_if_exists(&self.path)?;
        fsutil::remove_file_if_exists(&self.lock_path)?;
        Ok(())
    }
}

/// Journal entries whose owners died (their lock is free), locked for the caller.
pub fn orphans(par_dir: &Path) -> Vec<Orphan> {
    let Ok(entries) = fs::read_dir(journal_dir(par_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<Orphan> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter_map(|path| {
            let lock_path = path.with_extension("lock");
            let lock = flock_file(&lock_path, false).ok()??;
            let Ok(entry) = serde_json::from_slice::<Entry>(&fs::read(&path).ok()?) else {
                return None;
            };
            Some(Orphan {
                entry,
                path,
                lock_path,
                _lock: lock,
            })
        })
        .collect();
    found.sort_by(|a, b| a.entry.id.cmp(&b.entry.id));
    found
}

/// True when some journal entry is left by a dead process (cheap: no lock is held after).
pub fn has_orphans(par_dir: &Path) -> bool {
    !orphans(par_dir).is_empty()
}

impl Op {
    /// Remembers where a worktree was moved for deletion (finish and drop).
    pub fn set_trash(&mut self, to: PathBuf) {
        if let Op::Finish { trash, .. } | Op::Drop { trash, .. } = self {
            *trash = Some(to);
        }
    }

    /// The command and task, as the user typed them.
    pub fn name(&self) -> String {
        match self {
            Op::Start { task, .. } => format!("start {task}"),
            Op::Finish { task, .. } => format!("finish {task}"),
            Op::Drop { task, .. } => format!("drop {task}"),
            Op::Sync { task, .. } => format!("sync {task}"),
            Op::Run { tasks, .. } => format!("run {}", tasks.join(" ")),
        }
    }
}

/// True when some journal entry belongs to a process that is still running.
pub fn has_live_entries(par_dir: &Path) -> bool {
    let Ok(entries) = fs::read_dir(journal_dir(par_dir)) else {
        return false;
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .any(|path| matches!(flock_file(&path.with_extension("lock"), false), Ok(None)))
}

/// Lock files of journal entries whose `.json` was never written (the process died between
/// the two) and whose lock is free.
pub fn stray_locks(par_dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(journal_dir(par_dir)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "lock"))
        .filter(|p| !p.with_extension("json").exists())
        .filter(|p| matches!(flock_file(p, false), Ok(Some(_))))
        .collect()
}
