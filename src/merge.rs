//! Working out a task's merge without touching any working tree: fast-forward, merge
//! commit, squash or rebase, computed with `git merge-tree --write-tree`, `commit-tree` and
//! `git replay`. A conflict is found here, before anything changes anywhere.

use git2::Oid;

use crate::cli::Strategy;
use crate::error::{Error, Refusal, Result};
use crate::git::{git, Repo};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The target already holds the task's work.
    AlreadyMerged,
    /// The target moves forward to the task's tip.
    FastForward(Oid),
    /// A merge commit is needed; `tree` is its clean result.
    MergeCommit { tree: Oid },
    /// The target moves to a new commit (a squash, or the rebased task's tip).
    NewTip(Oid),
}

impl Plan {
    /// What the finish did, in words: `commits` is how many commits the task had that the
    /// target did not, `tip` the target's new tip.
    pub fn report(&self, strategy: Strategy, sides: &Sides, commits: usize, tip: Oid) -> String {
        let (branch, target, n) = (sides.branch, sides.target, count(commits));
        let at = short_id(tip);
        match (self, strategy) {
            (Plan::AlreadyMerged, _) => {
                format!("'{target}' already holds everything of '{branch}'; nothing to merge.")
            }
            (Plan::FastForward(_), _) => {
                format!("Fast-forwarded '{target}' to '{branch}' ({n}, now at {at}).")
            }
            (Plan::MergeCommit { .. }, _) | (Plan::NewTip(_), Strategy::Merge) => {
                format!("Merged '{branch}' into '{target}' (new commit {at}).")
            }
            (Plan::NewTip(_), Strategy::Squash) => {
                format!("Squashed {n} of '{branch}' into one on '{target}' (new commit {at}).")
            }
            (Plan::NewTip(_), Strategy::Rebase) => {
                format!("Rebased {n} of '{branch}' onto '{target}' (now at {at}).")
            }
        }
    }

    /// What a finish would do, for `--dry-run`.
    pub fn preview(&self, strategy: Strategy, sides: &Sides, commits: usize) -> String {
        let (branch, target, n) = (sides.branch, sides.target, count(commits));
        match (self, strategy) {
            (Plan::AlreadyMerged, _) => {
                format!("'{target}' already holds everything of '{branch}'; nothing to merge.")
            }
            (Plan::FastForward(_), _) => {
                format!("Would fast-forward '{target}' to '{branch}' ({n}).")
            }
            (Plan::MergeCommit { .. }, _) | (Plan::NewTip(_), Strategy::Merge) => {
                format!("Would merge '{branch}' into '{target}' with a new merge commit.")
            }
            (Plan::NewTip(_), Strategy::Squash) => {
                format!("Would squash {n} of '{branch}' into one on '{target}'.")
            }
            (Plan::NewTip(_), Strategy::Rebase) => {
                format!("Would rebase {n} of '{branch}' onto '{target}'.")
            }
        }
    }
}

fn count(commits: usize) -> String {
    match commits {
        1 => "1 commit".to_string(),
        n => format!("{n} commits"),
    }
}

fn short_id(oid: Oid) -> String {
    oid.to_string()[..7].to_string()
}

pub struct Sides<'a> {
    pub target: &'a str,
    pub target_tip: Oid,
    pub branch: &'a str,
    pub task: &'a str,
    pub task_tip: Oid,
}

fn conflict(sides: &Sides, files: &[String]) -> Error {
    Error::failed(format!(
        "merging '{}' into '{}' would conflict in: {}",
        sides.branch,
        sides.target,
        files.join(", ")
    ))
    .hint(format!(
        "bring '{}' into the task with 'git par sync {}', resolve the conflicts there, then finish again",
        sides.target, sides.task
    ))
    .hint("nothing was changed")
    .because(Refusal::Conflict)
}

/// The clean merge result of the two tips, or the conflicting files.
fn merge_tree(repo: &Repo, sides: &Sides) -> Result<Oid> {
    let (ours, theirs) = (sides.target_tip.to_string(), sides.task_tip.to_string());
    let out = git(
        &repo.main_worktree,
        [
            "merge-tree",
            "--write-tree",
            "--name-only",
            "--no-messages",
            &ours,
            &theirs,
        ],
    )
    .output()?;
    let text = out.stdout_str();
    let mut lines = text.lines();
    let tree = lines.next().unwrap_or_default();
    // git exits 1 for a conflict, after the tree it wrote; an exit 1 without a tree (a
    // commit it could not read) is a failure, not a conflict.
    let wrote_tree = tree.len() >= 40 && tree.bytes().all(|b| b.is_ascii_hexdigit());
    match out.code {
        0 => Ok(tree.parse()?),
        1 if wrote_tree => {
            let mut files: Vec<String> = lines
                .take_while(|l| !l.is_empty())
                .map(str::to_string)
                .collect();
            files.dedup();
            Err(conflict(sides, &files))
        }
        code => Err(Error::failed(format!(
            "git merge-tree failed (exit {code}): {}",
            out.stderr_str()
        ))),
    }
}

pub fn plan(repo: &Repo, strategy: Strategy, sides: &Sides, message: &str) -> Result<Plan> {
    let g = &repo.git;
    if sides.task_tip == sides.target_tip
        || g.graph_descendant_of(sides.target_tip, sides.task_tip)?
    {
        return Ok(Plan::AlreadyMerged);
    }
    let can_fast_forward = g.graph_descendant_of(sides.task_tip, sides.target_tip)?;
    match strategy {
        Strategy::Merge if can_fast_forward => Ok(Plan::FastForward(sides.task_tip)),
        Strategy::Merge => Ok(Plan::MergeCommit {
            tree: merge_tree(repo, sides)?,
        }),
        Strategy::Squash => {
            let tree = merge_tree(repo, sides)?;
            if tree == g.find_commit(sides.target_tip)?.tree_id() {
                return Ok(Plan::AlreadyMerged);
            }
            let (tree, parent) = (tree.to_string(), sides.target_tip.to_string());
            let out = git(
                &repo.main_worktree,
                ["commit-tree", &tree, "-p", &parent, "-m", message],
            )
            .run()?;
            Ok(Plan::NewTip(out.stdout_str().parse()?))
        }
        Strategy::Rebase if can_fast_forward => Ok(Plan::FastForward(sides.task_tip)),
        Strategy::Rebase => {
            let range = format!("{}..refs/heads/{}", sides.target_tip, sides.branch);
            let onto = sides.target_tip.to_string();
            // Newer gits (those with replay.refAction) update the refs themselves unless told
            // to print them; older ones ignore the setting. The journal moves the branch.
            let replay = [
                "-c",
                "replay.refAction=print",
                "replay",
                "--onto",
                &onto,
                &range,
            ];
            let out = git(&repo.main_worktree, replay).output()?;
            if out.code != 0 {
                let stderr = out.stderr_str();
                let files: Vec<String> = stderr
                    .lines()
                    .filter(|l| l.contains("CONFLICT"))
                    .filter_map(|l| l.rsplit(' ').next().map(str::to_string))
                    .collect();
                return Err(conflict(sides, &files));
            }
            let text = out.stdout_str();
            let new_tip = text
                .split_whitespace()
                .nth(2)
                .ok_or_else(|| Error::failed(format!("git replay said nothing useful: {text}")))?;
            Ok(Plan::NewTip(new_tip.parse()?))
        }
    }
}

/// git's default merge message: `Merge branch 'x'`, with ` into y` unless y is main/master.
pub fn merge_message(branch: &str, target: &str) -> String {
    if target == "main" || target == "master" {
        format!("Merge branch '{branch}'")
    } else {
        format!("Merge branch '{branch}' into {target}")
    }
}

/// The default squash message: the task and the subjects of its commits.
pub fn squash_message(repo: &Repo, sides: &Sides) -> String {
    let range = format!("{}..{}", sides.target_tip, sides.task_tip);
    let log = git(
        &repo.main_worktree,
        ["log", "--reverse", "--format=* %s", &range],
    )
    .run()
    .map(|o| o.stdout_str())
    .unwrap_or_default();
    format!(
        "Task '{}' (squashed from {})\n\n{log}",
        sides.task, sides.branch
    )
}
