//! `git par run`: a command inside one task (it owns the terminal) or many (at most `-j` at
//! once, with a live view). The work is in [`crate::run`].

use std::collections::HashSet;

use crate::cli::RunArgs;
use crate::error::{Error, Result};
use crate::run::{many, single, Settings};
use crate::task;
use crate::ui::Ui;

pub fn run(args: RunArgs, ui: &mut Ui) -> Result<u8> {
    let mut seen = HashSet::new();
    for name in &args.tasks {
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
    let repo = crate::open_repo(ui)?;
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
    };
    match args.tasks.as_slice() {
        [one] => single::run(&repo, ui, &settings, one),
        tasks => many::run(&repo, ui, &settings, tasks),
    }
}
