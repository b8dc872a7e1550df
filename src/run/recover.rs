//! The account of a run that died (kill -9, a crash): `git par recover` removes the tasks
//! that run created and that hold no work, keeps every other, and says of each what it
//! holds. Task names come from the journal and are checked before anything acts on them; a
//! task is removed only while its worktree is the very one the run made.

use crate::error::Result;
use crate::git::Repo;
use crate::journal::RunOp;
use crate::ops::drop::held_work;
use crate::ops::gate::Identity;
use crate::ops::lease::Lease;
use crate::task;
use crate::ui::Ui;

use super::holdings;

/// One line per task of the interrupted run.
pub fn account(repo: &Repo, ui: &mut Ui, op: &RunOp) -> Result<Vec<String>> {
    let mut done = Vec::new();
    for name in &op.tasks {
        if task::validate_name(name).is_err() {
            done.push(format!("left '{name}' alone: it is not a task name"));
            continue;
        }
        let created = op.created.iter().find(|c| c.task == *name);
        let Some(record) = task::load(repo, name) else {
            done.push(match created {
                Some(_) => format!("task '{name}' is gone already"),
                None => format!("task '{name}' was never created"),
            });
            continue;
        };
        // The run's own task: the journal names it with the worktree it made, and that
        // worktree is still the one there.
        let ours = created.is_some_and(|c| {
            c.identity.is_some()
                && c.identity == record.identity
                && Identity::of(&record.path) == c.identity
        });
        let place = record.path.display().to_string();
        let holds = holdings::inspect(repo, &record, None)
            .map(|h| h.describe())
            .unwrap_or_else(|e| format!("unknown work ({})", e.message));
        if !ours {
            done.push(format!(
                "kept task '{name}' ({holds}) at {place}: the run did not create it"
            ));
            continue;
        }
        match held_work(repo, &record) {
            Ok(None) => {}
            Ok(Some(_)) => {
                done.push(format!("kept task '{name}' ({holds}) at {place}"));
                continue;
            }
            Err(err) => {
                done.push(format!(
                    "kept task '{name}' at {place}: could not look at its work ({})",
                    err.message
                ));
                continue;
            }
        }
        let removed = Lease::take(repo, ui, name, "git par recover", false)
            .and_then(|lease| super::remove_empty(repo, ui, &lease, &record));
        done.push(match removed {
            Ok(()) => format!("removed task '{name}': the run created it and it held no work"),
            Err(err) => format!("kept task '{name}' ({holds}) at {place}: {}", err.message),
        });
    }
    Ok(done)
}
