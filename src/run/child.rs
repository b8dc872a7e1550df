//! Starting a task's command and telling how it ended: in our own process group for a
//! single task (it owns the terminal), in a process group of its own with its output in a
//! log file for many. Either way it dies with git-par (see [`cleanup::die_with_parent`]).

use std::fs::{self, File};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use crate::cleanup;
use crate::error::{Error, Result};

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
