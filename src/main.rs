//! The `git-par` binary: parse, install signal handling, run, turn the result into an exit
//! status the way git does.

use std::process::ExitCode;

use clap::Parser;
use git_par::cli::Cli;
use git_par::error::Kind;
use git_par::ui::Ui;
use git_par::{cleanup, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    cleanup::install();
    let mut ui = Ui::from_env();
    let result = run(cli, &mut ui);
    let flushed = ui.flush();
    match result {
        Ok(code) => match flushed {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                ui.error(&e.into());
                ExitCode::from(1)
            }
            _ => ExitCode::from(code),
        },
        Err(err) => match err.kind {
            Kind::BrokenPipe => ExitCode::SUCCESS,
            Kind::Interrupted(sig) => {
                ui.error(&err);
                let _ = ui.flush();
                cleanup::reraise(sig)
            }
            // A failure while a signal was pending: the signal may have been what made the
            // step fail (it reached a git child too), and the user asked to stop, so git-par
            // ends by it, as git does.
            _ => {
                ui.error(&err);
                match (&err.kind, cleanup::pending()) {
                    (Kind::Failed, Some(sig)) => {
                        let _ = ui.flush();
                        cleanup::reraise(sig)
                    }
                    _ => ExitCode::from(err.exit_code() as u8),
                }
            }
        },
    }
}
