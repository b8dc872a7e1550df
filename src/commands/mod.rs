//! One module per subcommand: its `run(args, ui)`.

pub mod cd;
pub mod complete;
pub mod diff;
pub mod drop;
pub mod finish;
pub mod generate;
pub mod list;
pub mod list_live;
pub mod path;
pub mod prune;
pub mod recover;
pub mod rescued;
pub mod run;
pub mod shell_init;
pub mod start;
pub mod sync;
pub mod trust;

use crate::error::Result;
use crate::git::Repo;
use crate::ops::lease::Lease;
use crate::task::{self, TaskRecord};
use crate::ui::Ui;

/// A task a command works in: named, or the one the user stands in; whether the user stands
/// inside its worktree (to move the shell out if it goes); and its lease, taken for `verb`.
pub struct Leased {
    pub record: TaskRecord,
    pub inside: bool,
    pub lease: Lease,
}

pub fn leased(
    repo: &Repo,
    ui: &mut Ui,
    task: Option<&str>,
    verb: &str,
    wait: bool,
) -> Result<Leased> {
    let record = task::resolve(repo, task)?;
    let inside =
        crate::fsutil::resolve(&repo.cwd).starts_with(crate::fsutil::resolve(&record.path));
    let lease = Lease::take(
        repo,
        ui,
        &record.task,
        &format!("git par {verb} {}", record.task),
        wait,
    )?;
    Ok(Leased {
        record,
        inside,
        lease,
    })
}
