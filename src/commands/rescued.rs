//! `git par rescued`: the work git-par saved before deleting anything, and the one command
//! that brings each piece back.

use serde::Serialize;

use crate::cli::RescuedArgs;
use crate::error::Result;
use crate::git::Repo;
use crate::rescue::record::{self, Piece, Source};
use crate::rescue::{PREFIX, SNAPSHOT_SUBJECT};
use crate::ui::Ui;
use crate::{task, time};

#[derive(Debug, Serialize)]
pub struct Rescued {
    pub task: String,
    #[serde(rename = "ref")]
    pub refname: String,
    pub commit: String,
    /// When it was saved (ISO 8601, UTC).
    pub date: String,
    /// What it holds, in words.
    pub holds: String,
    pub restore: String,
    /// Each piece it keeps beyond the files and HEAD, and how to bring it back.
    pub pieces: Vec<Shown>,
}

#[derive(Debug, Serialize)]
pub struct Shown {
    #[serde(flatten)]
    pub piece: Piece,
    /// What it is, in words.
    pub holds: String,
    /// Plain git commands that bring it back (paths inside the worktree are relative to the
    /// restored task's worktree).
    pub restore: String,
}

pub fn run(args: RescuedArgs, ui: &mut Ui) -> Result<u8> {
    let repo = crate::open_repo(ui)?;
    let all = list(&repo)?;
    if args.json {
        ui.println(&serde_json::to_string_pretty(&all)?)?;
        return Ok(0);
    }
    if all.is_empty() {
        ui.note("No saved work.");
    }
    for r in &all {
        ui.println(&format!(
            "{}  {}  task '{}': {}",
            r.date, r.refname, r.task, r.holds
        ))?;
        ui.println(&format!("    restore: {}", r.restore))?;
        for p in &r.pieces {
            ui.println(&format!("    - {} ({})", p.holds, &p.piece.commit[..7]))?;
            ui.println(&format!("        restore: {}", p.restore))?;
        }
    }
    Ok(0)
}

pub fn list(repo: &Repo) -> Result<Vec<Rescued>> {
    let mut all = Vec::new();
    for reference in repo.git.references_glob(&format!("{PREFIX}*"))?.flatten() {
        let Ok(name) = reference.name() else { continue };
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        let rest = &name[PREFIX.len()..];
        let task = rest
            .rsplit_once('/')
            .map_or(rest, |(task, _)| task)
            .to_string();
        let message = commit.message().unwrap_or("").to_string();
        let (parents, holds) = record::parse(&message);
        let is_snapshot = message.starts_with(SNAPSHOT_SUBJECT);
        let base = parents
            .first()
            .map(|p| p.commit.clone())
            .or_else(|| commit.parent_id(0).ok().map(|p| p.to_string()))
            .unwrap_or_default();
        let mut summary = if is_snapshot {
            format!(
                "uncommitted changes (as a commit on top of {}), with the branch's commits below it",
                &base[..7.min(base.len())]
            )
        } else if !parents.is_empty() {
            format!(
                "the worktree's commits, up to {}",
                &base[..7.min(base.len())]
            )
        } else {
            let subject = commit.summary().ok().flatten().unwrap_or("").to_string();
            format!(
                "the branch's commits, up to {} \"{subject}\"",
                &commit.id().to_string()[..7]
            )
        };
        let shown: Vec<Shown> = parents
            .into_iter()
            .skip(1)
            .chain(holds)
            .map(|piece| show(repo, &task, piece))
            .collect();
        if !shown.is_empty() {
            summary.push_str(&format!(", and {} more (below)", shown.len()));
        }
        let holds = summary;
        let free = task::load_free_name(repo, &task);
        all.push(Rescued {
            task: task.clone(),
            refname: name.to_string(),
            commit: commit.id().to_string(),
            date: time::iso8601(commit.committer().when().seconds()),
            holds,
            restore: format!("git par start {free} --base {name}"),
            pieces: shown,
        });
    }
    all.sort_by(|a, b| a.refname.cmp(&b.refname));
    Ok(all)
}

/// One saved piece in words, with the plain git commands that bring it back.
fn show(repo: &Repo, task: &str, piece: Piece) -> Shown {
    let short = &piece.commit[..7.min(piece.commit.len())];
    let what = match piece.what.as_str() {
        "HEAD" => "its HEAD".to_string(),
        "tip" => "the branch's tip".to_string(),
        "reflog" => "a commit only in its HEAD reflog (a detached HEAD, or reset away)".to_string(),
        "staged" => "its staged files, as a commit on top of its HEAD".to_string(),
        "files" => "its uncommitted files, as a commit on top of its HEAD".to_string(),
        name => format!("its ref {name}"),
    };
    let source = repo.common_dir.display().to_string();
    let has_parent = piece
        .commit
        .parse()
        .ok()
        .and_then(|oid| repo.git.find_commit(oid).ok())
        .is_some_and(|c| c.parent_count() > 0);
    let (holds, restore) = match (piece.source, piece.path.as_deref()) {
        (Source::Submodule | Source::Nested, Some(path)) => {
            let p = quote(path);
            let get = match piece.what.strip_prefix("refs/") {
                Some(_) => format!(
                    "git -C {p} fetch {} {}:{}",
                    quote(&source),
                    piece.commit,
                    piece.what
                ),
                None => {
                    let mut get = format!(
                        "git -C {p} fetch {} {} && git -C {p} checkout -q {}",
                        quote(&source),
                        piece.commit,
                        piece.commit
                    );
                    if matches!(piece.what.as_str(), "files" | "staged") && has_parent {
                        // Back to uncommitted changes on top of the commit they were made on.
                        get.push_str(&format!(" && git -C {p} reset -q HEAD^"));
                    }
                    get
                }
            };
            if piece.source == Source::Submodule {
                (
                    format!("submodule {path}: {what}"),
                    format!("in the restored task, after 'git submodule update --init {p}': {get}"),
                )
            } else {
                (
                    format!("nested repository {path}: {what}"),
                    format!("in the restored task: git init -q {p} && {get}"),
                )
            }
        }
        (source, _) => {
            let whose = if source == Source::Branch {
                "the branch"
            } else {
                "the worktree"
            };
            (
                format!("{whose}: {what}"),
                format!("git branch {task}-{short} {}", piece.commit),
            )
        }
    };
    Shown {
        piece,
        holds,
        restore,
    }
}

/// `text` as one shell word.
fn quote(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@=,".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}
