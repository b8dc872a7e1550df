//! What a worktree holds that is not committed, from `git status --porcelain -z` (git's own
//! view, with its ignore rules, filters and submodule handling).

use std::collections::HashSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Context, Result};
use crate::git::{git, scan, untracked_cache};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Status {
    pub staged: usize,
    pub unstaged: usize,
    pub untracked: usize,
    pub conflicted: usize,
    /// Every path that shows up, with its two-letter code.
    pub entries: Vec<(String, String)>,
}

impl Status {
    pub fn is_clean(&self) -> bool {
        self.entries.is_empty()
    }

    /// Parses `git status --porcelain -z`: `XY path\0`, with a second path after renames.
    pub fn parse(raw: &[u8]) -> Status {
        let mut status = Status::default();
        let mut fields = raw.split(|b| *b == 0).filter(|f| !f.is_empty());
        while let Some(field) = fields.next() {
            if field.len() < 4 {
                continue;
            }
            let code = String::from_utf8_lossy(&field[..2]).into_owned();
            let path = String::from_utf8_lossy(&field[3..]).into_owned();
            let (x, y) = (field[0], field[1]);
            if x == b'R' || x == b'C' {
                fields.next();
            }
            match (x, y) {
                (b'?', b'?') => status.untracked += 1,
                (b'U', _) | (_, b'U') | (b'A', b'A') | (b'D', b'D') => status.conflicted += 1,
                _ => {
                    if x != b' ' {
                        status.staged += 1;
                    }
                    if y != b' ' {
                        status.unstaged += 1;
                    }
                }
            }
            status.entries.push((code, path));
        }
        status
    }
}

/// Status of the worktree at `dir`. Read-only: `--no-optional-locks` keeps git from taking
/// the worktree's `index.lock` to save its refreshed index, so a `git par list` never makes
/// an agent's `git commit` in that worktree fail on a held lock.
pub fn status(dir: &Path) -> Result<Status> {
    status_of(dir, &[])
}

/// Most paths one `git par list` hands to `git status` for a worktree; with more, git is
/// asked about the whole worktree.
const MOST_SUSPECTS: usize = 256;

/// The status `git par list` shows for the worktree at `dir` (admin dir `git_dir`, `HEAD`
/// tree `head_tree`). A stat pass ([`scan`]) finds the paths that may have changed and git
/// is asked about those alone, so a clean worktree costs no git process at all; when the
/// pass cannot tell, git is asked about everything.
pub fn status_for_list(
    dir: &Path,
    git_dir: &Path,
    head_tree: Option<git2::Oid>,
    context: scan::Context,
) -> Result<Status> {
    let monitored = context.monitor.is_some();
    let found = head_tree
        .and_then(|tree| scan::suspects(dir, git_dir, tree.as_bytes(), MOST_SUSPECTS, context));
    let Some(found) = found else {
        return status(dir);
    };
    let mut status = Status::default();
    let mut asked = found.paths;
    // New files alone need no `git status` (which reads the whole index): what is not
    // ignored is untracked.
    match (asked.is_empty(), &found.new_files[..]) {
        (_, []) => {}
        (true, files) => match untracked_among(dir, files) {
            Some(untracked) => {
                for file in untracked {
                    status.untracked += 1;
                    status
                        .entries
                        .push(("??".into(), String::from_utf8_lossy(file).into_owned()));
                }
            }
            None => asked.extend(found.new_files),
        },
        (false, _) => asked.extend(found.new_files),
    }
    if !asked.is_empty() {
        let paths: Vec<&OsStr> = asked.iter().map(|p| OsStr::from_bytes(p)).collect();
        // git stats only the paths it is given, so a file-system monitor has nothing to
        // save it, and asking the hook again would cost a second query per task.
        let without = ["-c", "core.fsmonitor=false"];
        status = status_with(dir, &without[..if monitored { 2 } else { 0 }], &paths)?;
    }
    for entry in found.untracked {
        status.untracked += 1;
        status.entries.push(("??".into(), entry));
    }
    if let Some(mut cache) = found.remember {
        cache.untracked = status
            .entries
            .iter()
            .filter(|(code, _)| code == "??")
            .map(|(_, path)| path.clone())
            .collect();
        // A name that is not UTF-8 was mangled on the way: not worth keeping.
        if !cache.untracked.iter().any(|p| p.contains('\u{fffd}')) {
            untracked_cache::store(git_dir, &cache);
        }
    }
    Ok(status)
}

/// Which of `files` (files the index of the worktree at `dir` lacks) `git status` would list
/// as untracked: those its ignore rules do not exclude, asked of `git check-ignore`, which
/// reads the same rules and not the index. `None` when git would list them otherwise
/// (`status.showUntrackedFiles` set to anything but `normal` or `all`) or cannot be asked.
fn untracked_among<'a>(dir: &Path, files: &'a [Vec<u8>]) -> Option<Vec<&'a Vec<u8>>> {
    // check-ignore reads its paths as pathspecs and knows no `--literal-pathspecs`: a name
    // that starts with `:` would be taken for pathspec magic.
    if files.iter().any(|f| f.starts_with(b":")) {
        return None;
    }
    let shown = git(dir, ["config", "--get", "status.showUntrackedFiles"])
        .output()
        .ok()?;
    match (shown.code, shown.stdout_str().as_str()) {
        (1, _) | (0, "normal" | "all") => {}
        _ => return None,
    }
    let list: Vec<u8> = files
        .iter()
        .flat_map(|f| f.iter().copied().chain([0]))
        .collect();
    let out = git(dir, ["check-ignore", "--no-index", "-z", "--stdin"])
        .stdin(list)
        .output()
        .ok()?;
    if out.code > 1 {
        return None;
    }
    let ignored: HashSet<&[u8]> = out.stdout.split(|b| *b == 0).collect();
    Some(files.iter().filter(|f| !ignored.contains(&f[..])).collect())
}

/// `git status` limited to `paths` (taken literally), or of everything when there are none.
fn status_of(dir: &Path, paths: &[&OsStr]) -> Result<Status> {
    status_with(dir, &[], paths)
}

/// [`status_of`], with git options (`-c key=value`) before the command.
fn status_with(dir: &Path, options: &[&str], paths: &[&OsStr]) -> Result<Status> {
    let mut args: Vec<&OsStr> = options.iter().map(OsStr::new).collect();
    args.extend(
        [
            "--no-optional-locks",
            "--literal-pathspecs",
            "status",
            "--porcelain",
            "-z",
            "--no-renames",
            "--",
        ]
        .iter()
        .map(OsStr::new),
    );
    args.extend_from_slice(paths);
    let out = git(dir, args)
        .run()
        .with_context(|| format!("could not read the status of {}", dir.display()))?;
    Ok(Status::parse(&out.stdout))
}

#[cfg(test)]
mod tests {
    use super::Status;

    #[test]
    fn counts_each_kind() {
        let raw = b"M  staged.txt\0 M unstaged.txt\0MM both.txt\0?? new.txt\0UU conflict.txt\0R  new\0old\0";
        let s = Status::parse(raw);
        assert_eq!(
            (s.staged, s.unstaged, s.untracked, s.conflicted),
            (3, 2, 1, 1)
        );
        assert_eq!(s.entries.len(), 6);
    }
}
