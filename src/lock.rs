//! The repository-wide lock that guards the short sections changing shared state.
//!
//! An exclusive `flock` on `<common git dir>/par/lock`: the kernel drops it when its owner
//! dies, so a lock left by a dead process never blocks anyone. The file holds the owner's pid
//! and command only for the message a waiter prints.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use crate::cleanup;
use crate::error::{Error, Result};
use crate::ui::Ui;

const SAY_AFTER: Duration = Duration::from_secs(1);

pub struct RepoLock {
    _lock: Flock<File>,
}

/// Opens `path` and takes an exclusive flock on it, waiting as long as it takes.
/// Returns `None` when a signal arrives while waiting.
pub fn flock_file(path: &Path, wait: bool) -> Result<Option<Flock<File>>> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    loop {
        let arg = if wait {
            FlockArg::LockExclusive
        } else {
            FlockArg::LockExclusiveNonblock
        };
        match Flock::lock(file, arg) {
            Ok(lock) => return Ok(Some(lock)),
            Err((f, Errno::EINTR)) => {
                cleanup::check()?;
                file = f;
            }
            Err((_, Errno::EWOULDBLOCK)) => return Ok(None),
            Err((_, e)) => {
                return Err(Error::failed(format!(
                    "could not lock {}: {e}",
                    path.display()
                )))
            }
        }
    }
}

impl RepoLock {
    pub fn acquire(par_dir: &Path, ui: &mut Ui, what: &str) -> Result<RepoLock> {
        let path = par_dir.join("lock");
        let started = Instant::now();
        let mut said = false;
        let mut lock = loop {
            if let Some(lock) = flock_file(&path, false)? {
                break lock;
            }
            cleanup::check()?;
            if !said && started.elapsed() >= SAY_AFTER {
                let mut owner = String::new();
                if let Ok(mut f) = File::open(&path) {
                    let _ = f.read_to_string(&mut owner);
                }
                let owner = owner.trim();
                let owner = if owner.is_empty() {
                    "another git par".into()
                } else {
                    owner.replace('\n', " ")
                };
                ui.note(&format!("waiting for the repository lock held by {owner}…"));
                said = true;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        lock.set_len(0)?;
        lock.rewind()?;
        let _ = write!(lock, "pid {} ({})", std::process::id(), what);
        Ok(RepoLock { _lock: lock })
    }
}
