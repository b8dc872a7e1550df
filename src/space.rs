//! Free-space check before a checkout: an estimate of what the tree will take on disk (file
//! sizes rounded up to blocks, plus an inode's worth per entry) against what the file system
//! has free, with `par.minFreeSpace` as the margin.

use std::collections::HashMap;
use std::path::Path;

use git2::{ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};
use nix::sys::statvfs::statvfs;

use crate::error::{Error, Result};

const BLOCK: u64 = 4096;

/// Bytes the checkout of `commit` will take. Sizes come from the index where it has the same
/// blob (no object to read), else from the object's header.
pub fn checkout_size(repo: &Repository, commit: Oid) -> Result<u64> {
    let known: HashMap<Oid, u64> = match repo.index() {
        Ok(index) => index
            .iter()
            .map(|e| (e.id, u64::from(e.file_size)))
            .collect(),
        Err(_) => HashMap::new(),
    };
    let odb = repo.odb()?;
    let tree = repo.find_commit(commit)?.tree()?;
    let mut total = 0u64;
    tree.walk(TreeWalkMode::PreOrder, |_, entry| {
        let size = match entry.kind() {
            Some(ObjectType::Blob) => known
                .get(&entry.id())
                .copied()
                .or_else(|| {
                    odb.read_header(entry.id())
                        .ok()
                        .map(|(size, _)| size as u64)
                })
                .unwrap_or(0),
            _ => 0,
        };
        total += size.div_ceil(BLOCK) * BLOCK + BLOCK;
        TreeWalkResult::Ok
    })?;
    Ok(total)
}

/// Bytes free for us on the file system holding `path` (or its nearest existing parent).
pub fn available(path: &Path) -> Result<u64> {
    let mut dir = path;
    while !dir.exists() {
        dir = dir.parent().unwrap_or(Path::new("/"));
    }
    let stat = statvfs(dir).map_err(|e| {
        Error::failed(format!(
            "could not read free space at {}: {e}",
            dir.display()
        ))
    })?;
    Ok(stat.blocks_available() as u64 * stat.fragment_size() as u64)
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

/// Refuses when the checkout of `commit` at `path` would leave less than `margin` free.
pub fn ensure(repo: &Repository, commit: Oid, path: &Path, margin: u64, task: &str) -> Result<()> {
    let needed = checkout_size(repo, commit)?;
    let free = available(path)?;
    if free < needed.saturating_add(margin) {
        return Err(Error::failed(format!(
            "not enough disk space for task '{task}': its checkout needs about {} plus a margin of {}, and {} is free at {}",
            human(needed),
            human(margin),
            human(free),
            path.display()
        ))
        .hint("free some space, or lower the margin with 'git config par.minFreeSpace <size>'"));
    }
    Ok(())
}
