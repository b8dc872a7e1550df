//! `git par drop`: throw a task away, its work saved under `refs/par/rescued/` first (see
//! [`ops::drop`]).

use crate::cli::DropArgs;
use crate::error::Result;
use crate::hooks::Hooks;
use crate::ops::drop::{self, Request};
use crate::ui::Ui;

pub fn run(args: DropArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let task = super::leased(&repo, ui, Some(&args.task), "drop", args.wait)?;
    let request = Request {
        force: args.force,
        stop_processes: args.stop_processes,
        hooks: Hooks::on_terminal(!args.no_hooks),
        only_clean: false,
        foreground: args.foreground,
    };
    drop::drop_task(&repo, ui, &task.lease, &task.record, &request)?;
    if task.inside {
        crate::shell::leave_removed_folder(ui, &repo.main_worktree);
    }
    Ok(0)
}
