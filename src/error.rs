//! The one error type that reaches the user: a message, `hint:` lines and an exit code.
//!
//! Lower layers return it too (built with context) so that every failure names the task,
//! branch or path it concerns; `main` prints it git's way and turns it into an exit status.

use std::fmt;
use std::io;

use nix::sys::signal::Signal;

/// How a command ended when it did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Refused or failed: exit 1.
    Failed,
    /// Bad usage or bad input: exit 2.
    Usage,
    /// Stopped by a signal after rolling back: re-raised so the caller sees it.
    Interrupted(Signal),
    /// Standard output was closed: exit quietly.
    BrokenPipe,
    /// Failed, with an exit status of its own.
    Exit(u8),
}

/// What kind of refusal an error is, for callers that act on it: `git par run` turns it
/// into the reason a task was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The merge would conflict, or the task has unresolved conflicts.
    Conflict,
    /// Uncommitted changes that nobody said what to do with.
    Uncommitted,
    /// The task's worktree has left its branch.
    HeadMoved,
    /// Not enough disk space.
    NoSpace,
    /// Processes work inside the task's worktree.
    InUse,
    /// A hook failed (the task it ran for stands).
    HookFailed,
}

#[derive(Debug)]
pub struct Error {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
    pub refusal: Option<Refusal>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn failed(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Failed,
            message: message.into(),
            hints: Vec::new(),
            refusal: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error {
            kind: Kind::Usage,
            message: message.into(),
            hints: Vec::new(),
            refusal: None,
        }
    }

    pub fn interrupted(signal: Signal) -> Self {
        let message = format!("interrupted by {}", signal.as_str());
        Error {
            kind: Kind::Interrupted(signal),
            message,
            hints: Vec::new(),
            refusal: None,
        }
    }

    /// Says what kind of refusal this is (see [`Refusal`]).
    pub fn because(mut self, refusal: Refusal) -> Self {
        self.refusal = Some(refusal);
        self
    }

    /// Exits with `code` instead of 1 (a `git par run` that failed as a whole exits 3).
    pub fn with_exit(mut self, code: u8) -> Self {
        if self.kind == Kind::Failed {
            self.kind = Kind::Exit(code);
        }
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// Prefixes the message with what was being attempted: `could not X: <cause>`.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        if matches!(self.kind, Kind::Failed | Kind::Usage | Kind::Exit(_)) {
            self.message = format!("{what}: {}", self.message);
        }
        self
    }

    pub fn exit_code(&self) -> i32 {
        match self.kind {
            Kind::Failed => 1,
            Kind::Usage => 2,
            Kind::Interrupted(signal) => 128 + signal as i32,
            Kind::BrokenPipe => 0,
            Kind::Exit(code) => code as i32,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        if err.kind() == io::ErrorKind::BrokenPipe {
            return Error {
                kind: Kind::BrokenPipe,
                message: String::new(),
                hints: Vec::new(),
                refusal: None,
            };
        }
        Error::failed(err.to_string())
    }
}

impl From<git2::Error> for Error {
    fn from(err: git2::Error) -> Self {
        Error::failed(err.message().to_string())
    }
}

impl From<serde_json::Error> for Error {
    fn from(err: serde_json::Error) -> Self {
        Error::failed(err.to_string())
    }
}

/// Adds `could not …` context to any fallible result.
pub trait Context<T> {
    fn context(self, what: impl fmt::Display) -> Result<T>;
    fn with_context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T>;
}

impl<T, E: Into<Error>> Context<T> for std::result::Result<T, E> {
    fn context(self, what: impl fmt::Display) -> Result<T> {
        self.map_err(|e| e.into().context(what))
    }

    fn with_context<D: fmt::Display>(self, what: impl FnOnce() -> D) -> Result<T> {
        self.map_err(|e| e.into().context(what()))
    }
}
