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
use crate::lock::flock_file;
use crate::{fsutil, ops};

/// What was being done, with what recovery needs to put it right. Each operation's record,
/// with its typed phase, lives beside its steps in `ops/`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Op {
    Start(ops::start::Journaled),
    Finish(ops::finish::Journaled),
    Drop(ops::drop::Journaled),
    Sync(ops::sync::Journaled),
    Run(RunOp),
}

/// A `git par run` in progress: what `recover` accounts for after a crash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunOp {
    pub tasks: Vec<String>,
    /// Process ids of the commands still running (each leads its own process group when the
    /// run has many tasks). Not `pid`: that key is the entry's own.
    #[serde(default)]
    pub commands: Vec<u32>,
    /// The tasks this run created, each with the identity of the worktree it made: after a
    /// crash, `recover` removes those that hold no work (and only while they are that one).
    #[serde(default)]
    pub created: Vec<CreatedTask>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CreatedTask {
    pub task: String,
    pub identity: Option<ops::gate::Identity>,
}

impl RunOp {
    pub fn new(tasks: Vec<String>) -> RunOp {
        RunOp {
            tasks,
            commands: Vec::new(),
            created: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    pub pid: u32,
    pub started: i64,
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

    /// The entry's lock, still held, for a process that takes the entry over (see
    /// [`adopt`]); the entry stays on disk.
    pub fn into_lock(self) -> Flock<File> {
        self._lock
    }
}

/// An entry whose owner is gone, held locked while recovery works on it. Its text is read
/// from disk and may be damaged or forged: `entry` is the error when it cannot be parsed, and
/// every path in a parsed one is checked again before anything acts on it.
pub struct Orphan {
    pub id: String,
    pub entry: std::result::Result<Entry, String>,
    pub path: PathBuf,
    lock_path: PathBuf,
    _lock: Flock<File>,
}

impl Orphan {
    pub fn done(self) -> Result<()> {
        fsutil::remove_file_if_exists(&self.path)?;
        fsutil::remove_file_if_exists(&self.path.with_extension(FAILED))?;
        fsutil::remove_file_if_exists(&self.lock_path)?;
        Ok(())
    }

    /// The entry's lock, still held, for a process that takes the entry over.
    pub fn into_lock(self) -> Flock<File> {
        self._lock
    }

    /// Keeps an entry that recovery would not act on in `journal/refused/`, for the user to
    /// look at, out of the way of the next `recover`.
    pub fn set_aside(self) -> Result<PathBuf> {
        let dir = self.path.with_file_name("refused");
        fs::create_dir_all(&dir)?;
        let to = dir.join(self.path.file_name().unwrap_or_default());
        fs::rename(&self.path, &to)?;
        fsutil::remove_file_if_exists(&self.lock_path)?;
        Ok(to)
    }

    /// The command, for messages: `git par drop x`, or the file when it cannot be read.
    pub fn describe(&self) -> String {
        match &self.entry {
            Ok(entry) => format!("'git par {}' (pid {})", entry.op.name(), entry.pid),
            Err(_) => format!("git par command (journal entry {})", self.id),
        }
    }
}

/// The extension of the note a background deletion leaves beside its entry when it failed
/// (`<id>.failed`): the entry is then left for `git par recover`, not handed on again.
pub const FAILED: &str = "failed";

/// Journal entries whose owners died (their lock is free), locked for the caller.
pub fn orphans(par_dir: &Path) -> Vec<Orphan> {
    let Ok(entries) = fs::read_dir(journal_dir(par_dir)) else {
        return Vec::new();
    };
    let mut found: Vec<Orphan> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .filter_map(|path| {
            let lock = flock_file(&path.with_extension("lock"), false).ok()??;
            Some(locked(path, lock))
        })
        .collect();
    found.sort_by(|a, b| a.id.cmp(&b.id));
    found
}

/// Reads the entry at `path`, whose lock the caller holds.
fn locked(path: PathBuf, lock: Flock<File>) -> Orphan {
    let lock_path = path.with_extension("lock");
    let id = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let entry = fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).map_err(|e| e.to_string()))
        .and_then(|entry| match entry.id == id {
            true => Ok(entry),
            false => Err(format!("it names itself '{}'", entry.id)),
        });
    Orphan {
        id,
        entry,
        path,
        lock_path,
        _lock: lock,
    }
}

/// Takes over entry `id` from the process that handed it on with its lock held on `lock`
/// (an inherited file descriptor): believed only when `lock` is that entry's lock file and
/// still holds the lock.
pub fn adopt(par_dir: &Path, id: &str, lock: File) -> Result<Orphan> {
    use std::os::unix::fs::MetadataExt;
    let well_formed = id.split_once('-').is_some_and(|(a, b)| {
        [a, b]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
    });
    if !well_formed {
        return Err(Error::failed(format!("'{id}' is not a journal entry id")));
    }
    let path = journal_dir(par_dir).join(format!("{id}.json"));
    let lock_path = path.with_extension("lock");
    let (held, named) = (lock.metadata()?, fs::symlink_metadata(&lock_path)?);
    if (held.dev(), held.ino()) != (named.dev(), named.ino()) || !named.is_file() {
        return Err(Error::failed(format!(
            "the lock handed over is not {}",
            lock_path.display()
        )));
    }
    // Locking again through the same open file only confirms the lock this process shares.
    let lock = Flock::lock(lock, nix::fcntl::FlockArg::LockExclusiveNonblock)
        .map_err(|(_, e)| Error::failed(format!("could not lock {}: {e}", lock_path.display())))?;
    Ok(locked(path, lock))
}

/// Waits until no process holds the lock of entry file `path` (a `.json`), then lets go.
pub fn wait_for(path: &Path) -> Result<()> {
    // Opened, never created: a lock file made here would be a stray one for `recover`.
    let mut file = match File::open(path.with_extension("lock")) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    loop {
        match Flock::lock(file, nix::fcntl::FlockArg::LockShared) {
            Ok(_) => return Ok(()),
            Err((f, nix::errno::Errno::EINTR)) => {
                crate::cleanup::check()?;
                file = f;
            }
            Err((_, e)) => {
                return Err(Error::failed(format!(
                    "could not wait for {}: {e}",
                    path.display()
                )))
            }
        }
    }
}

/// Every entry file in the journal, parsed where it can be, without locking anything.
pub fn entries(par_dir: &Path) -> Vec<(PathBuf, Option<Entry>)> {
    let Ok(dir) = fs::read_dir(journal_dir(par_dir)) else {
        return Vec::new();
    };
    dir.flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let entry = fs::read(&p)
                .ok()
                .and_then(|b| serde_json::from_slice::<Entry>(&b).ok());
            (p, entry)
        })
        .collect()
}

impl Op {
    /// The command and task, as the user typed them.
    pub fn name(&self) -> String {
        match self {
            Op::Start(op) => format!("start {}", op.task),
            Op::Finish(op) => format!("finish {}", op.subject.task),
            Op::Drop(op) => format!("drop {}", op.subject.task),
            Op::Sync(op) => format!("sync {}", op.task),
            Op::Run(op) => format!("run {}", op.tasks.join(" ")),
        }
    }

    /// The tasks it works on.
    pub fn tasks(&self) -> Vec<&str> {
        match self {
            Op::Start(op) => vec![op.task.as_str()],
            Op::Finish(op) => vec![op.subject.task.as_str()],
            Op::Drop(op) => vec![op.subject.task.as_str()],
            Op::Sync(op) => vec![op.task.as_str()],
            Op::Run(op) => op.tasks.iter().map(String::as_str).collect(),
        }
    }

    /// Where it had got to, in the journal's words.
    pub fn phase(&self) -> String {
        let word = match self {
            Op::Start(op) => serde_json::to_value(op.phase),
            Op::Finish(op) => serde_json::to_value(op.phase),
            Op::Drop(op) => serde_json::to_value(op.phase),
            Op::Sync(op) => serde_json::to_value(op.phase),
            Op::Run(_) => return "running".into(),
        };
        word.ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
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
