//! `git par run`: a command inside one task (it owns the terminal) or many (at most `-j` at
//! once, with a live view). The work is in [`crate::run`].

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::run::outcome::RUN_FAILED;
use crate::run::{many, single, Settings};
use crate::task;
use crate::ui::Ui;

pub fn run(args: RunArgs, ui: &mut Ui) -> Result<u8> {
    let mut tasks = args.tasks;
    if let Some(file) = &args.tasks_from {
        tasks.extend(read_tasks(file)?);
    }
    if tasks.is_empty() {
        return Err(Error::usage("no tasks to run in")
            .hint("name them, or list them in the --tasks-from file"));
    }
    let mut seen = HashSet::new();
    for name in &tasks {
        task::validate_name(name)?;
        if !seen.insert(name.as_str()) {
            return Err(
                Error::usage(format!("task '{name}' is named twice")).hint("name each task once")
            );
        }
    }
    if args.jobs == Some(0) {
        return Err(Error::usage("-j must be at least 1"));
    }
    if args.json && args.events.as_deref() == Some(Path::new("-")) {
        return Err(Error::usage("--json and --events - would both write to standard output")
            .hint("write the events to a file, or leave out --json (the events end with each task's outcome)"));
    }
    let repo = crate::open_repo(ui).map_err(|e| e.with_exit(RUN_FAILED))?;
    if let Some(base) = &args.base {
        // Refused before anything runs rather than once per task.
        repo.resolve_commit(base)?;
    }
    let settings = Settings {
        command: args.command,
        start: args.start,
        base: args.base,
        finish: args.finish,
        json: args.json,
        jobs: args.jobs.unwrap_or(repo.config.max_workers),
        wait: args.wait,
        copy_ignored: super::start::copy_ignored(args.copy_ignored, args.no_copy_ignored, &repo),
        no_hooks: args.no_hooks,
        timeout: args.timeout.or(repo.config.run_timeout),
        changes: args.changes,
        message: args.message,
        events: args.events,
    };
    let result = match tasks.as_slice() {
        [one] => single::run(&repo, ui, &settings, one),
        tasks => many::run(&repo, ui, &settings, tasks),
    };
    result.map_err(|e| e.with_exit(RUN_FAILED))
}

/// Task names from a file (`-`: standard input), one a line; blank lines and lines starting
/// with `#` are skipped.
fn read_tasks(file: &Path) -> Result<Vec<String>> {
    let mut text = String::new();
    let read = if file == Path::new("-") {
        std::io::stdin().read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|mut f| f.read_to_string(&mut text))
    };
    read.map_err(|e| {
        Error::usage(format!(
            "could not read task names from {}: {e}",
            file.display()
        ))
    })?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect())
}
