//! Man page text for what makes a new task ready to work in: copied ignored files and hooks.
//! Kept apart from `sections.rs` so each feature's words live in one place.

use super::sections::{item, p, section, Block, Section};

/// Settings, added to CONFIGURATION.
pub fn settings() -> Vec<Block> {
    vec![
        item("par.copyIgnored", "A boolean: start (and run --start) copy ignored files into each new task as --copy-ignored does; --no-copy-ignored overrides it. Default: false"),
        item("par.copyIgnoredExclude", "A gitignore pattern of ignored files that are never copied into a new task (the setting takes several values; an empty one forgets those before it). Default: none"),
        item("par.hook.postStart, par.hook.preFinish, par.hook.postFinish, par.hook.preDrop", "A shell command run at that point (the setting takes several values, run in order; an empty one forgets those before it). See HOOKS. Default: none"),
        item("par.trusted", "Written by git par trust to your global git config: one value per approved .git-par.config, its git blob id and the repository's git dir. Read only from the global config."),
    ]
}

/// The sections after CONFIGURATION.
pub fn sections() -> Vec<Section> {
    vec![
        section("COPYING IGNORED FILES", copying()),
        section("HOOKS", hooks()),
    ]
}

fn copying() -> Vec<Block> {
    vec![
        p("With --copy-ignored or par.copyIgnored, start copies what git ignores in the worktree it runs from (build caches such as target/ or node_modules/, local files such as .env) into the new task, so the first build there is not a build from scratch. git's own ignore rules decide what is ignored. A .worktreeinclude file at the top of that worktree (gitignore syntax, the file other worktree tools read too) narrows the copy to what its patterns match; par.copyIgnoredExclude patterns leave things out."),
        p("Never copied: the worktree dir of git par, other worktrees, and any folder holding a .git (a nested repository or worktree; their objects, index and identity belong to them), which start names. Symlinks are copied as symlinks and never followed; every file and folder is opened relative to its parent without following symlinks, so nothing outside the source worktree is read and nothing outside the new one written, even if a symlink is swapped in during the copy. Existing files in the new worktree are never overwritten. Modes and modification times are kept, so build tools see their caches as fresh."),
        p("Files are cloned (FICLONE) where the filesystem shares extents (XFS with reflink, btrfs), which takes no space and little time; elsewhere they are copied in the kernel by several workers at once. On a terminal a progress line shows the bytes copied. The copy is a phase of start: Ctrl-C, an error or a full disk rolls the whole start back, and git par recover does the same after a crash."),
    ]
}

fn hooks() -> Vec<Block> {
    vec![
        p("Hooks are shell commands (sh -c) run in the task's worktree with the GIT_PAR_* variables that run sets, and GIT_PAR_HOOK naming the event:"),
        item("postStart", "After start (or run --start) made the task. If it fails, the task is kept, the command says so and exits 1; run does not run its command in that task."),
        item("preFinish", "Before finish changes anything (not with --dry-run). If it fails, finish stops with nothing changed."),
        item("postFinish", "After the task was merged and removed, in the worktree of the branch it was merged into, else the main worktree (with --keep, the task's own). If it fails, the finish stands and the command exits 1."),
        item("preDrop", "Before drop changes anything, once it has been agreed to, and before prune drops each task. If it fails, drop stops with nothing changed, and prune keeps that task."),
        p("Your own hooks are par.hook.<event> settings, at any level of git config. Hooks that travel with the repository go in a committed .git-par.config file at the top of the worktree, in git config syntax (include directives are ignored), and run after yours:"),
        super::sections::example(&[
            "[hook]",
            "\tpostStart = npm ci",
            "\tpostStart = cp .env.example .env",
            "\tpreFinish = cargo test",
        ]),
        p("Anyone can commit such a file, so its hooks run only once you have read it and approved its exact text with git par trust; any change to it needs approving again. On a terminal an unapproved file is shown and you are asked whether to trust it, run it once or skip it; without a terminal its hooks are skipped with a warning and never run."),
        p("A hook's output goes to standard error (its standard output too, as with git's hooks, since standard output carries results such as start's path); in a run with several tasks, to the task's log. A hook's exit status other than 0 is a failure. --no-hooks on start, finish, drop, prune and run runs none."),
    ]
}
