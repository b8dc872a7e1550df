//! Pruning: which tasks hold nothing that their base lacks, so that `git par prune` may drop
//! them. A task goes only through [`super::drop`] (its work is saved, the gate proves its
//! worktree, the lease keeps others out), and only when its worktree holds no uncommitted or
//! untracked change, no git par command or other process works in it, and its commits are in
//! its base: by ancestry, or by content after a squash or rebase upstream, found as
//! worktrunk finds it (same trees, a merge that would add nothing, or equal patch ids).

use git2::Oid;
use serde::Serialize;

use super::drop::{self, Request};
use super::lease::{self, Lease};
use super::{guard, registered_admin};
use crate::error::{Error, Kind, Result};
use crate::git::{git, snapshot, status, Repo};
use crate::rescue::{self, record::Source};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;

/// Most base commits whose patch ids are computed to find a squash or rebase (each is a
/// diff): a task merged longer ago than that is kept, the safe direction.
const MOST_PATCH_ID_COMMITS: usize = 500;

/// Why a task's work is already in its base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Merged {
    /// The branch has no commit of its own and the worktree nothing uncommitted.
    Empty,
    /// The branch points at the base's tip.
    SameCommit,
    /// Every commit of the branch is in the base.
    Ancestor,
    /// The branch's commits add up to no change.
    NoChanges,
    /// The branch's files are the base's files.
    SameTree,
    /// Merging the branch would change nothing in the base (a squash or rebase landed there).
    MergeAddsNothing,
    /// One commit of the base makes the branch's whole change (a squash).
    SquashPatchId,
    /// Each commit of the branch has an equal commit in the base (a rebase).
    RebasePatchIds,
}

impl Merged {
    pub fn describe(self, base: &str) -> String {
        match self {
            Merged::Empty => "it holds nothing: no commits, no changes".into(),
            Merged::SameCommit => format!("its branch is at {base}"),
            Merged::Ancestor => format!("its commits are in {base}"),
            Merged::NoChanges => "its commits add up to no change".into(),
            Merged::SameTree => format!("its files are those of {base}"),
            Merged::MergeAddsNothing => {
                format!("merging it would change nothing in {base} (squashed or rebased there)")
            }
            Merged::SquashPatchId => format!("its whole change is one commit of {base} (squashed)"),
            Merged::RebasePatchIds => {
                format!("each of its commits has an equal one in {base} (rebased)")
            }
        }
    }
}

/// What prune does with one task, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Prune { why: Merged, base: String },
    Keep(String),
}

/// Whether everything `tip` holds is in `target` already, and how that shows.
pub fn merged_into(repo: &Repo, tip: Oid, target: Oid) -> Result<Option<Merged>> {
    let g = &repo.git;
    if tip == target {
        return Ok(Some(Merged::SameCommit));
    }
    if g.graph_descendant_of(target, tip)? {
        return Ok(Some(Merged::Ancestor));
    }
    let Ok(merge_base) = g.merge_base(tip, target) else {
        return Ok(None);
    };
    let tree = |c: Oid| g.find_commit(c).map(|c| c.tree_id());
    let (tip_tree, target_tree) = (tree(tip)?, tree(target)?);
    if tip_tree == tree(merge_base)? {
        return Ok(Some(Merged::NoChanges));
    }
    if tip_tree == target_tree {
        return Ok(Some(Merged::SameTree));
    }
    let dir = &repo.main_worktree;
    let out = git(
        dir,
        [
            "merge-tree",
            "--write-tree",
            "--no-messages",
            &target.to_string(),
            &tip.to_string(),
        ],
    )
    .output()?;
    if out.code == 0 && out.stdout_str().lines().next() == Some(target_tree.to_string().as_str()) {
        return Ok(Some(Merged::MergeAddsNothing));
    }
    // The merge conflicts (the base changed the same lines since) or adds something: the
    // patch ids can still show the change landed there.
    let base_range = format!("{merge_base}..{target}");
    let count: usize = git(dir, ["rev-list", "--count", &base_range])
        .run()?
        .stdout_str()
        .parse()
        .unwrap_or(usize::MAX);
    if count > MOST_PATCH_ID_COMMITS {
        return Ok(None);
    }
    let in_base = patch_ids_of_commits(repo, &base_range)?;
    let whole = git(
        dir,
        ["diff-tree", "-p", &merge_base.to_string(), &tip.to_string()],
    )
    .run()?;
    if let Some(whole) = patch_ids(repo, whole.stdout)?.first() {
        if in_base.contains(whole) {
            return Ok(Some(Merged::SquashPatchId));
        }
    }
    let task_range = format!("{merge_base}..{tip}");
    let commits: usize = git(dir, ["rev-list", "--count", &task_range])
        .run()?
        .stdout_str()
        .parse()
        .unwrap_or(0);
    let own = patch_ids_of_commits(repo, &task_range)?;
    // Every commit must have a patch id (a merge commit or an empty one has none, and its
    // content is not known to be in the base).
    if !own.is_empty() && own.len() == commits && own.iter().all(|id| in_base.contains(id)) {
        return Ok(Some(Merged::RebasePatchIds));
    }
    Ok(None)
}

/// The patch id of each commit in `range`, from `git diff-tree` (plumbing: the user's diff
/// settings cannot make two equal changes differ) and `git patch-id --verbatim` (whitespace
/// counts, so a change of indentation is not taken for its original).
fn patch_ids_of_commits(repo: &Repo, range: &str) -> Result<Vec<String>> {
    let dir = &repo.main_worktree;
    let list = git(dir, ["rev-list", "--no-merges", range]).run()?;
    if list.stdout.is_empty() {
        return Ok(Vec::new());
    }
    let diffs = git(dir, ["diff-tree", "--stdin", "-p"])
        .stdin(list.stdout)
        .run()?;
    patch_ids(repo, diffs.stdout)
}

fn patch_ids(repo: &Repo, diffs: Vec<u8>) -> Result<Vec<String>> {
    if diffs.is_empty() {
        return Ok(Vec::new());
    }
    let out = git(&repo.main_worktree, ["patch-id", "--verbatim"])
        .stdin(diffs)
        .run()?;
    Ok(out
        .stdout_str()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect())
}

/// The commits a task's work may have landed in: its base branch's tip and, when the base
/// tracks a remote branch that differs, that one too; the commit it started from when its
/// base is no branch (or is gone).
fn targets(repo: &Repo, record: &TaskRecord) -> Vec<(String, Oid)> {
    let mut out = Vec::new();
    if let Some(base) = record.base.as_deref() {
        if let Ok(branch) = repo.git.find_branch(base, git2::BranchType::Local) {
            if let Some(tip) = branch.get().target() {
                out.push((base.to_string(), tip));
            }
            if let Ok(up) = branch.upstream() {
                if let (Ok(Some(name)), Some(tip)) = (up.name(), up.get().target()) {
                    if out.iter().all(|(_, t)| *t != tip) {
                        out.push((name.to_string(), tip));
                    }
                }
            }
        }
    }
    if out.is_empty() {
        if let Ok(start) = record.base_commit.parse() {
            out.push(("the commit it started from".into(), start));
        }
    }
    out
}

/// Looks at a task without changing anything: prune it, or keep it and why. Tasks in `gone`
/// count as pruned already (a dry run has pruned nothing).
pub fn verdict(repo: &Repo, record: &TaskRecord, gone: &[String]) -> Result<Verdict> {
    let Some(tip) = repo.branch_tip(&record.branch) else {
        return Ok(Verdict::Keep(format!(
            "its branch '{}' is gone ('git par drop {}' removes the rest)",
            record.branch, record.task
        )));
    };
    // A task started from this one's branch would lose its base.
    if let Some(child) = task::all(repo)
        .into_iter()
        .filter(|r| r.task != record.task && !gone.contains(&r.task))
        .find(|r| r.base.as_deref() == Some(record.branch.as_str()))
    {
        return Ok(Verdict::Keep(format!(
            "task '{}' was started from its branch",
            child.task
        )));
    }
    if record.path.exists() {
        if let Some(keep) = worktree_in_use(repo, record)? {
            return Ok(Verdict::Keep(keep));
        }
    }
    let targets = targets(repo, record);
    if targets.is_empty() {
        return Ok(Verdict::Keep("its base is unknown".into()));
    }
    for (name, target) in &targets {
        if let Some(mut why) = merged_into(repo, tip, *target)? {
            if record.path.exists() {
                if let Some(keep) = hidden_work(repo, record)? {
                    return Ok(Verdict::Keep(keep));
                }
            }
            if tip.to_string() == record.base_commit
                && matches!(why, Merged::SameCommit | Merged::Ancestor)
            {
                why = Merged::Empty;
            }
            return Ok(Verdict::Prune {
                why,
                base: name.clone(),
            });
        }
    }
    let (name, target) = &targets[0];
    let ahead = repo.git.graph_ahead_behind(tip, *target)?.0;
    Ok(Verdict::Keep(format!(
        "{ahead} commit(s) not in {name}; 'git par finish {}' merges them",
        record.task
    )))
}

/// Why the task's worktree must stay as it is, if it must: uncommitted or untracked
/// changes, its HEAD off the task's branch, a git operation waiting, a lock, a process.
fn worktree_in_use(repo: &Repo, record: &TaskRecord) -> Result<Option<String>> {
    let path = &record.path;
    let Some(admin) = registered_admin(repo, path) else {
        return Ok(Some(format!(
            "{} is no worktree git knows ('git par recover' looks at it)",
            path.display()
        )));
    };
    if admin.join("locked").exists() {
        return Ok(Some("its worktree is locked".into()));
    }
    if let Some(what) = guard::in_progress(&admin) {
        return Ok(Some(format!("a {what} is in progress in its worktree")));
    }
    let head = git(path, ["symbolic-ref", "-q", "HEAD"])
        .output()?
        .stdout_str();
    if head != format!("refs/heads/{}", record.branch) {
        return Ok(Some("its worktree's HEAD is off the task's branch".into()));
    }
    let status = status::status(path)?;
    if !status.is_clean() {
        let untracked = status.untracked;
        let changed = status.entries.len() - untracked;
        return Ok(Some(match (changed, untracked) {
            (0, u) => format!("{u} untracked file(s)"),
            (c, 0) => format!("{c} uncommitted change(s)"),
            (c, u) => format!("{c} uncommitted change(s) and {u} untracked file(s)"),
        }));
    }
    let busy = guard::processes_in(path);
    if !busy.is_empty() {
        return Ok(Some(format!("in use by {}", guard::Busy::describe(&busy))));
    }
    Ok(None)
}

/// Work in the worktree that `git status` does not show but a drop would save: a repository
/// inside it (an agent's clone; ignored or not), and ignored files `par.keepIgnored` counts
/// as work. Walks the whole worktree, so it is asked only of a task that would go.
fn hidden_work(repo: &Repo, record: &TaskRecord) -> Result<Option<String>> {
    let path = &record.path;
    let inner = rescue::inner::list(path)?;
    if let Some(nested) = inner.iter().find(|i| i.source != Source::Submodule) {
        return Ok(Some(format!(
            "it holds a repository of its own at {}",
            nested.path
        )));
    }
    let keep = &repo.config.keep_ignored;
    if !keep.is_empty() && !snapshot::capture_keeping(path, keep)?.is_clean(path)? {
        return Ok(Some(
            "it holds ignored files that par.keepIgnored counts as work".into(),
        ));
    }
    Ok(None)
}

/// What became of one task.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub task: String,
    /// `pruned`, `would-prune` (with --dry-run), `kept`, or `failed` (the drop refused).
    pub action: &'static str,
    /// How its work shows in its base, when it does.
    pub merged: Option<Merged>,
    /// In words: why it was pruned, or why not.
    pub reason: String,
    /// Where the drop saved its work, if it held any the base does not have by ancestry.
    pub saved: Option<String>,
}

/// Prunes one task if it may go: takes its lease (a busy task is kept), looks at it, and
/// drops it through [`drop::drop_task`], which saves its work first and refuses if an
/// uncommitted change appeared meanwhile. Only an interrupt is an error: it ends the prune.
pub fn prune_task(
    repo: &Repo,
    ui: &mut Ui,
    record: &TaskRecord,
    gone: &[String],
    dry_run: bool,
    hooks: &crate::hooks::Hooks,
) -> Result<Outcome> {
    let outcome = |action, merged, reason: String, saved| Outcome {
        task: record.task.clone(),
        action,
        merged,
        reason,
        saved,
    };
    let lease = if dry_run {
        if let Some(h) = lease::holder(repo, &record.task) {
            let reason = format!("'{}' (pid {}) works in it", h.command, h.pid);
            return Ok(outcome("kept", None, reason, None));
        }
        None
    } else {
        let command = format!("git par prune ({})", record.task);
        match Lease::take(repo, ui, &record.task, &command, false) {
            Ok(lease) => Some(lease),
            Err(e) => return Ok(outcome("kept", None, unless_interrupted(e)?, None)),
        }
    };
    let (why, base) = match verdict(repo, record, gone) {
        Ok(Verdict::Prune { why, base }) => (why, base),
        Ok(Verdict::Keep(reason)) => return Ok(outcome("kept", None, reason, None)),
        Err(e) => return Ok(outcome("failed", None, unless_interrupted(e)?, None)),
    };
    let reason = why.describe(&base);
    let Some(lease) = lease else {
        return Ok(outcome("would-prune", Some(why), reason, None));
    };
    let request = Request {
        force: true,
        stop_processes: false,
        only_clean: true,
        foreground: false,
        // Each task pruned is a drop: its preDrop hooks run (a failing one keeps it).
        hooks: hooks.clone(),
    };
    Ok(match drop::drop_task(repo, ui, &lease, record, &request) {
        Ok(saved) => outcome("pruned", Some(why), reason, saved),
        Err(e) => outcome("failed", Some(why), unless_interrupted(e)?, None),
    })
}

/// An error in words, or the error itself when it is an interrupt.
fn unless_interrupted(e: Error) -> Result<String> {
    if matches!(e.kind, Kind::Interrupted(_)) {
        return Err(e);
    }
    let mut text = e.message;
    for hint in &e.hints {
        text.push_str(&format!(" (hint: {hint})"));
    }
    Ok(text)
}
