//! Small file-system helpers that must be right every time: atomic writes and removal that
//! never follows a symlink or leaves the folder it was given.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Writes `bytes` to `path` so that a crash leaves either the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

/// Removes a file if it is there.
pub fn remove_file_if_exists(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// `a/b/../c` → `a/c`, without touching the disk (the path may not exist yet).
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// Resolves symlinks in the longest existing ancestor and keeps the rest as written.
pub fn resolve(path: &Path) -> PathBuf {
    let path = normalize(path);
    let mut existing = path.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            out.extend(rest.iter().rev());
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => return path,
        }
    }
}

/// True when `inner` is `outer` or lies below it (both already resolved).
pub fn is_within(inner: &Path, outer: &Path) -> bool {
    inner.starts_with(outer)
}

/// Removes empty folders from `path` up to, but not above, `stop`.
pub fn remove_empty_parents(path: &Path, stop: &Path) {
    let mut dir = Some(path);
    while let Some(d) = dir {
        if !d.starts_with(stop) || fs::remove_dir(d).is_err() {
            break;
        }
        if d == stop {
            break;
        }
        dir = d.parent();
    }
}

/// Removes `path` and everything below it without following any symlink (std's
/// `remove_dir_all` unlinks links and does not descend through them). A `path` that is
/// itself a symlink is refused.
pub fn remove_tree(path: &Path) -> io::Result<()> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        return Err(io::Error::other(format!("{} is a symlink", path.display())));
    }
    if meta.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    }
}

/// A process that has `path` open, if any: git keeps a lock file open from creating it to
/// committing it, so a lock no process holds open was left by a git that died.
pub fn holder_of(path: &Path) -> Option<u32> {
    let target = resolve(path);
    let procs = fs::read_dir("/proc").ok()?;
    procs.flatten().find_map(|proc_entry| {
        let pid: u32 = proc_entry.file_name().to_string_lossy().parse().ok()?;
        let fds = fs::read_dir(proc_entry.path().join("fd")).ok()?;
        fds.flatten()
            .any(|fd| fs::read_link(fd.path()).is_ok_and(|p| p == target))
            .then_some(pid)
    })
}
