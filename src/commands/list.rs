//! `git par list`: every task with where it stands. The per-worktree `git status` runs are
//! the cost, so they run on all cores at once; everything else is read with git2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

use crate::cli::ListArgs;
use crate::conflicts::{self, Forecast};
use crate::error::Result;
use crate::git::fsmonitor::Monitor;
use crate::git::status::{self, Status};
use crate::git::worktrees::Worktree;
use crate::git::Repo;
use crate::git::{scan, untracked_cache};
use crate::ops::guard;
use crate::ops::lease::{self, Holder};
use crate::ui::Ui;
use crate::{fsutil, journal, task, time};
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Serialize)]
pub struct TaskInfo {
    pub task: String,
    pub branch: String,
    pub base: Option<String>,
    pub path: PathBuf,
    pub ahead: Option<usize>,
    pub behind: Option<usize>,
    pub staged: usize,
    pub unstaged: usize,
    pub untracked: usize,
    pub last_commit: Option<String>,
    /// When `git par start` made the task (ISO 8601, UTC), if its record says.
    pub started: Option<String>,
    /// Whether the current directory is inside the task's worktree.
    pub current: bool,
    pub flags: Vec<String>,
    /// The git par command working in the task now (its lease), if any.
    pub busy: Option<Holder>,
    /// The command a `git par run` runs in the task now, if any.
    pub running: Option<RunningInfo>,
    /// With `--conflicts`: which merges would conflict (see [`crate::conflicts`]).
    pub conflicts: Option<Forecast>,
    #[serde(skip)]
    last_commit_secs: Option<i64>,
    #[serde(skip)]
    started_secs: Option<i64>,
    #[serde(skip)]
    checkout: Option<Checkout>,
}

/// A task worktree that is there to be looked at.
#[derive(Debug)]
struct Checkout {
    git_dir: PathBuf,
    head_tree: Option<git2::Oid>,
}

pub fn run(args: ListArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    if ui.stdout_is_terminal && !args.json && !args.porcelain && !args.conflicts {
        return super::list_live::run(&repo, ui);
    }
    let mut tasks = collect(&repo);
    if args.conflicts {
        add_conflicts(&repo, &mut tasks)?;
    }
    if args.json {
        let json = serde_json::to_string_pretty(&tasks)?;
        ui.println(&json)?;
    } else if args.porcelain {
        for t in &tasks {
            let mut line = porcelain_line(t);
            if args.conflicts {
                line.push('\t');
                line.push_str(&conflicts::porcelain(t.conflicts.as_ref()));
            }
            ui.println(&line)?;
        }
    } else {
        print_table(ui, &tasks)?;
    }
    Ok(0)
}

fn add_conflicts(repo: &Repo, tasks: &mut [TaskInfo]) -> Result<()> {
    let subjects: Vec<conflicts::Subject> = tasks
        .iter()
        .map(|t| conflicts::Subject {
            task: &t.task,
            branch: &t.branch,
            base: t.base.as_deref(),
        })
        .collect();
    let mut forecasts = conflicts::forecast(repo, &subjects);
    for t in tasks {
        t.conflicts = forecasts.remove(&t.task);
    }
    // A Ctrl-C stopped a merge-tree half-way: the forecast is incomplete, so none is shown.
    crate::cleanup::check()
}

fn porcelain_line(t: &TaskInfo) -> String {
    let num = |n: Option<usize>| n.map_or("-".to_string(), |n| n.to_string());
    [
        t.task.clone(),
        t.branch.clone(),
        t.base.clone().unwrap_or_else(|| "-".into()),
        num(t.ahead),
        num(t.behind),
        t.staged.to_string(),
        t.unstaged.to_string(),
        t.untracked.to_string(),
        t.last_commit.clone().unwrap_or_else(|| "-".into()),
        t.path.to_string_lossy().into_owned(),
        if t.flags.is_empty() {
            "-".into()
        } else {
            t.flags.join(",")
        },
        t.started.clone().unwrap_or_else(|| "-".into()),
    ]
    .join("\t")
}

/// The table's columns; the flags follow the last one, in brackets.
const HEADER: [&str; 7] = [
    "TASK",
    "BRANCH ← BASE",
    "↑↓",
    "CHANGES",
    "STARTED",
    "LAST COMMIT",
    "PATH",
];

fn print_table(ui: &mut Ui, tasks: &[TaskInfo]) -> Result<()> {
    if tasks.is_empty() {
        ui.note("No tasks. Start one with 'git par start <task>'.");
        return Ok(());
    }
    for line in table_lines(ui, tasks, &[]) {
        ui.println(&line)?;
    }
    Ok(())
}

/// The table's lines; a task whose `pending` is true has its changes still being looked at.
pub(super) fn table_lines(ui: &Ui, tasks: &[TaskInfo], pending: &[bool]) -> Vec<String> {
    let now = crate::journal::now();
    let ago = |secs: Option<i64>| secs.map_or("-".into(), |s| format!("{} ago", time::age(s, now)));
    let mut rows: Vec<[String; 7]> = tasks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let changes = if pending.get(i).copied().unwrap_or(false) {
                "…".to_string()
            } else if t.staged + t.unstaged + t.untracked == 0 {
                "clean".to_string()
            } else {
                format!("+{} ~{} ?{}", t.staged, t.unstaged, t.untracked)
            };
            let ahead = match (t.ahead, t.behind) {
                (Some(a), Some(b)) => format!("↑{a} ↓{b}"),
                _ => "-".into(),
            };
            [
                format!("{} {}", if t.current { "*" } else { " " }, t.task),
                format!("{} ← {}", t.branch, t.base.as_deref().unwrap_or("-")),
                ahead,
                changes,
                ago(t.started_secs),
                ago(t.last_commit_secs),
                t.path.to_string_lossy().into_owned(),
            ]
        })
        .collect();
    // A header for a person; scripts read --porcelain or --json.
    let header = ui.stdout_is_terminal;
    if header {
        rows.insert(0, HEADER.map(|h| h.to_string()));
        rows[0][0] = format!("  {}", HEADER[0]);
    }
    let last = HEADER.len() - 1;
    let widths: Vec<usize> = (0..last)
        .map(|i| rows.iter().map(|r| r[i].width()).max().unwrap_or(0))
        .collect();
    let mut lines = Vec::with_capacity(rows.len());
    let flags = |i: usize| -> Option<&TaskInfo> {
        match header {
            true => i.checked_sub(1).map(|i| &tasks[i]),
            false => Some(&tasks[i]),
        }
    };
    for (i, row) in rows.iter().enumerate() {
        let mut line = String::new();
        for (col, cell) in row.iter().enumerate() {
            let padded = match col < last {
                true => format!("{cell}{}  ", " ".repeat(widths[col] - cell.width())),
                false => cell.clone(),
            };
            line.push_str(&match (col, flags(i)) {
                (0, Some(_)) => ui.paint(&padded, "32"),
                _ => padded,
            });
        }
        match flags(i) {
            Some(t) => {
                if let Some(forecast) = &t.conflicts {
                    let text = forecast.describe(t.base.as_deref());
                    let clean =
                        forecast.merges_cleanly == Some(true) && forecast.with_tasks.is_empty();
                    line.push_str(&format!(
                        "  {}",
                        ui.paint(&text, if clean { "32" } else { "33" })
                    ));
                }
                if !t.flags.is_empty() {
                    line.push_str(&format!(
                        "  {}",
                        ui.paint(&format!("[{}]", t.flags.join(", ")), "31")
                    ));
                }
            }
            None if tasks.iter().any(|t| t.conflicts.is_some()) => {
                line.push_str("  CONFLICTS  [FLAGS]")
            }
            None => line.push_str("  [FLAGS]"),
        }
        lines.push(line.trim_end().to_string());
    }
    lines
}

/// Every task: recorded ones, `par/` branches, and registered worktrees in the worktree dir.
pub fn collect(repo: &Repo) -> Vec<TaskInfo> {
    let mut tasks = collect_without_status(repo);
    fill_status(repo, &mut tasks, &mut |_, _| {});
    tasks
}

/// Every task with all but its changes, which need the worktree's files looked at.
pub(super) fn collect_without_status(repo: &Repo) -> Vec<TaskInfo> {
    let prefix = repo.config.branch_prefix.clone();
    let worktrees = repo.worktrees();
    let wt_dir = repo.worktree_dir();
    let mut found: BTreeMap<String, TaskInfo> = BTreeMap::new();
    let blank = |task: &str, branch: String, path: PathBuf| TaskInfo {
        task: task.to_string(),
        branch,
        base: None,
        path,
        ahead: None,
        behind: None,
        staged: 0,
        unstaged: 0,
        untracked: 0,
        last_commit: None,
        started: None,
        current: false,
        flags: Vec::new(),
        busy: None,
        running: None,
        conflicts: None,
        last_commit_secs: None,
        started_secs: None,
        checkout: None,
    };
    let mut bases: BTreeMap<String, Option<String>> = BTreeMap::new();
    for record in task::all(repo) {
        bases.insert(record.task.clone(), Some(record.base_commit.clone()));
        let mut info = blank(&record.task, record.branch.clone(), record.path.clone());
        info.base = record.base.clone();
        if record.created > 0 {
            info.started_secs = Some(record.created);
            info.started = Some(time::iso8601(record.created));
        }
        found.insert(record.task.clone(), info);
    }
    if let Ok(branches) = repo.git.branches(Some(git2::BranchType::Local)) {
        for (branch, _) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else {
                continue;
            };
            let Some(task) = name.strip_prefix(&prefix) else {
                continue;
            };
            if found.values().any(|t| t.branch == name) {
                continue;
            }
            let mut info = blank(task, name.to_string(), task::worktree_path(repo, task));
            info.flags.push("no-record".into());
            found.insert(task.to_string(), info);
        }
    }
    for wt in worktrees.iter().filter(|w| !w.is_main) {
        let real = fsutil::resolve(&wt.path);
        if !real.starts_with(&wt_dir) || found.values().any(|t| fsutil::resolve(&t.path) == real) {
            continue;
        }
        let Ok(rel) = real.strip_prefix(&wt_dir) else {
            continue;
        };
        let task = rel.to_string_lossy().into_owned();
        let branch = wt.branch().unwrap_or("").to_string();
        let mut info = blank(&task, branch, wt.path.clone());
        info.flags.push("no-record".into());
        found.insert(task, info);
    }
    let mut tasks: Vec<TaskInfo> = found.into_values().collect();
    let interrupted: Vec<String> = journal::orphans(&repo.par_dir())
        .iter()
        .filter_map(|o| o.entry.as_ref().ok())
        .flat_map(|e| e.op.tasks().into_iter().map(str::to_string))
        .collect();
    let here = fsutil::resolve(&repo.cwd);
    for info in &mut tasks {
        info.busy = lease::holder(repo, &info.task);
        if info.busy.is_some() {
            info.flags.push("busy".into());
        }
        mark_running(info);
        if interrupted.contains(&info.task) {
            info.flags.push("interrupted".into());
        }
        info.current = here.starts_with(fsutil::resolve(&info.path));
    }
    for info in &mut tasks {
        inspect(
            repo,
            info,
            &worktrees,
            bases.get(&info.task).cloned().flatten(),
        );
    }
    tasks
}

impl TaskInfo {
    /// Its worktree is there to be looked at (so its changes come from [`fill_status`]).
    pub(super) fn has_checkout(&self) -> bool {
        self.checkout.is_some()
    }
}

/// A run's command at work in a task, for `--json`.
#[derive(Debug, Serialize)]
pub struct RunningInfo {
    pub pid: u32,
    /// When it started (UTC).
    pub started: String,
    /// The run's id, and the pid of the `git par run` itself.
    pub run: String,
    pub run_pid: u32,
}

/// Marks a task that a `git par run` is running a command in, from its lease.
fn mark_running(info: &mut TaskInfo) {
    let Some(holder) = &info.busy else { return };
    let Some(running) = &holder.running else {
        return;
    };
    info.running = Some(RunningInfo {
        pid: running.pid,
        started: time::iso8601(running.started),
        run: running.run.clone(),
        run_pid: holder.pid,
    });
    info.flags.push("running".into());
}

fn inspect(repo: &Repo, info: &mut TaskInfo, worktrees: &[Worktree], base_commit: Option<String>) {
    let real = fsutil::resolve(&info.path);
    let wt = worktrees
        .iter()
        .find(|w| !w.is_main && fsutil::resolve(&w.path) == real);
    let exists = info.path.exists();
    match wt {
        Some(wt) => {
            if !exists {
                info.flags.push("missing".into());
            }
            if wt.prunable {
                info.flags.push("prunable".into());
            }
            if wt.locked {
                info.flags.push("locked".into());
            }
            // A rebase detaches HEAD until it ends: the branch being rebased is still the one.
            let rebasing = ["rebase-merge/head-name", "rebase-apply/head-name"]
                .iter()
                .filter_map(|f| std::fs::read_to_string(wt.git_dir.join(f)).ok())
                .any(|h| h.trim() == format!("refs/heads/{}", info.branch));
            if wt.branch() != Some(info.branch.as_str()) && !rebasing {
                info.flags.push("other-branch".into());
            }
            if let Some(flag) = guard::in_progress_flag(&wt.git_dir) {
                info.flags.push(flag.into());
            }
            if exists {
                info.checkout = Some(Checkout {
                    git_dir: wt.git_dir.clone(),
                    head_tree: head_tree(repo, wt),
                });
            }
        }
        None if exists => info.flags.push("unregistered".into()),
        None => info.flags.push("no-worktree".into()),
    }
    let Some(tip) = repo.branch_tip(&info.branch) else {
        info.flags.push("no-branch".into());
        return;
    };
    if let Ok(commit) = repo.git.find_commit(tip) {
        let secs = commit.time().seconds();
        info.last_commit_secs = Some(secs);
        info.last_commit = Some(time::iso8601(secs));
    }
    let base_tip = info
        .base
        .as_deref()
        .and_then(|b| repo.branch_tip(b))
        .or_else(|| base_commit.and_then(|c| c.parse().ok()));
    if let Some(base_tip) = base_tip {
        if let Ok((ahead, behind)) = repo.git.graph_ahead_behind(tip, base_tip) {
            info.ahead = Some(ahead);
            info.behind = Some(behind);
        }
    }
}

fn head_tree(repo: &Repo, wt: &Worktree) -> Option<git2::Oid> {
    let commit = match &wt.head_ref {
        Some(head) => repo.git.refname_to_id(head).ok()?,
        None => std::fs::read_to_string(wt.git_dir.join("HEAD"))
            .ok()?
            .trim()
            .parse()
            .ok()?,
    };
    Some(repo.git.find_commit(commit).ok()?.tree_id())
}

/// Finds the status of every task worktree, as many at once as there are cores; `on_each`
/// is called (on this thread) with each task's index as its status comes in.
pub(super) fn fill_status(
    repo: &Repo,
    tasks: &mut [TaskInfo],
    on_each: &mut dyn FnMut(usize, &[TaskInfo]),
) {
    // The stat pass compares names byte for byte, and reads the index git would read.
    let quick = !repo
        .git
        .config()
        .is_ok_and(|c| c.get_bool("core.ignorecase").unwrap_or(false))
        && std::env::var_os("GIT_INDEX_FILE").is_none();
    // A file-system monitor hook, when the repository has one (see git::fsmonitor).
    let fsmonitor = repo
        .git
        .config()
        .ok()
        .and_then(|c| c.get_string("core.fsmonitor").ok())
        .and_then(|v| crate::git::fsmonitor::hook_of(&v));
    let rules = untracked_rules(repo);
    let jobs: Vec<(usize, PathBuf, PathBuf, Option<git2::Oid>)> = tasks
        .iter()
        .enumerate()
        .filter_map(|(i, t)| {
            let checkout = t.checkout.as_ref()?;
            let head_tree = checkout.head_tree.filter(|_| quick);
            Some((i, t.path.clone(), checkout.git_dir.clone(), head_tree))
        })
        .collect();
    let queue = Mutex::new(jobs.into_iter());
    let (sender, results) = std::sync::mpsc::channel::<(usize, Result<Status>)>();
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            let (sender, queue, rules) = (sender.clone(), &queue, &rules);
            let mut monitor = fsmonitor.clone().map(Monitor::new);
            scope.spawn(move || {
                while let Some((i, path, git_dir, head_tree)) =
                    queue.lock().ok().and_then(|mut q| q.next())
                {
                    let context = scan::Context {
                        monitor: monitor.as_mut(),
                        ignore_rules: rules.as_ref().map(|r| r as &dyn Fn(&Path) -> String),
                    };
                    let status = status::status_for_list(&path, &git_dir, head_tree, context);
                    if sender.send((i, status)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for (i, status) in results {
            match status {
                Ok(s) => {
                    tasks[i].staged = s.staged;
                    tasks[i].unstaged = s.unstaged + s.conflicted;
                    tasks[i].untracked = s.untracked;
                }
                Err(_) => tasks[i].flags.push("status-failed".into()),
            }
            on_each(i, tasks);
        }
    });
}

/// What decides, outside a task's worktree, which of its files git lists as untracked (see
/// [`untracked_cache::ignore_rules`]), for the task whose admin dir is given; `None` when
/// settings come from the environment (`git -c`), which no cache can key on.
fn untracked_rules(repo: &Repo) -> Option<impl Fn(&Path) -> String> {
    if std::env::var_os("GIT_CONFIG_PARAMETERS").is_some()
        || std::env::var_os("GIT_CONFIG_COUNT").is_some()
    {
        return None;
    }
    let config = repo.git.config().ok()?.snapshot().ok()?;
    let excludes = config.get_path("core.excludesFile").ok().or_else(|| {
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
        Some(xdg.join("git/ignore"))
    })?;
    let settings = format!(
        "excludesFile={} showUntrackedFiles={:?} ignoreCase={:?}",
        excludes.display(),
        config.get_string("status.showUntrackedFiles").ok(),
        config.get_string("core.ignoreCase").ok(),
    );
    let common = repo.git.commondir().to_path_buf();
    Some(move |git_dir: &Path| {
        untracked_cache::ignore_rules(&common, git_dir, &excludes, &settings)
    })
}
