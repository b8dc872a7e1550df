//! Finishing a task: merge it into its base (or `--into`), then take the task apart.
//!
//! The merge is worked out first without touching anything (so a conflict changes nothing),
//! then applied: where the target branch is checked out, by git in that worktree, with git's
//! protection of local changes; elsewhere by a compare-and-swap of the branch ref. Before any
//! of it, finish refuses what belongs to someone else: a merge, rebase, cherry-pick, revert
//! or bisect in progress in the target's worktree, a target branch being rebased anywhere,
//! and a task whose HEAD has left its branch (its work would not be what is merged).
//!
//! | phase      | done so far                         | a crash here is put right by         |
//! |------------|-------------------------------------|--------------------------------------|
//! | `begin`    | checks passed, merge about to happen| undoing a half-made merge of ours    |
//! | `merged`   | the target holds the task's work    | taking the task apart                |
//! | `moved`    | the worktree is (being) moved into the trash, not yet saved (see [`super::aside`]) | taking the task apart, saving everything in the trash first |
//! | `removing` | the worktree is in the trash        | taking the task apart                |
//! | `deleting` | all but unlinking the trash         | deleting the trash (`background`)    |

use std::path::PathBuf;

use git2::Oid;
use serde::{Deserialize, Serialize};

use super::guard;
use super::lease::Lease;
use super::{Interrupted, Removal, Subject};
use crate::cli::{FinishChanges, Strategy};
use crate::error::{Error, Refusal, Result};
use crate::git::status::{self, Status};
use crate::git::{git, Repo};
use crate::hooks::{Event, Hooks};
use crate::journal::{Journal, Op};
use crate::lock::RepoLock;
use crate::merge::{self, Plan, Sides};
use crate::task::TaskRecord;
use crate::ui::Ui;
use crate::{cleanup, rescue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Begin,
    Merged,
    Moved,
    Removing,
    Deleting,
}

/// What the journal keeps of a finish.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journaled {
    pub phase: Phase,
    #[serde(flatten)]
    pub subject: Subject,
    pub target: String,
    pub target_before: String,
    pub task_tip: String,
    /// The worktree the target branch is checked out in, if any.
    pub target_worktree: Option<PathBuf>,
    /// The commit the target moves to when it is not the task's tip or a merge of it
    /// (a squash, a rebase): how recovery tells that the merge happened.
    #[serde(default)]
    pub new_tip: Option<String>,
}

pub struct Request {
    pub into: Option<String>,
    pub strategy: Option<Strategy>,
    pub message: Option<String>,
    /// The message for a commit of uncommitted changes when `message` gives none.
    pub changes_message: Option<String>,
    pub changes: Option<FinishChanges>,
    pub keep: bool,
    pub dry_run: bool,
    pub stop_processes: bool,
    /// Delete the worktree's files before returning, even with `par.removeInBackground`.
    pub foreground: bool,
    /// preFinish before anything changes, postFinish once the task is finished.
    pub hooks: Hooks,
}

#[derive(Debug)]
pub struct Outcome {
    pub target: String,
    /// Where the target branch is checked out, if anywhere.
    pub target_worktree: Option<PathBuf>,
    pub removed: bool,
    /// A rescue ref made for commits that the merge did not keep (squash, rebase).
    pub rescue: Option<String>,
    /// The postFinish hook failed (the finish itself stands).
    pub hook_failed: Option<Error>,
}

pub fn finish(
    repo: &Repo,
    ui: &mut Ui,
    lease: &Lease,
    record: &TaskRecord,
    req: &Request,
) -> Result<Outcome> {
    let record = record.clone();
    let name = record.task.clone();
    lease.covers(&name)?;
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
    refuse_head_off_branch(&record)?;
    let refuse_others = || {
        refuse_others_state(repo, &target)?;
        guard::refuse_target_edits(repo, &record, &target)
    };
    if refuse_others().is_err() {
        // What is in progress or changed there may be another finish's merge (of the same run,
        // or another git par), made under the repository lock: once that lock is free, look
        // again.
        drop(RepoLock::acquire(
            &repo.par_dir(),
            ui,
            &format!("git par finish {name}"),
        )?);
        refuse_others()?;
    }
    // Whether the worktree can go is known before any prompt or commit: a finish refused
    // after committing the task's changes would have changed them for nothing.
    let check = Removal {
        record: &record,
        tip: None,
        safe: Vec::new(),
        stop_processes: req.stop_processes,
        rescued: None,
        keep_if_changed: false,
    };
    let identity = match req.keep || req.dry_run {
        true => None,
        false => super::check_removal(repo, &check)?.map(|o| o.identity()),
    };
    if !req.dry_run {
        req.hooks
            .run(repo, ui, Event::PreFinish, &record, &record.path)?;
    }
    let discard = settle_changes(ui, &record, req)?;

    let task_tip = repo.branch_tip(&record.branch).ok_or_else(|| {
        Error::failed(format!("task '{name}' has no branch '{}'", record.branch))
            .hint("'git par recover' looks into tasks that lost their branch")
    })?;
    if req.dry_run {
        return dry_run(repo, ui, &record, &target, task_tip, strategy, req);
    }
    cleanup::check()?;

    let removal = Removal {
        tip: Some(task_tip),
        ..check
    };
    let lock = RepoLock::acquire(&repo.par_dir(), ui, &format!("git par finish {name}"))?;
    refuse_others_state(repo, &target)?;
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
        Op::Finish(Journaled {
            phase: Phase::Begin,
            subject: Subject::of(repo, &record, identity),
            target: target.clone(),
            target_before: target_tip.to_string(),
            task_tip: task_tip.to_string(),
            target_worktree: target_worktree.clone(),
            new_tip: match plan {
                Plan::NewTip(tip) => Some(tip.to_string()),
                _ => None,
            },
        }),
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
        let undone = match &journal.entry.op {
            Op::Finish(op) => undo_merge(op),
            _ => Ok(Vec::new()),
        };
        if undone.is_ok() {
            journal.done()?;
        }
        return Err(err);
    }
    cleanup::past_point_of_no_return();
    journal.update(|op| {
        if let Op::Finish(f) = op {
            f.phase = Phase::Merged;
        }
    })?;
    cleanup::failpoint("finish:merged");
    drop(lock);
    let commits = ahead(repo, task_tip, target_tip);
    let now_at = repo.branch_tip(&target).unwrap_or(task_tip);
    ui.note(&plan.report(strategy, &sides, commits, now_at));

    let mut outcome = Outcome {
        target: target.clone(),
        target_worktree: target_worktree.clone(),
        removed: false,
        rescue: None,
        hook_failed: None,
    };
    if req.keep {
        journal.done()?;
        ui.note(&format!(
            "Kept task '{name}' (--keep): {}",
            record.path.display()
        ));
    } else {
        match take_apart(repo, ui, &mut journal, removal, discard) {
            Ok((saved, pending)) => {
                outcome.rescue = saved;
                super::background::settle(repo, ui, journal, pending, req.foreground)?;
            }
            Err(err) => return Err(super::settle_journal(journal, err)),
        }
        outcome.removed = true;
        ui.note(&format!(
            "Removed the worktree {} and branch '{}'.",
            record.path.display(),
            record.branch
        ));
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
    // Where the merged work now is: the kept worktree, else the target's, else the main one.
    let hook_dir = match (outcome.removed, &target_worktree) {
        (false, _) => record.path.clone(),
        (true, Some(path)) => path.clone(),
        (true, None) => repo.main_worktree.clone(),
    };
    outcome.hook_failed = req
        .hooks
        .run(repo, ui, Event::PostFinish, &record, &hook_dir)
        .err();
    Ok(outcome)
}

/// Removes the task once merged. Commits that the target does not contain (after a squash or
/// rebase) and discarded changes are saved first.
fn take_apart(
    repo: &Repo,
    ui: &mut Ui,
    journal: &mut Journal,
    mut removal: Removal,
    discarded: bool,
) -> Result<(Option<String>, Option<super::gate::Trashed>)> {
    let record = removal.record;
    let task_tip = removal.tip.map(|t| t.to_string());
    let target_tip = match &journal.entry.op {
        Op::Finish(f) => repo.branch_tip(&f.target),
        _ => None,
    };
    let owned = super::check_removal(repo, &removal)?;
    removal.safe.extend(target_tip.map(|t| t.to_string()));
    // Changes were checked before the merge; any that appear since are found by the look
    // at the worktree moved aside, which then puts it back and keeps the task.
    removal.keep_if_changed = !discarded;
    // Clean or not, the worktree goes: its detached commits, reflog, kept ignored files and
    // the repositories inside it are saved with the rest.
    let (saved, late, pending) = match super::aside::applies(owned.as_ref()) {
        true => {
            let owned = owned.ok_or_else(|| Error::failed("internal error: no worktree"))?;
            let (saved, trashed) =
                super::aside::move_then_save(repo, journal, &removal, owned, "finish")?;
            announce_saved(ui, &saved);
            journal.update(Op::set_saved_in_trash)?;
            let late = super::take_down(repo, &removal, Some(&trashed))?;
            (saved, late, Some(trashed))
        }
        false => {
            let worktree = owned.as_ref().map(|o| o.path());
            let saved = rescue::save_task(
                repo,
                &record.task,
                worktree,
                task_tip.as_deref(),
                &removal.safe,
                "finish",
            )?;
            announce_saved(ui, &saved);
            removal.rescued = saved.as_deref().and_then(|r| super::commit_of(repo, r));
            removal.safe.extend(removal.rescued.clone());
            let (late, pending) = super::teardown(repo, journal, &removal, owned)?;
            (saved, late, pending)
        }
    };
    if let Some(late) = &late {
        ui.note(&format!(
            "Files that changed while it was being removed are saved as {late}"
        ));
    }
    Ok((saved.or(late), pending))
}

fn announce_saved(ui: &mut Ui, saved: &Option<String>) {
    if let Some(saved) = saved {
        ui.note(&format!("Saved what the merge did not keep as {saved}"));
    }
}

/// The task's worktree must still have the task's branch checked out: an agent that switched
/// branch or detached left its work where a merge of the task's branch would not take it.
fn refuse_head_off_branch(record: &TaskRecord) -> Result<()> {
    if !record.path.is_dir() {
        return Ok(());
    }
    let head = git(&record.path, ["symbolic-ref", "-q", "HEAD"]).output()?;
    let on = head.stdout_str();
    if on == format!("refs/heads/{}", record.branch) {
        return Ok(());
    }
    let at = match on.strip_prefix("refs/heads/") {
        Some(branch) => format!("on branch '{branch}'"),
        None => {
            let commit = git(&record.path, ["rev-parse", "--short", "HEAD"]).output()?;
            format!("detached at {}", commit.stdout_str())
        }
    };
    Err(Error::failed(format!(
        "task '{}' has its HEAD {at}, not on its branch '{}'",
        record.task, record.branch
    ))
    .hint(format!(
        "bring that work onto '{}' (git -C {} switch {} and merge it), or drop the task (its work is saved)",
        record.branch,
        record.path.display(),
        record.branch
    ))
    .hint("the task was kept as it is")
    .because(Refusal::HeadMoved))
}

/// Refuses when the target's worktree has an operation of the user's in progress, or the
/// target branch is being rebased or bisected anywhere.
fn refuse_others_state(repo: &Repo, target: &str) -> Result<()> {
    if let Some(wt) = repo
        .worktrees()
        .into_iter()
        .find(|w| w.branch() == Some(target))
    {
        guard::refuse_in_progress(
            &wt.path,
            &wt.git_dir,
            &format!("the worktree of '{target}'"),
        )?;
    }
    if let Some(how) = guard::branch_moving(repo, target) {
        return Err(Error::failed(format!("branch '{target}' is {how}")).hint(
            "finish that first; git par does not move a branch under it (nothing was changed)",
        ));
    }
    Ok(())
}

/// After an interrupted merge into a checked-out target: aborts the half-made merge only when
/// it is provably the finish's own (MERGE_HEAD is the task's tip and ORIG_HEAD the target's
/// tip before); anything else in progress there is the user's and is left alone.
fn undo_merge(op: &Journaled) -> Result<Vec<String>> {
    let Some(dir) = op.target_worktree.as_deref().filter(|d| d.is_dir()) else {
        return Ok(Vec::new());
    };
    let git_dir = guard::git_dir_of(dir);
    let read = |f: &str| std::fs::read_to_string(git_dir.join(f)).map(|s| s.trim().to_string());
    let ours = read("MERGE_HEAD").is_ok_and(|m| m == op.task_tip)
        && read("ORIG_HEAD").is_ok_and(|o| o == op.target_before);
    if !ours {
        return Ok(match guard::in_progress(&git_dir) {
            Some(what) => vec![format!(
                "left the {what} in progress in {} alone: it is not the finish's",
                dir.display()
            )],
            None => Vec::new(),
        });
    }
    git(dir, ["merge", "--abort"]).critical().run()?;
    Ok(vec![format!(
        "aborted the half-done merge in {}",
        dir.display()
    )])
}

/// A finish whose process is gone: taken apart when the merge is in, else its half-made
/// merge (if provably its own) is undone.
pub fn recover(repo: &Repo, ui: &mut Ui, id: &str, op: &Journaled) -> Result<Vec<String>> {
    if op.phase == Phase::Deleting {
        super::background::delete_trash(repo, ui, id, &op.subject)?;
        return Ok(vec![format!(
            "deleted the removed worktree of task '{}'",
            op.subject.task
        )]);
    }
    let mut done = undo_merge(op)?;
    if merged(repo, op)? {
        // Past the point of no return: the merge is in, so finish taking the task apart.
        let safe = repo
            .branch_tip(&op.target)
            .map(|t| t.to_string())
            .into_iter()
            .collect();
        done.extend(super::complete_removal(
            repo,
            ui,
            &Interrupted {
                id,
                subject: &op.subject,
                safe,
                unsaved: op.phase == Phase::Moved,
            },
        )?);
    }
    Ok(done)
}

/// Whether the target holds the finish's merge: the task's tip, or the squash or rebase.
fn merged(repo: &Repo, op: &Journaled) -> Result<bool> {
    let holds = |commit: &str| -> Result<bool> {
        match (repo.branch_tip(&op.target), commit.parse::<Oid>()) {
            (Some(now), Ok(c)) => Ok(now == c || repo.git.graph_descendant_of(now, c)?),
            _ => Ok(false),
        }
    };
    Ok(holds(&op.task_tip)? || op.new_tip.as_deref().map(holds).transpose()? == Some(true))
}

/// What [`recover`] would do, for `recover --dry-run`.
pub fn intent(repo: &Repo, op: &Journaled) -> String {
    let task = &op.subject.task;
    if op.phase == Phase::Deleting {
        return format!(
            "finish it: task '{task}' was finished; the rest of its removed worktree is deleted"
        );
    }
    match merged(repo, op) {
        Ok(true) => format!(
            "finish it: '{}' holds the merge, so task '{task}' is taken apart (its worktree and branch go, anything they hold that is not merged is saved first)",
            op.target
        ),
        _ => format!(
            "roll it back: '{}' did not get the merge; a half-made merge of the finish's own is aborted and task '{task}' stays as it is",
            op.target
        ),
    }
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
    // git names the files in the way on lines of their own, indented by a tab.
    let files: Vec<&str> = stderr
        .lines()
        .filter_map(|l| l.strip_prefix('\t'))
        .map(str::trim)
        .collect();
    if !files.is_empty() {
        return Err(guard::local_edits(sides.target, dir, sides.task, &files));
    }
    let first = stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("merge failed");
    Err(Error::failed(format!(
        "git could not merge '{}' into '{}' in {}: {}",
        sides.branch,
        sides.target,
        dir.display(),
        first.strip_prefix("error: ").unwrap_or(first)
    ))
    .hint(format!(
        "nothing was changed; {} is as it was",
        dir.display()
    )))
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
        ))
        .because(Refusal::Conflict));
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
            // Enter alone commits: it keeps the changes, on the task's branch.
            match ui
                .prompter
                .select("What should happen to them?", &items, 0)?
            {
                Some(0) => FinishChanges::Commit,
                Some(1) => FinishChanges::Discard,
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
            .hint("commit them, or pass --changes commit or --changes discard")
            .because(Refusal::Uncommitted))
        }
    };
    if req.dry_run {
        ui.note(&match choice {
            FinishChanges::Commit => format!(
                "Would first commit the uncommitted changes of task '{name}': {}",
                list_files(&status)
            ),
            FinishChanges::Discard => format!(
                "Would discard the uncommitted changes of task '{name}' (saved under refs/par/rescued/ first): {}",
                list_files(&status)
            ),
        });
        return Ok(choice == FinishChanges::Discard);
    }
    match choice {
        FinishChanges::Discard => Ok(true),
        FinishChanges::Commit => {
            let message = match (&req.message, ui.interactive && req.changes.is_none()) {
                (Some(m), _) => m.clone(),
                (None, true) => ui.prompter.input("Commit message")?,
                (None, false) => req
                    .changes_message
                    .clone()
                    .unwrap_or_else(|| format!("Uncommitted changes of task '{name}'")),
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
        sides,
        ..
    } = work_out(
        repo,
        record,
        target,
        task_tip,
        strategy,
        req.message.as_deref(),
    )?;
    let commits = ahead(repo, task_tip, sides.target_tip);
    ui.note(&plan.preview(strategy, &sides, commits));
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
        target: target.to_string(),
        target_worktree,
        removed: false,
        rescue: None,
        hook_failed: None,
    })
}

/// How many commits `tip` has that `base` does not.
fn ahead(repo: &Repo, tip: Oid, base: Oid) -> usize {
    repo.git
        .graph_ahead_behind(tip, base)
        .map_or(0, |(ahead, _)| ahead)
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
