//! git-par: one branch and worktree per task. `main` parses the command line and calls
//! [`run`]; everything else lives here. The surface is what a front end needs (the command
//! line, the error, the output, signal handling) and what the tests read (the index reader,
//! the man page check); the rest is crate-private.

#![deny(unsafe_code)]

pub mod cleanup;
pub mod cli;
pub(crate) mod commands;
pub(crate) mod completion;
pub(crate) mod config;
pub(crate) mod conflicts;
pub(crate) mod copy;
pub(crate) mod delete;
pub mod error;
pub(crate) mod fsutil;
pub mod git;
pub(crate) mod hooks;
pub(crate) mod journal;
pub(crate) mod lock;
pub mod manpage;
pub(crate) mod merge;
pub(crate) mod ops;
pub(crate) mod proc;
pub(crate) mod rescue;
pub(crate) mod run;
pub(crate) mod shell;
pub(crate) mod space;
pub(crate) mod task;
pub(crate) mod time;
pub mod ui;

use cli::{Cli, Command};
use error::Result;
use ui::Ui;

/// Runs one command; the `u8` is the exit status on success (0, or a `run` child's).
pub fn run(cli: Cli, ui: &mut Ui) -> Result<u8> {
    match cli.command {
        Command::Start(args) => commands::start::run(args, ui),
        Command::Finish(args) => commands::finish::run(args, ui),
        Command::Sync(args) => commands::sync::run(args, ui),
        Command::Drop(args) => commands::drop::run(args, ui),
        Command::List(args) => commands::list::run(args, ui),
        Command::Path(args) => commands::path::run(args, ui),
        Command::Prune(args) => commands::prune::run(args, ui),
        Command::Recover(args) => commands::recover::run(args, ui),
        Command::Rescued(args) => commands::rescued::run(args, ui),
        Command::Diff(args) => commands::diff::run(args, ui),
        Command::Cd(args) => commands::cd::run(args, ui),
        Command::ShellInit(args) => commands::shell_init::run(args, ui),
        Command::Generate(args) => commands::generate::run(args, ui),
        Command::CompleteTasks => commands::complete::run(ui),
        Command::Run(args) => commands::run::run(args, ui),
        Command::DeleteTrash(args) => ops::background::run_detached(&args.id, ui),
        Command::Trust(args) => commands::trust::run(args, ui),
    }
}

/// Opens the repository the user stands in, applies its colour setting, and points out
/// operations that a crash left unfinished.
pub fn open_repo(ui: &mut Ui) -> Result<git::Repo> {
    let repo = git::Repo::discover()?;
    ui.apply_color_config(repo.config.color_ui.as_deref());
    // Deletions a background process did not get to finish are handed to a new one.
    let orphans = ops::background::resume(&repo, journal::orphans(&repo.par_dir()));
    for orphan in &orphans {
        ui.warn(&format!(
            "an interrupted {} left unfinished work",
            orphan.describe()
        ));
    }
    if !orphans.is_empty() {
        ui.hint("run 'git par recover' to finish or roll it back");
    }
    Ok(repo)
}
