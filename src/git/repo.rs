//! Finding the repository the user stands in, its main worktree, its settings and the
//! folders git-par keeps its own state in.

use std::path::{Path, PathBuf};

use git2::Repository;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::git::worktrees::{self, Worktree};

pub struct Repo {
    /// Opened where the user stands (so HEAD is that worktree's HEAD).
    pub git: Repository,
    /// The git dir shared by all worktrees.
    pub common_dir: PathBuf,
    /// Top of the main worktree.
    pub main_worktree: PathBuf,
    /// Top of the worktree the user stands in.
    pub current_worktree: PathBuf,
    pub cwd: PathBuf,
    pub config: Config,
}

impl Repo {
    /// Discovers the repository from the current directory as git does (GIT_DIR included).
    pub fn discover() -> Result<Repo> {
        let cwd = std::env::current_dir()?;
        let git = Repository::open_from_env().map_err(|_| {
            Error::failed("not a git repository (or any of the parent directories)")
                .hint("run git par inside a git repository, or use 'git -C <path> par …'")
        })?;
        let common_dir = fsutil::resolve(git.commondir());
        crate::git::version::check(&common_dir.join("par"))?;
        let Some(current) = git.workdir() else {
            return Err(Error::failed("this operation must be run in a work tree")
                .hint("git par needs a repository with a working tree, not a bare one"));
        };
        let current_worktree = fsutil::resolve(current);
        let main_worktree = if git.is_worktree() {
            let main = Repository::open(&common_dir)?;
            match main.workdir() {
                Some(dir) => fsutil::resolve(dir),
                None => {
                    return Err(Error::failed("the repository is bare")
                        .hint("git par needs a main worktree to place tasks beside"))
                }
            }
        } else {
            current_worktree.clone()
        };
        let config = Config::load(&cwd)?;
        let repo = Repo {
            git,
            common_dir,
            main_worktree,
            current_worktree,
            cwd,
            config,
        };
        crate::config::check_worktree_dir(&repo, &repo.worktree_dir())?;
        Ok(repo)
    }

    /// The same repository opened again, for another thread (a `Repository` is not shared
    /// between threads).
    pub fn reopen(&self) -> Result<Repo> {
        Ok(Repo {
            git: Repository::open(self.git.path())?,
            common_dir: self.common_dir.clone(),
            main_worktree: self.main_worktree.clone(),
            current_worktree: self.current_worktree.clone(),
            cwd: self.cwd.clone(),
            config: self.config.clone(),
        })
    }

    /// git-par's own folder inside the common git dir.
    pub fn par_dir(&self) -> PathBuf {
        self.common_dir.join("par")
    }

    /// Folder name of the main worktree, `{repo}` in `par.worktreeDir`.
    pub fn repo_name(&self) -> String {
        self.main_worktree
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "repo".into())
    }

    /// Where task worktrees live, with symlinks in existing folders resolved.
    pub fn worktree_dir(&self) -> PathBuf {
        let expanded = self
            .config
            .worktree_dir
            .replace("{repo}", &self.repo_name());
        let dir = Path::new(&expanded);
        fsutil::resolve(&self.main_worktree.join(dir))
    }

    pub fn worktrees(&self) -> Vec<Worktree> {
        worktrees::list(&self.common_dir, Some(&self.main_worktree))
    }

    /// The commit a revision names.
    pub fn resolve_commit(&self, rev: &str) -> Result<git2::Oid> {
        let obj = self.git.revparse_single(rev).map_err(|_| {
            Error::usage(format!("unknown revision '{rev}'"))
                .hint("give a branch, tag or commit that exists in this repository")
        })?;
        Ok(obj.peel_to_commit()?.id())
    }

    /// `git update-ref <args>` on `refname`. A git killed by the same Ctrl-C in the moment
    /// between creating the ref's lock and registering it for clean-up leaves the lock behind;
    /// a lock no process holds open is such a leftover, and is removed (and the update tried
    /// once more, unless a signal is waiting to be acted on).
    pub fn update_ref(&self, refname: &str, args: &[&str]) -> Result<()> {
        // Critical: git writes a ref whole or not at all, and once it has, the caller must
        // hear so. Interruptible, a signal while git ran made a written ref (a drop's rescue)
        // look failed, and the rolled-back command left it behind.
        let update = || {
            crate::git::git(&self.main_worktree, ["update-ref"])
                .args(args)
                .critical()
                .run()
        };
        let result = update();
        let lock = self.common_dir.join(format!("{refname}.lock"));
        if result.is_err() && lock.exists() && crate::proc::holder_of(&lock).is_none() {
            let _ = std::fs::remove_file(&lock);
            if crate::cleanup::pending().is_none() {
                return update().map(drop);
            }
        }
        result.map(drop)
    }

    pub fn branch_tip(&self, branch: &str) -> Option<git2::Oid> {
        self.git.refname_to_id(&format!("refs/heads/{branch}")).ok()
    }

    /// The branch checked out in the worktree the user stands in, if any.
    pub fn current_branch(&self) -> Option<String> {
        let head = self.git.head().ok()?;
        if !head.is_branch() {
            return None;
        }
        head.shorthand().ok().map(str::to_string)
    }
}
