//! `git par generate [<dir>]` (hidden): writes the man page and the shell completions, all
//! generated from the clap definitions, so that the committed copies can be checked for drift.

use std::path::PathBuf;

use clap::CommandFactory;

use crate::cli::{Cli, GenerateArgs};
use crate::completion;
use crate::error::{Error, Result};
use crate::fsutil;
use crate::manpage;
use crate::ui::Ui;

/// The generated files: where they go under the folder, and what they hold.
pub fn files() -> Result<Vec<(PathBuf, String)>> {
    let spec = completion::spec(Cli::command()).map_err(Error::failed)?;
    Ok(vec![
        ("man/git-par.1".into(), manpage::render(Cli::command())),
        (
            "completions/git-par.bash".into(),
            completion::bash::script(&spec),
        ),
        (
            "completions/_git-par".into(),
            completion::zsh::script(&spec),
        ),
        (
            "completions/git-par.fish".into(),
            completion::fish::script(&spec),
        ),
    ])
}

pub fn run(args: GenerateArgs, ui: &mut Ui) -> Result<u8> {
    for (rel, text) in files()? {
        let path = args.dir.join(&rel);
        fsutil::write_atomic(&path, text.as_bytes())
            .map_err(|e| Error::failed(format!("could not write {}: {e}", path.display())))?;
        ui.note(&format!("wrote {}", path.display()));
    }
    Ok(0)
}
