//! Reading saved work back for `git par start <task> --from <ref>`: the commit the task's
//! branch had checked out, the uncommitted changes on top of it (staged apart from unstaged),
//! and the base the task came from, so the restored task finishes and syncs as it did.

use git2::Oid;

use super::record::{self, Piece, Source, TaskBase};
use super::{PREFIX, SAVED_SUBJECT, SNAPSHOT_SUBJECT};
use crate::error::{Error, Result};
use crate::git::snapshot::Snapshot;
use crate::git::Repo;
use crate::ops::start::{resolve_base, Base, Restore};

/// What one rescue ref holds of a task's main worktree.
#[derive(Debug)]
pub struct Saved {
    pub refname: String,
    /// What the worktree had checked out (or the branch tip, when the worktree was gone).
    pub head: Oid,
    /// The uncommitted changes on top of `head`, when there were any.
    pub changes: Option<Snapshot>,
    /// The task's base, when the rescue names one (rescues from before it was kept do not).
    pub base: Option<TaskBase>,
}

/// `name` as a rescue ref: `refs/par/rescued/<task>/<date>`, or the part after the prefix.
pub fn refname(name: &str) -> Result<String> {
    let full = if name.starts_with(PREFIX) {
        name.to_string()
    } else {
        format!("{PREFIX}{name}")
    };
    let task_and_date = &full[PREFIX.len()..];
    if !git2::Reference::is_valid_name(&full) || !task_and_date.contains('/') {
        return Err(Error::usage(format!("'{name}' is no saved work")).hint(
            "'git par rescued' lists saved work by its ref, refs/par/rescued/<task>/<date>",
        ));
    }
    Ok(full)
}

/// The task a rescue ref belongs to: its name without the prefix and the date.
pub fn task_of(refname: &str) -> String {
    let rest = refname.strip_prefix(PREFIX).unwrap_or(refname);
    rest.rsplit_once('/')
        .map_or(rest, |(task, _)| task)
        .to_string()
}

/// Reads the rescue ref `name` (see [`refname`]).
pub fn read(repo: &Repo, name: &str) -> Result<Saved> {
    let refname = refname(name)?;
    let missing = || {
        Error::failed(format!("no saved work named {refname}"))
            .hint("'git par rescued' lists the saved work there is")
    };
    let reference = repo.git.find_reference(&refname).map_err(|_| missing())?;
    let commit = reference.peel_to_commit().map_err(|_| missing())?;
    let message = commit.message().unwrap_or("").to_string();
    let (parents, holds) = record::parse(&message);
    let ours = message.starts_with(SNAPSHOT_SUBJECT) || message.starts_with(SAVED_SUBJECT);
    let head = if ours {
        // The first parent is the worktree's HEAD, whether the message lists it or not (a
        // snapshot from before parents were listed).
        commit
            .parent_id(0)
            .map_err(|_| Error::failed(format!("the saved work {refname} has no parent commit")))?
    } else {
        // Plain commits of the task's: the ref points at them.
        commit.id()
    };
    if let Some(first) = parents.first() {
        if first.commit != head.to_string() {
            return Err(Error::failed(format!(
                "the saved work {refname} lists {} as its first parent, but it is {head}",
                first.commit
            )));
        }
    }
    let changes = if message.starts_with(SNAPSHOT_SUBJECT) {
        let head_tree = repo.git.find_commit(head)?.tree_id();
        let staged = parents
            .iter()
            .chain(&holds)
            .find(|p| is_staged(p))
            .and_then(|p| p.commit.parse().ok())
            .and_then(|oid| repo.git.find_commit(oid).ok())
            .filter(|c| c.parent_id(0).ok() == Some(head));
        Some(Snapshot {
            head: head.to_string(),
            // Without a staged commit nothing is known to have been staged: the changes come
            // back unstaged.
            index_tree: staged.map_or(head_tree, |c| c.tree_id()).to_string(),
            worktree_tree: commit.tree_id().to_string(),
        })
    } else {
        None
    };
    Ok(Saved {
        refname,
        head,
        changes,
        base: record::parse_base(&message),
    })
}

fn is_staged(piece: &Piece) -> bool {
    piece.source == Source::Worktree && piece.what == "staged" && piece.path.is_none()
}

/// How `start --from` brings `saved` back: its recorded base, else the branch `base` names
/// (`--base`), else the branch checked out here; with the base commit where the saved HEAD
/// forked from that branch. The second value says what was assumed, when anything was.
pub fn plan(repo: &Repo, saved: &Saved, base: Option<&str>) -> Result<(Restore, Option<String>)> {
    let recorded = saved.base.as_ref().filter(|b| {
        b.branch
            .as_deref()
            .map_or(true, |name| repo.branch_tip(name).is_some())
            && b.commit
                .parse()
                .is_ok_and(|oid| repo.git.find_commit(oid).is_ok())
    });
    let (base, assumed) = match (base, recorded) {
        (None, Some(recorded)) => {
            let commit: Oid = recorded.commit.parse()?;
            let label = recorded
                .branch
                .clone()
                .unwrap_or_else(|| commit.to_string()[..12].to_string());
            let base = Base {
                branch: recorded.branch.clone(),
                commit,
                label,
            };
            (base, None)
        }
        (given, _) => {
            let mut base = resolve_base(repo, given)?;
            base.commit = repo.git.merge_base(saved.head, base.commit).map_err(|_| {
                Error::failed(format!(
                    "the saved work {} shares no history with {}",
                    saved.refname, base.label
                ))
                .hint("pass --base with the branch it was made from")
            })?;
            let assumed = given.is_none().then(|| {
                let why = match &saved.base {
                    Some(_) => "the base it names is gone",
                    None => "it does not say which branch it came from",
                };
                format!(
                    "{why}: the task starts from '{}' again (pass --base to choose another)",
                    base.label
                )
            });
            (base, assumed)
        }
    };
    let restore = Restore {
        base,
        head: saved.head,
        changes: saved.changes.clone(),
    };
    Ok((restore, assumed))
}
