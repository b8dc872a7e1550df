//! `git par sync`: bring the base branch's new commits into a task (see [`ops::sync`]).

use crate::cli::SyncArgs;
use crate::error::{Error, Result};
use crate::ops::sync::{self, Synced};
use crate::ui::Ui;

pub fn run(args: SyncArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let super::Leased { record, lease, .. } =
        super::leased(&repo, ui, args.task.as_deref(), "sync", args.wait)?;
    let name = &record.task;
    let Some(base) = record.base.clone() else {
        return Err(
            Error::failed(format!("task '{name}' has no base branch to sync with"))
                .hint("it was started from a commit, not a branch"),
        );
    };
    if !record.path.exists() {
        return Err(Error::failed(format!(
            "the worktree of task '{name}' is missing: {}",
            record.path.display()
        ))
        .hint("'git par recover' looks into it"));
    }
    let verb = if args.rebase { "rebase" } else { "merge" };
    match sync::sync(&repo, ui, &lease, &record, &base, args.rebase, args.carry)? {
        Synced::UpToDate => {
            ui.note(&format!(
                "Task '{name}' is already up to date with '{base}'; nothing to do."
            ));
            Ok(0)
        }
        Synced::Done { carried } => {
            ui.note(&match args.rebase {
                true => format!("Rebased task '{name}' onto '{base}'."),
                false => format!("Merged '{base}' into task '{name}'."),
            });
            if carried {
                ui.note("Its uncommitted changes are back, as they were.");
            }
            Ok(0)
        }
        Synced::Conflicts(lines) => {
            for line in &lines {
                ui.note(line);
            }
            Err(Error::failed(sync::failed_to(args.rebase, &base, name))
                .hint(format!(
                    "resolve the conflicts in {}, then 'git {}'",
                    record.path.display(),
                    if args.rebase {
                        "rebase --continue"
                    } else {
                        "commit"
                    }
                ))
                .hint(format!("or give up with 'git {verb} --abort' there")))
        }
    }
}
