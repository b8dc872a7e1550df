//! How each task of a run ends: one outcome, and for a task that was not merged the one
//! reason why, from a documented and stable set (the man page lists it; `--json`, `--events`
//! and the summary all use these words).

use serde::Serialize;

use crate::error::{Error, Kind, Refusal};

/// What became of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Merged back and taken apart (`--finish`).
    Merged,
    /// Left in place with whatever it holds (or never created: see the reason).
    Kept,
    /// Created by this run, held no work, and was removed again.
    Removed,
}

/// Why a task was kept or removed instead of merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The command exited with a status other than 0, or was killed.
    CommandFailed,
    /// The command ran past `--timeout` and was stopped.
    TimedOut,
    /// The merge would conflict, the task has unresolved conflicts, or the target's worktree
    /// has local edits to files the task changes.
    Conflict,
    /// The task has uncommitted changes and `--changes` did not say what to do with them.
    UncommittedLeft,
    /// The task's worktree is no longer on its branch.
    HeadMoved,
    /// The task's checkout would not fit on the disk, even after the others were done.
    NoSpace,
    /// The run was interrupted (Ctrl-C, SIGTERM, SIGHUP).
    Interrupted,
    /// The command never ran: the task could not be taken, created or entered.
    NotStarted,
    /// The command never ran: the task was created, but its postStart hook failed; the
    /// task is kept as the hook left it.
    HookFailed,
    /// Processes still work inside the task's worktree, so it could not be taken apart.
    InUse,
    /// The finish failed for another reason (its `error` says which).
    FinishFailed,
}

impl Reason {
    pub fn word(self) -> &'static str {
        match self {
            Reason::CommandFailed => "command-failed",
            Reason::TimedOut => "timed-out",
            Reason::Conflict => "conflict",
            Reason::UncommittedLeft => "uncommitted-left",
            Reason::HeadMoved => "head-moved",
            Reason::NoSpace => "no-space",
            Reason::Interrupted => "interrupted",
            Reason::NotStarted => "not-started",
            Reason::HookFailed => "hook-failed",
            Reason::InUse => "in-use",
            Reason::FinishFailed => "finish-failed",
        }
    }

    /// Why a finish of the task failed.
    pub fn of_finish(err: &Error) -> Reason {
        if matches!(err.kind, Kind::Interrupted(_)) {
            return Reason::Interrupted;
        }
        match err.refusal {
            Some(Refusal::Conflict) => Reason::Conflict,
            Some(Refusal::Uncommitted) => Reason::UncommittedLeft,
            Some(Refusal::HeadMoved) => Reason::HeadMoved,
            Some(Refusal::NoSpace) => Reason::NoSpace,
            Some(Refusal::InUse) => Reason::InUse,
            Some(Refusal::HookFailed) | None => Reason::FinishFailed,
        }
    }

    /// Why a task could not be created or entered.
    pub fn of_start(err: &Error) -> Reason {
        match (err.kind, err.refusal) {
            (Kind::Interrupted(_), _) => Reason::Interrupted,
            (_, Some(Refusal::NoSpace)) => Reason::NoSpace,
            (_, Some(Refusal::HookFailed)) => Reason::HookFailed,
            _ => Reason::NotStarted,
        }
    }
}

/// An error as `--json` and `--events` show it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failure {
    pub message: String,
    pub hints: Vec<String>,
}

impl From<&Error> for Failure {
    fn from(err: &Error) -> Failure {
        Failure {
            message: err.message.clone(),
            hints: err.hints.clone(),
        }
    }
}

/// `git par run`'s exit status when it ran to its end: 0 when every task's command
/// succeeded and (with `--finish`) every task merged, 1 when some task was kept or removed
/// for a reason. A run that failed as a whole exits [`RUN_FAILED`].
pub fn exit_status(reasons: impl IntoIterator<Item = Option<Reason>>) -> u8 {
    match reasons.into_iter().any(|r| r.is_some()) {
        true => 1,
        false => 0,
    }
}

/// The exit status of a run that failed as a whole (nothing to account for per task).
pub const RUN_FAILED: u8 = 3;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_what_json_says() {
        let all = [
            Reason::CommandFailed,
            Reason::TimedOut,
            Reason::Conflict,
            Reason::UncommittedLeft,
            Reason::HeadMoved,
            Reason::NoSpace,
            Reason::Interrupted,
            Reason::NotStarted,
            Reason::HookFailed,
            Reason::InUse,
            Reason::FinishFailed,
        ];
        for reason in all {
            let json = serde_json::to_value(reason).expect("json");
            assert_eq!(json, reason.word());
        }
    }

    #[test]
    fn exit_status_is_1_when_any_task_has_a_reason() {
        assert_eq!(exit_status([None, None]), 0);
        assert_eq!(exit_status([None, Some(Reason::Conflict)]), 1);
    }

    #[test]
    fn refusals_become_reasons() {
        let err = Error::failed("x").because(Refusal::Uncommitted);
        assert_eq!(Reason::of_finish(&err), Reason::UncommittedLeft);
        assert_eq!(Reason::of_finish(&Error::failed("x")), Reason::FinishFailed);
        let space = Error::failed("x").because(Refusal::NoSpace);
        assert_eq!(Reason::of_start(&space), Reason::NoSpace);
        assert_eq!(Reason::of_start(&Error::failed("x")), Reason::NotStarted);
        let hook = Error::failed("x").because(Refusal::HookFailed);
        assert_eq!(Reason::of_start(&hook), Reason::HookFailed);
    }
}
