//! `git par diff`: a task's whole change against its base, committed and uncommitted
//! (untracked files included), as it would be merged. git prints it, pager and colour included.

use crate::cli::DiffArgs;
use crate::error::{Error, Result};
use crate::git::{git, snapshot};
use crate::task;
use crate::ui::Ui;

pub fn run(args: DiffArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let record = task::resolve(&repo, args.task.as_deref())?;
    let tip = repo.branch_tip(&record.branch).ok_or_else(|| {
        Error::failed(format!(
            "task '{}' has no branch '{}'",
            record.task, record.branch
        ))
    })?;
    let base = record
        .base
        .as_deref()
        .and_then(|b| repo.branch_tip(b))
        .or_else(|| record.base_commit.parse().ok())
        .ok_or_else(|| Error::failed(format!("the base of task '{}' is unknown", record.task)))?;
    let fork = repo.git.merge_base(base, tip)?.to_string();
    let (dir, to) = if record.path.exists() {
        let snap = snapshot::capture(&record.path)?;
        (record.path.clone(), snap.worktree_tree)
    } else {
        (repo.main_worktree.clone(), tip.to_string())
    };
    let mut cmd = vec!["diff"];
    if args.stat {
        cmd.push("--stat");
    }
    cmd.extend([fork.as_str(), to.as_str()]);
    ui.flush()?;
    let code = git(&dir, &cmd).pass_output().output()?.code;
    Ok(code as u8)
}
