//! `git par __complete-tasks` (hidden): the task names, one a line, for shell completion.
//!
//! It runs on every Tab, so it skips the usual start-up (`git config` as a process, the
//! journal check) and reads with git2 only; and it keeps quiet about everything: outside a
//! repository, or on any error, it prints nothing and exits 0.

use std::collections::BTreeSet;
use std::fs;

use git2::Repository;

use crate::config::DEFAULT_BRANCH_PREFIX;
use crate::error::Result;
use crate::task::TaskRecord;
use crate::ui::Ui;

pub fn run(ui: &mut Ui) -> Result<u8> {
    for name in task_names() {
        if ui.println(&name).is_err() {
            break;
        }
    }
    Ok(0)
}

/// Tasks with a record, and branches under `par.branchPrefix` (tasks `list` shows too).
pub fn task_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let Ok(repo) = Repository::open_from_env() else {
        return names;
    };
    if let Ok(entries) = fs::read_dir(repo.commondir().join("par").join("tasks")) {
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|x| x == "json") {
                let record = fs::read(entry.path())
                    .ok()
                    .and_then(|bytes| serde_json::from_slice::<TaskRecord>(&bytes).ok());
                if let Some(record) = record {
                    names.insert(record.task);
                }
            }
        }
    }
    let prefix = repo
        .config()
        .and_then(|c| c.get_string("par.branchPrefix"))
        .unwrap_or_else(|_| DEFAULT_BRANCH_PREFIX.to_string());
    // With an empty prefix every branch would count as a task.
    if prefix.is_empty() {
        return names;
    }
    if let Ok(mut refs) = repo.references_glob(&format!("refs/heads/{prefix}*")) {
        let full = format!("refs/heads/{prefix}");
        for name in refs.names().flatten() {
            if let Some(task) = name.strip_prefix(&full) {
                names.insert(task.to_string());
            }
        }
    }
    names
}
