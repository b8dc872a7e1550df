//! The worktrees git knows, read from `<common dir>/worktrees/*` the way git itself reads
//! them: no process to spawn, so `list` stays fast with many tasks.

use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Worktree {
    /// Top folder of the working tree.
    pub path: PathBuf,
    /// Its private git dir (`<common>/worktrees/<id>`), or the common dir for the main one.
    pub git_dir: PathBuf,
    /// `refs/heads/…` when a branch is checked out; `None` when detached.
    pub head_ref: Option<String>,
    pub is_main: bool,
    pub locked: bool,
}

impl Worktree {
    pub fn branch(&self) -> Option<&str> {
        self.head_ref
            .as_deref()
            .and_then(|r| r.strip_prefix("refs/heads/"))
    }
}

fn read_head(git_dir: &Path) -> Option<String> {
    let head = fs::read_to_string(git_dir.join("HEAD")).ok()?;
    head.trim().strip_prefix("ref: ").map(str::to_string)
}

/// Every worktree: the main one (when the repository has a working tree) first.
pub fn list(common_dir: &Path, main_worktree: Option<&Path>) -> Vec<Worktree> {
    let mut all = Vec::new();
    if let Some(main) = main_worktree {
        all.push(Worktree {
            path: main.to_path_buf(),
            git_dir: common_dir.to_path_buf(),
            head_ref: read_head(common_dir),
            is_main: true,
            locked: false,
        });
    }
    let Ok(entries) = fs::read_dir(common_dir.join("worktrees")) else {
        return all;
    };
    let mut linked: Vec<Worktree> = entries
        .flatten()
        .filter_map(|entry| {
            let git_dir = entry.path();
            let gitdir_file = fs::read_to_string(git_dir.join("gitdir")).ok()?;
            let dot_git = PathBuf::from(gitdir_file.trim());
            let path = dot_git.parent()?.to_path_buf();
            Some(Worktree {
                path,
                head_ref: read_head(&git_dir),
                locked: git_dir.join("locked").exists(),
                git_dir,
                is_main: false,
            })
        })
        .collect();
    linked.sort_by(|a, b| a.path.cmp(&b.path));
    all.extend(linked);
    all
}
