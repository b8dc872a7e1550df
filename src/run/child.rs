//! Starting a task's command and telling how it ended: in our own process group for a
//! single task (it owns the terminal), in a process group of its own with its output in a
//! log file for many. Either way it dies with git-par (see [`cleanup::die_with_parent`]).

use std::fs::{self, File};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::error::{Error, Result};
use crate::{cleanup, proc};

/// How often waiting loops look at the child and at recorded signals.
pub const POLL: Duration = Duration::from_millis(20);

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(Signal),
}

impl Exit {
    /// The status a shell would report: the code, or 128 + the signal number.
    pub fn status(self) -> i32 {
        match self {
            Exit::Code(code) => code,
            Exit::Signal(sig) => 128 + sig as i32,
        }
    }

    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }

    pub fn signal(self) -> Option<Signal> {
        match self {
            Exit::Signal(sig) => Some(sig),
            Exit::Code(_) => None,
        }
    }

    /// `exited 0`, `killed by SIGINT`.
    pub fn describe(self) -> String {
        match self {
            Exit::Code(code) => format!("exited {code}"),
            Exit::Signal(sig) => format!("killed by {}", sig.as_str()),
        }
    }
}

fn spawn(mut cmd: Command, task: &str) -> Result<Child> {
    cleanup::die_with_parent(&mut cmd);
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.spawn().map_err(|e| {
        let err = Error::failed(format!("could not run '{program}' in task '{task}': {e}"));
        if e.kind() == std::io::ErrorKind::NotFound {
            err.hint("check the command's name, and that it is on PATH")
        } else {
            err
        }
    })
}

/// Starts the command in our own process group with our terminal, so that it reads the
/// keyboard and a Ctrl-C typed there reaches it directly.
pub fn spawn_foreground(cmd: Command, task: &str) -> Result<Child> {
    spawn(cmd, task)
}

/// Starts the command in a process group of its own, reading nothing, writing `log`.
pub fn spawn_in_group(mut cmd: Command, task: &str, log: &Path) -> Result<Child> {
    use std::os::unix::process::CommandExt;
    if let Some(dir) = log.parent() {
        fs::create_dir_all(dir)
            .map_err(|e| Error::failed(format!("could not create {}: {e}", dir.display())))?;
    }
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| Error::failed(format!("could not create {}: {e}", log.display())))?;
    let err = out.try_clone()?;
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0);
    spawn(cmd, task)
}

/// Reaps the child if it has ended, without blocking.
pub fn try_reap(pid: u32) -> Result<Option<Exit>> {
    match waitpid(Pid::from_raw(pid as i32), Some(WaitPidFlag::WNOHANG)) {
        Ok(WaitStatus::Exited(_, code)) => Ok(Some(Exit::Code(code))),
        Ok(WaitStatus::Signaled(_, sig, _)) => Ok(Some(Exit::Signal(sig))),
        Ok(_) | Err(Errno::EINTR) => Ok(None),
        Err(e) => Err(Error::failed(format!(
            "could not wait for process {pid}: {e}"
        ))),
    }
}

/// Sends `sig` to the child alone.
pub fn signal(pid: u32, sig: Signal) {
    let _ = kill(Pid::from_raw(pid as i32), sig);
}

/// Sends `sig` to the child's whole process group (it leads one of its own).
pub fn signal_group(pid: u32, sig: Signal) {
    let _ = killpg(Pid::from_raw(pid as i32), sig);
}

/// True while any process is left in the group that `pid` led.
pub fn group_alive(pid: u32) -> bool {
    killpg(Pid::from_raw(pid as i32), None).is_ok()
}

/// True when our process group is the terminal's foreground group, so that a Ctrl-C typed
/// there reaches a child in our group without our help.
pub fn in_terminal_foreground() -> bool {
    let Ok(tty) = File::open("/dev/tty") else {
        return false;
    };
    nix::unistd::tcgetpgrp(&tty).is_ok_and(|pgrp| pgrp == nix::unistd::getpgrp())
}

/// Waits up to `grace` for what is left of a command's process group once its leader
/// ended, then stops it: SIGTERM, and SIGKILL a second later to what is left. Returns how
/// many processes had to be stopped. Gives up waiting (stopping nothing) when git-par got a
/// signal: the run's own stop sequence then takes over.
pub fn settle_group(pid: u32, grace: Duration) -> usize {
    let deadline = Instant::now() + grace;
    while group_alive(pid) && Instant::now() < deadline && cleanup::pending().is_none() {
        std::thread::sleep(POLL);
    }
    if !group_alive(pid) || cleanup::pending().is_some() {
        return 0;
    }
    let left = group_members(pid).len().max(1);
    signal_group(pid, Signal::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(1);
    while group_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
    signal_group(pid, Signal::SIGKILL);
    left
}

/// Processes in process group `pgid`.
fn group_members(pgid: u32) -> Vec<u32> {
    proc::all()
        .into_iter()
        .filter(|&pid| {
            nix::unistd::getpgid(Some(Pid::from_raw(pid as i32)))
                .is_ok_and(|g| g.as_raw() as u32 == pgid)
        })
        .collect()
}

/// Makes git-par the reaper of its descendants' orphans (Linux), so that what a single
/// task's command leaves running when it exits becomes git-par's child, to be waited for.
pub fn adopt_orphans() {
    #[cfg(target_os = "linux")]
    let _ = nix::sys::prctl::set_child_subreaper(true);
}

/// git-par's own child processes, reaping those that have ended.
fn own_children() -> Vec<u32> {
    let me = std::process::id();
    proc::all()
        .into_iter()
        .filter(|&pid| proc::parent(pid) == Some(me))
        .filter(|&pid| !matches!(try_reap(pid), Ok(Some(_))))
        .collect()
}

/// After a single task's command exited: waits up to `grace` for the processes it left
/// (adopted through [`adopt_orphans`]), then stops them as [`settle_group`] does. Returns
/// how many had to be stopped. Only for single mode, where git-par runs nothing else.
pub fn settle_orphans(grace: Duration) -> usize {
    let deadline = Instant::now() + grace;
    while !own_children().is_empty() && Instant::now() < deadline && cleanup::pending().is_none() {
        std::thread::sleep(POLL);
    }
    let mut stopped = 0;
    for sig in [Signal::SIGTERM, Signal::SIGKILL] {
        let left = own_children();
        if left.is_empty() {
            break;
        }
        stopped = stopped.max(left.len());
        for &pid in &left {
            signal(pid, sig);
        }
        let deadline = Instant::now() + Duration::from_secs(1);
        while !own_children().is_empty() && Instant::now() < deadline {
            std::thread::sleep(POLL);
        }
    }
    stopped
}
