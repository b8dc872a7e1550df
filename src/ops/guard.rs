//! What belongs to the user or to another process, found before an operation starts so it
//! can refuse instead of touching it: an operation in progress in a worktree (a merge being
//! resolved, a rebase, a bisect), a branch checked out, rebased or bisected somewhere, local
//! edits in the worktree a merge would go into, and processes working inside a task's worktree.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{Error, Refusal, Result};
use crate::git::status;
use crate::git::worktrees::Worktree;
use crate::git::{git, Repo};
use crate::task::TaskRecord;
use crate::{fsutil, proc};

/// What git leaves in a worktree's git dir while an operation waits there: the file, the
/// operation in words, and the flag `git par list` shows for it.
const MARKERS: [(&str, &str, &str); 8] = [
    ("MERGE_HEAD", "merge", "merging"),
    ("rebase-merge", "rebase", "rebasing"),
    ("rebase-apply/applying", "git am", "applying-patches"),
    ("rebase-apply", "rebase", "rebasing"),
    ("CHERRY_PICK_HEAD", "cherry-pick", "cherry-picking"),
    ("REVERT_HEAD", "revert", "reverting"),
    ("BISECT_LOG", "bisect", "bisecting"),
    ("sequencer/todo", "cherry-pick or revert", "cherry-picking"),
];

fn marker(git_dir: &Path) -> Option<&'static (&'static str, &'static str, &'static str)> {
    MARKERS
        .iter()
        .find(|(file, _, _)| git_dir.join(file).exists())
}

/// The git operation waiting in a worktree whose private git dir is `git_dir`, if any.
pub fn in_progress(git_dir: &Path) -> Option<&'static str> {
    marker(git_dir).map(|(_, what, _)| *what)
}

/// [`in_progress`] as the flag `git par list` shows: `merging`, `rebasing`, ….
pub fn in_progress_flag(git_dir: &Path) -> Option<&'static str> {
    marker(git_dir).map(|(_, _, flag)| *flag)
}

/// Refuses when a merge, rebase, cherry-pick, revert or bisect waits in the worktree at
/// `dir` (whose git dir is `git_dir`): that is the user's, and git-par never aborts it.
pub fn refuse_in_progress(dir: &Path, git_dir: &Path, whose: &str) -> Result<()> {
    match in_progress(git_dir) {
        None => Ok(()),
        Some(what) => Err(Error::failed(format!(
            "{whose} {} has a {what} in progress",
            dir.display()
        ))
        .hint("finish it or abort it there first; git par never touches it (nothing was changed)")),
    }
}

/// Where `branch` is in use in a worktree other than `except` (a git dir): checked out,
/// being rebased, or the branch a bisect started from. In words, for a refusal.
pub fn branch_in_use(repo: &Repo, branch: &str, except: Option<&Path>) -> Option<String> {
    let full = format!("refs/heads/{branch}");
    repo.worktrees()
        .into_iter()
        .filter(|w| except.map_or(true, |e| fsutil::resolve(&w.git_dir) != fsutil::resolve(e)))
        .find_map(|w| use_in(&w, &full, true).map(|how| format!("{how} in {}", w.path.display())))
}

/// Where `branch` is being rebased or bisected, in any worktree: git will move it when that
/// ends, so git-par must not move it meanwhile.
pub fn branch_moving(repo: &Repo, branch: &str) -> Option<String> {
    let full = format!("refs/heads/{branch}");
    repo.worktrees()
        .into_iter()
        .find_map(|w| use_in(&w, &full, false).map(|how| format!("{how} in {}", w.path.display())))
}

fn use_in(w: &Worktree, full: &str, checkout_counts: bool) -> Option<&'static str> {
    if checkout_counts && w.head_ref.as_deref() == Some(full) {
        return Some("checked out");
    }
    let names = |file: &str| {
        fs::read_to_string(w.git_dir.join(file))
            .map(|s| s.trim() == full || format!("refs/heads/{}", s.trim()) == full)
            .unwrap_or(false)
    };
    if names("rebase-merge/head-name") || names("rebase-apply/head-name") {
        return Some("being rebased");
    }
    if names("BISECT_START") {
        return Some("being bisected");
    }
    None
}

/// Refuses to move or delete `branch` while another worktree uses it.
pub fn refuse_branch_in_use(repo: &Repo, branch: &str, except: Option<&Path>) -> Result<()> {
    match branch_in_use(repo, branch, except) {
        None => Ok(()),
        Some(where_) => Err(Error::failed(format!(
            "branch '{branch}' is {where_}; git par leaves it alone"
        ))
        .hint("finish what is going on there first (nothing was changed)")),
    }
}

/// How long processes in a worktree may take to leave before they are in the way.
const PASSING: Duration = Duration::from_secs(1);

/// A process working inside a folder, and how.
#[derive(Debug, Clone)]
pub struct Busy {
    pub pid: u32,
    pub name: String,
    pub how: String,
}

impl Busy {
    pub fn describe(list: &[Busy]) -> String {
        list.iter()
            .map(|b| format!("pid {} ({}) {}", b.pid, b.name, b.how))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Processes (other than this one and those it runs under, such as the user's shell and
/// git) whose working directory, root, or an open file lies inside `dir`.
pub fn processes_in(dir: &Path) -> Vec<Busy> {
    let dir = fsutil::resolve(dir);
    let spared = proc::ancestors();
    proc::all()
        .into_iter()
        .filter(|pid| !spared.contains(pid))
        .filter_map(|pid| {
            let how = proc::uses(pid, &dir)?;
            Some(Busy {
                pid,
                name: proc::name(pid),
                how: how.describe(&dir),
            })
        })
        .collect()
}

/// Refuses while processes work inside a task's worktree, or stops them when asked: SIGTERM,
/// then SIGKILL to those still there after `grace`.
pub fn settle_processes(task: &str, dir: &Path, stop: bool, grace: Duration) -> Result<()> {
    // A process on its way out (git's own detached auto-maintenance after a commit in the
    // worktree, a command's last child) is given a moment before it counts.
    let deadline = Instant::now() + PASSING;
    let mut busy = processes_in(dir);
    while !busy.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
        busy = processes_in(dir);
    }
    if busy.is_empty() {
        return Ok(());
    }
    if !stop {
        return Err(Error::failed(format!(
            "task '{task}' is in use: {}",
            Busy::describe(&busy)
        ))
        .hint("let them end, or pass --stop-processes to stop them (SIGTERM, then SIGKILL after par.killTimeout)")
        .hint("nothing was changed")
        .because(Refusal::InUse));
    }
    let pids: Vec<u32> = busy.iter().map(|b| b.pid).collect();
    proc::stop(&pids, grace);
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let left = processes_in(dir);
        if left.is_empty() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let left = processes_in(dir);
    if left.is_empty() {
        return Ok(());
    }
    Err(Error::failed(format!(
        "task '{task}' is still in use: {}",
        Busy::describe(&left)
    ))
    .hint("nothing was changed")
    .because(Refusal::InUse))
}

/// A worktree's private git dir from its `.git` file, or `dir/.git` for a main worktree.
pub fn git_dir_of(dir: &Path) -> PathBuf {
    let dot_git = dir.join(".git");
    if dot_git.is_dir() {
        return dot_git;
    }
    crate::ops::gate::read_pointer(&dot_git, "gitdir: ").unwrap_or(dot_git)
}

/// Refuses, before any prompt or commit, when the worktree where `target` is checked out has
/// local edits (untracked files included) to files the task changes, committed or not: git
/// would refuse the merge there after the task's changes had been committed for nothing.
pub fn refuse_target_edits(repo: &Repo, record: &TaskRecord, target: &str) -> Result<()> {
    let Some(wt) = repo
        .worktrees()
        .into_iter()
        .find(|w| w.branch() == Some(target))
    else {
        return Ok(());
    };
    let (Some(task_tip), Some(target_tip)) =
        (repo.branch_tip(&record.branch), repo.branch_tip(target))
    else {
        return Ok(());
    };
    let local = status::status(&wt.path)?;
    if local.is_clean() {
        return Ok(());
    }
    let range = format!("{target_tip}...{task_tip}");
    let out = git(
        &wt.path,
        ["diff", "--name-only", "-z", "--no-renames", &range],
    )
    .run()?;
    let mut changed: Vec<String> = out
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect();
    if record.path.is_dir() {
        changed.extend(
            status::status(&record.path)?
                .entries
                .into_iter()
                .map(|(_, p)| p),
        );
    }
    let touches = |edit: &str| {
        changed.iter().any(|c| match edit.strip_suffix('/') {
            Some(dir) => c.starts_with(&format!("{dir}/")),
            None => c == edit || c.starts_with(&format!("{edit}/")),
        })
    };
    let mut clash: Vec<&str> = local
        .entries
        .iter()
        .map(|(_, p)| p.as_str())
        .filter(|p| touches(p))
        .collect();
    if clash.is_empty() {
        return Ok(());
    }
    clash.sort_unstable();
    clash.dedup();
    Err(local_edits(target, &wt.path, &record.task, &clash))
}

/// The refusal for local edits in `dir`, where `target` is checked out, to files `task`
/// changes, with the git-par way out.
pub fn local_edits(target: &str, dir: &Path, task: &str, files: &[&str]) -> Error {
    Error::failed(format!(
        "'{target}' has local edits in {} to files task '{task}' changes: {}",
        dir.display(),
        files.join(", ")
    ))
    .hint(format!(
        "commit them there, or carry them into a task of their own: cd {} && git par start <new-task> --changes move",
        crate::shell::quote(dir)
    ))
    .hint("then finish again; nothing was changed")
    .because(Refusal::Conflict)
}
