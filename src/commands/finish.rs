//! `git par finish`: merge a task into its base (or `--into`), then take the task apart (see
//! [`ops::finish`]).

use crate::cli::FinishArgs;
use crate::error::Result;
use crate::hooks::Hooks;
use crate::ops::finish::{self, Request};
use crate::ui::Ui;

pub fn run(args: FinishArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let task = super::leased(&repo, ui, args.task.as_deref(), "finish", args.wait)?;
    let request = Request {
        into: args.into,
        strategy: args.strategy,
        message: args.message,
        changes_message: None,
        changes: args.changes,
        keep: args.keep,
        dry_run: args.dry_run,
        stop_processes: args.stop_processes,
        foreground: args.foreground,
        hooks: Hooks::on_terminal(!args.no_hooks),
    };
    let outcome = finish::finish(&repo, ui, &task.lease, &task.record, &request)?;
    if task.inside && outcome.removed {
        crate::shell::leave_removed_folder(
            ui,
            outcome
                .target_worktree
                .as_ref()
                .unwrap_or(&repo.main_worktree),
        );
    }
    match outcome.hook_failed {
        Some(err) => Err(err.hint(format!(
            "task '{}' was finished all the same",
            task.record.task
        ))),
        None => Ok(0),
    }
}
