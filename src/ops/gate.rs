//! The one gate that everything removing or moving a task's worktree goes through. A folder
//! is acted on only when it is provably the worktree git-par created for the task: no symlink
//! anywhere on its path, inside the worktree dir as it was recorded at `start`, its `.git`
//! file naming git's admin dir and that admin dir naming it back, and the same folder
//! (device and inode) as at `start`. Whatever fails a check is left where it is and named.
//!
//! A worktree is removed by renaming it, in one step, to a trash slot beside it
//! (`.par-trash.<journal id>` in the same folder: same file system, and the same depth, so
//! the relative paths in `.git` files inside it, a submodule's or git's own with
//! `worktree.useRelativePaths`, still lead where they did), identifying it again there (and
//! putting it back if it is not the folder that was proven), and only then deleting it. Slot
//! paths are never read from disk; they are made from a journal entry's id, checked for shape
//! first.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ui::Ui;
use crate::{delete, fsutil};

/// How a trash slot's name starts; the journal entry's id follows.
pub const TRASH_PREFIX: &str = ".par-trash.";

/// What `start` records of the worktree it made, to know it again: its device and inode,
/// and its birth time where the filesystem keeps one. An inode number alone does not name a
/// folder for long: a folder made right after another was deleted often gets its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
    /// Nanoseconds since the epoch (statx's birth time); absent where the filesystem (or an
    /// older record) has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born: Option<u64>,
}

impl Identity {
    pub fn of(path: &Path) -> Option<Identity> {
        fs::symlink_metadata(path)
            .ok()
            .map(|meta| Identity::of_meta(&meta))
    }

    pub fn of_meta(meta: &fs::Metadata) -> Identity {
        let born = meta
            .created()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .and_then(|d| u64::try_from(d.as_nanos()).ok())
            .filter(|&ns| ns > 0);
        Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            born,
        }
    }

    /// The same folder: the same device and inode, born at the same moment when both sides
    /// know when.
    pub fn same(self, other: Identity) -> bool {
        self.dev == other.dev
            && self.ino == other.ino
            && match (self.born, other.born) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// A task's worktree as a record or journal entry names it: unchecked until [`prove`].
pub struct Claim {
    pub task: String,
    pub path: PathBuf,
    /// The worktree dir resolved at `start`; the current setting's for older records.
    pub worktree_dir: PathBuf,
    pub identity: Option<Identity>,
}

/// A folder proven to be the task's worktree. Only [`prove`] makes one.
#[derive(Debug)]
pub struct Owned {
    path: PathBuf,
    admin: PathBuf,
    identity: Identity,
}

/// A proven worktree renamed into the trash, still whole (git's admin dir still names it).
#[derive(Debug)]
pub struct Trashed {
    pub path: PathBuf,
    pub admin: Option<PathBuf>,
}

fn refuse(path: &Path, why: impl std::fmt::Display) -> Error {
    Error::failed(format!("refusing to remove {}: {why}", path.display()))
        .hint("git par removes only the worktrees it made; it left this folder as it is")
}

/// Checks every claim about a task's worktree against the disk. `Ok(None)`: nothing is there.
pub fn prove(repo: &Repo, claim: &Claim) -> Result<Option<Owned>> {
    let path = fsutil::normalize(&claim.path);
    let dir = fsutil::normalize(&claim.worktree_dir);
    crate::config::check_worktree_dir(repo, &dir).map_err(|e| {
        refuse(
            &path,
            format!("its worktree dir is not usable: {}", e.message),
        )
    })?;
    let in_trash = path
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with(TRASH_PREFIX));
    if path == dir || !path.starts_with(&dir) || in_trash {
        return Err(refuse(
            &path,
            format!("it is not a task folder inside {}", dir.display()),
        ));
    }
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(refuse(&path, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(&path, "it is a symlink"));
    }
    if fsutil::resolve(&path) != path {
        return Err(refuse(
            &path,
            format!(
                "it is reached through a symlink (it leads to {})",
                fsutil::resolve(&path).display()
            ),
        ));
    }
    if !meta.is_dir() {
        return Err(refuse(&path, "it is not a folder"));
    }
    let admin = admin_of(repo, &path).map_err(|why| refuse(&path, why))?;
    let identity = Identity::of_meta(&meta);
    if claim
        .identity
        .is_some_and(|recorded| !recorded.same(identity))
    {
        return Err(refuse(
            &path,
            format!(
                "it is not the folder task '{}' was started in (it was replaced)",
                claim.task
            ),
        ));
    }
    Ok(Some(Owned {
        path,
        admin,
        identity,
    }))
}

/// git's admin dir for the linked worktree at `path`, when the two name each other.
fn admin_of(repo: &Repo, path: &Path) -> std::result::Result<PathBuf, String> {
    let dot_git = path.join(".git");
    let meta = fs::symlink_metadata(&dot_git)
        .map_err(|_| "it has no .git file, so it is no git worktree".to_string())?;
    if !meta.is_file() {
        return Err("its .git is not a file: it is a repository of its own, not a worktree".into());
    }
    let admin =
        read_pointer(&dot_git, "gitdir: ").ok_or("its .git file does not name a git dir")?;
    let admin = fsutil::resolve(&admin);
    let worktrees = repo.common_dir.join("worktrees");
    if admin.parent() != Some(worktrees.as_path()) {
        return Err(format!(
            "its .git file points at {}, which is not a worktree of this repository",
            admin.display()
        ));
    }
    let back = read_pointer(&admin.join("gitdir"), "")
        .ok_or_else(|| format!("git's record {} does not name it back", admin.display()))?;
    if fsutil::resolve(&back) != dot_git {
        return Err(format!(
            "git's record {} belongs to {}",
            admin.display(),
            back.display()
        ));
    }
    Ok(admin)
}

pub use crate::git::worktrees::read_pointer;

impl Owned {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn admin(&self) -> &Path {
        &self.admin
    }

    pub fn identity(&self) -> Identity {
        self.identity
    }

    /// Renames the worktree to the trash slot of journal entry `id`. If what arrived there is
    /// not the folder that was proven (swapped in between), it is put back and refused.
    pub fn trash(self, id: &str) -> Result<Trashed> {
        // The folder beside it was proven with it: no symlink on the way, inside the worktree dir.
        let to = trash_slot(&self.path, id)?;
        fs::rename(&self.path, &to).map_err(|e| {
            Error::failed(format!(
                "could not move {} out of the way: {e}",
                self.path.display()
            ))
        })?;
        if !Identity::of(&to).is_some_and(|found| found.same(self.identity)) {
            let back = fs::rename(&to, &self.path);
            let err = refuse(&self.path, "it was replaced while it was being removed");
            return Err(match back {
                Ok(()) => err,
                Err(e) => err.hint(format!("it is at {} ({e})", to.display())),
            });
        }
        Ok(Trashed {
            path: to,
            admin: Some(self.admin),
        })
    }
}

/// The trash slot beside the worktree at `path` for journal entry `id` (of the shape ids
/// have: `<digits>-<digits>`): `<folder of path>/.par-trash.<id>`.
pub fn trash_slot(path: &Path, id: &str) -> Result<PathBuf> {
    let ok = id
        .split_once('-')
        .is_some_and(|(a, b)| is_digits(a) && is_digits(b));
    if !ok {
        return Err(Error::failed(format!("'{id}' is not a journal entry id")));
    }
    let beside = path
        .parent()
        .ok_or_else(|| Error::failed(format!("{} has no folder", path.display())))?;
    Ok(beside.join(format!("{TRASH_PREFIX}{id}")))
}

/// The journal entry id of a trash slot's name, if it is one.
pub fn slot_id(name: &str) -> Option<&str> {
    name.strip_prefix(TRASH_PREFIX)
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The trash slot of entry `id` that a crash left in the folder `beside` (where the task's
/// worktree was): acted on only when it lies inside the worktree dir with no symlink on its
/// path, is a real folder and, where the entry recorded it, the same folder that was moved
/// there.
pub fn find_trashed(
    repo: &Repo,
    worktree_dir: &Path,
    beside: &Path,
    id: &str,
    identity: Option<Identity>,
) -> Result<Option<Trashed>> {
    let dir = fsutil::normalize(worktree_dir);
    crate::config::check_worktree_dir(repo, &dir)?;
    let path = trash_slot(&fsutil::normalize(beside).join("-"), id)?;
    if !path.starts_with(&dir) || path == dir {
        return Err(refuse(&path, format!("it is not inside {}", dir.display())));
    }
    let meta = match fs::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(_) => return Ok(None),
    };
    if !meta.is_dir() || fsutil::resolve(&path) != path {
        return Err(refuse(&path, "it is not a trash folder of git par's"));
    }
    let found = Identity::of_meta(&meta);
    if identity.is_some_and(|recorded| !recorded.same(found)) {
        return Err(refuse(&path, "it is not the worktree that was moved there"));
    }
    let admin = read_pointer(&path.join(".git"), "gitdir: ")
        .map(|a| fsutil::resolve(&a))
        .filter(|a| a.parent() == Some(repo.common_dir.join("worktrees").as_path()))
        .filter(|a| a.is_dir());
    Ok(Some(Trashed { path, admin }))
}

impl Trashed {
    /// Deletes the trashed folder, showing progress on a terminal. A first Ctrl-C does not
    /// stop it (the command is past its point of no return, or rolling back); a second one
    /// does, leaving the rest for `git par recover`.
    pub fn delete(self, ui: &mut Ui) -> Result<()> {
        let show = ui.stderr_is_terminal;
        let mut bar: Option<indicatif::ProgressBar> = None;
        let mut told = crate::cleanup::presses() > 0;
        let outcome = delete::delete_tree(&self.path, &mut |n| {
            if !told && crate::cleanup::presses() > 0 {
                told = true;
                ui.note("Finishing the removal; press Ctrl-C again to stop and leave the rest to 'git par recover'.");
            }
            if show && n >= 4096 {
                let bar = bar.get_or_insert_with(|| {
                    let bar = indicatif::ProgressBar::new_spinner();
                    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                    bar
                });
                bar.set_message(format!("Removing worktree: {n} files"));
                bar.tick();
            }
        })?;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        if outcome == delete::Outcome::Interrupted {
            let sig = crate::cleanup::pending().unwrap_or(nix::sys::signal::Signal::SIGINT);
            return Err(Error::interrupted(sig)
                .hint(format!("{} is only partly deleted", self.path.display()))
                .hint("run 'git par recover' to finish deleting it"));
        }
        Ok(())
    }
}

/// Deletes git's admin dir for a linked worktree (what `git worktree prune` does for one
/// whose folder is gone), only when it is a direct child of `<common dir>/worktrees`. What it
/// alone still holds (HEAD, HEAD reflog, per-worktree refs, submodule repositories) is saved
/// for `task` first; returns the rescue ref if one was made. It is renamed out of
/// `worktrees/` before deletion, so a git listing worktrees at that moment sees it whole or
/// not at all.
pub fn forget_admin(repo: &Repo, task: &str, admin: &Path) -> Result<Option<String>> {
    let admin = fsutil::resolve(admin);
    let worktrees = repo.common_dir.join("worktrees");
    if admin.parent() != Some(worktrees.as_path()) || !admin.is_dir() {
        return Ok(None);
    }
    let saved = crate::rescue::save_admin(repo, task, &admin, "its worktree was removed")?;
    let name = admin
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let aside = forgotten_dir(repo).join(format!("{name}.{}", std::process::id()));
    let fail = |e: std::io::Error| {
        Error::failed(format!(
            "could not remove git's record {}: {e}",
            admin.display()
        ))
    };
    fs::create_dir_all(aside.parent().unwrap_or(&aside)).map_err(fail)?;
    {
        let _list = worktree_list(repo)?;
        fs::rename(&admin, &aside).map_err(fail)?;
    }
    delete_forgotten(repo, &aside)?;
    Ok(saved)
}

/// Serializes the moments git's list of worktrees changes: a record moved away while `git
/// worktree add` reads the list makes git fail ("Invalid path '…/worktrees/<name>'"), and
/// two `git worktree add` at once race inside git ("failed to read …/commondir"). A run
/// creates and finishes tasks on several threads at once (the mutex), and several git-par
/// processes may work in one repository (the flock on `<par>/worktrees.lock`, which the
/// kernel drops when its owner dies).
static WORKTREE_LIST: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Held while git's list of worktrees is read to add one, or changed.
pub struct WorktreeList {
    _process: nix::fcntl::Flock<fs::File>,
    _thread: std::sync::MutexGuard<'static, ()>,
}

/// Takes turns with every other thread and git-par process of this repository that adds a
/// worktree or forgets one; waits as long as that takes (a few tens of ms), unless a signal
/// arrives.
pub fn worktree_list(repo: &Repo) -> Result<WorktreeList> {
    let thread = WORKTREE_LIST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let path = repo.par_dir().join("worktrees.lock");
    match crate::lock::flock_file(&path, true)? {
        Some(process) => Ok(WorktreeList {
            _process: process,
            _thread: thread,
        }),
        None => Err(Error::failed(format!("could not lock {}", path.display()))),
    }
}

/// Where git's records of removed worktrees wait to be deleted (`<name>.<pid>`).
pub fn forgotten_dir(repo: &Repo) -> PathBuf {
    repo.par_dir().join("forgotten")
}

/// Deletes a record set aside by [`forget_admin`] (one a killed git par left, too): only an
/// entry directly in [`forgotten_dir`], a folder deleted without following links, anything
/// else unlinked.
pub fn delete_forgotten(repo: &Repo, path: &Path) -> Result<()> {
    let dir = forgotten_dir(repo);
    if path.parent() != Some(dir.as_path()) {
        return Err(refuse(path, format!("it is not in {}", dir.display())));
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => delete::delete_tree(path, &mut |_| {}).map(|_| ()),
        Ok(_) => Ok(fs::remove_file(path)?),
        Err(_) => Ok(()),
    }
}

/// Removes the folders `start` created on the way to a task's worktree (deepest first), when
/// they are empty and inside the worktree dir; never any other folder.
pub fn remove_created_dirs(worktree_dir: &Path, created: &[PathBuf]) {
    let dir = fsutil::normalize(worktree_dir);
    for d in created {
        let d = fsutil::normalize(d);
        if d.starts_with(&dir) && fsutil::resolve(&d) == d {
            let _ = fs::remove_dir(&d);
        }
    }
}
