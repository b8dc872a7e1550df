//! Putting an interrupted operation right: rolled back when it had not yet reached its point
//! of no return, carried forward when it had. The same code serves a command that was
//! interrupted (it calls [`roll_back`] on itself) and `git par recover` after a crash.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::git::snapshot::{self, Snapshot};
use crate::git::Repo;
use crate::journal::{Entry, Op};
use crate::remove;
use crate::ui::Ui;
use crate::{rescue, task};

/// Puts the journalled operation right; returns what was done, one line a step.
pub fn roll_back(repo: &Repo, ui: &mut Ui, entry: &Entry) -> Result<Vec<String>> {
    match &entry.op {
        Op::Start {
            task,
            branch,
            path,
            base_commit,
            created_dirs,
            source,
            snapshot,
        } => {
            let op = StartOp {
                task,
                branch,
                path,
                base_commit,
                created_dirs,
                source: source.as_deref(),
                snapshot: snapshot.as_deref(),
            };
            roll_back_start(repo, ui, entry, &op)
        }
        Op::Finish {
            task,
            branch,
            path,
            target,
            task_tip,
            target_worktree,
            new_tip,
            trash,
            ..
        } => {
            let mut done = Vec::new();
            if let Some(dir) = target_worktree {
                if abort_in_progress(dir)? {
                    done.push(format!("aborted the half-done merge in {}", dir.display()));
                }
            }
            let holds = |commit: &str| -> Result<bool> {
                match (repo.branch_tip(target), commit.parse::<git2::Oid>()) {
                    (Some(now), Ok(c)) => Ok(now == c || repo.git.graph_descendant_of(now, c)?),
                    _ => Ok(false),
                }
            };
            let merged =
                holds(task_tip)? || new_tip.as_deref().map(holds).transpose()? == Some(true);
            if merged {
                // Past the point of no return: the merge is in, so finish taking the task apart.
                let safe_in = repo.branch_tip(target);
                let removal = Removal {
                    task,
                    branch,
                    path,
                    trash: trash.as_deref(),
                    safe_in,
                    saved: None,
                };
                done.extend(complete_removal(repo, ui, &entry.id, &removal)?);
            }
            Ok(done)
        }
        Op::Drop {
            task,
            branch,
            path,
            trash,
            rescue,
        } => {
            // Dropping saves the work before it removes anything, so it is always finished.
            let safe_in = task::load(repo, task)
                .and_then(|r| r.base)
                .and_then(|b| repo.branch_tip(&b));
            let removal = Removal {
                task,
                branch,
                path,
                trash: trash.as_deref(),
                safe_in,
                saved: rescue
                    .as_deref()
                    .and_then(|r| repo.git.refname_to_id(r).ok())
                    .map(|o| o.to_string()),
            };
            complete_removal(repo, ui, &entry.id, &removal)
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
    let verb = if git_dir.join("MERGE_HEAD").exists() {
        "merge"
    } else if git_dir.join("rebase-merge").exists() || git_dir.join("rebase-apply").exists() {
        "rebase"
    } else {
        return Ok(false);
    };
    crate::git::git(dir, [verb, "--abort"]).critical().run()?;
    Ok(true)
}

struct Removal<'a> {
    task: &'a str,
    branch: &'a str,
    path: &'a Path,
    trash: Option<&'a Path>,
    /// Commits this contains need no rescue.
    safe_in: Option<git2::Oid>,
    /// What the interrupted command had saved already.
    saved: Option<String>,
}

/// Finishes taking a task apart from whatever state a crash left, saving anything not yet
/// safe first.
fn complete_removal(repo: &Repo, ui: &mut Ui, id: &str, r: &Removal) -> Result<Vec<String>> {
    let mut done = Vec::new();
    let tip = repo.branch_tip(r.branch).map(|t| t.to_string());
    let safe: Vec<String> = r
        .safe_in
        .map(|t| t.to_string())
        .into_iter()
        .chain(r.saved.clone())
        .collect();
    let wt = remove::registered(repo, r.path);
    let trash = r
        .trash
        .map(Path::to_path_buf)
        .unwrap_or_else(|| remove::trash_dir(repo).join(id));
    // A worktree already renamed into the trash is still whole while git's record of it is
    // there (the trash is emptied only after the record goes), and reads as a worktree.
    let worktree = match (&wt, r.path.exists(), trash.exists()) {
        (Some(_), true, _) => Some(r.path),
        (Some(_), false, true) => Some(trash.as_path()),
        _ => None,
    };
    if let Some(saved) =
        rescue::save_task(repo, r.task, worktree, tip.as_deref(), &safe, "recover")?
    {
        done.push(format!("saved the work of task '{}' as {saved}", r.task));
    }
    if wt.is_none() && !r.path.exists() && trash.exists() {
        // git's record is gone: read the folder with the repository's own git dir, against
        // the newest thing known to hold its work.
        let head = r
            .saved
            .clone()
            .or(tip.clone())
            .or(r.safe_in.map(|t| t.to_string()));
        if let Some(head) = head {
            if let Some(saved) = rescue::save_folder(repo, r.task, &trash, &head, "recover")? {
                done.push(format!(
                    "saved the files left in {} as {saved}",
                    trash.display()
                ));
            }
        }
    }
    if wt.is_some() && r.path.exists() {
        remove::move_to_trash(repo, r.path, &trash)?;
        done.push(format!("removed the worktree {}", r.path.display()));
    } else if r.path.exists() {
        done.push(format!(
            "left {} alone: git does not know it as a worktree",
            r.path.display()
        ));
    }
    if let Some(wt) = &wt {
        remove::forget_worktree(repo, wt)?;
    }
    if trash.exists() {
        remove::empty_trash(ui, &trash)?;
        done.push(format!("deleted {}", trash.display()));
    }
    if let Some(tip) = repo.branch_tip(r.branch) {
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

struct StartOp<'a> {
    task: &'a str,
    branch: &'a str,
    path: &'a Path,
    base_commit: &'a str,
    created_dirs: &'a [PathBuf],
    source: Option<&'a Path>,
    snapshot: Option<&'a str>,
}

fn roll_back_start(repo: &Repo, ui: &mut Ui, entry: &Entry, op: &StartOp) -> Result<Vec<String>> {
    let mut done = Vec::new();
    if entry.phase == "clean-source" {
        // The changes were verified in the new worktree before the source was cleaned: the
        // move had passed its point of no return, so finish it instead of undoing it.
        if let (Some(source), Some(snapshot)) = (op.source, op.snapshot) {
            Snapshot::from_commit(source, snapshot)?.clean_out(source)?;
            done.push(format!(
                "finished moving the changes out of {}",
                source.display()
            ));
        }
        return Ok(done);
    }
    let path = op.path;
    let we_made_it = op.created_dirs.iter().any(|d| d == path);
    let wt = remove::registered(repo, path);
    if path.exists() && (wt.is_some() || we_made_it) {
        // A worktree someone may have worked in since a crash keeps its work (one whose
        // checkout never completed holds nothing but git's half-written files).
        if entry.pid != std::process::id()
            && wt.is_some()
            && matches!(entry.phase.as_str(), "checked-out" | "carry")
        {
            if let Some(saved) = save_new_work(repo, op, path)? {
                done.push(format!(
                    "saved the changes in {} as {saved}",
                    path.display()
                ));
            }
        }
        let trash = remove::trash_dir(repo).join(&entry.id);
        remove::move_to_trash(repo, path, &trash)?;
        if let Some(wt) = &wt {
            remove::forget_worktree(repo, wt)?;
        }
        remove::empty_trash(ui, &trash)?;
        done.push(format!("removed the worktree {}", path.display()));
    } else if let Some(wt) = &wt {
        remove::forget_worktree(repo, wt)?;
        done.push(format!(
            "removed git's record of the worktree {}",
            path.display()
        ));
    }
    if let Some(tip) = repo.branch_tip(op.branch) {
        if tip.to_string() != op.base_commit {
            let saved = rescue::save(repo, op.task, &tip.to_string(), "start rolled back")?;
            done.push(format!("saved branch '{}' as {saved}", op.branch));
        }
        remove::delete_branch(repo, op.branch, tip)?;
        done.push(format!("deleted branch '{}'", op.branch));
    }
    if task::load(repo, op.task).is_some() {
        task::remove(repo, op.task)?;
    }
    for dir in op.created_dirs {
        let _ = std::fs::remove_dir(dir);
    }
    Ok(done)
}

/// After a crash, saves what was done in a half-started task's worktree beyond what `start`
/// itself put there (the base, plus carried changes that are still in their source).
fn save_new_work(repo: &Repo, op: &StartOp, path: &Path) -> Result<Option<String>> {
    let now = snapshot::capture(path)?;
    let expected = match op.snapshot {
        Some(commit) => Snapshot::from_commit(path, commit)?.worktree_tree,
        None => now.head_tree(path)?,
    };
    if now.worktree_tree == expected && now.head == op.base_commit {
        return Ok(None);
    }
    let message = format!("{} {}", rescue::SNAPSHOT_SUBJECT, op.task);
    let commit = now.commit(path, &message)?;
    rescue::save(repo, op.task, &commit, "start rolled back").map(Some)
}
