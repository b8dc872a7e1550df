//! The trust gate for hooks committed in a repository. Approving means approving the exact
//! bytes of `.git-par.config`: the approval is the file's git blob id, kept with the
//! repository's git dir as one `par.trusted` value (`<blob id> <git dir>`) in the user's global
//! git config, which no clone or commit can write. Any change to the file is a new id, so it
//! needs approving again; approving one repository's file trusts it nowhere else.

use std::path::{Path, PathBuf};

use super::{Event, FILE};
use crate::error::{Error, Result};
use crate::git::{git, Repo};
use crate::ui::Ui;

/// A committed hooks file as read from a worktree.
pub struct Committed {
    pub path: PathBuf,
    pub text: String,
    /// Its git blob id: what an approval names.
    pub id: String,
    /// `(event, command)` in the file's order.
    pub hooks: Vec<(Event, String)>,
}

/// Reads `.git-par.config` at the top of `dir`, never through a symlink.
pub fn read(dir: &Path) -> Result<Option<Committed>> {
    let Ok(root) = crate::copy::tree::open_root(dir) else {
        return Ok(None);
    };
    let Some(bytes) = crate::copy::tree::read_small_file(&root, FILE, 1 << 20)? else {
        return Ok(None);
    };
    let id = git2::Oid::hash_object(git2::ObjectType::Blob, &bytes)
        .map_err(|e| Error::failed(format!("could not hash {FILE}: {e}")))?
        .to_string();
    // git's own parser reads it from stdin; without --no-includes it would follow an
    // `include.path` in the file to anywhere on disk.
    let out = git(
        dir,
        [
            "config",
            "--no-includes",
            "--file=-",
            "-z",
            "--get-regexp",
            r"^hook\.",
        ],
    )
    .stdin(bytes.clone())
    .output()?;
    if out.code != 0 && out.code != 1 {
        return Err(Error::failed(format!(
            "could not read {}: {}",
            dir.join(FILE).display(),
            out.stderr_str()
        )));
    }
    let mut hooks = Vec::new();
    for entry in out.stdout.split(|b| *b == 0).filter(|e| !e.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((key, value)) = entry.split_once('\n') else {
            continue;
        };
        if let Some(event) = Event::from_key(key.trim_start_matches("hook.")) {
            hooks.push((event, value.to_string()));
        }
    }
    Ok(Some(Committed {
        path: dir.join(FILE),
        text: String::from_utf8_lossy(&bytes).into_owned(),
        id,
        hooks,
    }))
}

/// This repository's mark in an approval.
fn repo_key(repo: &Repo) -> String {
    crate::fsutil::resolve(&repo.common_dir)
        .to_string_lossy()
        .into_owned()
}

/// The approvals in the user's global config.
fn approvals(repo: &Repo) -> Vec<String> {
    let home = repo.main_worktree.clone();
    git(
        &home,
        ["config", "--global", "-z", "--get-all", "par.trusted"],
    )
    .output()
    .map(|out| {
        out.stdout
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect()
    })
    .unwrap_or_default()
}

pub fn is_approved(repo: &Repo, file: &Committed) -> bool {
    let want = format!("{} {}", file.id, repo_key(repo));
    approvals(repo).contains(&want)
}

pub fn approve(repo: &Repo, file: &Committed) -> Result<()> {
    if is_approved(repo, file) {
        return Ok(());
    }
    let value = format!("{} {}", file.id, repo_key(repo));
    git(
        &repo.main_worktree,
        ["config", "--global", "--add", "par.trusted", &value],
    )
    .run()
    .map_err(|e| e.context("could not record the approval in your global git config"))?;
    Ok(())
}

/// Withdraws every approval given for this repository; returns how many there were.
pub fn revoke(repo: &Repo) -> Result<usize> {
    let key = repo_key(repo);
    let mine: Vec<String> = approvals(repo)
        .into_iter()
        .filter(|a| a.split_once(' ').is_some_and(|(_, r)| r == key))
        .collect();
    for value in &mine {
        git(
            &repo.main_worktree,
            [
                "config",
                "--global",
                "--fixed-value",
                "--unset-all",
                "par.trusted",
                value,
            ],
        )
        .run()?;
    }
    Ok(mine.len())
}

/// Shows the file's text, indented, for the user to read before approving it.
pub fn show(ui: &mut Ui, file: &Committed) {
    ui.note(&format!("{}:", file.path.display()));
    for line in file.text.lines() {
        ui.note(&format!("    {line}"));
    }
}

/// The committed hooks for `event` that may run: all of them once the file is approved; on
/// a terminal, approved (or allowed once) by the user now; otherwise none, with a warning.
pub fn committed(
    repo: &Repo,
    ui: &mut Ui,
    dir: &Path,
    event: Event,
    interactive: bool,
) -> Result<Vec<String>> {
    let Some(file) = read(dir)? else {
        return Ok(Vec::new());
    };
    let commands: Vec<String> = file
        .hooks
        .iter()
        .filter(|(e, _)| *e == event)
        .map(|(_, c)| c.clone())
        .collect();
    if commands.is_empty() || is_approved(repo, &file) {
        return Ok(commands);
    }
    if !interactive {
        ui.warn(&format!(
            "skipped {} {} hook(s) from {} that you have not approved",
            commands.len(),
            event.name(),
            file.path.display()
        ));
        ui.hint("read them, then approve them with 'git par trust'");
        return Ok(Vec::new());
    }
    ui.note(&format!(
        "{} has hooks you have not approved; they run commands on your machine.",
        file.path.display()
    ));
    show(ui, &file);
    let items = [
        "trust this file and run its hooks",
        "run them this once",
        "skip them",
    ];
    let prompt = format!("Run its {} hook(s)?", event.name());
    match ui.prompter.select(&prompt, &items, 0)? {
        Some(0) => {
            approve(repo, &file)?;
            Ok(commands)
        }
        Some(1) => Ok(commands),
        _ => {
            ui.note(&format!("skipped the {} hook(s)", event.name()));
            Ok(Vec::new())
        }
    }
}
