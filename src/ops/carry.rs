//! Uncommitted changes carried through an operation that needs a clean worktree (a sync):
//! set aside as a snapshot the way `start --changes move` carries changes (a private index,
//! never the stash list or the user's index), kept reachable from `refs/par/carrying/<task>`
//! while they are out of the worktree, and put back afterwards, staged, unstaged and untracked
//! as they were. What cannot be put back is saved under `refs/par/rescued/`, never dropped.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::git::snapshot::{self, Snapshot};
use crate::git::{git, Repo};
use crate::rescue;

/// Uncommitted changes set aside, as the journal keeps them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Carried {
    /// A commit on the HEAD they were made on whose tree is the worktree's files.
    pub files: String,
    /// The tree of the index.
    pub index_tree: String,
}

impl Carried {
    /// Records the changes in the worktree at `dir` (nothing is changed yet).
    pub fn capture(dir: &Path, why: &str) -> Result<Carried> {
        let snap = snapshot::capture(dir)?;
        let files = snap.commit(dir, why)?;
        Ok(Carried {
            files,
            index_tree: snap.index_tree,
        })
    }

    /// The changes as a snapshot again.
    pub fn snapshot(&self, dir: &Path) -> Result<Snapshot> {
        let mut snap = Snapshot::from_commit(dir, &self.files)?;
        snap.index_tree = self.index_tree.clone();
        Ok(snap)
    }

    /// Makes the changes reachable from a ref while they are nowhere else: git's gc keeps
    /// them, and whoever looks for lost work finds them.
    pub fn keep(&self, repo: &Repo, task: &str) -> Result<()> {
        let keep = carry_ref(task);
        repo.update_ref(
            &keep,
            &["-m", "git par: carrying changes", &keep, &self.files],
        )
        .map_err(|e| e.context("could not set the uncommitted changes aside"))
    }

    /// Cleans the changes out of the worktree at `dir`, which then matches its HEAD. Files
    /// written since they were captured (an agent still at work) would go unsaved: then it
    /// refuses, having changed nothing.
    pub fn set_aside(&self, dir: &Path) -> Result<()> {
        let snap = self.snapshot(dir)?;
        let now = snapshot::capture(dir)?;
        if (&now.index_tree, &now.worktree_tree) != (&snap.index_tree, &snap.worktree_tree) {
            return Err(Error::failed(format!(
                "files in {} changed while they were being set aside",
                dir.display()
            ))
            .hint("try again when nothing works in the task"));
        }
        let left = snap.clean_out(dir)?;
        if !left.is_empty() {
            return Err(Error::failed(format!(
                "files in {} changed while they were being set aside: {}",
                dir.display(),
                left.join(", ")
            ))
            .hint("try again when nothing works in the task"));
        }
        Ok(())
    }

    /// Whether the changes apply onto `head` (a commit) without conflicts; the error names
    /// the files.
    pub fn applies_on(&self, dir: &Path, head: &str) -> Result<()> {
        self.snapshot(dir)?.rebased(dir, head).map(drop)
    }

    /// Puts the changes back onto whatever HEAD the worktree at `dir` has now: into a
    /// worktree that is clean, or that already holds their files (setting aside or putting
    /// back was cut short). Anything else there is someone's work, so the changes are saved
    /// under `refs/par/rescued/` instead, as they are when they no longer apply. Returns what
    /// was done; a line starting with "saved" when they were saved.
    pub fn put_back(&self, repo: &Repo, task: &str, dir: &Path) -> Result<Vec<String>> {
        let steps = self.put_back_files(repo, task, dir)?;
        self.drop_ref(repo, task)?;
        Ok(steps)
    }

    fn put_back_files(&self, repo: &Repo, task: &str, dir: &Path) -> Result<Vec<String>> {
        let now = snapshot::capture(dir)?;
        let wanted = self.snapshot(dir)?.rebased(dir, &now.head);
        match wanted {
            Ok(wanted) if now.worktree_tree == wanted.worktree_tree => {
                git(dir, ["read-tree", &wanted.index_tree])
                    .critical()
                    .run()?;
                git(dir, ["update-index", "-q", "--refresh"]).output()?;
            }
            Ok(wanted) if now.is_clean(dir)? => wanted.apply(dir)?,
            _ => {
                let saved = rescue::save(repo, task, &self.files, "carried changes")?;
                return Ok(vec![format!(
                    "saved the uncommitted changes that were set aside as {saved}: they do not apply to {} as it is now",
                    dir.display()
                )]);
            }
        }
        Ok(vec![format!(
            "put the uncommitted changes back in {}",
            dir.display()
        )])
    }

    /// Saves the changes under `refs/par/rescued/` (their worktree is gone or not the task's).
    pub fn save(&self, repo: &Repo, task: &str) -> Result<String> {
        let saved = rescue::save(repo, task, &self.files, "carried changes")?;
        self.drop_ref(repo, task)?;
        Ok(format!(
            "saved the uncommitted changes that were set aside as {saved}"
        ))
    }

    /// Drops the [`carry_ref`] once the changes are back or saved, if it still holds them.
    fn drop_ref(&self, repo: &Repo, task: &str) -> Result<()> {
        let keep = carry_ref(task);
        match repo.git.refname_to_id(&keep) {
            Ok(id) if id.to_string() == self.files => {
                repo.update_ref(&keep, &["-d", &keep, &self.files])
            }
            _ => Ok(()),
        }
    }
}

/// The ref that holds carried changes while they are set aside: outside `refs/par/rescued/`,
/// since it goes again once they are back.
fn carry_ref(task: &str) -> String {
    format!("refs/par/carrying/{}", crate::task::file_stem(task))
}
