//! `git par recover`: finish or roll back operations a crash interrupted, and look over the
//! whole repository for leftovers. Each finding is reported with what was done about it;
//! nothing that may hold work is deleted unsaved, and a second run finds nothing to do.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::RecoverArgs;
use crate::error::Result;
use crate::git::Repo;
use crate::journal;
use crate::lock::RepoLock;
use crate::ops::{self, gate};
use crate::ui::Ui;
use crate::{fsutil, proc, rescue, task};

#[derive(Debug, Serialize)]
pub struct Finding {
    /// `recovered`, `cleaned up`, `saved` or `left alone` (with `would ` in front on a dry run).
    pub action: String,
    pub what: String,
    pub detail: String,
}

pub fn run(args: RecoverArgs, ui: &mut Ui) -> Result<u8> {
    let repo = Repo::discover()?;
    ui.apply_color_config(repo.config.color_ui.as_deref());
    if args.wait {
        ops::background::wait_all(&repo)?;
    }
    let _lock = RepoLock::acquire(&repo.par_dir(), ui, "git par recover")?;
    let findings = recover(&repo, ui, args.dry_run)?;
    if args.json {
        ui.println(&serde_json::to_string_pretty(&findings)?)?;
    } else if findings.is_empty() {
        ui.note("Nothing to recover.");
    } else {
        for f in &findings {
            ui.println(&format!("{}: {} ({})", f.action, f.what, f.detail))?;
        }
    }
    Ok(0)
}

pub fn recover(repo: &Repo, ui: &mut Ui, dry_run: bool) -> Result<Vec<Finding>> {
    let mut findings = Vec::new();
    let mut say = |action: &str, what: String, detail: String| {
        let action = if dry_run {
            format!("would {action}")
        } else {
            action.to_string()
        };
        findings.push(Finding {
            action,
            what,
            detail,
        });
    };
    // git's lock files left by a git killed with its git par come first: they would stop the
    // recovery of that git par's operation (saving its work needs the ref locks).
    for lock in git_locks(&repo.common_dir) {
        match proc::holder_of(&lock) {
            Some(pid) => say(
                "leave alone",
                format!("git lock file {}", lock.display()),
                format!("process {pid} has it open"),
            ),
            None => match (!dry_run).then(|| fs::remove_file(&lock)) {
                Some(Err(e)) => say(
                    "leave alone",
                    format!("stale git lock file {}", lock.display()),
                    format!("it could not be removed: {e}"),
                ),
                _ => say(
                    "clean up",
                    format!("stale git lock file {}", lock.display()),
                    "no process has it open (git keeps its lock files open while it works)".into(),
                ),
            },
        }
    }
    for orphan in journal::orphans(&repo.par_dir()) {
        let entry = match &orphan.entry {
            Ok(entry) => entry,
            Err(why) => {
                let what = format!("journal entry {}", orphan.path.display());
                let detail = format!("it cannot be read ({why}), so nothing it names was touched");
                if dry_run {
                    say("leave alone", what, detail);
                    continue;
                }
                let kept = orphan.set_aside()?;
                say(
                    "leave alone",
                    what,
                    format!("{detail}; it is kept as {}", kept.display()),
                );
                continue;
            }
        };
        let what = format!("interrupted {} ({})", orphan.describe(), entry.op.phase());
        if dry_run {
            say("recover", what, ops::intent(repo, entry));
            continue;
        }
        match ops::recover(repo, ui, entry) {
            Ok(steps) => {
                let saved = steps.iter().any(|s| s.starts_with("saved"));
                let detail = if steps.is_empty() {
                    "nothing was left to undo".to_string()
                } else {
                    steps.join("; ")
                };
                say(if saved { "saved" } else { "recovered" }, what, detail);
                orphan.done()?;
            }
            Err(err) => {
                say(
                    "leave alone",
                    what,
                    format!(
                        "{}; nothing more was done, and the entry is kept for the next 'git par recover'",
                        err.message
                    ),
                );
            }
        }
    }
    for (file, why) in task::damaged(repo) {
        let what = format!("task record {}", file.display());
        if dry_run {
            say("leave alone", what, format!("it cannot be believed: {why}"));
            continue;
        }
        let kept = task::set_aside(&file)?;
        say(
            "leave alone",
            what,
            format!(
                "it cannot be believed ({why}); it is kept as {}, and its task is treated as unrecorded",
                kept.display()
            ),
        );
    }
    let busy = journal::has_live_entries(&repo.par_dir());
    let wt_dir = repo.worktree_dir();
    let worktrees = repo.worktrees();
    for wt in worktrees.iter().filter(|w| !w.is_main) {
        let real = fsutil::resolve(&wt.path);
        let gone = std::fs::symlink_metadata(&wt.path).is_err();
        if real.starts_with(&wt_dir) && gone && !busy {
            if !dry_run {
                let task = wt
                    .branch()
                    .and_then(|b| b.strip_prefix(repo.config.branch_prefix.as_str()))
                    .map(str::to_string)
                    .or_else(|| {
                        real.strip_prefix(&wt_dir)
                            .ok()
                            .map(|p| p.to_string_lossy().into_owned())
                    })
                    .unwrap_or_else(|| "recovered".into());
                gate::forget_admin(repo, &task, &wt.git_dir)?;
            }
            say(
                "clean up",
                format!("git's record of the deleted worktree {}", wt.path.display()),
                match wt.branch() {
                    Some(b) => format!("its folder was deleted by hand; branch '{b}' is kept"),
                    None => "its folder was deleted by hand".into(),
                },
            );
        }
    }
    let registered: Vec<PathBuf> = worktrees.iter().map(|w| fsutil::resolve(&w.path)).collect();
    let known: Vec<PathBuf> = registered
        .iter()
        .cloned()
        .chain(task::all(repo).into_iter().map(|r| r.path))
        .collect();
    for slot in trash_slots(&wt_dir, &known) {
        let id = slot
            .file_name()
            .and_then(|n| gate::slot_id(&n.to_string_lossy()).map(str::to_string))
            .unwrap_or_default();
        if journal::journal_dir(&repo.par_dir())
            .join(format!("{id}.json"))
            .exists()
        {
            continue;
        }
        let what = format!("unfinished removal {}", slot.display());
        let beside = slot.parent().unwrap_or(&wt_dir);
        let trashed = match gate::find_trashed(repo, &wt_dir, beside, &id, None) {
            Ok(Some(trashed)) => trashed,
            Ok(None) => continue,
            Err(err) => {
                say("leave alone", what, err.message);
                continue;
            }
        };
        if dry_run {
            say(
                "clean up",
                what,
                "it would be saved if it holds anything, then deleted".into(),
            );
            continue;
        }
        // No journal names it: its task is unknown, and its files are read against its own
        // HEAD while git's record is there, else against the main worktree's.
        let saved = match &trashed.admin {
            Some(_) => ops::late_changes(repo, "recovered", &trashed, None)?,
            None => match ops::commit_of(repo, "HEAD") {
                Some(head) => {
                    rescue::save_folder(repo, "recovered", &trashed.path, &head, &[], "recover")?
                }
                None => None,
            },
        };
        if let Some(admin) = &trashed.admin {
            gate::forget_admin(repo, "recovered", admin)?;
        }
        trashed.delete(ui)?;
        let detail = match saved {
            Some(saved) => format!("saved what it held as {saved}, then deleted it"),
            None => "it held nothing that is not safe elsewhere; deleted it".into(),
        };
        say("clean up", what, detail);
    }
    for folder in unknown_folders(&wt_dir, &registered) {
        // An empty folder holds nothing to report, and git par did not make it (the folders
        // a start made are removed when that start is rolled back).
        if !is_empty_dir(&folder) {
            say(
                "leave alone",
                format!("folder {}", folder.display()),
                "git does not know it as a worktree and it may hold work; move it away or delete it yourself".into(),
            );
        }
    }
    let prefix = &repo.config.branch_prefix;
    let records = task::all(repo);
    if let Ok(branches) = repo.git.branches(Some(git2::BranchType::Local)) {
        for (branch, _) in branches.flatten() {
            let Ok(Some(name)) = branch.name() else {
                continue;
            };
            let Some(task_name) = name.strip_prefix(prefix.as_str()) else {
                continue;
            };
            let checked_out = worktrees.iter().any(|w| w.branch() == Some(name));
            if !checked_out && !busy {
                say(
                    "leave alone",
                    format!("branch '{name}'"),
                    format!("it has no worktree; 'git par drop {task_name}' throws it away (saving its commits), 'git worktree add' brings it back"),
                );
            }
        }
    }
    for record in &records {
        if repo.branch_tip(&record.branch).is_none() && !record.path.exists() && !busy {
            if !dry_run {
                task::remove(repo, &record.task)?;
            }
            say(
                "clean up",
                format!("record of task '{}'", record.task),
                "its branch and worktree are both gone".into(),
            );
        }
    }
    let half_written = stale_temp_files(&repo.par_dir())
        .into_iter()
        .map(|p| ("half-written file", p));
    let indexes = stale_private_indexes(&repo.common_dir)
        .into_iter()
        .map(|p| ("temporary index", p));
    let stray_locks = journal::stray_locks(&repo.par_dir())
        .into_iter()
        .map(|p| ("journal lock", p));
    let forgotten = forgotten_records(&gate::forgotten_dir(repo))
        .into_iter()
        .map(|p| (FORGOTTEN, p));
    for (kind, temp) in half_written
        .chain(indexes)
        .chain(stray_locks)
        .chain(forgotten)
    {
        if !dry_run {
            let removed = match kind {
                FORGOTTEN => gate::delete_forgotten(repo, &temp),
                _ => fs::remove_file(&temp).map_err(Into::into),
            };
            if let Err(err) = removed {
                say(
                    "leave alone",
                    format!("{kind} {}", temp.display()),
                    format!("it could not be removed: {}", err.message),
                );
                continue;
            }
        }
        say(
            "clean up",
            format!("{kind} {}", temp.display()),
            "its git par is gone".into(),
        );
    }
    Ok(findings)
}

/// Trash slots (`.par-trash.<id>`) in the worktree dir and in the folders on the way to a
/// registered worktree or a recorded task: never inside an unknown folder (which is reported
/// and left alone whole), a worktree, a symlink or a slot.
fn trash_slots(wt_dir: &Path, registered: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![wt_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let on_the_way = registered
                .iter()
                .any(|r| r.starts_with(&path) && *r != path);
            if gate::slot_id(&entry.file_name().to_string_lossy()).is_some() {
                found.push(path);
            } else if is_dir && on_the_way {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Folders under the worktree dir that are neither a registered worktree nor on the way to
/// one (trash slots excluded).
fn unknown_folders(wt_dir: &Path, registered: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![wt_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path
                .file_name()
                .is_some_and(|n| gate::slot_id(&n.to_string_lossy()).is_some())
            {
                continue;
            }
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            let real = fsutil::resolve(&path);
            if registered.contains(&real) {
                continue;
            }
            if is_dir && registered.iter().any(|r| r.starts_with(&real)) {
                stack.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn is_empty_dir(path: &Path) -> bool {
    fs::read_dir(path).is_ok_and(|mut d| d.next().is_none())
}

/// Half-written journal entries and task records (`.<name>.tmp<pid>`, see
/// `fsutil::write_atomic`) whose writer is gone.
fn stale_temp_files(par_dir: &Path) -> Vec<PathBuf> {
    ["journal", "tasks"]
        .iter()
        .filter_map(|d| fs::read_dir(par_dir.join(d)).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.starts_with('.')
                && name
                    .rsplit_once(".tmp")
                    .is_some_and(|(_, pid)| proc::is_dead_pid(pid))
        })
        .collect()
}

/// What recover calls a record that `gate::forget_admin` set aside and did not delete.
const FORGOTTEN: &str = "half-deleted record";

/// git's records of removed worktrees that a git par, now gone, had set aside to delete
/// (`par/forgotten/<name>.<pid>`, see `gate::forget_admin`).
fn forgotten_records(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let pid = p
                .extension()
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_default();
            proc::is_dead_pid(&pid)
        })
        .collect()
}

/// The private index copies (`par-index.<pid>`, and git's lock on one) that a git par killed
/// while saving a worktree's state leaves in a git dir.
fn stale_private_indexes(common_dir: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![common_dir.to_path_buf()];
    if let Ok(entries) = fs::read_dir(common_dir.join("worktrees")) {
        dirs.extend(entries.flatten().map(|e| e.path()));
    }
    dirs.iter()
        .filter_map(|d| fs::read_dir(d).ok())
        .flat_map(|entries| entries.flatten().map(|e| e.path()))
        .filter(|p| {
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            name.strip_prefix("par-index.")
                .map(|rest| rest.trim_end_matches(".lock"))
                .is_some_and(proc::is_dead_pid)
        })
        .collect()
}

/// git's own lock files that a killed git command can leave behind.
fn git_locks(common_dir: &Path) -> Vec<PathBuf> {
    let mut candidates = vec![
        common_dir.join("index.lock"),
        common_dir.join("HEAD.lock"),
        common_dir.join("config.lock"),
        common_dir.join("packed-refs.lock"),
    ];
    if let Ok(entries) = fs::read_dir(common_dir.join("worktrees")) {
        for entry in entries.flatten() {
            candidates.push(entry.path().join("index.lock"));
            candidates.push(entry.path().join("HEAD.lock"));
        }
    }
    let mut stack = vec![common_dir.join("refs")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                candidates.push(path);
            }
        }
    }
    candidates.into_iter().filter(|p| p.exists()).collect()
}
