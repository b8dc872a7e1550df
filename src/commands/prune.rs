//! `git par prune`: drop every task whose work is already in its base (see [`ops::prune`]),
//! and say of each task why it went or stayed.

use crate::cli::PruneArgs;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::ops::prune::{self, Outcome};
use crate::task::TaskRecord;
use crate::ui::Ui;
use crate::{cleanup, fsutil, task};

pub fn run(args: PruneArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let records = stacked_first(task::all(&repo));
    let here = fsutil::resolve(&repo.cwd);
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut left_inside = false;
    for record in &records {
        cleanup::check()?;
        let gone: Vec<String> = outcomes
            .iter()
            .filter(|o| matches!(o.action, "pruned" | "would-prune"))
            .map(|o| o.task.clone())
            .collect();
        let hooks = crate::hooks::Hooks::on_terminal(!args.no_hooks);
        let outcome = prune::prune_task(&repo, ui, record, &gone, args.dry_run, &hooks)?;
        if outcome.action == "pruned" && here.starts_with(fsutil::resolve(&record.path)) {
            left_inside = true;
        }
        if !args.json {
            ui.println(&line(&outcome))?;
        }
        outcomes.push(outcome);
    }
    for task in unrecorded(&repo, &records) {
        let outcome = Outcome {
            reason: format!("git par has no record of it; 'git par drop {task}' removes it"),
            task,
            action: "kept",
            merged: None,
            saved: None,
        };
        if !args.json {
            ui.println(&line(&outcome))?;
        }
        outcomes.push(outcome);
    }
    if left_inside {
        crate::shell::request_cd(&repo.main_worktree);
    }
    if args.json {
        ui.println(&serde_json::to_string_pretty(&outcomes)?)?;
    } else if outcomes.is_empty() {
        ui.note("No tasks.");
    }
    let failed: Vec<&str> = outcomes
        .iter()
        .filter(|o| o.action == "failed")
        .map(|o| o.task.as_str())
        .collect();
    if !failed.is_empty() {
        return Err(
            Error::failed(format!("could not prune: {}", failed.join(", ")))
                .hint("the other tasks were dealt with; the lines above say why these were not"),
        );
    }
    Ok(0)
}

/// Tasks started from another task's branch before that task, deepest first, so that a task
/// whose only child is pruned can go in the same run; otherwise by name.
fn stacked_first(mut records: Vec<TaskRecord>) -> Vec<TaskRecord> {
    let depth = |r: &TaskRecord| {
        let mut depth = 0;
        let mut base = r.base.clone();
        while let Some(parent) = base.and_then(|b| records.iter().find(|p| p.branch == b)) {
            depth += 1;
            if depth > records.len() {
                break;
            }
            base = parent.base.clone();
        }
        depth
    };
    let depths: Vec<(usize, String)> = records.iter().map(|r| (depth(r), r.task.clone())).collect();
    records.sort_by_key(|r| {
        let d = depths
            .iter()
            .find(|(_, t)| *t == r.task)
            .map_or(0, |(d, _)| *d);
        (std::cmp::Reverse(d), r.task.clone())
    });
    records
}

/// Tasks known only by a branch under the task prefix: prune does not judge those.
fn unrecorded(repo: &Repo, records: &[TaskRecord]) -> Vec<String> {
    let prefix = &repo.config.branch_prefix;
    let Ok(branches) = repo.git.branches(Some(git2::BranchType::Local)) else {
        return Vec::new();
    };
    branches
        .flatten()
        .filter_map(|(b, _)| b.name().ok().flatten().map(str::to_string))
        .filter(|name| records.iter().all(|r| &r.branch != name))
        .filter_map(|name| name.strip_prefix(prefix.as_str()).map(str::to_string))
        .collect()
}

fn line(o: &Outcome) -> String {
    let verb = match o.action {
        "would-prune" => "would prune",
        other => other,
    };
    let mut text = format!("{verb} {}: {}", o.task, o.reason);
    if let Some(saved) = &o.saved {
        text.push_str(&format!(" (saved as {saved})"));
    }
    text
}
