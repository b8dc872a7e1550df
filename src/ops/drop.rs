//! Dropping a task: whatever it holds that its base does not (commits, uncommitted and
//! untracked files, detached and nested work) is saved under `refs/par/rescued/` before
//! anything goes.
//!
//! | phase      | done so far                       | a crash here is put right by           |
//! |------------|-----------------------------------|----------------------------------------|
//! | `begin`    | checks passed, saving the work    | finishing the drop (saving again)      |
//! | `saved`    | the work is saved                 | finishing the drop                     |
//! | `moved`    | the worktree is (being) moved into the trash, its work not yet saved (see [`super::aside`]) | finishing the drop, saving everything in the trash first |
//! | `removing` | the worktree is in the trash      | finishing the drop                     |
//! | `deleting` | all but unlinking the trash       | deleting the trash (`background`)      |

use serde::{Deserialize, Serialize};

use super::gate::{self, Owned};
use super::lease::Lease;
use super::{Interrupted, Removal, Subject};
use crate::error::{Error, Result};
use crate::git::status;
use crate::git::{git, Repo};
use crate::hooks::{Event, Hooks};
use crate::journal::{Journal, Op};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{cleanup, rescue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Phase {
    Begin,
    Saved,
    Moved,
    Removing,
    Deleting,
}

/// What the journal keeps of a drop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Journaled {
    pub phase: Phase,
    #[serde(flatten)]
    pub subject: Subject,
    pub rescue: Option<String>,
}

pub struct Request {
    /// Drop even when the task holds work (it is saved first).
    pub force: bool,
    pub stop_processes: bool,
    /// Delete the worktree's files before returning, even with `par.removeInBackground`.
    pub foreground: bool,
    /// preDrop, once the user agreed and before anything changes.
    pub hooks: Hooks,
    /// Refuse when the worktree holds uncommitted or untracked changes, and keep the task when
    /// some appear while it is being removed (`git par prune` drops only tasks with none).
    pub only_clean: bool,
}

/// What a task holds beyond its base, in words; `None` when it holds nothing.
pub fn held_work(repo: &Repo, record: &TaskRecord) -> Result<Option<String>> {
    let mut parts = Vec::new();
    if let Some(tip) = repo.branch_tip(&record.branch) {
        let base = record
            .base
            .as_deref()
            .and_then(|b| repo.branch_tip(b))
            .or_else(|| record.base_commit.parse().ok());
        let Some(base) = base else {
            parts.push(format!("branch '{}', whose base is unknown", record.branch));
            return Ok(Some(parts.join("\n")));
        };
        let (ahead, _) = repo.git.graph_ahead_behind(tip, base)?;
        if ahead > 0 {
            let range = format!("{base}..{tip}");
            let log = git(
                &repo.main_worktree,
                ["log", "--oneline", "-n", "10", &range],
            )
            .run()?
            .stdout_str();
            parts.push(format!("{ahead} commit(s) not in its base:\n{log}"));
        }
    }
    if record.path.is_dir() {
        let head = git(&record.path, ["symbolic-ref", "-q", "HEAD"]).output()?;
        let on = head.stdout_str();
        if on != format!("refs/heads/{}", record.branch) {
            let at = match on.strip_prefix("refs/heads/") {
                Some(branch) => format!("on branch '{branch}'"),
                None => "detached".into(),
            };
            parts.push(format!(
                "its worktree's HEAD is {at}, off the task's branch"
            ));
        }
        let status = status::status(&record.path)?;
        if !status.is_clean() {
            let files: Vec<String> = status
                .entries
                .iter()
                .take(20)
                .map(|(code, path)| format!("{code} {path}"))
                .collect();
            parts.push(format!(
                "{} uncommitted change(s):\n{}",
                status.entries.len(),
                files.join("\n")
            ));
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("\n")))
}

/// Drops the task; returns the rescue ref its work was saved under, if it held any.
pub fn drop_task(
    repo: &Repo,
    ui: &mut Ui,
    lease: &Lease,
    record: &TaskRecord,
    req: &Request,
) -> Result<Option<String>> {
    let name = &record.task;
    lease.covers(name)?;
    if req.only_clean && record.path.is_dir() {
        let status = status::status(&record.path)?;
        if !status.is_clean() {
            return Err(Error::failed(format!(
                "task '{name}' has {} uncommitted change(s); not dropping it",
                status.entries.len()
            )));
        }
    }
    // With --force nothing is asked, so the look at what it holds (a full stat pass over the
    // worktree) is skipped: the rescue below saves whatever that is anyway.
    let held = match req.force {
        true => None,
        false => held_work(repo, record)?,
    };
    if let Some(work) = held {
        ui.note(&format!(
            "Task '{name}' holds work that would be thrown away:\n{work}"
        ));
        if !ui.interactive {
            return Err(Error::failed(format!("task '{name}' holds work; not dropping it"))
                .hint(format!("'git par drop --force {name}' drops it (the work is saved under refs/par/rescued/ first)")));
        }
        if !ui
            .prompter
            .confirm(&format!("Drop task '{name}'? Its work is saved first"))?
        {
            return Err(Error::failed("cancelled; nothing was changed"));
        }
    }
    cleanup::check()?;
    if record.path.is_dir() {
        req.hooks
            .run(repo, ui, Event::PreDrop, record, &record.path)?;
    }
    let tip = repo.branch_tip(&record.branch);
    let base_tip = record
        .base
        .as_deref()
        .and_then(|b| repo.branch_tip(b))
        .map(|t| t.to_string());
    let safe_in =
        base_tip.or_else(|| (!record.base_commit.is_empty()).then(|| record.base_commit.clone()));
    let mut removal = Removal {
        record,
        tip,
        safe: Vec::from_iter(safe_in),
        stop_processes: req.stop_processes,
        rescued: None,
        keep_if_changed: req.only_clean,
    };
    let owned = super::check_removal(repo, &removal)?;
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Drop(Journaled {
            phase: Phase::Begin,
            subject: Subject::of(repo, record, owned.as_ref().map(|o| o.identity())),
            rescue: None,
        }),
    )?;
    let dropped = match super::aside::applies(owned.as_ref()) {
        true => move_first(repo, &mut journal, &mut removal, owned),
        false => save_first(repo, &mut journal, &mut removal, owned),
    };
    let (saved, late, pending) = match dropped {
        Ok(dropped) => dropped,
        Err(err) => return Err(super::settle_journal(journal, err)),
    };
    super::background::settle(repo, ui, journal, pending, req.foreground)?;
    ui.note(&format!("Dropped task '{name}'."));
    if let Some(saved) = &saved {
        ui.note(&format!(
            "Its work is saved as {saved}; 'git par rescued' shows how to restore it."
        ));
    }
    if let Some(late) = &late {
        ui.note(&format!(
            "Files that changed while it was being removed are saved as {late}."
        ));
    }
    if let Some(sig) = cleanup::pending() {
        return Err(Error::interrupted(sig).hint("the work was saved, so the drop was completed"));
    }
    Ok(saved.or(late))
}

/// What a drop made: the rescue of the task's work, the rescue of late changes (or of what
/// git's record of the worktree held), and the trashed worktree still to delete.
type Dropped = (Option<String>, Option<String>, Option<gate::Trashed>);

/// The worktree is moved into the trash, then its work is saved from there (one look at its
/// files, see [`super::aside`]).
fn move_first(
    repo: &Repo,
    journal: &mut Journal,
    removal: &mut Removal,
    owned: Option<Owned>,
) -> Result<Dropped> {
    let Some(owned) = owned else {
        return Err(Error::failed("internal error: no worktree to move"));
    };
    let (saved, trashed) = super::aside::move_then_save(repo, journal, removal, owned, "drop")?;
    saved_as(journal, &saved)?;
    removal
        .safe
        .extend(saved.as_deref().and_then(|r| super::commit_of(repo, r)));
    let forgotten = super::take_down(repo, removal, Some(&trashed))?;
    Ok((saved, forgotten, Some(trashed)))
}

/// The work is saved where the worktree is, then it is moved into the trash and looked at
/// again for files written in between (worktrees with submodules, see [`super::aside`]).
fn save_first(
    repo: &Repo,
    journal: &mut Journal,
    removal: &mut Removal,
    owned: Option<Owned>,
) -> Result<Dropped> {
    let worktree = owned.as_ref().map(|o| o.path());
    let tip = removal.tip.map(|t| t.to_string());
    let saved = rescue::save_task(
        repo,
        &removal.record.task,
        worktree,
        tip.as_deref(),
        &removal.safe,
        "drop",
    )?;
    saved_as(journal, &saved)?;
    removal
        .safe
        .extend(saved.as_deref().and_then(|r| super::commit_of(repo, r)));
    let (late, pending) = super::teardown(repo, journal, removal, owned)?;
    Ok((saved, late, pending))
}

/// Records that the work is saved (under `saved`, if anything needed it): from here on the
/// drop goes forward whatever happens.
fn saved_as(journal: &mut Journal, saved: &Option<String>) -> Result<()> {
    journal.update(|op| {
        if let Op::Drop(d) = op {
            d.rescue.clone_from(saved);
            if d.phase == Phase::Begin {
                d.phase = Phase::Saved;
            }
        }
        op.set_saved_in_trash();
    })?;
    cleanup::past_point_of_no_return();
    cleanup::failpoint("drop:saved");
    Ok(())
}

/// What [`recover`] would do, for `recover --dry-run`: a drop always goes forward.
pub fn intent(op: &Journaled) -> String {
    let task = &op.subject.task;
    match op.phase {
        Phase::Begin => format!(
            "finish it: the work of task '{task}' is saved under refs/par/rescued/, then its worktree and branch are removed"
        ),
        Phase::Moved => format!(
            "finish it: the work of task '{task}' is saved from its worktree (moved into the trash or not), then its worktree and branch are removed"
        ),
        Phase::Saved | Phase::Removing => format!(
            "finish it: the work of task '{task}' was saved, so the rest of its worktree and branch are removed"
        ),
        Phase::Deleting => format!(
            "finish it: task '{task}' was dropped; the rest of its removed worktree is deleted"
        ),
    }
}

/// A drop saves the work before it removes anything, so after a crash it is always finished.
pub fn recover(repo: &Repo, ui: &mut Ui, id: &str, op: &Journaled) -> Result<Vec<String>> {
    if op.phase == Phase::Deleting {
        super::background::delete_trash(repo, ui, id, &op.subject)?;
        return Ok(vec![format!(
            "deleted the removed worktree of task '{}'",
            op.subject.task
        )]);
    }
    let base_tip = task::load(repo, &op.subject.task)
        .and_then(|r| r.base)
        .and_then(|b| repo.branch_tip(&b));
    let saved = op
        .rescue
        .as_deref()
        .filter(|r| r.starts_with(rescue::PREFIX))
        .and_then(|r| repo.git.refname_to_id(r).ok());
    let safe = base_tip
        .into_iter()
        .chain(saved)
        .map(|o| o.to_string())
        .collect();
    super::complete_removal(
        repo,
        ui,
        &Interrupted {
            id,
            subject: &op.subject,
            safe,
            unsaved: op.phase == Phase::Moved,
        },
    )
}
