//! Which paths of a worktree could differ from its index, found without running git: the
//! stat comparison git's index refresh makes, with `fstatat` relative to each directory (every
//! directory opened with `O_NOFOLLOW`, so a symlink is never entered), and a `readdir` of each
//! tracked directory for names the index lacks. `git status` then needs to look at those
//! paths only; a worktree with none is clean.
//!
//! Any doubt makes a path a suspect: this pass may hand git a path that turns out clean,
//! never leave out one that git would report.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::Dir;
use nix::fcntl::AtFlags;
use nix::sys::stat::{fstatat, FileStat, Mode};

use crate::delete::DIR_FLAGS;
use crate::git::fsmonitor::{Changed, Monitor};
use crate::git::index::{self, Entry, Index};
use crate::git::untracked_cache;
use crate::git::watchman::Since;

const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFLNK: u32 = 0o120000;

/// What `git status` must be asked about in a worktree, found without running git.
#[derive(Debug, Default)]
pub struct Found {
    /// The paths (relative to the worktree's top) that `git status` must look at.
    pub paths: Vec<Vec<u8>>,
    /// Files (not folders) the index lacks, found by reading the folders: untracked unless
    /// ignored, which `git check-ignore` can tell without reading the index as `git status`
    /// does. Empty when they are among `paths`.
    pub new_files: Vec<Vec<u8>>,
    /// Untracked entries already known (from the untracked cache, untouched since), as
    /// `git status` names them: not asked about again.
    pub untracked: Vec<String>,
    /// The untracked cache to write once git's answer for `paths` is known.
    pub remember: Option<untracked_cache::Cache>,
}

/// What [`suspects`] needs of the repository besides the worktree itself.
pub struct Context<'a> {
    /// The file-system monitor, when the repository has one.
    pub monitor: Option<&'a mut Monitor>,
    /// The ignore files and settings outside the worktree ([`untracked_cache::ignore_rules`]
    /// without the worktree's own); `None`: no untracked cache.
    pub ignore_rules: Option<&'a dyn Fn(&Path) -> String>,
}

/// Suspect paths of the worktree at `top`, whose admin dir is `git_dir` and whose `HEAD` has
/// the tree `head_tree`. `None` means: ask git about everything. That is the answer when
/// something may be staged (the cache tree does not vouch that the index is `HEAD`), when a
/// conflict or a `git add -N` entry is present, when the index is of a kind this reader does
/// not know, or when there are more than `limit` suspects (racily clean entries among them).
///
/// With a file-system monitor hook (`core.fsmonitor`), the paths it reports changed since
/// the index was written (with the entries git had not vouched for, and the racily clean
/// ones) are the suspects, and nothing is stat'ed; when it cannot tell, the stat pass runs.
/// With watchman itself, the untracked cache stands in for reading the folders when it can.
pub fn suspects(
    top: &Path,
    git_dir: &Path,
    head_tree: &[u8],
    limit: usize,
    mut context: Context,
) -> Option<Found> {
    if let (Some(monitor), Some(rules)) = (context.monitor.as_deref_mut(), context.ignore_rules) {
        if let Some(found) = unchanged(top, git_dir, head_tree, monitor, rules) {
            return Some(found);
        }
    }
    let index = index::read(&git_dir.join("index")).ok()?;
    let racy = index
        .entries
        .iter()
        .filter(|e| is_racy(e, index.written))
        .count();
    if index.tree.as_ref().map(|t| &t[..]) != Some(head_tree)
        || index
            .entries
            .iter()
            .any(|e| e.stage != 0 || e.intent_to_add)
        || racy > limit
    {
        return None;
    }
    // What the monitor reports changed (with the entries git had not vouched for and the
    // racily clean ones) stands in for the stat of every tracked file.
    let mut monitor = context.monitor;
    let changed = monitor
        .as_deref_mut()
        .and_then(|m| m.changed(top, &index))
        .map(|mut changed| {
            changed.paths.extend(
                index
                    .entries
                    .iter()
                    .filter(|e| is_racy(e, index.written))
                    .map(|e| index.path(e).to_vec()),
            );
            changed
        })
        .filter(|changed| changed.paths.len() <= limit);
    // watchman answered itself: the untracked cache can be kept, and perhaps used.
    let remember = match (&changed, context.ignore_rules) {
        (
            Some(Changed {
                clock: Some(clock), ..
            }),
            Some(rules),
        ) => {
            let mut cache = untracked_cache::Cache::new(
                untracked_cache::Key {
                    root: top.canonicalize().ok()?.to_string_lossy().into_owned(),
                    paths: untracked_cache::paths_digest(&index),
                    ignore: rules(git_dir),
                },
                clock.clone(),
            );
            cache.index = index.identity.clone();
            cache.tree = hex(head_tree);
            cache.token = index
                .fsmonitor
                .as_ref()
                .and_then(|f| String::from_utf8(f.token.clone()).ok())
                .unwrap_or_default();
            cache.quiet = racy == 0
                && index
                    .fsmonitor
                    .as_ref()
                    .is_some_and(|f| f.unvouched.is_empty())
                && !index.entries.iter().any(|e| e.mode == 0o160000);
            Some(cache)
        }
        _ => None,
    };
    if let (Some(changed), Some(fresh), Some(monitor)) = (&changed, &remember, monitor) {
        if let Some(found) = from_cache(top, git_dir, &index, &changed.paths, fresh, monitor, limit)
        {
            return Some(found);
        }
    }
    // A file that was untracked before the index was written is no change to the monitor:
    // the folders are read.
    let mut root = Dir::open(top, DIR_FLAGS, Mode::empty()).ok()?;
    let mut walk = Walk {
        index: &index,
        trust_stat: changed.is_some(),
        suspects: changed.map(|c| c.paths).unwrap_or_default(),
        limit,
    };
    walk.dir(&mut root, &index.entries, 0).ok()?;
    let all = untracked_at_the_top(&index, walk.suspects);
    if all.len() > limit {
        return None;
    }
    let (new_files, paths): (Vec<_>, Vec<_>) = all.into_iter().partition(|path| {
        matches!(find(&index, path), Tracked::No)
            && std::fs::symlink_metadata(top.join(OsStr::from_bytes(path)))
                .is_ok_and(|m| !m.is_dir())
    });
    Some(Found {
        paths,
        new_files,
        untracked: Vec::new(),
        remember,
    })
}

/// The answer without even reading the index, when nothing changed since the last list: the
/// untracked cache was made from this very index file (same paths), which alone gave no
/// suspect, against this `HEAD` tree and these ignore rules, and watchman reports no change
/// since the index's token nor since the cache's clock. Then the cached untracked entries
/// are the whole answer.
fn unchanged(
    top: &Path,
    git_dir: &Path,
    head_tree: &[u8],
    monitor: &mut Monitor,
    rules: &dyn Fn(&Path) -> String,
) -> Option<Found> {
    let cache = untracked_cache::load(git_dir)?;
    let same = cache.quiet
        && cache.index == index::identity(&git_dir.join("index")).ok()?
        && cache.tree == hex(head_tree)
        && cache.key.root == top.canonicalize().ok()?.to_string_lossy()
        && cache.key.ignore == rules(git_dir);
    if !same {
        return None;
    }
    for clock in [&cache.token, &cache.clock] {
        match monitor.since(top, clock)? {
            Since::Changed { names, .. } if names.is_empty() => {}
            _ => return None,
        }
    }
    Some(Found {
        paths: Vec::new(),
        new_files: Vec::new(),
        untracked: cache.untracked,
        remember: None,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The suspects when the untracked cache of the worktree holds and watchman can say what
/// changed since it was written: the tracked ones (`tracked`), each name watchman reports
/// that the index lacks, and the cached untracked entries those touch; the untouched ones
/// are taken as they are. `None` when the cache cannot be used (missing, for another key,
/// from another watchman instance, or a `.gitignore` changed).
fn from_cache(
    top: &Path,
    git_dir: &Path,
    index: &Index,
    tracked: &[Vec<u8>],
    fresh: &untracked_cache::Cache,
    monitor: &mut Monitor,
    limit: usize,
) -> Option<Found> {
    let cache = untracked_cache::load(git_dir).filter(|c| c.key == fresh.key)?;
    let Since::Changed { clock, names } = monitor.since(top, &cache.clock)? else {
        return None;
    };
    if names
        .iter()
        .any(|n| n.rsplit(|&b| b == b'/').next() == Some(b".gitignore"))
    {
        return None;
    }
    // What changed since the token, and each name the index lacks that changed since the
    // cache, at their outermost untracked folder.
    let mut paths = tracked.to_vec();
    paths.extend(names.into_iter().filter(|n| find(index, n) == Tracked::No));
    let mut paths = untracked_at_the_top(index, paths);
    let (touched, untouched): (Vec<String>, Vec<String>) =
        cache.untracked.into_iter().partition(|entry| {
            let entry = entry.strip_suffix('/').unwrap_or(entry).as_bytes();
            paths.iter().any(|p| within(p, entry) || within(entry, p))
        });
    paths.extend(
        touched
            .iter()
            .map(|e| e.strip_suffix('/').unwrap_or(e).as_bytes().to_vec()),
    );
    paths.sort();
    paths.dedup();
    let mut remember = fresh.clone();
    // Everything cached was true at this clock (nothing touched the untouched entries
    // before it; git is asked about the rest after it).
    remember.clock = clock;
    (paths.len() <= limit).then_some(Found {
        paths,
        new_files: Vec::new(),
        untracked: untouched,
        remember: Some(remember),
    })
}

/// `path` is `dir` or inside it.
fn within(path: &[u8], dir: &[u8]) -> bool {
    path.starts_with(dir) && (path.len() == dir.len() || path[dir.len()] == b'/')
}

#[derive(Debug, PartialEq, Eq)]
enum Tracked {
    File,
    Dir,
    No,
}

/// Whether the index has `path` as an entry, as a folder of entries, or not at all.
fn find(index: &Index, path: &[u8]) -> Tracked {
    let at = index.entries.partition_point(|e| index.path(e) < path);
    match index.entries.get(at).map(|e| index.path(e)) {
        Some(p) if p == path => Tracked::File,
        _ => {
            let dir = [path, b"/"].concat();
            let at = index.entries.partition_point(|e| index.path(e) < &dir[..]);
            match index.entries.get(at) {
                Some(e) if index.path(e).starts_with(&dir) => Tracked::Dir,
                _ => Tracked::No,
            }
        }
    }
}

/// Each path the index lacks, replaced by its outermost folder that the index lacks too:
/// git lists an untracked folder as one entry (`dir/`), and asked about paths inside it,
/// lists those instead, so only the folder gives the count a full `git status` gives.
fn untracked_at_the_top(index: &Index, paths: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = paths
        .into_iter()
        .map(|path| {
            let mut end = 0;
            for part in path.split(|&b| b == b'/') {
                end += part.len();
                match find(index, &path[..end]) {
                    Tracked::Dir => end += 1,
                    // A tracked file with something below it (now a folder), or the
                    // outermost untracked folder: git is asked about it as a whole.
                    Tracked::File | Tracked::No => return path[..end.min(path.len())].to_vec(),
                }
            }
            path
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// More than `limit` suspects, or a folder that could not be listed: ask git about all.
struct Unsure;

struct Walk<'a> {
    index: &'a Index,
    /// A file-system monitor vouched for the tracked files: they are not stat'ed.
    trust_stat: bool,
    suspects: Vec<Vec<u8>>,
    limit: usize,
}

impl<'a> Walk<'a> {
    fn suspect(&mut self, path: &[u8]) -> Result<(), Unsure> {
        if self.suspects.len() >= self.limit {
            return Err(Unsure);
        }
        self.suspects.push(path.to_vec());
        Ok(())
    }

    /// Looks at `entries`, all of them below `dir` (whose path is the first `prefix` bytes of
    /// each), then at the names in `dir` that none of them accounts for.
    fn dir(&mut self, dir: &mut Dir, entries: &'a [Entry], prefix: usize) -> Result<(), Unsure> {
        let mut tracked: HashSet<&'a [u8]> = HashSet::new();
        let mut rest = entries;
        while let Some(first) = rest.first() {
            let path = self.index.path(first);
            let name = &path[prefix..];
            match name.iter().position(|&b| b == b'/') {
                None => {
                    tracked.insert(name);
                    if !first.assume_valid
                        && !first.skip_worktree
                        && !self.trust_stat
                        && self.changed(dir, first, name)
                    {
                        self.suspect(path)?;
                    }
                    rest = &rest[1..];
                }
                Some(slash) => {
                    let sub = &path[..prefix + slash + 1];
                    let inside = rest.partition_point(|e| self.index.path(e).starts_with(sub));
                    let (below, after) = rest.split_at(inside);
                    tracked.insert(&name[..slash]);
                    match Dir::openat(dir.as_fd(), &name[..slash], DIR_FLAGS, Mode::empty()) {
                        Ok(mut child) => self.dir(&mut child, below, sub.len())?,
                        // Outside the sparse checkout: git does not look there either.
                        Err(_) if below.iter().all(|e| e.skip_worktree) => {}
                        // Gone, or now a file or a symlink.
                        Err(_) => self.suspect(&sub[..sub.len() - 1])?,
                    }
                    rest = after;
                }
            }
        }
        let dir_path = entries
            .first()
            .map_or(&b""[..], |e| &self.index.path(e)[..prefix]);
        let mut untracked = Vec::new();
        for listed in dir.iter() {
            let listed = listed.map_err(|_| Unsure)?;
            let name = listed.file_name().to_bytes();
            if !matches!(name, b"." | b".." | b".git") && !tracked.contains(name) {
                untracked.push(name.to_vec());
            }
        }
        for name in untracked {
            self.suspect(&[dir_path, &name].concat())?;
        }
        Ok(())
    }

    fn changed(&self, dir: &Dir, entry: &Entry, name: &[u8]) -> bool {
        match fstatat(dir.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
            Ok(st) => differs(entry, &st, self.index.written),
            Err(_) => true,
        }
    }
}

/// git's `ie_match_stat`, stricter where that is simpler: a file may have changed when its
/// stat data differs in any field, or when it changed in the second the index was `written`
/// (a time in seconds) or later.
fn differs(entry: &Entry, st: &FileStat, written: i64) -> bool {
    // `mode_t` is 32 bits on Linux, 16 on macOS.
    #[allow(clippy::useless_conversion)]
    let mode = u32::from(st.st_mode);
    let kind = mode & S_IFMT;
    let kind_differs = match entry.mode & S_IFMT {
        S_IFREG => kind != S_IFREG || (mode ^ entry.mode) & 0o100 != 0,
        S_IFLNK => kind != S_IFLNK,
        // A submodule: git looks inside it, so must we.
        _ => true,
    };
    kind_differs
        || recorded(st) != entry.stat
        // git empties the size of an entry it found racily clean ("smudges" it).
        || (entry.stat.size == 0 && !entry.empty_blob)
        || is_racy(entry, written)
}

/// Changed in the second the index was written, or later: the stat data cannot tell whether
/// the content changed too. Right after a checkout that can be most files; the first git
/// command that writes the index (a `git status`, `git add`…) settles them.
fn is_racy(entry: &Entry, written: i64) -> bool {
    i64::from(entry.stat.mtime.0) >= written && !entry.assume_valid && !entry.skip_worktree
}

/// `st` as git would record it in the index (each field cut to 32 bits).
fn recorded(st: &FileStat) -> index::Stat {
    index::Stat {
        ctime: (st.st_ctime as u32, st.st_ctime_nsec as u32),
        mtime: (st.st_mtime as u32, st.st_mtime_nsec as u32),
        ino: st.st_ino as u32,
        uid: st.st_uid,
        gid: st.st_gid,
        size: st.st_size as u32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry_for(st: &FileStat) -> Entry {
        Entry {
            stat: recorded(st),
            mode: 0o100644,
            stage: 0,
            assume_valid: false,
            skip_worktree: false,
            intent_to_add: false,
            empty_blob: false,
            path: 0..0,
        }
    }

    #[test]
    fn trusts_stat_data_only_for_files_older_than_the_index() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("f");
        std::fs::write(&file, "content\n").expect("write");
        let st = nix::sys::stat::lstat(&file).expect("stat");
        let entry = entry_for(&st);
        let mtime = st.st_mtime;
        assert!(
            !differs(&entry, &st, mtime + 1),
            "same stat data, older than the index"
        );
        assert!(
            differs(&entry, &st, mtime),
            "written in the index's second: racy"
        );
        assert!(
            differs(&entry, &st, mtime - 1),
            "written after the index: racy"
        );
        let bigger = Entry {
            stat: index::Stat {
                size: 9,
                ..entry.stat
            },
            ..entry.clone()
        };
        assert!(differs(&bigger, &st, mtime + 1));
        let smudged = Entry {
            stat: index::Stat {
                size: 0,
                ..entry.stat
            },
            ..entry.clone()
        };
        assert!(differs(&smudged, &st, mtime + 1), "smudged by git");
        let executable = Entry {
            mode: 0o100755,
            ..entry.clone()
        };
        assert!(differs(&executable, &st, mtime + 1));
        let link = Entry {
            mode: 0o120000,
            ..entry
        };
        assert!(differs(&link, &st, mtime + 1));
    }
}
