//! The worktrees git knows, read from `<common dir>/worktrees/*` the way git itself reads
//! them: no process to spawn, so `list` stays fast with many tasks. git 2.48 and later may
//! write the pointer files relative (`worktree.useRelativePaths`); they are read as git reads
//! them, relative to the folder the file is in.

use std::fs;
use std::path::{Path, PathBuf};

use crate::fsutil;

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
    /// What git calls prunable: not locked, and the `.git` its record names is gone (`git
    /// worktree prune` would forget the record).
    pub prunable: bool,
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
            prunable: false,
        });
    }
    let Ok(entries) = fs::read_dir(common_dir.join("worktrees")) else {
        return all;
    };
    let mut linked: Vec<Worktree> = entries
        .flatten()
        .filter_map(|entry| {
            let git_dir = entry.path();
            let dot_git = read_pointer(&git_dir.join("gitdir"), "")?;
            let path = dot_git.parent()?.to_path_buf();
            let locked = git_dir.join("locked").exists();
            Some(Worktree {
                path,
                head_ref: read_head(&git_dir),
                locked,
                prunable: !locked && fs::symlink_metadata(&dot_git).is_err(),
                git_dir,
                is_main: false,
            })
        })
        .collect();
    linked.sort_by(|a, b| a.path.cmp(&b.path));
    all.extend(linked);
    all
}

/// The path a git pointer file holds (a worktree's `.git` file, with `prefix` `gitdir: `, or
/// an admin dir's `gitdir` file, with none). A relative one is read as git reads it: from the
/// real folder the file is in.
pub fn read_pointer(file: &Path, prefix: &str) -> Option<PathBuf> {
    let text = fs::read_to_string(file).ok()?;
    let target = text.trim_end_matches(['\n', '\r']).strip_prefix(prefix)?;
    if target.is_empty() {
        return None;
    }
    let target = Path::new(target);
    if target.is_absolute() {
        return Some(fsutil::normalize(target));
    }
    let dir = file.parent()?;
    let dir = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    Some(fsutil::normalize(&dir.join(target)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The files git 2.48 writes with `worktree.useRelativePaths`, and the absolute ones
    /// older gits write, name the same worktree.
    #[test]
    fn relative_and_absolute_records_name_the_same_worktree() {
        let temp = tempfile::tempdir().unwrap();
        let top = fs::canonicalize(temp.path()).unwrap();
        let common = top.join("repo/.git");
        let admin = common.join("worktrees/t");
        fs::create_dir_all(&admin).unwrap();
        fs::create_dir_all(top.join("repo.par/t")).unwrap();
        fs::write(
            top.join("repo.par/t/.git"),
            "gitdir: ../../repo/.git/worktrees/t\n",
        )
        .unwrap();
        fs::write(admin.join("HEAD"), "ref: refs/heads/par/t\n").unwrap();
        for pointer in [
            "../../../../repo.par/t/.git\n".to_string(),
            format!("{}\n", top.join("repo.par/t/.git").display()),
        ] {
            fs::write(admin.join("gitdir"), &pointer).unwrap();
            let all = list(&common, Some(&top.join("repo")));
            assert_eq!(all.len(), 2, "{pointer}");
            assert_eq!(all[1].path, top.join("repo.par/t"), "{pointer}");
            assert_eq!(all[1].branch(), Some("par/t"));
            assert!(!all[1].prunable, "{pointer}");
        }
        assert_eq!(
            read_pointer(&top.join("repo.par/t/.git"), "gitdir: "),
            Some(admin.clone())
        );
        fs::remove_file(top.join("repo.par/t/.git")).unwrap();
        assert!(list(&common, None)[0].prunable);
        fs::write(admin.join("locked"), "").unwrap();
        assert!(
            !list(&common, None)[0].prunable,
            "a locked worktree is never prunable"
        );
    }
}
