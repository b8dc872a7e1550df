//! The one way git-par runs the `git` command: `git -C <dir> …`, never a change of our own
//! directory (git-absorb's reason: the user's cwd must keep meaning what it meant).
//!
//! Two modes. An *interruptible* step (a checkout, a removal) runs in our process group, so a
//! Ctrl-C reaches git too and git undoes its own half-made work; SIGTERM/SIGHUP sent only to
//! us are passed on. A *critical* step (a merge into a checked-out branch, cleaning carried
//! changes out of the source) runs in a process group of its own, so no terminal signal can
//! cut it in half; the signal is acted on once it is done.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::cleanup;
use crate::error::{Error, Result};

/// Environment that would point a child (git, or a task's command) at another repository than
/// the one meant; git sets some of these when it runs `git par` from a hook or an alias.
pub const REPO_ENV: [&str; 8] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
];

pub struct Git {
    cmd: Command,
    critical: bool,
    show_stderr: bool,
    pass_output: bool,
    stdin: Option<Vec<u8>>,
    what: String,
}

#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    pub fn success(&self) -> bool {
        self.code == 0
    }

    pub fn stdout_str(&self) -> String {
        String::from_utf8_lossy(&self.stdout).trim_end().to_string()
    }

    pub fn stderr_str(&self) -> String {
        String::from_utf8_lossy(&self.stderr).trim_end().to_string()
    }
}

/// `git -C dir <args>`.
pub fn git<I, S>(dir: &Path, args: I) -> Git
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args);
    for var in REPO_ENV {
        cmd.env_remove(var);
    }
    let what = cmd
        .get_args()
        .skip(2)
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    Git {
        cmd,
        critical: false,
        show_stderr: false,
        pass_output: false,
        stdin: None,
        what,
    }
}

impl Git {
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    /// More arguments after those given to [`git`].
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        for arg in args {
            self.what.push(' ');
            self.what.push_str(&arg.as_ref().to_string_lossy());
            self.cmd.arg(arg);
        }
        self
    }

    /// Runs in its own process group: a terminal Ctrl-C cannot stop it half-way.
    pub fn critical(mut self) -> Self {
        self.critical = true;
        self
    }

    /// Lets git write its progress and messages straight to our stderr.
    pub fn show_stderr(mut self) -> Self {
        self.show_stderr = true;
        self
    }

    /// Lets git write to our stdout and stderr directly (its pager and colour included).
    pub fn pass_output(mut self) -> Self {
        self.pass_output = true;
        self.show_stderr = true;
        self
    }

    pub fn stdin(mut self, input: Vec<u8>) -> Self {
        self.stdin = Some(input);
        self
    }

    /// Runs to the end and fails unless git exits 0.
    pub fn run(self) -> Result<Output> {
        let what = self.what.clone();
        let out = self.output()?;
        if out.success() {
            return Ok(out);
        }
        let stderr = out.stderr_str();
        let detail = stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("");
        Err(Error::failed(format!(
            "git {what} failed (exit {}): {detail}",
            out.code
        )))
    }

    /// Runs to the end; a non-zero exit is returned, not an error. An interrupted
    /// interruptible step is an error.
    pub fn output(mut self) -> Result<Output> {
        // Once a signal is pending, or the command is past its point of no return, it is
        // rolling back or completing: nothing may stop that half-way, so every git it runs
        // from then on is critical.
        let critical = self.critical || cleanup::must_complete();
        let interruptible = !critical;
        if critical {
            use std::os::unix::process::CommandExt;
            self.cmd.process_group(0);
        }
        self.cmd.stdin(if self.stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        self.cmd.stdout(if self.pass_output {
            Stdio::inherit()
        } else {
            Stdio::piped()
        });
        self.cmd.stderr(if self.show_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        });
        let mut child = self.cmd.spawn().map_err(|e| {
            Error::failed(format!("could not run git: {e}")).hint("is git on PATH?")
        })?;
        let pid = Pid::from_raw(child.id() as i32);
        cleanup::git_started();
        if let (Some(mut pipe), Some(input)) = (child.stdin.take(), self.stdin.take()) {
            thread::spawn(move || {
                let _ = pipe.write_all(&input);
            });
        }
        let stdout = child.stdout.take().map(reader);
        let stderr = child.stderr.take().map(reader);

        let mut forwarded = false;
        let code = loop {
            if interruptible && !forwarded {
                if let Some(sig) = cleanup::pending() {
                    // A terminal Ctrl-C reached git already; a SIGTERM/SIGHUP sent to us alone
                    // did not, so pass it on.
                    let _ = kill(pid, sig);
                    forwarded = true;
                }
            }
            match waitpid(pid, None) {
                Ok(WaitStatus::Exited(_, code)) => break code,
                Ok(WaitStatus::Signaled(_, sig, _)) => break 128 + sig as i32,
                Ok(_) => continue,
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(Error::failed(format!("could not wait for git: {e}"))),
            }
        };
        let stdout = stdout
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        let stderr = stderr
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default();
        if interruptible {
            cleanup::check()?;
        }
        Ok(Output {
            code,
            stdout,
            stderr,
        })
    }
}

fn reader(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        buf
    })
}
