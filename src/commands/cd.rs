//! `git par cd [<task>]`: goes to a task's worktree, or to the main worktree, through the
//! shell integration; without it, says how to set it up and prints the path.

use crate::cli::{CdArgs, Shell};
use crate::error::{Error, Result};
use crate::shell;
use crate::task;
use crate::ui::Ui;

pub fn run(args: CdArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let path = match args.task.as_deref() {
        Some(name) => {
            let path = task::resolve(&repo, Some(name))?.path;
            if !path.is_dir() {
                return Err(Error::failed(format!(
                    "the worktree of task '{name}' is missing: {}",
                    path.display()
                ))
                .hint("'git par list' shows what is wrong with it, 'git par recover' repairs it"));
            }
            path
        }
        None => repo.main_worktree.clone(),
    };
    if shell::integration_active() {
        shell::request_cd(&path);
        return Ok(0);
    }
    let shells = match shell::user_shell() {
        Some(shell) => vec![shell],
        None => vec![Shell::Bash, Shell::Zsh, Shell::Fish],
    };
    ui.hint("git par cannot change your shell's directory without its shell integration;");
    for shell in shells {
        let (file, line) = shell::rc_line(shell);
        ui.hint(&format!("to set it up, add this line to {file}:"));
        ui.hint(&format!("  {line}"));
    }
    ui.println(&path.to_string_lossy())?;
    Ok(0)
}
