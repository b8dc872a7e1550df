//! Deleting a folder tree the careful way: every directory is opened relative to its parent
//! with `O_NOFOLLOW`, so a symlink (even one swapped in while we work) is unlinked, never
//! entered. A second Ctrl-C stops it between entries, so removing a large worktree stays
//! interruptible; what is left is finished later by `git par recover`.
//!
//! Two passes: [`files`] unlinks the files and removes the emptied folders from many
//! threads, then a serial walk removes the top folder and anything the first pass left.

mod files;

use std::ffi::{CStr, CString};
use std::os::fd::AsFd;
use std::path::Path;

use nix::dir::{Dir, Type};
use nix::errno::Errno;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::cleanup;
use crate::error::{Error, Result};

/// How often (in entries) to look for a pending signal and report progress.
const CHECK_EVERY: u64 = 512;

#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Deleted,
    /// A signal arrived: the tree is partly deleted.
    Interrupted,
}

struct Walk<'a> {
    removed: u64,
    /// Presses of Ctrl-C that stop the deletion: a second one, never the first.
    stop_at: u32,
    on_progress: &'a mut dyn FnMut(u64),
}

pub(crate) const DIR_FLAGS: OFlag = OFlag::O_RDONLY
    .union(OFlag::O_DIRECTORY)
    .union(OFlag::O_NOFOLLOW)
    .union(OFlag::O_CLOEXEC);

fn fail(path: &Path, e: Errno) -> Error {
    Error::failed(format!("could not delete {}: {e}", path.display()))
}

/// Deletes `path` and all below it. A `path` that is a symlink is refused.
pub fn delete_tree(path: &Path, on_progress: &mut dyn FnMut(u64)) -> Result<Outcome> {
    let mut root = match Dir::open(path, DIR_FLAGS, Mode::empty()) {
        Ok(dir) => dir,
        Err(Errno::ENOENT) => return Ok(Outcome::Deleted),
        Err(e) => return Err(fail(path, e)),
    };
    let stop_at = cleanup::presses().max(1) + 1;
    if let Ok(fd) = nix::fcntl::open(path, DIR_FLAGS, Mode::empty()) {
        let mut stopped = false;
        files::unlink_files(fd, files::threads(), &mut |shared| {
            on_progress(shared.removed.load(std::sync::atomic::Ordering::Relaxed));
            stopped = cleanup::presses() >= stop_at;
            stopped
        });
        if stopped {
            return Ok(Outcome::Interrupted);
        }
    }
    let mut walk = Walk {
        removed: 0,
        stop_at,
        on_progress,
    };
    if walk.contents(&mut root, path)? == Outcome::Interrupted {
        return Ok(Outcome::Interrupted);
    }
    drop(root);
    match std::fs::remove_dir(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::failed(format!(
            "could not delete {}: {e}",
            path.display()
        ))),
        _ => Ok(Outcome::Deleted),
    }
}

impl Walk<'_> {
    fn contents(&mut self, dir: &mut Dir, path: &Path) -> Result<Outcome> {
        // Names first: unlinking while readdir runs is allowed, but not portable.
        let names: Vec<(CString, Option<Type>)> = dir
            .iter()
            .filter_map(|e| e.ok())
            .filter(|e| !matches!(e.file_name().to_bytes(), b"." | b".."))
            .map(|e| (e.file_name().to_owned(), e.file_type()))
            .collect();
        for (name, kind) in names {
            let is_dir = match kind {
                Some(Type::Directory) => true,
                Some(_) => false,
                None => self.is_dir_at(dir, &name),
            };
            if is_dir {
                match Dir::openat(dir.as_fd(), name.as_c_str(), DIR_FLAGS, Mode::empty()) {
                    Ok(mut child) => {
                        let child_path = path.join(name.to_string_lossy().as_ref());
                        if self.contents(&mut child, &child_path)? == Outcome::Interrupted {
                            return Ok(Outcome::Interrupted);
                        }
                        drop(child);
                        self.unlink(dir, &name, UnlinkatFlags::RemoveDir, path)?;
                    }
                    // Swapped for a symlink or file since it was listed: unlink what is there.
                    Err(Errno::ENOTDIR | Errno::ELOOP) => {
                        self.unlink(dir, &name, UnlinkatFlags::NoRemoveDir, path)?
                    }
                    Err(Errno::ENOENT) => {}
                    Err(e) => return Err(fail(path, e)),
                }
            } else {
                self.unlink(dir, &name, UnlinkatFlags::NoRemoveDir, path)?;
            }
            self.removed += 1;
            if self.removed % CHECK_EVERY == 0 {
                (self.on_progress)(self.removed);
                if cleanup::presses() >= self.stop_at {
                    return Ok(Outcome::Interrupted);
                }
            }
        }
        Ok(Outcome::Deleted)
    }

    fn is_dir_at(&self, dir: &Dir, name: &CStr) -> bool {
        fstatat(dir.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .is_ok_and(|st| SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR)
    }

    fn unlink(&self, dir: &Dir, name: &CStr, how: UnlinkatFlags, path: &Path) -> Result<()> {
        match unlinkat(dir.as_fd(), name, how) {
            Ok(()) | Err(Errno::ENOENT) => Ok(()),
            Err(e) => Err(fail(&path.join(name.to_string_lossy().as_ref()), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    #[test]
    fn deletes_a_tree_without_following_symlinks() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outside = tmp.path().join("outside");
        fs::create_dir_all(outside.join("deep")).expect("mkdir");
        fs::write(outside.join("deep/keep.txt"), "keep").expect("write");
        let tree = tmp.path().join("tree");
        fs::create_dir_all(tree.join("a/b")).expect("mkdir");
        fs::write(tree.join("a/b/f"), "x").expect("write");
        symlink(&outside, tree.join("a/link-to-dir")).expect("symlink");
        symlink(outside.join("deep/keep.txt"), tree.join("link-to-file")).expect("symlink");
        let outcome = delete_tree(&tree, &mut |_| {}).expect("delete");
        assert_eq!(outcome, Outcome::Deleted);
        assert!(!tree.exists());
        assert_eq!(
            fs::read_to_string(outside.join("deep/keep.txt")).expect("kept"),
            "keep"
        );
    }

    #[test]
    fn refuses_a_symlink_as_the_root() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let real = tmp.path().join("real");
        fs::create_dir(&real).expect("mkdir");
        fs::write(real.join("f"), "x").expect("write");
        symlink(&real, tmp.path().join("link")).expect("symlink");
        assert!(delete_tree(&tmp.path().join("link"), &mut |_| {}).is_err());
        assert!(real.join("f").exists());
    }
}
