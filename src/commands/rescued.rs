//! `git par rescued`: the work git-par saved before deleting anything, the one command that
//! brings each piece back, and the only way saved work is ever deleted (`--drop`, `--prune`).

use serde::Serialize;

use crate::cli::RescuedArgs;
use crate::error::{Error, Result};
use crate::git::Repo;
use crate::rescue::record::{self, Piece, Source};
use crate::rescue::{restore, PREFIX, SNAPSHOT_SUBJECT};
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
    /// How long ago it was saved, in words.
    pub age: String,
    #[serde(skip)]
    pub saved_at: i64,
    /// What it holds, in words.
    pub holds: String,
    pub restore: String,
    /// The task's base as the saved work names it (none in rescues from before it was kept).
    pub base: Option<record::TaskBase>,
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
    if !args.drop.is_empty() {
        return drop_named(&repo, ui, &args.drop, args.dry_run);
    }
    if args.prune {
        let age = args.older_than.as_deref().unwrap_or_default();
        return prune(&repo, ui, age, args.dry_run);
    }
    if args.dry_run {
        return Err(Error::usage("--dry-run goes with --drop or --prune"));
    }
    let mut all = list(&repo)?;
    if let Some(task) = &args.task {
        all.retain(|r| &r.task == task);
    }
    if args.json {
        ui.println(&serde_json::to_string_pretty(&all)?)?;
        return Ok(0);
    }
    if all.is_empty() {
        ui.note("No saved work.");
    }
    for r in &all {
        ui.println(&format!(
            "{}  {} ago  {}  task '{}': {}",
            r.date, r.age, r.refname, r.task, r.holds
        ))?;
        ui.println(&format!("    restore: {}", r.restore))?;
        for p in &r.pieces {
            ui.println(&format!("    - {} ({})", p.holds, &p.piece.commit[..7]))?;
            ui.println(&format!("        restore: {}", p.restore))?;
        }
    }
    Ok(0)
}

/// Deletes the saved work `names` name, each only if it is still what was read.
fn drop_named(repo: &Repo, ui: &mut Ui, names: &[String], dry_run: bool) -> Result<u8> {
    let mut found = Vec::new();
    for name in names {
        let refname = restore::refname(name)?;
        let commit = repo
            .git
            .find_reference(&refname)
            .ok()
            .and_then(|r| r.target())
            .ok_or_else(|| {
                Error::failed(format!("no saved work named {refname}"))
                    .hint("'git par rescued' lists the saved work there is")
            })?;
        found.push((refname, commit.to_string()));
    }
    for (refname, commit) in found {
        delete(repo, ui, &refname, &commit, dry_run)?;
    }
    Ok(0)
}

/// Deletes the saved work older than `age`.
fn prune(repo: &Repo, ui: &mut Ui, age: &str, dry_run: bool) -> Result<u8> {
    let span = crate::time::parse_span(age).ok_or_else(|| {
        Error::usage(format!("'{age}' is no age"))
            .hint("write it as 30d, 2w, 12h, 3mo or 2.weeks.ago")
    })?;
    let cutoff = crate::journal::now() - span;
    let old: Vec<Rescued> = list(repo)?
        .into_iter()
        .filter(|r| r.saved_at < cutoff)
        .collect();
    if old.is_empty() {
        ui.note(&format!("No saved work is older than {age}."));
    }
    for r in old {
        delete(repo, ui, &r.refname, &r.commit, dry_run)?;
    }
    Ok(0)
}

fn delete(repo: &Repo, ui: &mut Ui, refname: &str, commit: &str, dry_run: bool) -> Result<()> {
    let short = &commit[..7.min(commit.len())];
    if dry_run {
        ui.println(&format!("Would delete {refname} (was {short})"))?;
        return Ok(());
    }
    // Only if it still points where it did: saved work that changed meanwhile is not deleted.
    repo.update_ref(
        refname,
        &["-m", "git par rescued: deleted", "-d", refname, commit],
    )
    .map_err(|e| e.context(format!("could not delete the saved work {refname}")))?;
    ui.println(&format!("Deleted {refname} (was {short})"))?;
    Ok(())
}

pub fn list(repo: &Repo) -> Result<Vec<Rescued>> {
    let mut all = Vec::new();
    let now = crate::journal::now();
    for reference in repo.git.references_glob(&format!("{PREFIX}*"))?.flatten() {
        let Ok(name) = reference.name() else { continue };
        let Ok(commit) = reference.peel_to_commit() else {
            continue;
        };
        let task = restore::task_of(name);
        // When it was saved is in its name (its commit may be the task's own, older one).
        let saved_at = name
            .rsplit_once('/')
            .and_then(|(_, stamp)| time::from_stamp(stamp))
            .unwrap_or_else(|| commit.committer().when().seconds());
        let message = commit.message().unwrap_or("").to_string();
        let (parents, holds) = record::parse(&message);
        let task_base = record::parse_base(&message);
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
            date: time::iso8601(saved_at),
            age: time::age(saved_at, now),
            saved_at,
            holds,
            restore: format!("git par start {free} --from {name}"),
            base: task_base,
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
        "staged" if piece.source == Source::Worktree && piece.path.is_none() => {
            "its staged files, as a commit on top of its HEAD (the restore above stages them again)"
                .to_string()
        }
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
