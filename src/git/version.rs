//! The oldest git git-par works with, checked when a repository is opened.
//!
//! Asking git (`git version`) costs a process, a few milliseconds on every command; so the
//! answer is kept in `<common dir>/par/git-version` with the identity of the git binary that
//! gave it (device, inode, size, modification time), and asked again only when the `git` on
//! PATH is another file.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::fsutil;

/// `git replay` (the rebase strategy of `finish`) came in git 2.44; `git merge-tree
/// --write-tree` in 2.38 and its `--merge-base` in 2.40; `git hook run` in 2.36.
pub const MINIMUM_GIT_VERSION: Version = Version(2, 44, 0);

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

impl Version {
    /// `git version 2.47.3`, `git version 2.39.5 (Apple Git-154)`, `2.45.1.windows.1`.
    pub fn parse(text: &str) -> Option<Version> {
        let rest = text.trim().strip_prefix("git version ")?;
        let mut parts = rest.split(|c: char| !c.is_ascii_digit());
        let mut next = || parts.next().and_then(|p| p.parse().ok());
        let major = next()?;
        let minor = next()?;
        Some(Version(major, minor, next().unwrap_or(0)))
    }
}

/// Refuses a git older than [`MINIMUM_GIT_VERSION`], in one line naming both.
pub fn check(par_dir: &Path) -> Result<()> {
    let found = installed(par_dir)?;
    if found < MINIMUM_GIT_VERSION {
        return Err(Error::failed(format!(
            "git par needs git {MINIMUM_GIT_VERSION} or later, but this git is {found}"
        )));
    }
    Ok(())
}

fn installed(par_dir: &Path) -> Result<Version> {
    let cache = par_dir.join("git-version");
    let key = on_path("git").and_then(|bin| {
        let meta = fs::metadata(&bin).ok()?;
        Some(format!(
            "{} {} {} {}.{}",
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec()
        ))
    });
    if let Some(key) = &key {
        let known = fs::read_to_string(&cache).ok().and_then(|text| {
            let (k, v) = text.trim_end().rsplit_once(' ')?;
            (k == key).then(|| Version::parse(&format!("git version {v}")))?
        });
        if let Some(known) = known {
            return Ok(known);
        }
    }
    let out = crate::git::git(par_dir.parent().unwrap_or(par_dir), ["version"]).run()?;
    let text = out.stdout_str();
    let version = Version::parse(&text)
        .ok_or_else(|| Error::failed(format!("could not read git's version from '{text}'")))?;
    if let Some(key) = key {
        // A cache: when it cannot be written, the next command asks git again.
        let _ = fsutil::write_atomic(&cache, format!("{key} {version}\n").as_bytes());
    }
    Ok(version)
}

/// The file `Command::new(name)` runs: the first executable `name` in PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|file| fs::metadata(file).is_ok_and(|m| m.is_file() && m.mode() & 0o111 != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_versions_git_prints() {
        assert_eq!(
            Version::parse("git version 2.47.3\n"),
            Some(Version(2, 47, 3))
        );
        assert_eq!(
            Version::parse("git version 2.39.5 (Apple Git-154)"),
            Some(Version(2, 39, 5))
        );
        assert_eq!(
            Version::parse("git version 2.45.1.windows.1"),
            Some(Version(2, 45, 1))
        );
        assert_eq!(Version::parse("git version 3.0"), Some(Version(3, 0, 0)));
        assert_eq!(Version::parse("hub version 2.14"), None);
        assert!(Version(2, 43, 9) < MINIMUM_GIT_VERSION);
        assert!(Version(2, 100, 0) > MINIMUM_GIT_VERSION);
    }
}
