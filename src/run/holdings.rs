//! What a task holds after its command ran: the commits made and files changed during the
//! run (for the summary), and whether it holds any work at all (to decide whether an
//! interrupted run may remove a task it created).

use std::collections::BTreeSet;

use git2::Oid;

use crate::error::Result;
use crate::git::status::{self, Status};
use crate::git::Repo;
use crate::task::TaskRecord;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Commits on the branch that were not there when the run began.
    pub new_commits: usize,
    /// Paths that differ from the branch tip when the run began, committed or not.
    pub changed_files: usize,
    /// Commits on the branch that its base commit does not have.
    pub commits: usize,
    /// Entries `git status` shows (untracked files included).
    pub uncommitted: usize,
}

impl Holdings {
    /// No commits of its own and nothing uncommitted: removing the task loses nothing.
    pub fn is_empty(&self) -> bool {
        self.commits == 0 && self.uncommitted == 0
    }

    /// `2 commits, 1 uncommitted change`, or `no work`.
    pub fn describe(&self) -> String {
        if self.is_empty() {
            return "no work".into();
        }
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        let mut parts = Vec::new();
        if self.commits > 0 {
            parts.push(plural(self.commits, "commit"));
        }
        if self.uncommitted > 0 {
            parts.push(plural(self.uncommitted, "uncommitted change"));
        }
        parts.join(", ")
    }
}

/// The branch tip now, if the branch exists.
pub fn tip(repo: &Repo, record: &TaskRecord) -> Option<Oid> {
    repo.branch_tip(&record.branch)
}

/// Looks at the task's branch and worktree; `before` is the branch tip when the run began.
pub fn inspect(repo: &Repo, record: &TaskRecord, before: Option<Oid>) -> Result<Holdings> {
    let status = worktree_status(record).transpose()?;
    combine(repo, record, before, status)
}

/// `git status` of the task's worktree, if it has one: the slow part of [`inspect`], which
/// a run of many reads on each command's own thread.
pub fn worktree_status(record: &TaskRecord) -> Option<Result<Status>> {
    record.path.exists().then(|| status::status(&record.path))
}

/// [`inspect`] with the worktree's status already read.
pub fn combine(
    repo: &Repo,
    record: &TaskRecord,
    before: Option<Oid>,
    status: Option<Status>,
) -> Result<Holdings> {
    let mut holdings = Holdings::default();
    let now = tip(repo, record);
    let mut paths = BTreeSet::new();
    if let Some(now) = now {
        if let Ok(base) = record.base_commit.parse::<Oid>() {
            holdings.commits = repo.git.graph_ahead_behind(now, base)?.0;
        }
        if let Some(before) = before.filter(|b| *b != now) {
            holdings.new_commits = repo.git.graph_ahead_behind(now, before)?.0;
            let old = repo.git.find_commit(before)?.tree()?;
            let new = repo.git.find_commit(now)?.tree()?;
            let diff = repo.git.diff_tree_to_tree(Some(&old), Some(&new), None)?;
            for delta in diff.deltas() {
                if let Some(path) = delta.new_file().path().or(delta.old_file().path()) {
                    paths.insert(path.to_string_lossy().into_owned());
                }
            }
        }
    }
    if let Some(status) = status {
        holdings.uncommitted = status.entries.len();
        paths.extend(status.entries.into_iter().map(|(_, path)| path));
    }
    holdings.changed_files = paths.len();
    Ok(holdings)
}
