//! `git par shell-init bash|zsh|fish`: prints the functions that let git par change the
//! shell's directory (see `crate::shell`).

use crate::cli::ShellInitArgs;
use crate::error::Result;
use crate::shell;
use crate::ui::Ui;

pub fn run(args: ShellInitArgs, ui: &mut Ui) -> Result<u8> {
    ui.out()
        .write_all(shell::init_script(args.shell).as_bytes())?;
    Ok(0)
}
