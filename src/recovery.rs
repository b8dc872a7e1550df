//! Putting an interrupted operation right: rolled back when it had not yet reached its point
//! of no return, carried forward when it had. The same code serves a command that was
//! interrupted (it calls [`roll_back`] on itself) and `git par recover` after a crash.

use std::path::Path;

use crate::error::Result;
use crate::git::snapshot::Snapshot;
use crate::git::{git, Repo};
use crate::journal::{Entry, Op};
use crate::remove::{self, Mode};
use crate::{rescue, task};

/// Undoes what the journalled operation did; returns what was undone, one line a step.
pub fn roll_back(repo: &Repo, entry: &Entry) -> Result<Vec<String>> {
    match &entry.op {
        Op::Start {
            task,
            branch,
            path,
            base_commit,
            created_dirs,
            source,
            snapshot,
        } => roll_back_start(
            repo,
            entry,
            task,
            branch,
            path,
            base_commit,
            created_dirs,
            source.as_deref(),
            snapshot.as_deref(),
        ),
        _ => Ok(Vec::new()),
    }
}

#[allow(clippy::too_many_arguments)]
fn roll_back_start(
    repo: &Repo,
    entry: &Entry,
    task: &str,
    branch: &str,
    path: &Path,
    base_commit: &str,
    created_dirs: &[std::path::PathBuf],
    source: Option<&Path>,
    snapshot: Option<&str>,
) -> Result<Vec<String>> {
    let mut done = Vec::new();
    if entry.phase == "clean-source" {
        // The changes were verified in the new worktree before the source was cleaned: the
        // move had passed its point of no return, so finish it instead of undoing it.
        if let (Some(source), Some(snapshot)) = (source, snapshot) {
            Snapshot::from_commit(source, snapshot)?.clean_out(source)?;
            done.push(format!(
                "finished moving the changes out of {}",
                source.display()
            ));
        }
        return Ok(done);
    }
    let we_made_it = created_dirs.iter().any(|d| d == path);
    if path.exists() || remove::registered(repo, path).is_some() {
        // A worktree someone has worked in since the crash keeps its work.
        if entry.pid != std::process::id() && path.exists() {
            if let Some(saved) =
                rescue::save_task(repo, task, Some(path), None, None, "start rolled back")?
            {
                done.push(format!(
                    "saved the changes in {} as {saved}",
                    path.display()
                ));
            }
        }
        remove::remove_worktree(repo, path, Mode::Force, we_made_it)?;
        done.push(format!("removed the worktree {}", path.display()));
    }
    if let Some(tip) = repo.branch_tip(branch) {
        if tip.to_string() != base_commit {
            let saved = rescue::save(repo, task, &tip.to_string(), "start rolled back")?;
            done.push(format!("saved branch '{branch}' as {saved}"));
        }
        git(
            &repo.main_worktree,
            [
                "update-ref",
                "-d",
                &format!("refs/heads/{branch}"),
                &tip.to_string(),
            ],
        )
        .run()?;
        done.push(format!("deleted branch '{branch}'"));
    }
    task::remove(repo, task)?;
    for dir in created_dirs {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(done)
}
