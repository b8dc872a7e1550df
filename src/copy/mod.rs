//! `start --copy-ignored`: what is ignored but worth having in a new task (build caches such as
//! `target/` and `node_modules/`, local files such as `.env`), copied from the worktree the
//! task starts from, so the first build there is not a build from scratch.
//!
//! Which entries: git lists what it ignores there (`ls-files --others --ignored --directory`,
//! so a whole ignored folder is one entry and git's own rules decide). A `.worktreeinclude` at
//! the top of that worktree (gitignore syntax, read by other worktree tools too) narrows them
//! to what its patterns match; `par.copyIgnoredExclude` patterns leave things out. Never
//! copied: git-par's worktree dir, other worktrees, the new worktree itself, and any folder
//! holding a `.git` (a nested repository or worktree: its objects and index belong to it,
//! and a copied `.git` file would make a second folder claim to be that worktree).

mod file;
mod size;
pub mod tree;

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::git::{git, Repo};
pub use size::needed as space_needed;
pub use tree::Summary;

/// The file whose patterns select what is copied.
pub const INCLUDE_FILE: &str = ".worktreeinclude";

/// What to copy, found before the copy starts.
pub struct Plan {
    pub source: PathBuf,
    /// Paths relative to the source, each a file or a whole folder.
    pub entries: Vec<PathBuf>,
    /// Paths relative to the source that are never entered.
    pub skip: HashSet<PathBuf>,
}

/// Works out what to copy from `source` into `dest` (which need not exist yet).
pub fn plan(repo: &Repo, source: &Path, dest: &Path, exclude: &[String]) -> Result<Plan> {
    let root = tree::open_root(source)?;
    let ignored = ignored_entries(source, &[])?;
    let include = tree::read_small_file(&root, INCLUDE_FILE, 1 << 20)?
        .map(|bytes| patterns(&bytes))
        .filter(|p| !p.is_empty());
    let mut entries = match include {
        None => ignored,
        Some(patterns) => narrow(&ignored, &ignored_entries(source, &patterns)?),
    };
    let mut skip: HashSet<PathBuf> = if exclude.is_empty() {
        HashSet::new()
    } else {
        ignored_entries(source, exclude)?.into_iter().collect()
    };
    let real_source = fsutil::resolve(source);
    let mut never = vec![repo.worktree_dir(), dest.to_path_buf()];
    never.extend(repo.worktrees().into_iter().map(|w| w.path));
    for path in never {
        let real = fsutil::resolve(&path);
        if let Ok(rel) = real.strip_prefix(&real_source) {
            if !rel.as_os_str().is_empty() {
                skip.insert(rel.to_path_buf());
            }
        }
    }
    entries.retain(|e| !skip.iter().any(|s| e.starts_with(s)));
    Ok(Plan {
        source: source.to_path_buf(),
        entries,
        skip,
    })
}

/// Copies what `plan` found into `dest`, which must be the folder `identity` names.
pub fn run(
    plan: &Plan,
    dest: &Path,
    identity: Option<crate::ops::gate::Identity>,
    show_progress: bool,
) -> Result<Summary> {
    let source = tree::open_root(&plan.source)?;
    let target = tree::open_root(dest)?;
    let stat = rustix::fs::fstat(&target)
        .map_err(|e| Error::failed(format!("could not read {}: {e}", dest.display())))?;
    // `dev_t` is 64 bits on Linux, 32 (signed) on macOS.
    #[allow(clippy::unnecessary_cast)]
    let found = crate::ops::gate::Identity {
        dev: stat.st_dev as u64,
        ino: stat.st_ino,
        born: None,
    };
    if identity.is_some_and(|id| !id.same(found)) {
        return Err(Error::failed(format!(
            "{} is no longer the worktree that was just made; nothing was copied into it",
            dest.display()
        )));
    }
    if plan.entries.is_empty() {
        return Ok(Summary::default());
    }
    // Drawn only once the copy has taken a second: a quick one leaves no trace.
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    let reveal = show_progress.then(|| Instant::now() + Duration::from_secs(1));
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} copying ignored files into the task: {bytes} ({binary_bytes_per_sec}, {elapsed})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    let copied = tree::copy(
        &source,
        &target,
        &plan.entries,
        &plan.skip,
        bar.clone(),
        reveal,
    );
    bar.finish_and_clear();
    copied.map_err(|e| match e.exit_code() {
        1 => e.context(format!(
            "could not copy ignored files from {} into {}",
            plan.source.display(),
            dest.display()
        )),
        _ => e,
    })
}

/// Non-empty, non-comment lines of a gitignore-syntax file.
fn patterns(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .map(|l| match l.ends_with("\\ ") {
            true => l.to_string(),
            false => l.trim_end().to_string(),
        })
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Untracked entries of `dir` that git ignores: by its usual rules when `patterns` is empty,
/// else by those patterns alone. Whole folders come as one entry.
fn ignored_entries(dir: &Path, patterns: &[String]) -> Result<Vec<PathBuf>> {
    let mut args: Vec<String> = ["ls-files", "-z", "--others", "--ignored", "--directory"]
        .map(String::from)
        .to_vec();
    if patterns.is_empty() {
        args.push("--exclude-standard".into());
    }
    for p in patterns {
        args.push(format!("--exclude={p}"));
    }
    let out = git(dir, &args).run().map_err(|e| {
        e.context(format!(
            "could not list the ignored files in {}",
            dir.display()
        ))
    })?;
    Ok(out
        .stdout
        .split(|b| *b == 0)
        .filter(|e| !e.is_empty())
        .map(|e| {
            let e = e.strip_suffix(b"/").unwrap_or(e);
            PathBuf::from(OsStr::from_bytes(e))
        })
        .collect())
}

/// The ignored entries that the include patterns select: where one list holds a folder and
/// the other something inside it, the deeper of the two.
fn narrow(ignored: &[PathBuf], selected: &[PathBuf]) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for i in ignored {
        for s in selected {
            let deeper = if i.starts_with(s) {
                i
            } else if s.starts_with(i) {
                s
            } else {
                continue;
            };
            if !out.contains(deeper) {
                out.push(deeper.clone());
            }
        }
    }
    out
}

/// The line `start` prints after a copy.
pub fn describe(summary: &Summary, source: &Path) -> String {
    let how = match (summary.reflinked, summary.files) {
        (0, _) => "copied",
        (r, f) if r == f => "cloned",
        _ => "cloned or copied",
    };
    let mut line = format!(
        "Copied {} ignored file(s) and {} symlink(s) ({}, {how}) from {}",
        summary.files,
        summary.symlinks,
        indicatif::HumanBytes(summary.bytes),
        source.display()
    );
    if !summary.left_alone.is_empty() {
        line.push_str(&format!(
            "; left {} alone (already there, or not a file, folder or symlink)",
            summary.left_alone.len()
        ));
    }
    if !summary.repositories.is_empty() {
        let names: Vec<String> = summary
            .repositories
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        line.push_str(&format!("; left out repositories: {}", names.join(", ")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_takes_the_deeper_of_two_nested_paths() {
        let p = |s: &str| PathBuf::from(s);
        let ignored = [p("target"), p(".env"), p("x.log")];
        let selected = [p("target/debug"), p(".env"), p("src/build")];
        assert_eq!(
            narrow(&ignored, &selected),
            vec![p("target/debug"), p(".env")]
        );
    }

    #[test]
    fn include_file_comments_and_blanks_are_not_patterns() {
        assert_eq!(
            patterns(b"# caches\ntarget/\n\n.env  \r\n"),
            vec!["target/".to_string(), ".env".to_string()]
        );
    }
}
