//! Putting an interrupted operation right: rolled back when it had not yet reached its point
//! of no return, carried forward when it had. The same code serves a command that was
//! interrupted (it calls [`roll_back`] on itself) and `git par recover` after a crash.

use std::path::Path;

use crate::error::Result;
use crate::git::snapshot::{self, Snapshot};
use crate::git::{git, Repo};
use crate::journal::{Entry, Op};
use crate::remove::{self, Mode};
use crate::{delete, rescue, task};

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
        Op::Finish {
            task,
            branch,
            path,
            target,
            task_tip,
            target_worktree,
            trash,
            ..
        } => {
            let mut done = Vec::new();
            if let Some(dir) = target_worktree {
                if abort_in_progress(dir)? {
                    done.push(format!("aborted the half-done merge in {}", dir.display()));
                }
            }
            let merged = match (repo.branch_tip(target), task_tip.parse::<git2::Oid>()) {
                (Some(now), Ok(tip)) => now == tip || repo.git.graph_descendant_of(now, tip)?,
                _ => false,
            };
            if merged {
                // Past the point of no return: the merge is in, so finish taking the task apart.
                let removal = Removal {
                    task,
                    branch,
                    path,
                    trash: trash.as_deref(),
                    safe_in: repo.branch_tip(target),
                };
                done.extend(complete_removal(repo, &removal)?);
            }
            Ok(done)
        }
        Op::Drop {
            task,
            branch,
            path,
            trash,
            ..
        } => {
            // Dropping saves the work before it removes anything, so it is always finished.
            let base = task::load(repo, task)
                .and_then(|r| r.base)
                .and_then(|b| repo.branch_tip(&b));
            let removal = Removal {
                task,
                branch,
                path,
                trash: trash.as_deref(),
                safe_in: base,
            };
            complete_removal(repo, &removal)
        }
        Op::Sync { path, .. } => {
            let mut done = Vec::new();
            if abort_in_progress(path)? {
                done.push(format!("aborted the unfinished sync in {}", path.display()));
            }
            Ok(done)
        }
        Op::Run { tasks, .. } => Ok(vec![format!(
            "noted the interrupted run of {}",
            tasks.join(", ")
        )]),
    }
}

/// Aborts a merge or rebase waiting in the worktree at `dir`; true if there was one.
fn abort_in_progress(dir: &Path) -> Result<bool> {
    if !dir.exists() {
        return Ok(false);
    }
    let git_dir = snapshot::git_dir(dir)?;
    if git_dir.join("MERGE_HEAD").exists() {
        git(dir, ["merge", "--abort"]).critical().run()?;
        return Ok(true);
    }
    if git_dir.join("rebase-merge").exists() || git_dir.join("rebase-apply").exists() {
        git(dir, ["rebase", "--abort"]).critical().run()?;
        return Ok(true);
    }
    Ok(false)
}

struct Removal<'a> {
    task: &'a str,
    branch: &'a str,
    path: &'a Path,
    trash: Option<&'a Path>,
    /// Commits this contains need no rescue.
    safe_in: Option<git2::Oid>,
}

/// Finishes taking a task apart from whatever state a crash left, saving anything not yet
/// safe first.
fn complete_removal(repo: &Repo, r: &Removal) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let tip = repo.branch_tip(r.branch);
    let safe_in = r.safe_in.map(|t| t.to_string());
    let worktree = r.path.exists().then_some(r.path);
    let tip_str = tip.map(|t| t.to_string());
    if let Some(saved) = rescue::save_task(
        repo,
        r.task,
        worktree,
        tip_str.as_deref(),
        safe_in.as_deref(),
        "recover",
    )? {
        done.push(format!("saved the work of task '{}' as {saved}", r.task));
    }
    if let Some(wt) = remove::registered(repo, r.path) {
        if r.path.exists() {
            remove::remove_worktree(repo, r.path, Mode::Force, false)?;
        } else {
            remove::forget_worktree(repo, &wt)?;
        }
        done.push(format!("removed the worktree {}", r.path.display()));
    }
    if let Some(trash) = r.trash.filter(|t| t.exists()) {
        if delete::delete_tree(trash, &mut |_| {})? == delete::Outcome::Interrupted {
            return Err(crate::error::Error::interrupted(
                crate::cleanup::pending().unwrap_or(nix::sys::signal::Signal::SIGINT),
            ));
        }
        done.push(format!("finished deleting {}", trash.display()));
    }
    if let Some(tip) = tip {
        remove::delete_branch(repo, r.branch, tip)?;
        done.push(format!("deleted branch '{}'", r.branch));
    }
    if task::load(repo, r.task).is_some() {
        task::remove(repo, r.task)?;
        done.push(format!("forgot task '{}'", r.task));
    }
    crate::fsutil::remove_empty_parents(r.path.parent().unwrap_or(r.path), &repo.worktree_dir());
    Ok(done)
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
