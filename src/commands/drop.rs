//! `git par drop`: throw a task away, its work saved under `refs/par/rescued/` first (see
//! [`ops::drop`]).

use crate::cli::DropArgs;
use crate::error::Result;
use crate::ops::drop::{self, Request};
use crate::ops::lease::Lease;
use crate::task;
use crate::ui::Ui;

pub fn run(args: DropArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let record = task::resolve(&repo, Some(&args.task))?;
    let was_inside =
        crate::fsutil::resolve(&repo.cwd).starts_with(crate::fsutil::resolve(&record.path));
    let lease = Lease::take(
        &repo,
        ui,
        &record.task,
        &format!("git par drop {}", record.task),
        args.wait,
    )?;
    let request = Request {
        force: args.force,
        stop_processes: args.stop_processes,
    };
    drop::drop_task(&repo, ui, &lease, &record, &request)?;
    if was_inside {
        crate::shell::request_cd(&repo.main_worktree);
    }
    Ok(0)
}
