//! `git par finish`: merge a task into its base (or `--into`), then take the task apart.
//!
//! The merge is worked out first without touching anything (so a conflict changes nothing),
//! then applied: where the target branch is checked out, by git in that worktree, with git's
//! protection of local changes; elsewhere by a compare-and-swap of the branch ref.

use std::path::PathBuf;

use git2::Oid;

use crate::cli::{FinishArgs, FinishChanges, Strategy};
use crate::error::{Error, Result};
use crate::git::status::{self, Status};
use crate::git::{git, Repo};
use crate::journal::{Journal, Op};
use crate::lock::RepoLock;
use crate::merge::{self, Plan, Sides};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{cleanup, recovery, remove, rescue};

pub struct Request {
    pub task: Option<String>,
    pub into: Option<String>,
    pub strategy: Option<Strategy>,
    pub message: Option<String>,
    pub changes: Option<FinishChanges>,
    pub keep: bool,
    pub dry_run: bool,
}

#[derive(Debug)]
pub struct Outcome {
    pub task: String,
    pub target: String,
    pub plan: Plan,
    /// Where the target branch is checked out, if anywhere.
    pub target_worktree: Option<PathBuf>,
    pub removed: bool,
    /// A rescue ref made for commits that the merge did not keep (squash, rebase).
    pub rescue: Option<String>,
}

pub fn run(args: FinishArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let request = Request {
        task: args.task,
        into: args.into,
        strategy: args.strategy,
        message: args.message,
        changes: args.changes,
        keep: args.keep,
        dry_run: args.dry_run,
    };
    let was_inside = task::resolve(&repo, request.task.as_deref()).is_ok_and(|r| {
        crate::fsutil::resolve(&repo.cwd).starts_with(crate::fsutil::resolve(&r.path))
    });
    let outcome = finish(&repo, ui, &request)?;
    if was_inside && outcome.removed {
        crate::shell::request_cd(
            outcome
                .target_worktree
                .as_ref()
                .unwrap_or(&repo.main_worktree),
        );
    }
    Ok(0)
}

pub fn finish(repo: &Repo, ui: &mut Ui, req: &Request) -> Result<Outcome> {
    let record = task::resolve(repo, req.task.as_deref())?;
    let name = record.task.clone();
    let target = match req.into.clone().or_else(|| record.base.clone()) {
        Some(target) => target,
        None => {
            return Err(
                Error::failed(format!("task '{name}' has no base branch to merge into")).hint(
                    format!(
                        "it started from commit {}; name a branch with --into",
                        short(&record.base_commit)
                    ),
                ),
            )
        }
    };
    if target == record.branch {
        return Err(Error::usage(format!("cannot merge '{target}' into itself")));
    }
    if repo.branch_tip(&target).is_none() {
        return Err(Error::failed(format!(
            "there is no branch '{target}' to merge task '{name}' into"
        ))
        .hint("name an existing branch with --into"));
    }
    let strategy = req.strategy.unwrap_or(repo.config.finish_strategy);
    let discard = settle_changes(ui, &record, req)?;

    let task_tip = repo.branch_tip(&record.branch).ok_or_else(|| {
        Error::failed(format!("task '{name}' has no branch '{}'", record.branch))
            .hint("'git par recover' looks into tasks that lost their branch")
    })?;
    if req.dry_run {
        return dry_run(repo, ui, &record, &target, task_tip, strategy, req);
    }
    cleanup::check()?;

    let lock = RepoLock::acquire(&repo.par_dir(), ui, &format!("git par finish {name}"))?;
    let Planned {
        sides,
        message,
        plan,
        target_worktree,
    } = work_out(
        repo,
        &record,
        &target,
        task_tip,
        strategy,
        req.message.as_deref(),
    )?;
    let target_tip = sides.target_tip;
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Finish {
            task: name.clone(),
            branch: record.branch.clone(),
            path: record.path.clone(),
            target: target.clone(),
            target_before: target_tip.to_string(),
            task_tip: task_tip.to_string(),
            target_worktree: target_worktree.clone(),
            new_tip: match plan {
                Plan::NewTip(tip) => Some(tip.to_string()),
                _ => None,
            },
            trash: None,
        },
    )?;
    cleanup::failpoint("finish:begin");
    if let Some(sig) = cleanup::pending() {
        journal.done()?;
        return Err(Error::interrupted(sig).hint("nothing was changed"));
    }
    if let Err(err) = apply(
        repo,
        &sides,
        &plan,
        target_worktree.as_deref(),
        &message,
        req.message.is_some(),
    ) {
        let undone = recovery::roll_back(repo, ui, &journal.entry);
        if undone.is_ok() {
            journal.done()?;
        }
        return Err(err);
    }
    cleanup::past_point_of_no_return();
    journal.set_phase("merged")?;
    cleanup::failpoint("finish:merged");
    drop(lock);
    ui.note(&format!(
        "Merged '{}' into '{target}' ({}).",
        record.branch,
        plan.describe()
    ));

    let mut outcome = Outcome {
        task: name.clone(),
        target: target.clone(),
        plan,
        target_worktree: target_worktree.clone(),
        removed: false,
        rescue: None,
    };
    if req.keep {
        journal.done()?;
        ui.note(&format!(
            "Kept task '{name}' (--keep): {}",
            record.path.display()
        ));
    } else {
        match take_apart(repo, ui, &mut journal, &record, task_tip, discard) {
            Ok(saved) => outcome.rescue = saved,
            Err(err) => return Err(remove::settle_journal(journal, err)),
        }
        journal.done()?;
        outcome.removed = true;
    }
    match &target_worktree {
        Some(path) => ui.note(&format!("'{target}' is checked out at {}", path.display())),
        None => ui.note(&format!("'{target}' is not checked out in any worktree")),
    }
    if let Some(sig) = cleanup::pending() {
        return Err(Error::interrupted(sig).hint(format!(
            "the merge into '{target}' had already happened, so the finish was completed"
        )));
    }
    Ok(outcome)
}

/// Removes the task once merged. Commits that the target does not contain (after a squash or
/// rebase), discarded changes, and whatever else the worktree holds that would go with it
/// (detached commits, kept ignored files, repositories inside) are saved first.
fn take_apart(
    repo: &Repo,
    ui: &mut Ui,
    journal: &mut Journal,
    record: &TaskRecord,
    task_tip: Oid,
    discarded: bool,
) -> Result<Option<String>> {
    let target_tip = match &journal.entry.op {
        Op::Finish { target, .. } => repo.branch_tip(target),
        _ => None,
    };
    // Clean or not, the worktree goes: its detached commits, reflog, kept ignored files and
    // the repositories inside it are saved with the rest.
    let worktree = record.path.exists().then_some(record.path.as_path());
    let safe_in = target_tip.map(|t| t.to_string());
    let saved = rescue::save_task(
        repo,
        &record.task,
        worktree,
        Some(&task_tip.to_string()),
        &Vec::from_iter(safe_in),
        "finish",
    )?;
    if let Some(saved) = &saved {
        ui.note(&format!("Saved what the merge did not keep as {saved}"));
    }
    if !discarded && record.path.exists() {
        // Checked before the merge; checked again now, in case something wrote meanwhile.
        let status = status::status(&record.path)?;
        if !status.is_clean() {
            return Err(Error::failed(format!(
                "task '{}' was merged, but its worktree has new changes: {}",
                record.task,
                list_files(&status)
            ))
            .hint(format!(
                "the worktree and branch are kept; commit and finish again, or 'git par drop {}'",
                record.task
            )));
        }
    }
    remove::teardown(repo, ui, journal, record, Some(task_tip))?;
    Ok(saved)
}

fn apply(
    repo: &Repo,
    sides: &Sides,
    plan: &Plan,
    target_worktree: Option<&std::path::Path>,
    message: &str,
    message_given: bool,
) -> Result<()> {
    let new_tip = match plan {
        Plan::AlreadyMerged => return Ok(()),
        Plan::FastForward(to) | Plan::NewTip(to) => *to,
        Plan::MergeCommit { tree } => match target_worktree {
            // git itself makes the merge commit there, running the user's hooks.
            Some(dir) => {
                let mut args = vec!["merge", "--no-ff", "--no-edit"];
                if message_given {
                    args.extend(["-m", message]);
                }
                args.push(sides.branch);
                return merge_in_worktree(dir, &args, sides);
            }
            None => {
                let (tree, target, task) = (
                    tree.to_string(),
                    sides.target_tip.to_string(),
                    sides.task_tip.to_string(),
                );
                let out = git(
                    &repo.main_worktree,
                    [
                        "commit-tree",
                        &tree,
                        "-p",
                        &target,
                        "-p",
                        &task,
                        "-m",
                        message,
                    ],
                )
                .run()?;
                out.stdout_str().parse()?
            }
        },
    };
    match target_worktree {
        Some(dir) => merge_in_worktree(
            dir,
            &["merge", "--ff-only", "--no-edit", &new_tip.to_string()],
            sides,
        ),
        None => {
            let refname = format!("refs/heads/{}", sides.target);
            let reflog = format!("par finish: merge {}", sides.branch);
            git(
                &repo.main_worktree,
                [
                    "update-ref",
                    "-m",
                    &reflog,
                    &refname,
                    &new_tip.to_string(),
                    &sides.target_tip.to_string(),
                ],
            )
            .critical()
            .run()
            .map_err(|e| e.context(format!("could not move '{}'", sides.target)))?;
            Ok(())
        }
    }
}

/// Runs a merge in the worktree where the target is checked out. git refuses before changing
/// anything when local changes there would be overwritten; a merge that stops half-way is
/// aborted, so no half-merge is ever left behind.
fn merge_in_worktree(dir: &std::path::Path, args: &[&str], sides: &Sides) -> Result<()> {
    let out = git(dir, args).critical().output()?;
    if out.success() {
        return Ok(());
    }
    let git_dir = crate::git::snapshot::git_dir(dir)?;
    if git_dir.join("MERGE_HEAD").exists() {
        git(dir, ["merge", "--abort"]).critical().run()?;
    }
    let stderr = out.stderr_str();
    Err(Error::failed(format!(
        "git could not merge '{}' into '{}' in {}: {}",
        sides.branch,
        sides.target,
        dir.display(),
        stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("merge failed")
    ))
    .hint(format!(
        "nothing was changed; {} is as it was",
        dir.display()
    ))
    .hint(
        stderr
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    ))
}

/// The merge worked out, and where it would happen.
struct Planned<'a> {
    sides: Sides<'a>,
    message: String,
    plan: Plan,
    target_worktree: Option<PathBuf>,
}

fn work_out<'a>(
    repo: &Repo,
    record: &'a TaskRecord,
    target: &'a str,
    task_tip: Oid,
    strategy: Strategy,
    message: Option<&str>,
) -> Result<Planned<'a>> {
    let target_tip = repo
        .branch_tip(target)
        .ok_or_else(|| Error::failed(format!("branch '{target}' is gone")))?;
    let sides = Sides {
        target,
        target_tip,
        branch: &record.branch,
        task: &record.task,
        task_tip,
    };
    let message = message_for(repo, strategy, &sides, message);
    let plan = merge::plan(repo, strategy, &sides, &message)?;
    let target_worktree = repo
        .worktrees()
        .into_iter()
        .find(|w| w.branch() == Some(target))
        .map(|w| w.path);
    Ok(Planned {
        sides,
        message,
        plan,
        target_worktree,
    })
}

fn message_for(repo: &Repo, strategy: Strategy, sides: &Sides, given: Option<&str>) -> String {
    if let Some(message) = given {
        return message.to_string();
    }
    match strategy {
        Strategy::Squash => merge::squash_message(repo, sides),
        _ => merge::merge_message(sides.branch, sides.target),
    }
}

/// Deals with uncommitted changes in the task's worktree. Returns true when they are to be
/// discarded (they are saved before removal).
fn settle_changes(ui: &mut Ui, record: &TaskRecord, req: &Request) -> Result<bool> {
    if !record.path.exists() {
        return Ok(false);
    }
    let status = status::status(&record.path)?;
    if status.is_clean() {
        return Ok(false);
    }
    let name = &record.task;
    if status.conflicted > 0 {
        return Err(Error::failed(format!(
            "task '{name}' has unresolved conflicts: {}",
            list_files(&status)
        ))
        .hint(format!(
            "resolve them in {} and commit, then finish again",
            record.path.display()
        )));
    }
    let choice = match req.changes {
        Some(choice) => choice,
        None if ui.interactive && !req.dry_run => {
            ui.note(&format!(
                "Task '{name}' has uncommitted changes: {}",
                list_files(&status)
            ));
            let items = [
                "commit them",
                "discard them (saved under refs/par/rescued/ first)",
                "cancel",
            ];
            match ui.prompter.select("What should happen to them?", &items)? {
                0 => FinishChanges::Commit,
                1 => FinishChanges::Discard,
                _ => return Err(Error::failed("cancelled; nothing was changed")),
            }
        }
        None if req.dry_run => {
            ui.note(&format!(
                "Would need --changes commit|discard: uncommitted changes in {}",
                list_files(&status)
            ));
            return Ok(false);
        }
        None => {
            return Err(Error::failed(format!(
                "task '{name}' has uncommitted changes: {}",
                list_files(&status)
            ))
            .hint("commit them, or pass --changes commit or --changes discard"))
        }
    };
    if req.dry_run {
        return Ok(choice == FinishChanges::Discard);
    }
    match choice {
        FinishChanges::Discard => Ok(true),
        FinishChanges::Commit => {
            let message = match (&req.message, ui.interactive && req.changes.is_none()) {
                (Some(m), _) => m.clone(),
                (None, true) => ui.prompter.input("Commit message")?,
                (None, false) => format!("Uncommitted changes of task '{name}'"),
            };
            cleanup::check()?;
            git(&record.path, ["add", "-A"]).run()?;
            git(&record.path, ["commit", "-q", "-m", &message])
                .run()
                .map_err(|e| e.context(format!("could not commit the changes of task '{name}'")))?;
            ui.note(&format!("Committed the changes of task '{name}'."));
            Ok(false)
        }
    }
}

fn dry_run(
    repo: &Repo,
    ui: &mut Ui,
    record: &TaskRecord,
    target: &str,
    task_tip: Oid,
    strategy: Strategy,
    req: &Request,
) -> Result<Outcome> {
    let Planned {
        plan,
        target_worktree,
        ..
    } = work_out(
        repo,
        record,
        target,
        task_tip,
        strategy,
        req.message.as_deref(),
    )?;
    ui.note(&format!(
        "Would merge '{}' into '{target}' ({}).",
        record.branch,
        plan.describe()
    ));
    if let Some(dir) = &target_worktree {
        ui.note(&format!(
            "The merge would happen in {}, where '{target}' is checked out.",
            dir.display()
        ));
    }
    if !req.keep {
        ui.note(&format!(
            "Would then remove {} and delete branch '{}'.",
            record.path.display(),
            record.branch
        ));
    }
    Ok(Outcome {
        task: record.task.clone(),
        target: target.to_string(),
        plan,
        target_worktree,
        removed: false,
        rescue: None,
    })
}

pub fn list_files(status: &Status) -> String {
    let mut names: Vec<&str> = status
        .entries
        .iter()
        .take(20)
        .map(|(_, p)| p.as_str())
        .collect();
    if status.entries.len() > 20 {
        names.push("…");
    }
    names.join(", ")
}

fn short(oid: &str) -> &str {
    &oid[..oid.len().min(12)]
}
