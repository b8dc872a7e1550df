//! A worktree's uncommitted state as git objects: the tree of its index and the tree of its
//! files (untracked ones included, ignored ones not), built with a private copy of the index
//! so the user's index and stash list are never touched.
//!
//! Snapshots carry changes into a new task (`start --changes`) and save work before anything
//! is deleted (`refs/par/rescued/…`).

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::error::{Context, Error, Result};
use crate::git::git;
use crate::git::run::Git;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub head: String,
    pub index_tree: String,
    pub worktree_tree: String,
}

fn rev(dir: &Path, spec: &str) -> Result<String> {
    Ok(git(dir, ["rev-parse", "--verify", "--quiet", spec])
        .run()?
        .stdout_str())
}

/// The worktree's private git dir (where its index lives).
pub fn git_dir(dir: &Path) -> Result<PathBuf> {
    let out = git(dir, ["rev-parse", "--absolute-git-dir"]).run()?;
    Ok(PathBuf::from(out.stdout_str()))
}

/// Records the state of the worktree at `dir`. Everything is read through a private copy
/// of its index: the real index is never written, so a stale `index.lock` left by a killed git
/// does not stop the rescue, and the user's index is as it was.
pub fn capture(dir: &Path) -> Result<Snapshot> {
    capture_keeping(dir, &[])
}

/// [`capture`], with the ignored files that match `keep` (gitignore patterns) among the files.
pub fn capture_keeping(dir: &Path, keep: &[String]) -> Result<Snapshot> {
    let what = || {
        format!(
            "could not save the uncommitted changes in {}",
            dir.display()
        )
    };
    let head = rev(dir, "HEAD^{commit}").with_context(what)?;
    let (index_tree, worktree_tree) =
        private_trees(dir, Some(&head), keep, &[]).with_context(what)?;
    Ok(Snapshot {
        head,
        index_tree,
        worktree_tree,
    })
}

/// The trees of the index and of the files of the repository at `dir` (its top), whose HEAD
/// is `head` (`None`: unborn), through a private copy of its index.
/// Folders in `skip` (repositories inside it, saved on their own) are left as the index has them.
pub fn private_trees(
    dir: &Path,
    head: Option<&str>,
    keep: &[String],
    skip: &[String],
) -> Result<(String, String)> {
    let private_dir = git_dir(dir)?;
    let temp_index = private_dir.join(format!("par-index.{}", std::process::id()));
    let index = private_dir.join("index");
    trees(
        &|args| git(dir, args),
        Some(&index),
        head,
        &temp_index,
        keep,
        skip,
        true,
    )
}

/// The trees of the index and of the files that the `git` commands `at` makes see: the index
/// is copied from `index` (when it can be), else read from `head`, into `temp_index`, which
/// is removed again. Ignored files matching `keep` (gitignore patterns) count as files.
/// Without `removals`, a file missing from the folder stays as the index has it. Folders in
/// `skip` are left as the index has them.
pub fn trees(
    at: &dyn Fn(&[&str]) -> Git,
    index: Option<&Path>,
    head: Option<&str>,
    temp_index: &Path,
    keep: &[String],
    skip: &[String],
    removals: bool,
) -> Result<(String, String)> {
    let with_temp = |args: &[&str]| at(args).env("GIT_INDEX_FILE", temp_index);
    let result = (|| -> Result<(String, String)> {
        // A copy keeps the index's stat data, so `add -A` only reads files that changed.
        let copied = index.is_some_and(|i| std::fs::copy(i, temp_index).is_ok());
        if !copied {
            let _ = std::fs::remove_file(temp_index);
            if let Some(head) = head {
                with_temp(&["read-tree", head]).run()?;
            }
        }
        let index_tree = with_temp(&["write-tree"]).run()?.stdout_str();
        let all = if removals {
            "--all"
        } else {
            "--ignore-removal"
        };
        // git refuses a pathspec naming an ignored path, even to exclude it; and it would
        // not add an ignored one anyway.
        let ignored = if skip.is_empty() {
            Vec::new()
        } else {
            let list: Vec<u8> = skip.iter().flat_map(|p| p.bytes().chain([0])).collect();
            let out = with_temp(&["check-ignore", "-z", "--stdin"])
                .stdin(list)
                .output()?;
            out.stdout
        };
        let ignored: Vec<&[u8]> = ignored.split(|b| *b == 0).collect();
        let skipped: Vec<String> = skip
            .iter()
            .filter(|path| !ignored.contains(&path.as_bytes()))
            .map(|path| format!(":(top,exclude,literal){path}"))
            .collect();
        let mut add = vec!["add", all, "--", ":/"];
        add.extend(skipped.iter().map(String::as_str));
        with_temp(&add).run()?;
        if !keep.is_empty() {
            let mut list = vec!["ls-files", "-z", "--others", "--ignored"];
            for pattern in keep {
                list.extend(["--exclude", pattern]);
            }
            // A repository inside shows as `dir/`: it is saved on its own.
            let kept: Vec<u8> = with_temp(&list)
                .run()?
                .stdout
                .split(|b| *b == 0)
                .filter(|p| !p.is_empty() && !p.ends_with(b"/"))
                .flat_map(|p| p.iter().copied().chain([0]))
                .collect();
            if !kept.is_empty() {
                with_temp(&[
                    "--literal-pathspecs",
                    "add",
                    "--force",
                    "--pathspec-from-file=-",
                    "--pathspec-file-nul",
                ])
                .stdin(kept)
                .run()?;
            }
        }
        Ok((index_tree, with_temp(&["write-tree"]).run()?.stdout_str()))
    })();
    let _ = std::fs::remove_file(temp_index);
    // An interrupted git leaves its lock on the private index behind; no one else uses it.
    let mut lock = temp_index.as_os_str().to_owned();
    lock.push(".lock");
    let _ = std::fs::remove_file(lock);
    result
}

impl Snapshot {
    pub fn head_tree(&self, dir: &Path) -> Result<String> {
        rev(dir, &format!("{}^{{tree}}", self.head))
    }

    /// True when the worktree holds nothing that HEAD does not.
    pub fn is_clean(&self, dir: &Path) -> Result<bool> {
        let head_tree = self.head_tree(dir)?;
        Ok(self.index_tree == head_tree && self.worktree_tree == head_tree)
    }

    /// A commit on top of HEAD whose tree is the worktree's files, untracked ones included:
    /// a branch made at it holds everything the worktree held.
    pub fn commit(&self, dir: &Path, message: &str) -> Result<String> {
        let out = git(
            dir,
            [
                "commit-tree",
                &self.worktree_tree,
                "-p",
                &self.head,
                "-m",
                message,
            ],
        )
        .run()?;
        Ok(out.stdout_str())
    }

    /// The files of a snapshot commit made by [`Snapshot::commit`] (its index is not kept).
    pub fn from_commit(dir: &Path, commit: &str) -> Result<Snapshot> {
        let worktree_tree = rev(dir, &format!("{commit}^{{tree}}"))?;
        Ok(Snapshot {
            head: rev(dir, &format!("{commit}^1"))?,
            index_tree: worktree_tree.clone(),
            worktree_tree,
        })
    }

    /// This snapshot's changes moved onto `onto` (a commit): the trees its index and files
    /// would have there. Fails, naming the files, when they do not apply cleanly.
    pub fn rebased(&self, dir: &Path, onto: &str) -> Result<Snapshot> {
        if onto == self.head {
            return Ok(self.clone());
        }
        let base = format!("--merge-base={}", self.head);
        let replay = |tree: &str| -> Result<String> {
            let out = git(
                dir,
                [
                    "merge-tree",
                    "--write-tree",
                    "--name-only",
                    &base,
                    onto,
                    tree,
                ],
            )
            .output()?;
            let text = out.stdout_str();
            let mut lines = text.lines();
            let tree = lines.next().unwrap_or_default().to_string();
            if out.code == 0 {
                return Ok(tree);
            }
            let files: Vec<&str> = lines.take_while(|l| !l.is_empty()).collect();
            Err(Error::failed(format!(
                "the uncommitted changes do not apply on {onto}: conflicts in {}",
                files.join(", ")
            )))
        };
        Ok(Snapshot {
            head: onto.to_string(),
            index_tree: replay(&self.index_tree)?,
            worktree_tree: replay(&self.worktree_tree)?,
        })
    }

    /// Puts this snapshot's files and index into the worktree at `dir`, whose HEAD must be
    /// `self.head` and which must be clean.
    pub fn apply(&self, dir: &Path) -> Result<()> {
        let what = || format!("could not bring the changes into {}", dir.display());
        git(dir, ["read-tree", "-m", "-u", "HEAD", &self.worktree_tree])
            .run()
            .with_context(what)?;
        git(dir, ["read-tree", &self.index_tree])
            .run()
            .with_context(what)?;
        git(dir, ["update-index", "-q", "--refresh"]).output()?;
        Ok(())
    }

    /// Takes this snapshot's changes out of the worktree at `dir`: each path where it differs
    /// from HEAD goes back to HEAD's version in the index and the folder (a file HEAD lacks is
    /// deleted); no other path is touched. Only when every one of those paths is still as the
    /// snapshot holds it: if any was written since (someone still at work, or work done after
    /// a crash and before `recover`), or HEAD moved, nothing is touched and the paths that
    /// changed are returned. Critical: not cut by Ctrl-C.
    pub fn clean_out(&self, dir: &Path) -> Result<Vec<String>> {
        let what = || format!("could not clean the moved changes out of {}", dir.display());
        let now = capture(dir).with_context(what)?;
        let mut changed = differing(dir, &self.head, &self.worktree_tree).with_context(what)?;
        changed.extend(differing(dir, &self.head, &self.index_tree).with_context(what)?);
        let shown = |paths: &mut dyn Iterator<Item = &Vec<u8>>| -> Vec<String> {
            paths
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect()
        };
        if now.head != self.head {
            return Ok(shown(&mut changed.keys()));
        }
        // Still as the snapshot has it: the file, and an index entry that is HEAD's or the
        // snapshot's (its index, or its file staged); and where HEAD lacks the path, no
        // folder (a repository someone made there) in its place.
        let file_moved_on = differing(dir, &self.worktree_tree, &now.worktree_tree)?;
        let index_moved_on = [&self.head, &self.index_tree, &self.worktree_tree]
            .into_iter()
            .map(|tree| differing(dir, tree, &now.index_tree))
            .collect::<Result<Vec<_>>>()
            .with_context(what)?;
        let full = |path: &[u8]| dir.join(std::ffi::OsStr::from_bytes(path));
        let left: Vec<&Vec<u8>> = changed
            .iter()
            .filter(|(path, status)| {
                file_moved_on.contains_key(*path)
                    || index_moved_on.iter().all(|d| d.contains_key(*path))
                    || (**status == 'A'
                        && std::fs::symlink_metadata(full(path)).is_ok_and(|m| m.is_dir()))
            })
            .map(|(path, _)| path)
            .collect();
        if !left.is_empty() {
            return Ok(shown(&mut left.into_iter()));
        }
        let (delete, back): (Vec<_>, Vec<_>) = changed.into_iter().partition(|(_, s)| *s == 'A');
        let list = |paths: &[(Vec<u8>, char)]| -> Vec<u8> {
            paths
                .iter()
                .flat_map(|(p, _)| p.iter().copied().chain([0]))
                .collect()
        };
        // Files HEAD lacks go first, so that a file of HEAD's can come back where they
        // were a folder; folders they leave empty go too, as `git reset --hard` does.
        if !delete.is_empty() {
            // Exact index entries, not pathspecs: `d` must not take `d/x` with it.
            git(dir, ["update-index", "--force-remove", "-z", "--stdin"])
                .stdin(list(&delete))
                .critical()
                .run()
                .with_context(what)?;
        }
        for (path, _) in &delete {
            unlink_beneath(dir, path).map_err(|e| {
                Error::failed(format!("{}: {e}", full(path).display())).context(what())
            })?;
        }
        if !back.is_empty() {
            git(
                dir,
                [
                    "--literal-pathspecs",
                    "checkout",
                    "HEAD",
                    "--pathspec-from-file=-",
                    "--pathspec-file-nul",
                ],
            )
            .stdin(list(&back))
            .critical()
            .run()
            .with_context(what)?;
        }
        Ok(Vec::new())
    }
}

/// Deletes the file `rel` below `top`, then the folders that leaves empty, never following
/// a symlink on the way there: a folder swapped for one since it was looked at stops it.
/// A file or folder already gone is no error.
fn unlink_beneath(top: &Path, rel: &[u8]) -> std::io::Result<()> {
    use rustix::fs::{openat, unlinkat, AtFlags, Mode, OFlags, CWD};
    use rustix::io::Errno;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let names: Vec<&std::ffi::OsStr> = rel
        .split(|b| *b == b'/')
        .map(std::ffi::OsStr::from_bytes)
        .collect();
    let Some((file, folders)) = names.split_last() else {
        return Ok(());
    };
    let mut chain = vec![openat(CWD, top, flags, Mode::empty())?];
    for name in folders {
        match openat(&chain[chain.len() - 1], *name, flags, Mode::empty()) {
            Ok(next) => chain.push(next),
            Err(Errno::NOENT) => return Ok(()),
            Err(e) => return Err(e.into()),
        }
    }
    match unlinkat(&chain[chain.len() - 1], *file, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => {}
        Err(e) => return Err(e.into()),
    }
    for (at, name) in chain.iter().zip(folders).rev() {
        if unlinkat(at, *name, AtFlags::REMOVEDIR).is_err() {
            break;
        }
    }
    Ok(())
}

/// The paths where the trees `a` and `b` differ, with git's status letter (`A`: only in `b`).
fn differing(dir: &Path, a: &str, b: &str) -> Result<std::collections::BTreeMap<Vec<u8>, char>> {
    let out = git(
        dir,
        [
            "diff-tree",
            "-r",
            "-z",
            "--no-renames",
            "--name-status",
            a,
            b,
        ],
    )
    .run()?;
    let mut fields = out.stdout.split(|b| *b == 0).filter(|f| !f.is_empty());
    let mut found = std::collections::BTreeMap::new();
    while let (Some(status), Some(path)) = (fields.next(), fields.next()) {
        found.insert(path.to_vec(), status.first().map_or('M', |c| *c as char));
    }
    Ok(found)
}
