//! Saved work: before anything of a task is deleted, what is not already safe in a branch is
//! kept under `refs/par/rescued/<task>/<date>`, where `git par rescued` and plain git find it.
//!
//! One rescue commit per save. Its tree is the worktree's files (tracked, untracked, and the
//! ignored ones `par.keepIgnored` names); its first parent is the worktree's HEAD; further
//! parents keep whatever else would become unreachable: the branch tip, commits left on a
//! detached HEAD or only in the worktree's HEAD reflog (which lives in the worktree's admin
//! dir and goes with it), staged files, and the commits and uncommitted files of submodules
//! and nested repositories, fetched into the main repository first. The message lists each
//! parent and where it came from ([`record`]). Other ignored files are build output.

pub(crate) mod inner;
pub mod record;
pub mod restore;

use std::collections::HashSet;
use std::path::Path;

use crate::error::{Context, Error, Result};
use crate::git::{git, snapshot, Repo};
use crate::{task, time};
use record::{Piece, Source};

pub const PREFIX: &str = "refs/par/rescued/";

/// The message that marks a snapshot commit of uncommitted changes.
pub const SNAPSHOT_SUBJECT: &str = "git-par: uncommitted changes of task";

/// The message that marks a rescue commit of commits alone (no uncommitted files).
pub const SAVED_SUBJECT: &str = "git-par: saved work of task";

/// Keeps `commit` under a new rescue ref for `task`; returns the ref.
pub fn save(repo: &Repo, task: &str, commit: &str, why: &str) -> Result<String> {
    let now = crate::journal::now();
    let base = format!("{PREFIX}{task}/{}", time::stamp(now));
    let mut name = base.clone();
    let mut n = 1;
    while repo.git.find_reference(&name).is_ok() {
        n += 1;
        name = format!("{base}-{n}");
    }
    let reason = format!("git par: {why}");
    repo.update_ref(&name, &["-m", &reason, &name, commit, ""])
        .with_context(|| format!("could not save the work of task '{task}' under {name}"))?;
    Ok(name)
}

/// Saves everything of a task that deleting its worktree (if given) and branch (at `tip`)
/// would make unreachable: returns the rescue ref, or `None` when everything is already safe
/// in one of the `safe` commits (a base branch's tip, or an earlier rescue), in a branch other
/// than the task's, a tag or an earlier rescue. A submodule or nested repository that cannot
/// be saved is an error naming it, so that nothing is removed.
pub fn save_task(
    repo: &Repo,
    task: &str,
    worktree: Option<&Path>,
    tip: Option<&str>,
    safe: &[String],
    why: &str,
) -> Result<Option<String>> {
    save_task_as(repo, task, worktree, Files::Unknown, tip, safe, why)
}

/// What is known of a worktree's files before it is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Files {
    /// Nothing: they are read (a snapshot through a private index).
    Unknown,
    /// A look that has just ended found them all as HEAD has them (nothing staged, changed or
    /// untracked, no repository inside, no kept ignored file): only commits need saving.
    Clean,
}

/// [`save_task`], told what is known of the worktree's files.
pub fn save_task_as(
    repo: &Repo,
    task: &str,
    worktree: Option<&Path>,
    files: Files,
    tip: Option<&str>,
    safe: &[String],
    why: &str,
) -> Result<Option<String>> {
    let mut found = Found::default();
    if let Some(dir) = worktree.filter(|d| d.exists()) {
        collect_worktree(repo, task, dir, files, tip, &mut found)?;
    }
    if let Some(tip) = tip {
        let piece = Piece::new(tip, Source::Branch, "tip", None);
        found.base.get_or_insert_with(|| piece.clone());
        found.pieces.push(piece);
    }
    keep(repo, task, found, tip, safe, why)
}

/// Guards the process's one private index in the common git dir (see [`save_folder`]).
static PRIVATE_INDEX: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Saves a folder whose git admin dir is already gone (a worktree a crash left in the trash
/// after git's record of it was deleted), read as a worktree of this repository whose HEAD is
/// `head`. Saved only when it holds something `head` does not (a new or changed file, or a
/// nested repository's work): returns the rescue ref. A missing file is not work (the folder
/// may be half-deleted), so the saved tree is `head`'s with the folder's files over it.
/// `leave_out` names paths (submodules saved already) that are not read.
pub fn save_folder(
    repo: &Repo,
    task: &str,
    dir: &Path,
    head: &str,
    leave_out: &[String],
    why: &str,
) -> Result<Option<String>> {
    let what = || {
        format!(
            "could not save the folder {} of task '{task}'",
            dir.display()
        )
    };
    let meta =
        std::fs::symlink_metadata(dir).map_err(|e| Error::failed(e.to_string()).context(what()))?;
    if !meta.is_dir() {
        return Err(
            Error::failed("it is not a folder (a symlink is never followed)").context(what()),
        );
    }
    // One private index per process: threads of one run take turns with it.
    let _turn = PRIVATE_INDEX
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let temp_index = repo
        .common_dir
        .join(format!("par-index.{}", std::process::id()));
    let at = |args: &[&str]| {
        // The main worktree's fsmonitor and untracked cache know nothing of this folder.
        git(
            dir,
            [
                "-c",
                "core.fsmonitor=false",
                "-c",
                "core.untrackedCache=false",
            ],
        )
        .args(args)
        .env("GIT_DIR", &repo.common_dir)
        .env("GIT_WORK_TREE", dir)
    };
    let keep_ignored = &repo.config.keep_ignored;
    // A submodule's git dir went with the admin dir: it cannot be opened, and its files are
    // then plain files of the folder.
    let mut pieces = Vec::new();
    let mut skip = leave_out.to_vec();
    for inner in inner::told_apart(dir, inner::find(dir), &HashSet::new()) {
        if let Some(saved) = inner::save(repo, task, &inner, keep_ignored)? {
            pieces.extend(saved);
            skip.push(inner.path);
        }
    }
    let (_, files) = snapshot::trees(
        &at,
        None,
        Some(head),
        &temp_index,
        keep_ignored,
        &skip,
        false,
    )
    .with_context(what)?;
    let found = Found {
        files: (files != tree_of(repo, head)?).then_some(files),
        base: Some(Piece::new(head, Source::Worktree, "HEAD", None)),
        pieces,
    };
    keep(repo, task, found, None, &[head.to_string()], why)
}

#[derive(Default)]
struct Found {
    /// What the rescue commit builds on: the worktree's HEAD, else the branch tip.
    base: Option<Piece>,
    /// The tree of the worktree's files, when it is not the base's.
    files: Option<String>,
    /// Every commit that may hold work, in the order their labels are preferred.
    pieces: Vec<Piece>,
}

fn tree_of(repo: &Repo, commit: &str) -> Result<String> {
    let out = git(
        &repo.main_worktree,
        ["rev-parse", &format!("{commit}^{{tree}}")],
    )
    .run()?;
    Ok(out.stdout_str())
}

fn commit_tree(repo: &Repo, tree: &str, parents: &[&str], message: &str) -> Result<String> {
    let mut args = vec!["commit-tree", tree];
    for parent in parents {
        args.extend(["-p", parent]);
    }
    args.extend(["-F", "-"]);
    let out = git(&repo.main_worktree, args)
        .stdin(message.as_bytes().to_vec())
        .run()?;
    Ok(out.stdout_str())
}

/// Saves what git's record (admin dir) of a worktree whose folder is gone still holds, before
/// the record is forgotten: its HEAD, HEAD reflog and per-worktree refs, and the commits of
/// the submodules whose git dirs live in it (fetched into the main repository). Returns the
/// rescue ref, or `None` when all of it is safe elsewhere.
pub fn save_admin(repo: &Repo, task: &str, admin: &Path, why: &str) -> Result<Option<String>> {
    let at = |dir: &Path, args: &[&str]| {
        git(&repo.main_worktree, args)
            .env("GIT_DIR", dir)
            .output()
            .map(|o| {
                if o.success() {
                    o.stdout_str()
                } else {
                    String::new()
                }
            })
    };
    let mut found = Found {
        base: None,
        files: None,
        pieces: Vec::new(),
    };
    let head = at(
        admin,
        &["rev-parse", "--verify", "--quiet", "HEAD^{commit}"],
    )?;
    let reflog = reflog(&admin.join("logs/HEAD"));
    let Some(base) = Some(head)
        .filter(|h| !h.is_empty())
        .or_else(|| reflog.first().cloned())
    else {
        return Ok(None);
    };
    let base_piece = Piece::new(&base, Source::Worktree, "HEAD", None);
    found.base = Some(base_piece.clone());
    found.pieces.push(base_piece);
    let refs = at(admin, &WORKTREE_REFS)?;
    push_worktree_refs(&mut found, &refs, reflog);
    if let Ok(modules) = std::fs::read_dir(admin.join("modules")) {
        for module in modules.flatten().map(|e| e.path()).filter(|p| p.is_dir()) {
            let name = module.file_name().map(|n| n.to_string_lossy().into_owned());
            let commits = at(&module, &["rev-list", "--all", "--reflog", "--no-walk"])?;
            let commits: Vec<&str> = commits.lines().filter(|l| !l.is_empty()).collect();
            if commits.is_empty() {
                continue;
            }
            let mut args = vec!["fetch", "--no-write-fetch-head", "--quiet"];
            let source = module.to_string_lossy().into_owned();
            args.push(&source);
            args.extend(commits.iter().copied());
            git(&repo.main_worktree, &args)
                .run()
                .with_context(|| format!("could not save the submodule in {}", module.display()))?;
            for commit in commits {
                found.pieces.push(Piece::new(
                    commit,
                    Source::Submodule,
                    "refs",
                    name.as_deref(),
                ));
            }
        }
    }
    keep(repo, task, found, None, &[], why)
}

/// The worktree's HEAD, files, staged files, per-worktree refs, HEAD reflog, and what the
/// repositories inside it hold.
fn collect_worktree(
    repo: &Repo,
    task: &str,
    dir: &Path,
    files: Files,
    tip: Option<&str>,
    found: &mut Found,
) -> Result<()> {
    let what = || format!("could not save the work in {}", dir.display());
    let keep_ignored = &repo.config.keep_ignored;
    let head = git(dir, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]).output()?;
    let head = head.success().then(|| head.stdout_str());
    let admin = snapshot::git_dir(dir).with_context(what)?;
    let reflog = reflog(&admin.join("logs/HEAD"));
    // HEAD may name a branch deleted by hand: its last value is then the newest reflog entry.
    let Some(base) = head
        .clone()
        .or_else(|| reflog.first().cloned())
        .or(tip.map(str::to_string))
    else {
        return Err(Error::failed("its HEAD names no commit").context(what()));
    };
    let base_piece = Piece::new(&base, Source::Worktree, "HEAD", None);
    found.base = Some(base_piece.clone());
    found.pieces.push(base_piece);
    let mut inner_pieces = Vec::new();
    if files == Files::Unknown {
        // The repositories inside are saved on their own, and left out of the worktree's files.
        let mut skip = Vec::new();
        for inner in inner::list(dir)? {
            if let Some(saved) = inner::save(repo, task, &inner, keep_ignored)? {
                inner_pieces.extend(saved);
                skip.push(inner.path);
            }
        }
        let (index_tree, files_tree) =
            snapshot::private_trees(dir, head.as_deref(), keep_ignored, &skip)
                .with_context(what)?;
        let base_tree = tree_of(repo, &base)?;
        if files_tree != base_tree {
            found.files = Some(files_tree.clone());
        }
        // Kept whenever something is staged, even when it is all the files: restoring then
        // knows what was staged, and what was not.
        if index_tree != base_tree {
            let message = format!("git-par: staged files of task {task}");
            let staged = commit_tree(repo, &index_tree, &[&base], &message)?;
            found
                .pieces
                .push(Piece::new(&staged, Source::Worktree, "staged", None));
        }
    }
    let refs = git(dir, WORKTREE_REFS).run()?.stdout_str();
    push_worktree_refs(found, &refs, reflog);
    found.pieces.extend(inner_pieces);
    Ok(())
}

/// Lists the refs that belong to one worktree, each as `<type> <commit> <name>`.
const WORKTREE_REFS: [&str; 4] = [
    "for-each-ref",
    "--format=%(objecttype) %(objectname) %(refname)",
    "refs/worktree/",
    "refs/bisect/",
];

/// A worktree's own refs (from [`WORKTREE_REFS`]) and HEAD reflog, as pieces that may hold work.
fn push_worktree_refs(found: &mut Found, refs: &str, reflog: Vec<String>) {
    for line in refs.lines() {
        if let Some(("commit", rest)) = line.split_once(' ') {
            if let Some((oid, name)) = rest.split_once(' ') {
                found
                    .pieces
                    .push(Piece::new(oid, Source::Worktree, name, None));
            }
        }
    }
    for commit in reflog {
        found
            .pieces
            .push(Piece::new(&commit, Source::Worktree, "reflog", None));
    }
}

/// The commits a reflog file names, newest first, each once.
fn reflog(path: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut seen = HashSet::new();
    let mut commits = Vec::new();
    for line in text.lines().rev() {
        let mut fields = line.split(' ');
        let (Some(old), Some(new)) = (fields.next(), fields.next()) else {
            continue;
        };
        for oid in [new, old] {
            let real = oid.len() >= 40 && oid.bytes().any(|b| b != b'0');
            if real && oid.bytes().all(|b| b.is_ascii_hexdigit()) && seen.insert(oid) {
                commits.push(oid.to_string());
            }
        }
    }
    commits
}

/// Of `pieces`, the commits that nothing outside the task keeps: not in `safe`, a branch
/// other than the task's, a tag or an earlier rescue.
fn unsafe_commits(
    repo: &Repo,
    task: &str,
    tip: Option<&str>,
    pieces: &[Piece],
    safe: &[String],
) -> Result<HashSet<String>> {
    let mut doomed = vec![task::branch_name(repo, task)];
    if let Some(tip) = tip {
        // Whatever the task's branch is called, it goes: so does any branch at its tip, as
        // far as safety goes (saving too much is harmless).
        let at_tip = git(
            &repo.main_worktree,
            [
                "for-each-ref",
                "--format=%(refname:lstrip=2)",
                "--points-at",
                tip,
                "refs/heads/",
            ],
        )
        .run()?
        .stdout_str();
        doomed.extend(at_tip.lines().map(str::to_string));
    }
    let mut args: Vec<String> = vec!["rev-list".into(), "--ignore-missing".into()];
    let mut seen = HashSet::new();
    args.extend(
        pieces
            .iter()
            .filter(|p| seen.insert(&p.commit))
            .map(|p| p.commit.clone()),
    );
    args.push("--not".into());
    args.extend(safe.iter().cloned());
    args.extend(doomed.iter().map(|b| format!("--exclude={b}")));
    args.extend(["--branches", "--tags", "--glob=refs/par/rescued/*"].map(String::from));
    let out = git(&repo.main_worktree, &args).run()?.stdout_str();
    let listed: HashSet<&str> = out.lines().collect();
    Ok(pieces
        .iter()
        .filter(|p| listed.contains(p.commit.as_str()))
        .map(|p| p.commit.clone())
        .collect())
}

/// True when an earlier rescue of the task (or a `safe` commit) holds `files` on `base`.
fn files_saved(repo: &Repo, task: &str, safe: &[String], files: &str, base: &str) -> bool {
    let earlier = repo
        .git
        .references_glob(&format!("{PREFIX}{task}/*"))
        .map(|refs| {
            refs.flatten()
                .filter_map(|r| r.target().map(|t| t.to_string()))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    safe.iter().chain(&earlier).any(|s| {
        let commit = s
            .parse()
            .ok()
            .and_then(|oid| repo.git.find_commit(oid).ok());
        commit.is_some_and(|c| {
            c.tree_id().to_string() == files && c.parent_id(0).is_ok_and(|p| p.to_string() == base)
        })
    })
}

/// Decides what of `found` needs keeping, and keeps it under one new rescue ref.
fn keep(
    repo: &Repo,
    task: &str,
    found: Found,
    tip: Option<&str>,
    safe: &[String],
    why: &str,
) -> Result<Option<String>> {
    let Some(base) = found.base else {
        return Ok(None);
    };
    let files = found
        .files
        .filter(|tree| !files_saved(repo, task, safe, tree, &base.commit));
    let doomed = unsafe_commits(repo, task, tip, &found.pieces, safe)?;
    let mut seen = HashSet::new();
    let pieces: Vec<Piece> = found
        .pieces
        .into_iter()
        .filter(|p| doomed.contains(&p.commit))
        .filter(|p| seen.insert((p.commit.clone(), p.source, p.path.clone())))
        .collect();
    if files.is_none() && pieces.is_empty() {
        return Ok(None);
    }
    // Only the commits no other saved commit contains need to be parents.
    let mut tops: HashSet<String> = doomed.clone();
    if doomed.len() > 1 {
        let mut args = vec!["merge-base", "--independent"];
        args.extend(doomed.iter().map(String::as_str));
        let out = git(&repo.main_worktree, args).run()?.stdout_str();
        tops = out.lines().map(str::to_string).collect();
    }
    let mut parents = vec![base.clone()];
    let mut holds = Vec::new();
    for piece in pieces {
        if tops.contains(&piece.commit) && parents.iter().all(|p| p.commit != piece.commit) {
            parents.push(piece);
        } else if piece.what != "reflog" && piece.commit != base.commit {
            holds.push(piece);
        }
    }
    let inner_held = holds
        .iter()
        .any(|p| matches!(p.source, Source::Submodule | Source::Nested));
    let task_base = task_base(repo, task);
    if files.is_none() && parents.len() == 1 && !inner_held && task_base.is_none() {
        // Plain commits of a task whose base is unknown: the ref points at them, as a branch
        // would. With a base known, a commit on top of them names it, for restoring.
        return save(repo, task, &base.commit, why).map(Some);
    }
    let tree = match &files {
        Some(tree) => tree.clone(),
        None => tree_of(repo, &base.commit)?,
    };
    let subject = match files {
        Some(_) => format!("{SNAPSHOT_SUBJECT} {task}"),
        None => format!("{SAVED_SUBJECT} {task}"),
    };
    let message = record::message(
        &subject,
        why,
        files.is_some(),
        &parents,
        &holds,
        task_base.as_ref(),
    );
    let ids: Vec<&str> = parents.iter().map(|p| p.commit.as_str()).collect();
    let commit = commit_tree(repo, &tree, &ids, &message)?;
    save(repo, task, &commit, why).map(Some)
}

/// The base the task's record names (branch and commit), for a restore to start from again.
/// None for a task without a record, or one whose base commit is unknown.
fn task_base(repo: &Repo, task: &str) -> Option<record::TaskBase> {
    let record = task::load(repo, task)?;
    (!record.base_commit.is_empty()).then_some(record::TaskBase {
        commit: record.base_commit,
        branch: record.base,
    })
}
