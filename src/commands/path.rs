//! `git par path`: where a task's worktree is, for scripts (`cd "$(git par path x)"`).

use crate::cli::PathArgs;
use crate::error::Result;
use crate::task;
use crate::ui::Ui;

pub fn run(args: PathArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let path = match args.task.as_deref() {
        Some(name) => task::resolve(&repo, Some(name))?.path,
        None => repo.main_worktree.clone(),
    };
    ui.println(&path.to_string_lossy())?;
    Ok(0)
}
