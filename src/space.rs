//! Free-space check before a checkout: an estimate of what the tree will take on disk (file
//! sizes rounded up to blocks, plus an inode's worth per entry) against what the file system
//! has free, with `par.minFreeSpace` as the margin.

use std::path::Path;

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use nix::sys::statvfs::statvfs;

use crate::error::{Error, Refusal, Result};

const BLOCK: u64 = 4096;

/// What one inode takes in the inode table (ext4's default).
const INODE: u64 = 256;

/// What a file of `size` bytes takes on disk, its inode included.
pub fn on_disk(size: u64) -> u64 {
    size.div_ceil(BLOCK) * BLOCK + INODE
}

/// Bytes the checkout of `commit` will take. When `commit` is what the current worktree has
/// checked out, the index already knows every file's size; otherwise the tree is walked and
/// each blob's size read from its object header. The index is read with git-par's own reader:
/// libgit2's held the whole file beside a copy of every entry, 19 MB of a 100,000-file
/// index, which made this the peak of `git par start` (28 MB).
pub fn checkout_size(repo: &Repository, commit: Oid) -> Result<u64> {
    let head = repo.head().ok().and_then(|h| h.target());
    match (head == Some(commit)).then(|| index_size(repo)).flatten() {
        Some(size) => Ok(size),
        None => tree_size(repo, commit),
    }
}

/// What the files of the index take on disk; `None` when it cannot tell (a conflict, an
/// index git-par's reader does not know).
fn index_size(repo: &Repository) -> Option<u64> {
    let index = crate::git::index::read(&repo.path().join("index")).ok()?;
    index.entries.iter().all(|e| e.stage == 0).then(|| {
        index
            .entries
            .iter()
            .map(|e| on_disk(u64::from(e.stat.size)))
            .sum()
    })
}

fn tree_size(repo: &Repository, commit: Oid) -> Result<u64> {
    let odb = repo.odb()?;
    let tree = repo.find_commit(commit)?.tree()?;
    let mut total = 0u64;
    tree.walk(TreeWalkMode::PreOrder, |_, entry| {
        let size = match entry.kind() {
            Some(ObjectType::Blob) => odb
                .read_header(entry.id())
                .map_or(0, |(size, _)| size as u64),
            _ => 0,
        };
        total += on_disk(size);
        TreeWalkResult::Ok
    })?;
    Ok(total)
}

/// Bytes free for us on the file system holding `path` (or its nearest existing parent).
pub fn available(path: &Path) -> Result<u64> {
    let dir = nearest_existing(path);
    let stat = statvfs(dir).map_err(|e| {
        Error::failed(format!(
            "could not read free space at {}: {e}",
            dir.display()
        ))
    })?;
    Ok(stat.blocks_available() as u64 * stat.fragment_size() as u64)
}

/// `path`, or its nearest parent that exists: where a folder about to be made will be.
pub fn nearest_existing(path: &Path) -> &Path {
    let mut dir = path;
    while !dir.exists() {
        dir = dir.parent().unwrap_or(Path::new("/"));
    }
    dir
}

pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["bytes", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Refuses when the checkout of `commit` at `path`, and `copy` bytes of ignored files copied
/// into it (`start --copy-ignored`), would leave less than `margin` free.
pub fn ensure(
    repo: &Repository,
    commit: Oid,
    path: &Path,
    margin: u64,
    task: &str,
    copy: u64,
) -> Result<()> {
    let checkout = checkout_size(repo, commit)?;
    if copy == 0 {
        return ensure_free(checkout, path, margin, task);
    }
    let needs = format!(
        "its checkout needs about {} and the copy of its ignored files about {}",
        human(checkout),
        human(copy)
    );
    refuse_if_short(checkout.saturating_add(copy), &needs, path, margin, task).map_err(|e| {
        e.hint(format!(
            "or start it without copying them: 'git par start --no-copy-ignored {task}'"
        ))
    })
}

/// Refuses when `needed` bytes at `path` would leave less than `margin` free.
pub fn ensure_free(needed: u64, path: &Path, margin: u64, task: &str) -> Result<()> {
    let needs = format!("its checkout needs about {}", human(needed));
    refuse_if_short(needed, &needs, path, margin, task)
}

fn refuse_if_short(needed: u64, needs: &str, path: &Path, margin: u64, task: &str) -> Result<()> {
    let free = available(path)?;
    if free < needed.saturating_add(margin) {
        return Err(Error::failed(format!(
            "not enough disk space for task '{task}': {needs} plus a margin of {}, and {} is free at {}",
            human(margin),
            human(free),
            path.display()
        ))
        .hint("free some space, or lower the margin with 'git config par.minFreeSpace <size>'")
        .because(Refusal::NoSpace));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn the_index_and_the_tree_give_the_same_size() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let git = |args: &[&str]| {
            let mut cmd = Command::new("git");
            // Never an inherited repository (a test run from a hook): only the temp one.
            for var in crate::git::run::REPO_ENV {
                cmd.env_remove(var);
            }
            let out = cmd
                .current_dir(dir)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("HOME", dir)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .output()
                .expect("git");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        git(&["init", "-q"]);
        std::fs::create_dir(dir.join("sub")).expect("mkdir");
        for (name, size) in [("empty", 0), ("small", 10), ("sub/big", 70_000)] {
            std::fs::write(dir.join(name), "x".repeat(size)).expect("write");
        }
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "files"]);
        let repo = Repository::open(dir).expect("open");
        let head = repo.head().expect("head").target().expect("oid");
        let from_tree = tree_size(&repo, head).expect("tree");
        let from_index = index_size(&repo).expect("index");
        // The tree walk counts the folder `sub` as an inode too.
        assert_eq!(from_index + on_disk(0), from_tree);
        assert_eq!(checkout_size(&repo, head).expect("size"), from_index);
        assert_eq!(from_index, on_disk(0) + on_disk(10) + on_disk(70_000));
    }
}
