//! What a task is: its name rules, and the small record that remembers its base.
//!
//! Records live in `<common git dir>/par/tasks/`, one JSON file a task, written atomically,
//! so every worktree of the repository sees the same tasks.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fsutil;
use crate::git::Repo;
use crate::ops::gate::{Claim, Identity};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct TaskRecord {
    pub task: String,
    pub branch: String,
    /// The branch it came from, when it came from one.
    pub base: Option<String>,
    pub base_commit: String,
    pub path: PathBuf,
    /// Seconds since the epoch.
    pub created: i64,
    /// The worktree dir as `start` resolved it (records from before it was kept: none, and
    /// the current setting's is used).
    #[serde(default)]
    pub worktree_dir: Option<PathBuf>,
    /// The worktree folder `start` made, to know it again before removing it.
    #[serde(default)]
    pub identity: Option<Identity>,
    /// Folders `start` made on the way to the worktree, deepest first: removed with the task
    /// when empty, and no others.
    #[serde(default)]
    pub created_dirs: Vec<PathBuf>,
}

impl TaskRecord {
    /// What the record says of the task's worktree, for the removal gate to check.
    pub fn claim(&self, repo: &Repo) -> Claim {
        Claim {
            task: self.task.clone(),
            path: self.path.clone(),
            worktree_dir: self
                .worktree_dir
                .clone()
                .unwrap_or_else(|| repo.worktree_dir()),
            identity: self.identity,
        }
    }

    /// A record read from disk is believed only when it is self-consistent: its own name, a
    /// branch name git takes, and a worktree path that is the task's folder in its worktree dir.
    fn check(&self, name: &str) -> std::result::Result<(), String> {
        if self.task != name {
            return Err(format!("it names task '{}'", self.task));
        }
        validate_name(name).map_err(|e| e.message)?;
        if !git2::Reference::is_valid_name(&format!("refs/heads/{}", self.branch)) {
            return Err(format!("its branch '{}' is no branch name", self.branch));
        }
        let path_ok = self.path.is_absolute() && fsutil::normalize(&self.path) == self.path;
        let in_dir = self
            .worktree_dir
            .as_ref()
            .map_or(true, |dir| self.path == dir.join(name));
        if !path_ok || !in_dir {
            return Err(format!(
                "its worktree path {} is not the task's folder",
                self.path.display()
            ));
        }
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
        if !(self.base_commit.is_empty() || self.base_commit.len() >= 40 && hex(&self.base_commit))
        {
            return Err(format!(
                "its base commit '{}' is no commit id",
                self.base_commit
            ));
        }
        Ok(())
    }
}

/// Refuses names that git would not take in a branch or that could leave the worktree dir.
pub fn validate_name(task: &str) -> Result<()> {
    let rule = |why: &str| {
        Err(Error::usage(format!("invalid task name '{task}': {why}"))
            .hint("use letters, digits, '-', '_', '.' and '/' between parts, as in fix/login-2"))
    };
    if task.is_empty() {
        return rule("it is empty");
    }
    if task.starts_with('-') {
        return rule("it starts with '-'");
    }
    if task.starts_with('/') || task.ends_with('/') {
        return rule("it starts or ends with '/'");
    }
    if task.contains("//") {
        return rule("it has an empty part ('//')");
    }
    if task.contains("..") {
        return rule("it contains '..'");
    }
    if let Some(c) = task.chars().find(|c| c.is_control()) {
        return rule(&format!("it contains the control character {:?}", c));
    }
    if task.chars().any(char::is_whitespace) {
        return rule("it contains white space");
    }
    if let Some(c) = task.chars().find(|c| "~^:?*[\\".contains(*c)) {
        return rule(&format!("it contains '{c}'"));
    }
    if task.contains("@{") || task == "@" {
        return rule("it contains '@{' or is '@'");
    }
    for part in task.split('/') {
        if part.starts_with('.') {
            return rule("a part starts with '.'");
        }
        if part.ends_with(".lock") {
            return rule("a part ends with '.lock'");
        }
    }
    if task.ends_with('.') {
        return rule("it ends with '.'");
    }
    if !git2::Reference::is_valid_name(&format!("refs/heads/{task}")) {
        return rule("git does not accept it in a branch name");
    }
    Ok(())
}

fn records_dir(repo: &Repo) -> PathBuf {
    repo.par_dir().join("tasks")
}

/// A task name as a file name: `/` and `%` escaped, so `fix/a` and `fix%2Fa` stay apart.
pub fn file_stem(task: &str) -> String {
    task.replace('%', "%25").replace('/', "%2F")
}

fn record_file(repo: &Repo, task: &str) -> PathBuf {
    records_dir(repo).join(format!("{}.json", file_stem(task)))
}

/// The record of `task`: `None` when there is none or it cannot be believed (see
/// [`damaged`]).
pub fn load(repo: &Repo, task: &str) -> Option<TaskRecord> {
    read(&record_file(repo, task), task).ok()
}

fn read(file: &Path, task: &str) -> std::result::Result<TaskRecord, String> {
    let text = fs::read(file).map_err(|e| e.to_string())?;
    let record: TaskRecord = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    record.check(task)?;
    Ok(record)
}

fn decode_stem(stem: &str) -> String {
    stem.replace("%2F", "/").replace("%25", "%")
}

/// Records that cannot be believed (unreadable, or not self-consistent), with why.
pub fn damaged(repo: &Repo) -> Vec<(PathBuf, String)> {
    record_files(repo)
        .into_iter()
        .filter_map(|(file, task)| read(&file, &task).err().map(|why| (file, why)))
        .collect()
}

/// Moves a record that cannot be believed to `tasks/damaged/`, for the user to look at.
pub fn set_aside(file: &Path) -> Result<PathBuf> {
    let dir = file.with_file_name("damaged");
    fs::create_dir_all(&dir)?;
    let to = dir.join(file.file_name().unwrap_or_default());
    fs::rename(file, &to)?;
    Ok(to)
}

fn record_files(repo: &Repo) -> Vec<(PathBuf, String)> {
    let Ok(entries) = fs::read_dir(records_dir(repo)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "json"))
        .filter_map(|p| {
            let task = decode_stem(&p.file_stem()?.to_string_lossy());
            Some((p, task))
        })
        .collect()
}

pub fn save(repo: &Repo, record: &TaskRecord) -> Result<()> {
    let json = serde_json::to_vec_pretty(record)?;
    fsutil::write_atomic(&record_file(repo, &record.task), &json)
        .map_err(|e| Error::failed(format!("could not save task '{}': {e}", record.task)))
}

pub fn remove(repo: &Repo, task: &str) -> Result<()> {
    fsutil::remove_file_if_exists(&record_file(repo, task))
        .map_err(|e| Error::failed(format!("could not forget task '{task}': {e}")))
}

pub fn all(repo: &Repo) -> Vec<TaskRecord> {
    let mut records: Vec<TaskRecord> = record_files(repo)
        .into_iter()
        .filter_map(|(file, task)| read(&file, &task).ok())
        .collect();
    records.sort_by(|a, b| a.task.cmp(&b.task));
    records
}

/// The task's worktree path under the worktree dir.
pub fn worktree_path(repo: &Repo, task: &str) -> PathBuf {
    repo.worktree_dir().join(task)
}

pub fn branch_name(repo: &Repo, task: &str) -> String {
    format!("{}{task}", repo.config.branch_prefix)
}

/// The task whose worktree holds `dir`, if any.
pub fn containing(repo: &Repo, dir: &Path) -> Option<TaskRecord> {
    let dir = fsutil::resolve(dir);
    all(repo)
        .into_iter()
        .find(|r| dir.starts_with(fsutil::resolve(&r.path)))
}

/// A task whose record is gone but whose branch or worktree is still there (made by hand,
/// or left by an older crash): enough to drop it or finish it with `--into`.
fn unrecorded(repo: &Repo, task: &str) -> Option<TaskRecord> {
    let branch = branch_name(repo, task);
    let path = worktree_path(repo, task);
    if repo.branch_tip(&branch).is_none() && !path.exists() {
        return None;
    }
    Some(TaskRecord {
        task: task.to_string(),
        branch,
        base: None,
        // Unknown: nothing counts as safe, so dropping it saves the whole branch.
        base_commit: String::new(),
        path,
        created: 0,
        worktree_dir: None,
        identity: None,
        created_dirs: Vec::new(),
    })
}

/// A task named on the command line, or the one the user stands in.
pub fn resolve(repo: &Repo, task: Option<&str>) -> Result<TaskRecord> {
    match task {
        Some(name) => {
            validate_name(name)?;
            load(repo, name)
                .or_else(|| unrecorded(repo, name))
                .ok_or_else(|| {
                    Error::failed(format!("no task named '{name}'"))
                        .hint("'git par list' shows the tasks there are")
                })
        }
        None => containing(repo, &repo.cwd).ok_or_else(|| {
            Error::usage("no task given, and the current directory is in no task's worktree")
                .hint("name the task, or run this from inside its worktree")
        }),
    }
}

/// `task`, or `task-restored`, `task-restored-2`, …: the first name no task or branch uses.
pub fn load_free_name(repo: &Repo, task: &str) -> String {
    let taken = |name: &str| {
        load(repo, name).is_some() || repo.branch_tip(&branch_name(repo, name)).is_some()
    };
    if !taken(task) {
        return task.to_string();
    }
    let mut name = format!("{task}-restored");
    let mut n = 1;
    while taken(&name) {
        n += 1;
        name = format!("{task}-restored-{n}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::validate_name;

    #[test]
    fn accepts_ordinary_names() {
        for name in ["task-123", "fix/login", "a.b_c", "JIRA-1/sub/part"] {
            assert!(validate_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn refuses_names_that_escape_or_git_rejects() {
        for name in [
            "", "-x", "/abs", "a/", "a//b", "..", "a/../b", "x.lock", "a.lock/b", "sp ace",
            "tab\tx", "a~1", "a^", "a:b", "a?", "a*", "a[", "a\\b", "a@{1}", "@", ".hidden",
            "a/.b", "end.",
        ] {
            let err = validate_name(name).expect_err(name);
            assert_eq!(err.exit_code(), 2, "{name}");
        }
    }
}
