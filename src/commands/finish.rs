//! `git par finish`: merge a task into its base (or `--into`), then take the task apart (see
//! [`ops::finish`]).

use crate::cli::FinishArgs;
use crate::error::Result;
use crate::ops::finish::{self, Request};
use crate::ops::lease::Lease;
use crate::task;
use crate::ui::Ui;

pub fn run(args: FinishArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let record = task::resolve(&repo, args.task.as_deref())?;
    let request = Request {
        into: args.into,
        strategy: args.strategy,
        message: args.message,
        changes: args.changes,
        keep: args.keep,
        dry_run: args.dry_run,
        stop_processes: args.stop_processes,
    };
    let was_inside =
        crate::fsutil::resolve(&repo.cwd).starts_with(crate::fsutil::resolve(&record.path));
    let lease = Lease::take(
        &repo,
        ui,
        &record.task,
        &format!("git par finish {}", record.task),
        args.wait,
    )?;
    let outcome = finish::finish(&repo, ui, &lease, &record, &request)?;
    if was_inside && outcome.removed {
        crate::shell::request_cd(
            outcome
                .target_worktree
                .as_ref()
                .unwrap_or(&repo.main_worktree),
        );
    }
    Ok(0)
}
