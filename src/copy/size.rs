//! How much room a copy will take, worked out before anything is made, so that a start whose
//! copy would fill the disk refuses first (`space::ensure`) instead of failing half-way.
//!
//! Each file counts as its size rounded up to blocks plus an inode, as a checkout does. Where
//! the data will be cloned (source and task on one filesystem of a kind that shares extents:
//! XFS, btrfs) only the inodes count: a clone takes no data blocks until one side is changed.
//! An XFS made without reflinks is taken for one that has them; there the copy itself fails
//! on a full disk and the start is rolled back, as after any failed copy.

use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::fs::{self as rfs, AtFlags, FileType};
use rustix::io::Errno;

use super::tree::{open_beneath, open_dir, open_root};
use super::Plan;
use crate::error::{Error, Result};
use crate::space;

/// Bytes the copy of `plan` into `dest` (which need not exist yet) will take on disk.
pub fn needed(plan: &Plan, dest: &Path) -> Result<u64> {
    if plan.entries.is_empty() {
        return Ok(0);
    }
    let root = open_root(&plan.source)?;
    let mut sum = Sum {
        data: !clones_into(&root, dest),
        bytes: 0,
    };
    for rel in &plan.entries {
        let (Some(parent), Some(name)) = (rel.parent(), rel.file_name()) else {
            continue;
        };
        // Gone or swapped for a symlink since git listed it: the copy leaves it alone too.
        let Ok(dir) = open_beneath(&root, parent, false) else {
            continue;
        };
        sum.entry(&dir, name, None, plan, rel)
            .map_err(|e| Error::failed(format!("could not read {}: {e}", rel.display())))?;
    }
    Ok(sum.bytes)
}

struct Sum {
    /// Data blocks count (the copy will not be a clone).
    data: bool,
    bytes: u64,
}

impl Sum {
    fn entry(
        &mut self,
        dir: &OwnedFd,
        name: &OsStr,
        kind: Option<FileType>,
        plan: &Plan,
        rel: &Path,
    ) -> rustix::io::Result<()> {
        if plan.skip.contains(rel) {
            return Ok(());
        }
        let known =
            kind.filter(|k| *k != FileType::Unknown && (*k != FileType::RegularFile || !self.data));
        let (kind, size) = match known {
            Some(kind) => (kind, 0),
            None => match rfs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(stat) => (FileType::from_raw_mode(stat.st_mode), stat.st_size as u64),
                Err(Errno::NOENT) => return Ok(()),
                Err(e) => return Err(e),
            },
        };
        match kind {
            FileType::RegularFile => self.bytes += space::on_disk(if self.data { size } else { 0 }),
            FileType::Directory => self.folder(dir, name, plan, rel)?,
            _ => self.bytes += space::on_disk(0),
        }
        Ok(())
    }

    fn folder(
        &mut self,
        parent: &OwnedFd,
        name: &OsStr,
        plan: &Plan,
        rel: &Path,
    ) -> rustix::io::Result<()> {
        let dir = match open_dir(parent, &super::tree::cstring(name)?) {
            Ok(fd) => fd,
            Err(Errno::NOENT | Errno::LOOP | Errno::NOTDIR) => return Ok(()),
            Err(e) => return Err(e),
        };
        // A nested repository or worktree is left out of the copy.
        if rfs::statat(&dir, ".git", AtFlags::SYMLINK_NOFOLLOW).is_ok() {
            return Ok(());
        }
        self.bytes += space::on_disk(0);
        for entry in rfs::Dir::read_from(&dir)? {
            let entry = entry?;
            let child = OsStr::from_bytes(entry.file_name().to_bytes());
            if child == "." || child == ".." {
                continue;
            }
            self.entry(&dir, child, Some(entry.file_type()), plan, &rel.join(child))?;
        }
        Ok(())
    }
}

/// The copy into `dest` will clone rather than copy: one filesystem, of a kind with reflinks.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn clones_into(source: &OwnedFd, dest: &Path) -> bool {
    const XFS: i64 = 0x5846_5342;
    const BTRFS: i64 = 0x9123_683e;
    let there = space::nearest_existing(dest);
    let (Ok(a), Ok(b), Ok(fs)) = (rfs::fstat(source), rfs::stat(there), rfs::fstatfs(source))
    else {
        return false;
    };
    #[allow(clippy::useless_conversion)]
    let kind = i64::from(fs.f_type);
    a.st_dev == b.st_dev && (kind == XFS || kind == BTRFS)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn clones_into(_source: &OwnedFd, _dest: &Path) -> bool {
    false
}
