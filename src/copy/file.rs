//! One file of a copy, in as few system calls as it can be done in: this is where a copy of
//! 20,000 small files spends its time. Open the source, read its stat, create the copy with
//! its final mode where nothing would change that mode (no umask bit, no default ACL, no
//! set-id bit: else it is made private and `fchmod`ed), clone or copy the data, set the times.

use std::ffi::CStr;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{self as rfs, FileType, Mode, OFlags, RawMode, Stat, Timestamps};
use rustix::io::Errno;

/// What became of one file.
pub struct Copied {
    pub size: u64,
    /// Its data was cloned (shares the source's extents) rather than copied.
    pub cloned: bool,
}

/// How the mode of a new file can be set.
#[derive(Clone, Copy)]
pub struct Modes {
    /// The process's umask, when known: files whose mode it leaves alone are created with
    /// their final mode and need no `fchmod`.
    umask: Option<RawMode>,
}

impl Modes {
    pub fn of_process() -> Modes {
        Modes { umask: umask() }
    }

    /// For files made in folder `dir`: a default ACL there decides new files' modes instead
    /// of the umask, so there every mode is set afterwards.
    pub fn in_folder(self, dir: &OwnedFd) -> Modes {
        match default_acl(dir) {
            false => self,
            true => Modes { umask: None },
        }
    }

    /// The mode to create a file with, and whether it is already the final one.
    fn create_mode(self, mode: RawMode) -> (RawMode, bool) {
        match self.umask {
            Some(mask) if mode & (mask | 0o7000) == 0 => (mode, true),
            _ => (0o600, false),
        }
    }
}

/// The umask, read without changing it (`umask(2)` can only set it, and other threads may
/// be creating files meanwhile).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn umask() -> Option<RawMode> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("Umask:"))?;
    RawMode::from_str_radix(line.trim(), 8).ok()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn umask() -> Option<RawMode> {
    None
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn default_acl(dir: &OwnedFd) -> bool {
    // No such attribute (ENODATA), or no ACLs on this filesystem (ENOTSUP): none.
    rfs::fgetxattr_query(dir, "system.posix_acl_default").is_ok()
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn default_acl(_dir: &OwnedFd) -> bool {
    true
}

pub fn times(stat: &Stat) -> Timestamps {
    Timestamps {
        last_access: rfs::Timespec {
            tv_sec: stat.st_atime as _,
            tv_nsec: stat.st_atime_nsec as _,
        },
        last_modification: rfs::Timespec {
            tv_sec: stat.st_mtime as _,
            tv_nsec: stat.st_mtime_nsec as _,
        },
    }
}

/// Copies regular file `name` of folder `src` into folder `dst`, where it must not exist.
/// `try_reflink` is cleared at the first file the filesystem cannot clone.
pub fn copy(
    src: &OwnedFd,
    dst: &OwnedFd,
    name: &CStr,
    modes: Modes,
    try_reflink: &AtomicBool,
) -> std::result::Result<Copied, (&'static str, Errno)> {
    let from = rfs::openat(
        src,
        name,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| ("read", e))?;
    let stat = rfs::fstat(&from).map_err(|e| ("read", e))?;
    if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
        return Err(("read", Errno::NXIO));
    }
    let (mode, is_final) = modes.create_mode(stat.st_mode & 0o7777);
    let to = rfs::openat(
        dst,
        name,
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(mode),
    )
    .map_err(|e| ("create", e))?;
    let (from, to) = (File::from(from), File::from(to));
    let size = stat.st_size as u64;
    let mut cloned = false;
    if size > 0 && try_reflink.load(Ordering::Relaxed) {
        match reflink(&to, &from) {
            Ok(()) => cloned = true,
            // Not this filesystem, or not across these two: copy from now on.
            Err(_) => try_reflink.store(false, Ordering::Relaxed),
        }
    }
    if !cloned && size > 0 {
        copy_data(&from, &to, size).map_err(|e| ("copy", e))?;
    }
    if !is_final {
        rfs::fchmod(&to, Mode::from_raw_mode(stat.st_mode & 0o7777))
            .map_err(|e| ("set the mode of", e))?;
    }
    rfs::futimens(&to, &times(&stat)).map_err(|e| ("set the times of", e))?;
    Ok(Copied { size, cloned })
}

/// The first `size` bytes of `from` (its size when it was opened) into `to`, in the kernel.
/// `std::io::copy` does the same with two `statx` and one more `copy_file_range` per file to
/// learn what the stat already says; it stays the fallback where the kernel cannot copy
/// between these two files.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn copy_data(from: &File, to: &File, size: u64) -> std::result::Result<(), Errno> {
    let mut left = size;
    while left > 0 {
        let chunk = usize::try_from(left.min(1 << 30)).unwrap_or(1 << 30);
        match rfs::copy_file_range(from, None, to, None, chunk) {
            // The file shrank since it was opened: what it holds now is copied.
            Ok(0) => return Ok(()),
            Ok(n) => left = left.saturating_sub(n as u64),
            Err(Errno::INTR) => {}
            Err(Errno::XDEV | Errno::NOSYS | Errno::INVAL | Errno::OPNOTSUPP | Errno::PERM)
                if left == size =>
            {
                return copy_by_reading(from, to, size)
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn copy_data(from: &File, to: &File, size: u64) -> std::result::Result<(), Errno> {
    copy_by_reading(from, to, size)
}

fn copy_by_reading(from: &File, to: &File, size: u64) -> std::result::Result<(), Errno> {
    use std::io::Read;
    std::io::copy(&mut from.take(size), &mut &*to)
        .map(|_| ())
        .map_err(|e| Errno::from_io_error(&e).unwrap_or(Errno::IO))
}

/// Makes `to` share `from`'s extents (FICLONE, Linux). Elsewhere (a macOS port would use
/// clonefile) it is never possible, and the file is copied.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reflink(to: &File, from: &File) -> rustix::io::Result<()> {
    rfs::ioctl_ficlone(to, from)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn reflink(_to: &File, _from: &File) -> rustix::io::Result<()> {
    Err(Errno::OPNOTSUPP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mode_the_umask_would_change_is_set_afterwards() {
        let modes = Modes { umask: Some(0o022) };
        assert_eq!(modes.create_mode(0o755), (0o755, true));
        assert_eq!(modes.create_mode(0o644), (0o644, true));
        assert_eq!(modes.create_mode(0o666), (0o600, false));
        assert_eq!(modes.create_mode(0o4755), (0o600, false));
        assert_eq!(Modes { umask: None }.create_mode(0o644), (0o600, false));
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    #[test]
    fn the_umask_read_is_the_one_new_files_get() {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mask = umask().expect("umask in /proc/self/status");
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o777)
            .open(&path)
            .expect("create");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode();
        assert_eq!(mode & 0o777, 0o777 & !mask);
    }
}
