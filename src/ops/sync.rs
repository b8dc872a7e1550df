//! Syncing a task: the base branch's new commits brought into the task's worktree by merge
//! or rebase. Conflicts are left for the user exactly as `git merge`/`git rebase` leave them;
//! an interrupt aborts the half-done sync instead, and only when it is provably the sync's
//! own (an operation the user had in progress there is refused up front, never aborted).
//!
//! Uncommitted changes in the task are carried through the sync when the user says so: set
//! aside as a snapshot (the way `start --changes move` carries changes, never in the stash
//! list), the worktree cleaned to HEAD, the sync run, and the changes put back onto the new
//! HEAD. A sync whose result the changes do not apply to is undone, changes put back as they
//! were: a carried sync happens whole or not at all.
//!
//! | phase          | done so far                  | a crash here is put right by              |
//! |----------------|------------------------------|-------------------------------------------|
//! | `setting-aside`| changes snapshotted, being cleaned out | putting them back               |
//! | `merging`      | git merge or rebase runs     | aborting it, when it is provably the sync's, then putting carried changes back |
//! | `putting-back` | sync done, changes going back| putting them back (saved under refs/par/rescued/ when they no longer apply) |

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::carry::Carried;
use super::guard;
use super::lease::Lease;
use crate::cleanup;
use crate::error::{Error, Result};
use crate::git::snapshot;
use crate::git::status::{self, Status};
use crate::git::{git, Repo};
use crate::journal::{Journal, Op};
use crate::task::TaskRecord;
use crate::ui::Ui;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    SettingAside,
    Merging,
    PuttingBack,
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
    #[serde(default)]
    pub carried: Option<Carried>,
}

pub enum Synced {
    Done {
        /// The changes were carried through the sync.
        carried: bool,
    },
    /// The task already has every commit of the base.
    UpToDate,
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
    carry: bool,
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
    let head: git2::Oid = head_before.parse()?;
    if head == base_tip || repo.git.graph_descendant_of(head, base_tip)? {
        return Ok(Synced::UpToDate);
    }
    let status = status::status(&record.path)?;
    let carried = match status.is_clean() {
        true => None,
        false => {
            settle_changes(ui, name, &status, carry, rebase, base)?;
            let why = format!("git par sync: uncommitted changes of task '{name}'");
            Some(Carried::capture(&record.path, &why)?)
        }
    };
    cleanup::check()?;
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Sync(Journaled {
            phase: match carried {
                Some(_) => Phase::SettingAside,
                None => Phase::Merging,
            },
            task: name.clone(),
            path: record.path.clone(),
            head_before: head_before.clone(),
            base_tip: base_tip.to_string(),
            rebase,
            carried: carried.clone(),
        }),
    )?;
    if let Some(carried) = &carried {
        if let Err(err) = carried.keep(repo, name) {
            journal.done()?;
            return Err(err);
        }
        cleanup::failpoint("sync:set-aside");
        if let Err(err) = carried.set_aside(&record.path) {
            return Err(end_putting_back(repo, journal, err));
        }
        set_phase(&mut journal, Phase::Merging)?;
    }
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
        Err(err) => return Err(end_putting_back(repo, journal, err)),
    };
    if let Some(sig) = cleanup::pending() {
        let undone = match &journal.entry.op {
            Op::Sync(op) => recover(repo, op)?,
            _ => Vec::new(),
        };
        journal.done()?;
        let mut err = Error::interrupted(sig);
        if out.success() && !undone.iter().any(|s| s.starts_with("aborted")) {
            err = err.hint(format!("the sync of task '{name}' had completed"));
        }
        for step in undone {
            err = err.hint(format!("rolled back: {step}"));
        }
        return Err(err);
    }
    let detail = format!("{}\n{}", out.stdout_str(), out.stderr_str());
    let lines: Vec<String> = detail
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_string)
        .collect();
    if let Some(carried) = &carried {
        return finish_carried(repo, journal, record, base, carried, out.success(), lines);
    }
    journal.done()?;
    if out.success() {
        return Ok(Synced::Done { carried: false });
    }
    if guard::in_progress(&git_dir).is_some() {
        return Ok(Synced::Conflicts(lines));
    }
    Err(Error::failed(failed_to(rebase, base, name)).hint(lines.join("\n")))
}

/// `could not merge 'main' into task 't'`, `could not rebase task 't' onto 'main'`.
pub fn failed_to(rebase: bool, base: &str, task: &str) -> String {
    match rebase {
        true => format!("could not rebase task '{task}' onto '{base}'"),
        false => format!("could not merge '{base}' into task '{task}'"),
    }
}

/// Uncommitted changes in the task are carried through the sync only when asked: `--carry`,
/// or the answer to a question on a terminal.
fn settle_changes(
    ui: &mut Ui,
    name: &str,
    status: &Status,
    carry: bool,
    rebase: bool,
    base: &str,
) -> Result<()> {
    let files = super::finish::list_files(status);
    if status.conflicted > 0 {
        return Err(
            Error::failed(format!("task '{name}' has unresolved conflicts: {files}"))
                .hint("resolve them and commit, then sync again (nothing was changed)"),
        );
    }
    if carry {
        return Ok(());
    }
    if ui.interactive {
        ui.note(&format!("Task '{name}' has uncommitted changes: {files}"));
        let items = [
            "carry them through the sync (set aside, then put back as they are)",
            "cancel",
        ];
        // Enter alone cancels: carrying moves files out of the worktree for a while.
        return match ui
            .prompter
            .select("What should happen to them?", &items, 1)?
        {
            Some(0) => Ok(()),
            _ => Err(Error::failed("cancelled; nothing was changed")),
        };
    }
    let flag = if rebase { " --rebase" } else { "" };
    Err(
        Error::failed(format!("task '{name}' has uncommitted changes: {files}")).hint(format!(
            "'git par sync {name}{flag} --carry' sets them aside, brings in '{base}', and puts them back (never in the stash list); or commit them first"
        ))
        .hint("nothing was changed"),
    )
}

fn set_phase(journal: &mut Journal, phase: Phase) -> Result<()> {
    journal.update(|op| {
        if let Op::Sync(s) = op {
            s.phase = phase;
        }
    })
}

/// After a carried sync ran git: changes put back onto its result, or, when the sync stopped
/// on conflicts or its result does not take the changes, the sync undone and the changes put
/// back as they were.
fn finish_carried(
    repo: &Repo,
    mut journal: Journal,
    record: &TaskRecord,
    base: &str,
    carried: &Carried,
    succeeded: bool,
    lines: Vec<String>,
) -> Result<Synced> {
    let Op::Sync(op) = journal.entry.op.clone() else {
        return Err(Error::failed("the journal entry is not a sync's"));
    };
    let name = &record.task;
    let path = &record.path;
    let why = if !succeeded {
        abort_own(&op)?;
        let conflicts: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("CONFLICT"))
            .filter_map(|l| l.rsplit(' ').next())
            .collect();
        Some(match conflicts.is_empty() {
            true => lines
                .first()
                .cloned()
                .unwrap_or_else(|| "git failed".into()),
            false => format!("it conflicts in: {}", conflicts.join(", ")),
        })
    } else {
        let head = git(path, ["rev-parse", "HEAD"]).run()?.stdout_str();
        match carried.applies_on(path, &head) {
            Ok(_) => None,
            Err(err) => {
                // The sync's own commits go again; the branch is back where it was. Not over
                // files written since (an agent at work): then the changes are saved instead.
                if snapshot::capture(path)?.is_clean(path)? {
                    git(path, ["reset", "--hard", "--quiet", &op.head_before])
                        .critical()
                        .run()?;
                }
                Some(err.message.replace(&head, &format!("'{base}'")))
            }
        }
    };
    set_phase(&mut journal, Phase::PuttingBack)?;
    cleanup::failpoint("sync:put-back");
    let steps = match put_back(repo, &op) {
        Ok(steps) => steps,
        Err(err) => return Err(super::settle_journal(journal, err)),
    };
    journal.done()?;
    let saved_as = steps.iter().find(|s| s.starts_with("saved")).cloned();
    match (why, saved_as) {
        (_, Some(saved)) => Err(Error::failed(format!(
            "the uncommitted changes of task '{name}' could not be put back"
        ))
        .hint(saved)),
        (None, None) => Ok(Synced::Done { carried: true }),
        (Some(why), None) => Err(Error::failed(format!(
            "{}: {why}",
            failed_to(op.rebase, base, name)
        ))
        .hint(format!(
            "the sync was undone and the uncommitted changes are back in {} as they were",
            path.display()
        ))
        .hint(format!(
            "commit them, then 'git par sync {name}' again to resolve the conflicts there"
        ))),
    }
}

/// After a failure with changes set aside: puts them back and ends the operation, or leaves
/// the journal entry for `git par recover` when even that fails.
fn end_putting_back(repo: &Repo, journal: Journal, err: Error) -> Error {
    let Op::Sync(op) = &journal.entry.op else {
        return err;
    };
    match put_back(repo, op) {
        Ok(steps) => {
            let mut err = err;
            for step in steps.iter().filter(|s| s.starts_with("saved")) {
                err = err.hint(step.clone());
            }
            match journal.done() {
                Ok(()) => err,
                Err(e) => err.hint(format!("also: {}", e.message)),
            }
        }
        Err(e) => err
            .hint(format!(
                "the uncommitted changes set aside could not be put back: {}",
                e.message
            ))
            .hint("run 'git par recover' to put them back"),
    }
}

/// Puts carried changes back (see [`Carried::put_back`]); nothing to do without any.
fn put_back(repo: &Repo, op: &Journaled) -> Result<Vec<String>> {
    match &op.carried {
        Some(carried) => carried.put_back(repo, &op.task, &op.path),
        None => Ok(Vec::new()),
    }
}

/// What [`recover`] would do, for `recover --dry-run`.
pub fn intent(op: &Journaled) -> String {
    let (verb, dir) = (
        if op.rebase { "rebase" } else { "merge" },
        op.path.display(),
    );
    let put_back = "the uncommitted changes set aside are put back (saved under refs/par/rescued/ if they no longer apply)";
    match (op.phase, op.carried.is_some()) {
        (Phase::SettingAside, _) => format!("roll it back: {put_back} in {dir}"),
        (Phase::Merging, false) => format!(
            "roll it back: the sync's own unfinished {verb} in {dir} is aborted, if it is there (a finished one stays)"
        ),
        (Phase::Merging, true) => format!(
            "roll it back: the sync's own unfinished {verb} in {dir} is aborted, if it is there (a finished one stays), and {put_back}"
        ),
        (Phase::PuttingBack, _) => format!("finish it: {put_back} onto the synced task in {dir}"),
    }
}

/// Aborts the sync's own half-done merge or rebase, then puts carried changes back; anything
/// else in progress is left alone.
pub fn recover(repo: &Repo, op: &Journaled) -> Result<Vec<String>> {
    // The entry was read from disk: it acts only in the worktree the task's record names.
    crate::task::validate_name(&op.task)?;
    let known = crate::task::load(repo, &op.task).is_some_and(|r| r.path == op.path);
    if !known || !op.path.is_dir() {
        let Some(carried) = &op.carried else {
            return Ok(vec![format!(
                "{} is not the worktree of task '{}' now, so nothing there was touched",
                op.path.display(),
                op.task
            )]);
        };
        return Ok(vec![carried.save(repo, &op.task)?]);
    }
    let mut steps = abort_own(op)?;
    steps.extend(put_back(repo, op)?);
    Ok(steps)
}

/// Aborts the sync's own half-done merge or rebase; anything else in progress is left alone.
fn abort_own(op: &Journaled) -> Result<Vec<String>> {
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
