//! `git par sync`: bring the base branch's new commits into a task, in the task's worktree,
//! by merge or rebase. Conflicts are left for the user exactly as `git merge`/`git rebase`
//! leave them; an interrupt aborts a half-done sync instead.

use crate::cli::SyncArgs;
use crate::error::{Error, Result};
use crate::git::{git, snapshot};
use crate::journal::{Journal, Op};
use crate::task;
use crate::ui::Ui;
use crate::{cleanup, recovery};

pub fn run(args: SyncArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let record = task::resolve(&repo, args.task.as_deref())?;
    let name = &record.task;
    let Some(base) = record.base.clone() else {
        return Err(
            Error::failed(format!("task '{name}' has no base branch to sync with"))
                .hint("it was started from a commit, not a branch"),
        );
    };
    if repo.branch_tip(&base).is_none() {
        return Err(Error::failed(format!(
            "the base branch '{base}' of task '{name}' is gone"
        )));
    }
    if !record.path.exists() {
        return Err(Error::failed(format!(
            "the worktree of task '{name}' is missing: {}",
            record.path.display()
        ))
        .hint("'git par recover' looks into it"));
    }
    let head_before = git(&record.path, ["rev-parse", "HEAD"]).run()?.stdout_str();
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Sync {
            task: name.clone(),
            path: record.path.clone(),
            head_before,
            rebase: args.rebase,
        },
    )?;
    let verb = if args.rebase { "rebase" } else { "merge" };
    let mut cmd = vec![verb];
    if !args.rebase {
        cmd.push("--no-edit");
    }
    cmd.push(&base);
    journal.set_phase(verb)?;
    cleanup::failpoint("sync:before");
    let out = match git(&record.path, &cmd).critical().output() {
        Ok(out) => out,
        Err(err) => {
            journal.done()?;
            return Err(err);
        }
    };
    if let Some(sig) = cleanup::pending() {
        if !out.success() || in_progress(&record.path) {
            let undone = recovery::roll_back(&repo, ui, &journal.entry)?;
            journal.done()?;
            let mut err = Error::interrupted(sig);
            for step in undone {
                err = err.hint(format!("rolled back: {step}"));
            }
            return Err(err);
        }
        journal.done()?;
        return Err(
            Error::interrupted(sig).hint(format!("the sync of task '{name}' had completed"))
        );
    }
    journal.done()?;
    if out.success() {
        ui.note(&format!("Brought '{base}' into task '{name}' ({verb})."));
        return Ok(0);
    }
    let detail = format!("{}\n{}", out.stdout_str(), out.stderr_str());
    let detail: Vec<&str> = detail.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &detail {
        ui.note(line);
    }
    let mut err = Error::failed(format!("could not {verb} '{base}' into task '{name}'"));
    if in_progress(&record.path) {
        err = err
            .hint(format!(
                "resolve the conflicts in {}, then 'git {}'",
                record.path.display(),
                if args.rebase {
                    "rebase --continue"
                } else {
                    "commit"
                }
            ))
            .hint(format!("or give up with 'git {verb} --abort' there"));
    }
    Err(err)
}

/// True when a merge or rebase is waiting in the worktree.
pub fn in_progress(dir: &std::path::Path) -> bool {
    let Ok(git_dir) = snapshot::git_dir(dir) else {
        return false;
    };
    ["MERGE_HEAD", "rebase-merge", "rebase-apply"]
        .iter()
        .any(|f| git_dir.join(f).exists())
}
