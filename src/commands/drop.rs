//! `git par drop`: throw a task away. Whatever it holds that its base does not (commits,
//! uncommitted and untracked files) is saved under `refs/par/rescued/` before anything goes.

use crate::cli::DropArgs;
use crate::error::{Error, Result};
use crate::git::status;
use crate::git::{git, Repo};
use crate::journal::{Journal, Op};
use crate::task::{self, TaskRecord};
use crate::ui::Ui;
use crate::{cleanup, fsutil, remove, rescue};

pub fn run(args: DropArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let record = task::resolve(&repo, Some(&args.task))?;
    let was_inside = fsutil::resolve(&repo.cwd).starts_with(fsutil::resolve(&record.path));
    drop_task(&repo, ui, &record, args.force)?;
    if was_inside {
        crate::shell::request_cd(&repo.main_worktree);
    }
    Ok(0)
}

/// What a task holds beyond its base, in words; `None` when it holds nothing.
pub fn held_work(repo: &Repo, record: &TaskRecord) -> Result<Option<String>> {
    let mut parts = Vec::new();
    if let Some(tip) = repo.branch_tip(&record.branch) {
        let base = record
            .base
            .as_deref()
            .and_then(|b| repo.branch_tip(b))
            .or_else(|| record.base_commit.parse().ok());
        let Some(base) = base else {
            parts.push(format!("branch '{}', whose base is unknown", record.branch));
            return Ok(Some(parts.join("\n")));
        };
        let (ahead, _) = repo.git.graph_ahead_behind(tip, base)?;
        if ahead > 0 {
            let range = format!("{base}..{tip}");
            let log = git(
                &repo.main_worktree,
                ["log", "--oneline", "-n", "10", &range],
            )
            .run()?
            .stdout_str();
            parts.push(format!("{ahead} commit(s) not in its base:\n{log}"));
        }
    }
    if record.path.exists() {
        let status = status::status(&record.path)?;
        if !status.is_clean() {
            let files: Vec<String> = status
                .entries
                .iter()
                .take(20)
                .map(|(code, path)| format!("{code} {path}"))
                .collect();
            parts.push(format!(
                "{} uncommitted change(s):\n{}",
                status.entries.len(),
                files.join("\n")
            ));
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join("\n")))
}

pub fn drop_task(
    repo: &Repo,
    ui: &mut Ui,
    record: &TaskRecord,
    force: bool,
) -> Result<Option<String>> {
    let name = &record.task;
    if let Some(work) = held_work(repo, record)? {
        if !force {
            ui.note(&format!(
                "Task '{name}' holds work that would be thrown away:\n{work}"
            ));
            if !ui.interactive {
                return Err(Error::failed(format!("task '{name}' holds work; not dropping it"))
                    .hint(format!("'git par drop --force {name}' drops it (the work is saved under refs/par/rescued/ first)")));
            }
            if !ui
                .prompter
                .confirm(&format!("Drop task '{name}'? Its work is saved first"))?
            {
                return Err(Error::failed("cancelled; nothing was changed"));
            }
        }
    }
    cleanup::check()?;
    let tip = repo.branch_tip(&record.branch);
    let mut journal = Journal::begin(
        &repo.par_dir(),
        Op::Drop {
            task: name.clone(),
            branch: record.branch.clone(),
            path: record.path.clone(),
            rescue: None,
            trash: None,
        },
    )?;
    let base_tip = record
        .base
        .as_deref()
        .and_then(|b| repo.branch_tip(b))
        .map(|t| t.to_string());
    let safe_in =
        base_tip.or_else(|| (!record.base_commit.is_empty()).then(|| record.base_commit.clone()));
    let worktree = record.path.exists().then_some(record.path.as_path());
    let saved = rescue::save_task(
        repo,
        name,
        worktree,
        tip.map(|t| t.to_string()).as_deref(),
        &Vec::from_iter(safe_in),
        "drop",
    );
    let saved = match saved {
        Ok(saved) => saved,
        Err(err) => {
            journal.done()?;
            return Err(err);
        }
    };
    journal.update(|op| {
        if let Op::Drop { rescue, .. } = op {
            rescue.clone_from(&saved);
        }
    })?;
    cleanup::past_point_of_no_return();
    cleanup::failpoint("drop:saved");
    if let Err(err) = remove::teardown(repo, ui, &mut journal, record, tip) {
        return Err(remove::settle_journal(journal, err));
    }
    journal.done()?;
    ui.note(&format!("Dropped task '{name}'."));
    if let Some(saved) = &saved {
        ui.note(&format!(
            "Its work is saved as {saved}; 'git par rescued' shows how to restore it."
        ));
    }
    if let Some(sig) = cleanup::pending() {
        return Err(Error::interrupted(sig).hint("the work was saved, so the drop was completed"));
    }
    Ok(saved)
}
