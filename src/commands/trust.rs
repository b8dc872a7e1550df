//! `git par trust`: read and approve the hooks committed in this repository's
//! `.git-par.config` (see [`crate::hooks::trust`]).

use crate::cli::TrustArgs;
use crate::error::{Error, Result};
use crate::hooks::{trust, FILE};
use crate::ui::Ui;

pub fn run(args: TrustArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    if args.revoke {
        let n = trust::revoke(&repo)?;
        ui.note(&format!(
            "Withdrew {n} approval(s) of hooks in {}.",
            repo.main_worktree.display()
        ));
        return Ok(0);
    }
    let Some(file) = trust::read(&repo.current_worktree)? else {
        return Err(Error::failed(format!(
            "there is no {FILE} in {}",
            repo.current_worktree.display()
        ))
        .hint("committed hooks live in its [hook] section; your own go in 'git config par.hook.<event>'"));
    };
    let approved = trust::is_approved(&repo, &file);
    trust::show(ui, &file);
    for (event, command) in &file.hooks {
        ui.println(&format!("{}\t{command}", event.name()))?;
    }
    if args.show || approved {
        let state = if approved { "approved" } else { "not approved" };
        ui.note(&format!("These hooks are {state}."));
        return Ok(0);
    }
    let yes = args.yes
        || (ui.interactive
            && ui
                .prompter
                .confirm("Trust these hooks and let git par run them?")?);
    if !yes {
        let err = Error::failed(format!(
            "the hooks in {} were not approved",
            file.path.display()
        ));
        return Err(match ui.interactive {
            true => err,
            false => {
                err.hint("read them, then run 'git par trust --yes' (or run it on a terminal)")
            }
        });
    }
    trust::approve(&repo, &file)?;
    ui.note(&format!(
        "Approved the hooks in {}; a change to the file needs approving again.",
        file.path.display()
    ));
    Ok(0)
}
