//! What `git status` last said of a task's untracked files, kept by `git par list` with the
//! watchman clock it was true at, so that the next list asks watchman what changed since
//! then instead of reading every folder of the worktree: an untracked name that nothing
//! touched since is still there, and still untracked, as long as the index names the same
//! paths and the ignore rules are the same.
//!
//! The file lives in the worktree's admin dir (`<common>/worktrees/<id>/par-untracked`),
//! written whole and renamed into place. It is only ever a hint for `git par list`: nothing
//! that removes or moves files reads it. It is believed only when every part of its key
//! matches what this list computed itself (the worktree, the index's paths, the ignore
//! files and settings); anything else about it (too big, not ours, a path that climbs out or
//! is absolute) makes it worthless, and list reads the folders as if it were not there.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::git::index::Index;

const FILE: &str = "par-untracked";
const FORMAT: u32 = 2;
/// Larger files are not read, and no more entries are kept: the folders are read instead.
const MOST_BYTES: u64 = 4 << 20;
pub const MOST_ENTRIES: usize = 10_000;

/// What the cached answer depends on, besides the files watchman watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The worktree's top folder, as watchman was asked about it.
    pub root: String,
    /// A digest of every path in the index ([`paths_digest`]): `git add` of a new file or
    /// `git rm --cached` changes which names are untracked.
    pub paths: String,
    /// The ignore files outside the worktree and the settings that change what git lists
    /// ([`ignore_rules`]).
    pub ignore: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cache {
    format: u32,
    /// The git-par that wrote it (another may hash the index's paths differently).
    version: String,
    pub key: Key,
    /// watchman's clock when the answer was true: a change after it is reported since it.
    pub clock: String,
    /// The untracked entries as `git status --porcelain` names them (`dir/` for a folder).
    pub untracked: Vec<String>,
    /// The index this was made with ([`crate::git::index::identity`]), its token, and the
    /// `HEAD` tree it matched. While the index is that same file, `key.paths` is still
    /// its digest; when `quiet` too (the index alone gave no suspect: no unvouched, racily
    /// clean or submodule entry), it need not even be read.
    pub index: String,
    pub token: String,
    pub tree: String,
    pub quiet: bool,
}

impl Cache {
    pub fn new(key: Key, clock: String) -> Cache {
        Cache {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            key,
            clock,
            untracked: Vec::new(),
            index: String::new(),
            token: String::new(),
            tree: String::new(),
            quiet: false,
        }
    }
}

/// The cache of the worktree whose admin dir is `git_dir`, if it is there and sound (its key
/// is for the caller to compare).
pub fn load(git_dir: &Path) -> Option<Cache> {
    let file = File::open(git_dir.join(FILE)).ok()?;
    let mut bytes = Vec::new();
    file.take(MOST_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MOST_BYTES {
        return None;
    }
    let cache: Cache = serde_json::from_slice(&bytes).ok()?;
    let sound = cache.format == FORMAT
        && cache.version == env!("CARGO_PKG_VERSION")
        && cache.clock.starts_with("c:")
        && cache.untracked.len() <= MOST_ENTRIES
        && cache.untracked.iter().all(|p| is_relative_path(p));
    sound.then_some(cache)
}

/// Writes `cache` for the worktree whose admin dir is `git_dir`, whole or not at all (best
/// effort: without it the next list reads the folders).
pub fn store(git_dir: &Path, cache: &Cache) {
    if cache.untracked.len() > MOST_ENTRIES || !git_dir.is_dir() {
        return;
    }
    let Ok(bytes) = serde_json::to_vec(cache) else {
        return;
    };
    let tmp = git_dir.join(format!("{FILE}.{}.tmp", std::process::id()));
    // `create_new` never follows a symlink left at that name; only a file made here is
    // removed again when the rest fails.
    let Ok(mut file) = File::options().write(true).create_new(true).open(&tmp) else {
        return;
    };
    let written = file
        .write_all(&bytes)
        .and_then(|_| std::fs::rename(&tmp, git_dir.join(FILE)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// A path inside the worktree: relative, no `.`/`..`/empty part (a trailing `/` aside), no
/// NUL, not in `.git`.
fn is_relative_path(path: &str) -> bool {
    let path = path.strip_suffix('/').unwrap_or(path);
    !path.is_empty()
        && !path.contains('\0')
        && path.split('/').all(|part| !matches!(part, "" | "." | ".."))
        && path.split('/').next() != Some(".git")
}

/// A digest of the index's paths, in order (the index's own checksum changes with every
/// refresh, which would throw the cache away after each `git status`).
pub fn paths_digest(index: &Index) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    for entry in &index.entries {
        index.path(entry).hash(&mut hasher);
    }
    format!("{}:{:016x}", index.entries.len(), hasher.finish())
}

/// The ignore rules and settings outside the worktree that decide what git lists as
/// untracked, as one string: the settings' values, and each ignore file's identity and times
/// (`.gitignore` files inside the worktree are watched by watchman like any file).
/// `excludes_file` is `core.excludesFile`, or git's default when unset.
pub fn ignore_rules(
    common_dir: &Path,
    git_dir: &Path,
    excludes_file: &Path,
    settings: &str,
) -> String {
    let files: [PathBuf; 3] = [
        common_dir.join("info/exclude"),
        excludes_file.to_path_buf(),
        // Per-worktree settings (extensions.worktreeConfig), which the main repository's
        // configuration does not show.
        git_dir.join("config.worktree"),
    ];
    let mut key = settings.to_string();
    for file in files {
        let stat = std::fs::metadata(&file).map_or("-".to_string(), |m| {
            format!(
                "{}:{}:{}:{}.{}:{}.{}",
                m.dev(),
                m.ino(),
                m.size(),
                m.mtime(),
                m.mtime_nsec(),
                m.ctime(),
                m.ctime_nsec()
            )
        });
        key.push_str(&format!("\n{}={stat}", file.display()));
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Key {
        Key {
            root: "/w/t".into(),
            paths: "2:00ff".into(),
            ignore: "rules".into(),
        }
    }

    #[test]
    fn keeps_what_it_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = Cache::new(key(), "c:1:2:3:4".into());
        cache.untracked = vec!["WIP.txt".into(), "new/".into()];
        store(dir.path(), &cache);
        let loaded = load(dir.path()).expect("loaded");
        assert_eq!(loaded.untracked, cache.untracked);
        assert_eq!(loaded.clock, "c:1:2:3:4");
        assert_eq!(loaded.key, key());
    }

    #[test]
    fn a_damaged_or_hostile_file_is_not_believed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut cache = Cache::new(key(), "c:1:2:3:4".into());
        for bad in [
            "../outside",
            "/etc/passwd",
            "a/../../b",
            ".git/config",
            "a//b",
            "",
        ] {
            cache.untracked = vec![bad.into()];
            std::fs::write(
                dir.path().join(FILE),
                serde_json::to_vec(&cache).expect("json"),
            )
            .expect("write");
            assert!(load(dir.path()).is_none(), "{bad:?}");
        }
        std::fs::write(dir.path().join(FILE), b"{\"format\": 1, \"clock\":").expect("write");
        assert!(load(dir.path()).is_none());
        cache.untracked = vec!["fine".into()];
        cache.clock = "not a clock".into();
        std::fs::write(
            dir.path().join(FILE),
            serde_json::to_vec(&cache).expect("json"),
        )
        .expect("write");
        assert!(load(dir.path()).is_none());
    }
}
