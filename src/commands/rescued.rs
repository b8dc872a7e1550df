//! `git par rescued`: the work git-par saved before deleting anything, and the one command
//! that brings each piece back.

use serde::Serialize;

use crate::cli::RescuedArgs;
use crate::error::Result;
use crate::git::Repo;
use crate::rescue::{PREFIX, SNAPSHOT_SUBJECT};
use crate::ui::Ui;
use crate::{task, time};

#[derive(Debug, Serialize)]
pub struct Rescued {
    pub task: String,
    #[serde(rename = "ref")]
    pub refname: String,
    pub commit: String,
    /// When it was saved (ISO 8601, UTC).
    pub date: String,
    /// What it holds, in words.
    pub holds: String,
    pub restore: String,
}

pub fn run(args: RescuedArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let all = list(&repo)?;
    if args.json {
        ui.println(&serde_json::to_string_pretty(&all)?)?;
        return Ok(0);
    }
    if all.is_empty() {
        ui.note("No saved work.");
    }
    for r in &all {
        ui.println(&format!(
            "{}  {}  task '{}': {}",
            r.date, r.refname, r.task, r.holds
        ))?;
        ui.println(&format!("    restore: {}", r.restore))?;
    }
    Ok(0)
}

pub fn list(repo: &Repo) -> Result<Vec<Rescued>> {
    let mut all = Vec::new();
    for reference in repo.git.references_glob(&format!("{PREFIX}*"))?.flatten() {
        let Ok(name) = reference.name() else { continue };
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        let rest = &name[PREFIX.len()..];
        let task = rest
            .rsplit_once('/')
            .map_or(rest, |(task, _)| task)
            .to_string();
        let is_snapshot = commit
            .message()
            .is_ok_and(|m| m.starts_with(SNAPSHOT_SUBJECT));
        let holds = if is_snapshot {
            format!(
                "uncommitted changes (as a commit on top of {}), with the branch's commits below it",
                &commit.parent_id(0).map(|p| p.to_string()).unwrap_or_default()[..7]
            )
        } else {
            let subject = commit.summary().ok().flatten().unwrap_or("").to_string();
            format!(
                "the branch's commits, up to {} \"{subject}\"",
                &commit.id().to_string()[..7]
            )
        };
        let free = task::load_free_name(repo, &task);
        all.push(Rescued {
            task: task.clone(),
            refname: name.to_string(),
            commit: commit.id().to_string(),
            date: time::iso8601(commit.committer().when().seconds()),
            holds,
            restore: format!("git par start {free} --base {name}"),
        });
    }
    all.sort_by(|a, b| a.refname.cmp(&b.refname));
    Ok(all)
}
