//! Other processes: whether one is alive, which ones work inside a folder, and stopping them.
//! The one place that reads `/proc`; elsewhere (a macOS port) the look-ups that need it find
//! nothing, which makes the callers refuse less, never remove more: they say so in `--help`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// True while process `pid` exists (a zombie included).
pub fn alive(pid: u32) -> bool {
    pid != 0 && i32::try_from(pid).is_ok_and(|p| kill(Pid::from_raw(p), None).is_ok())
}

/// True when `text` is a pid (all digits) of a process that is gone.
pub fn is_dead_pid(text: &str) -> bool {
    !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse().is_ok_and(|p| !alive(p))
}

/// How a process uses a folder.
#[derive(Debug, Clone)]
// Only the /proc reader finds uses; elsewhere none is made yet.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum Use {
    Cwd,
    Root,
    Open(PathBuf),
}

impl Use {
    pub fn describe(&self, dir: &Path) -> String {
        match self {
            Use::Cwd => "has its working directory there".into(),
            Use::Root => "has its root there".into(),
            Use::Open(file) => format!(
                "has {} open",
                file.strip_prefix(dir).unwrap_or(file).display()
            ),
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use std::fs;

    pub fn all() -> Vec<u32> {
        let Ok(entries) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse().ok())
            .collect()
    }

    pub fn parent(pid: u32) -> Option<u32> {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
        let rest = &stat[stat.rfind(')')? + 2..];
        rest.split(' ').nth(1)?.parse().ok()
    }

    pub fn name(pid: u32) -> String {
        fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into())
    }

    pub fn uses(pid: u32, dir: &Path) -> Option<Use> {
        let base = PathBuf::from(format!("/proc/{pid}"));
        let inside = |link: &Path| fs::read_link(link).is_ok_and(|p| p.starts_with(dir));
        if inside(&base.join("cwd")) {
            return Some(Use::Cwd);
        }
        if inside(&base.join("root")) {
            return Some(Use::Root);
        }
        fs::read_dir(base.join("fd"))
            .ok()?
            .flatten()
            .filter_map(|fd| fs::read_link(fd.path()).ok())
            .find(|p| p.starts_with(dir))
            .map(Use::Open)
    }

    /// The processes that hold `path` open.
    pub fn holders_of(path: &Path) -> Vec<u32> {
        all()
            .into_iter()
            .filter(|pid| {
                fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                    fds.flatten()
                        .any(|fd| fs::read_link(fd.path()).is_ok_and(|p| p == path))
                })
            })
            .collect()
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    pub fn all() -> Vec<u32> {
        Vec::new()
    }

    pub fn parent(_pid: u32) -> Option<u32> {
        None
    }

    pub fn name(_pid: u32) -> String {
        "?".into()
    }

    pub fn uses(_pid: u32, _dir: &Path) -> Option<Use> {
        None
    }

    pub fn holders_of(_path: &Path) -> Vec<u32> {
        Vec::new()
    }
}

pub use imp::{all, name, parent, uses};

/// This process and every process it runs under (git, the user's shell, …): they stand in
/// a task's worktree when the user runs `git par finish` from inside it, and are not in the
/// way of its removal.
pub fn ancestors() -> Vec<u32> {
    let mut chain = vec![std::process::id()];
    while let Some(parent) = chain.last().and_then(|p| imp::parent(*p)) {
        if parent == 0 || chain.contains(&parent) {
            break;
        }
        chain.push(parent);
    }
    chain
}

/// A process that has `path` open, if any: git keeps a lock file open from creating it to
/// committing it, so a lock no process holds open was left by a git that died.
pub fn holder_of(path: &Path) -> Option<u32> {
    imp::holders_of(&crate::fsutil::resolve(path))
        .into_iter()
        .next()
}

/// SIGTERM to each, then SIGKILL to those still alive after `grace`.
pub fn stop(pids: &[u32], grace: Duration) {
    let send = |pid: u32, sig: Signal| {
        if let Ok(p) = i32::try_from(pid) {
            let _ = kill(Pid::from_raw(p), sig);
        }
    };
    for pid in pids {
        send(*pid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline && pids.iter().any(|p| alive(*p)) {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in pids.iter().filter(|p| alive(**p)) {
        send(*pid, Signal::SIGKILL);
    }
}
