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

fn record_file(repo: &Repo, task: &str) -> PathBuf {
    let name = task.replace('%', "%25").replace('/', "%2F");
    records_dir(repo).join(format!("{name}.json"))
}

pub fn load(repo: &Repo, task: &str) -> Option<TaskRecord> {
    let text = fs::read(record_file(repo, task)).ok()?;
    serde_json::from_slice(&text).ok()
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
    let Ok(entries) = fs::read_dir(records_dir(repo)) else {
        return Vec::new();
    };
    let mut records: Vec<TaskRecord> = entries
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| serde_json::from_slice(&fs::read(e.path()).ok()?).ok())
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
