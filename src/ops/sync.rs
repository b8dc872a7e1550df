//! Syncing a task: the base branch's new commits brought into the task's worktree by merge
//! or rebase. Conflicts are left for the user exactly as `git merge`/`git rebase` leave them;
//! an interrupt aborts the half-done sync instead, and only when it is provably the sync's
//! own (an operation the user had in progress there is refused up front, never aborted).
//!
//! | phase     | done so far               | a crash here is put right by              |
//! |-----------|---------------------------|-------------------------------------------|
//! | `merging` | git merge or rebase runs  | aborting it, when it is provably the sync's |

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::guard;
use super::lease::Lease;
use crate::cleanup;
use crate::error::{Error, Result};
use crate::git::{git, Repo};
use crate::journal::{Journal, Op};
use crate::task::TaskRecord;
use crate::ui::Ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Merging,
}

/// What the journal keeps of a sync.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journaled {
    pub phase: Phase,
    pub task: String,
    pub path: PathBuf,
    pub head_before: String,
    /// The base's tip that was merged or rebased onto.
    #[serde(default)]
    pub base_tip: String,
    pub rebase: bool,
}

pub enum Synced {
    Done,
    /// git stopped on conflicts, left for the user; its words, line by line.
    Conflicts(Vec<String>),
}

pub fn sync(
    repo: &Repo,
    ui: &mut Ui,
    lease: &Lease,
    record: &TaskRecord,
    base: &str,
    rebase: bool,
) -> Result<Synced> {
    let name = &record.task;
    lease.covers(name)?;
    let Some(base_tip) = repo.branch_tip(base) else {
        return Err(Error::failed(format!(
            "the base branch '{base}' of task '{name}' is gone"
        )));
    };
    let git_dir = guard::git_dir_of(&record.path);
    guard::refuse_in_progress(&record.path, &git_dir, &format!("task '{name}' in"))?;
    let head_before = git(&record.path, ["rev-parse", "HEAD"]).run()?.stdout_str();
    let journal = Journal::begin(
        &repo.par_dir(),
        Op::Sync(Journaled {
            phase: Phase::Merging,
            task: name.clone(),
            path: record.path.clone(),
            head_before,
            base_tip: base_tip.to_string(),
            rebase,
        }),
    )?;
    let verb = if rebase { "rebase" } else { "merge" };
    let tip = base_tip.to_string();
    let mut cmd = vec![verb];
    if !rebase {
        cmd.extend(["--no-edit", "-m"]);
    }
    let message = format!("Merge branch '{base}' into {}", record.branch);
    if !rebase {
        cmd.push(&message);
    }
    cmd.push(&tip);
    cleanup::failpoint("sync:before");
    let out = match git(&record.path, &cmd).critical().output() {
        Ok(out) => out,
        Err(err) => {
            journal.done()?;
            return Err(err);
        }
    };
    if let Some(sig) = cleanup::pending() {
        let undone = match &journal.entry.op {
            Op::Sync(op) => recover(op)?,
            _ => Vec::new(),
        };
        journal.done()?;
        let mut err = Error::interrupted(sig);
        if undone.is_empty() && out.success() {
            err = err.hint(format!("the sync of task '{name}' had completed"));
        }
        for step in undone {
            err = err.hint(format!("rolled back: {step}"));
        }
        return Err(err);
    }
    journal.done()?;
    let _ = ui;
    if out.success() {
        return Ok(Synced::Done);
    }
    let detail = format!("{}\n{}", out.stdout_str(), out.stderr_str());
    let lines = detail
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if guard::in_progress(&git_dir).is_some() {
        return Ok(Synced::Conflicts(lines));
    }
    Err(
        Error::failed(format!("could not {verb} '{base}' into task '{name}'"))
            .hint(lines.join("\n")),
    )
}

/// Aborts the sync's own half-done merge or rebase; anything else in progress is left alone.
pub fn recover(op: &Journaled) -> Result<Vec<String>> {
    if !op.path.is_dir() {
        return Ok(Vec::new());
    }
    let git_dir = guard::git_dir_of(&op.path);
    let read = |f: &str| std::fs::read_to_string(git_dir.join(f)).map(|s| s.trim().to_string());
    let ours = if op.rebase {
        (read("rebase-merge/onto").is_ok_and(|o| o == op.base_tip)
            && read("rebase-merge/orig-head").is_ok_and(|o| o == op.head_before))
            || (read("rebase-apply/onto").is_ok_and(|o| o == op.base_tip)
                && read("rebase-apply/orig-head").is_ok_and(|o| o == op.head_before))
    } else {
        read("MERGE_HEAD").is_ok_and(|m| m == op.base_tip)
            && read("ORIG_HEAD").is_ok_and(|o| o == op.head_before)
    };
    if !ours {
        return Ok(match guard::in_progress(&git_dir) {
            Some(what) => vec![format!(
                "left the {what} in progress in {} alone: it is not the sync's",
                op.path.display()
            )],
            None => Vec::new(),
        });
    }
    let verb = if op.rebase { "rebase" } else { "merge" };
    git(&op.path, [verb, "--abort"]).critical().run()?;
    Ok(vec![format!(
        "aborted the unfinished sync in {}",
        op.path.display()
    )])
}
