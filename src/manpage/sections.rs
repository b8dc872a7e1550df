//! The hand-written parts of the man page, in one place: settings, environment, files, output
//! formats, exit statuses and examples. Plain text; the renderer does the roff escaping.

use clap_mangen::roff::{bold, roman, Roff};

use crate::config::{DEFAULT_BRANCH_PREFIX, DEFAULT_WORKTREE_DIR};

pub struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

pub enum Block {
    /// A paragraph.
    P(String),
    /// A term in bold and what it means.
    Item(String, String),
    /// Lines shown as they are, indented: commands, output.
    Example(Vec<String>),
}

impl Block {
    pub fn render(&self, roff: &mut Roff) {
        match self {
            Block::P(text) => {
                roff.control("PP", []);
                roff.text([roman(text.as_str())]);
            }
            Block::Item(term, text) => {
                roff.control("TP", []);
                roff.text([bold(term.as_str())]);
                roff.text([roman(text.as_str())]);
            }
            Block::Example(lines) => {
                roff.control("PP", []);
                roff.control("RS", ["4"]);
                roff.control("nf", []);
                for line in lines {
                    roff.text([roman(line.as_str())]);
                }
                roff.control("fi", []);
                roff.control("RE", []);
            }
        }
    }
}

pub(super) fn p(text: &str) -> Block {
    Block::P(text.to_string())
}

pub(super) fn item(term: &str, text: &str) -> Block {
    Block::Item(term.to_string(), text.to_string())
}

pub(super) fn example(lines: &[&str]) -> Block {
    Block::Example(lines.iter().map(|l| l.to_string()).collect())
}

pub(super) fn section(title: &str, blocks: Vec<Block>) -> Section {
    Section {
        title: title.to_string(),
        blocks,
    }
}

/// Added to DESCRIPTION, after the text from the clap definitions.
pub fn description() -> Vec<Block> {
    vec![
        p("A task is a name, a branch (par/<task> by default) and a worktree for it (../<repo>.par/<task> by default). start creates both, from the branch checked out where it runs; finish merges the branch back into the branch it came from and removes both; drop throws a task away after saving its work under refs/par/rescued/. Every command that changes something keeps a journal first, so that an interrupted command can be finished or rolled back by git par recover."),
        p("Questions are asked only when stdin and stderr are a terminal; elsewhere a command that would ask refuses and names the option that answers. Enter alone takes the answer that moves and discards nothing (start: leave the changes where they are; finish: commit them; sync: cancel; drop: no). Esc or q cancels, changing nothing."),
        p("git par --help and git help par show this page; git par <command> -h shows a short help for one command."),
    ]
}

/// The sections after COMMANDS, in order.
pub fn all() -> Vec<Section> {
    vec![
        section("SAFETY", safety()),
        section("CONFIGURATION", configuration()),
    ]
    .into_iter()
    .chain(super::ready::sections())
    .chain([
        section("SHELL INTEGRATION", shell_integration()),
        section("OUTPUT FORMATS", output_formats()),
        section("RUN OUTCOMES AND EVENTS", run_outcomes()),
        section("ENVIRONMENT", environment()),
        section("FILES", files()),
        section("EXIT STATUS", exit_status()),
        section("EXAMPLES", examples()),
        section("SEE ALSO", vec![p("git(1), git-worktree(1), git-branch(1), git-merge(1), git-rebase(1), git-config(1)")]),
    ])
    .collect()
}

fn safety() -> Vec<Block> {
    vec![
        p("No command destroys commits, uncommitted changes, untracked files, or the work of submodules and nested repositories without first saving it under refs/par/rescued/ (see FILES)."),
        p("A folder is removed only when it is provably the worktree start made for the task: no symlink on its path, inside the worktree dir as resolved at start, its .git file and git's admin dir naming each other, and the same device and inode as at start. It is renamed into the trash, identified again, looked at once more for files that appeared since the rescue, and then deleted without following any symlink. Anything else is left alone and named. A background deletion (par.removeInBackground) proves the trash folder again from its journal entry (its place beside the task's path, named after the entry, the same device and inode) before deleting anything."),
        p("Task records, journal entries and settings are checked before anything acts on them. par.worktreeDir inside the git dir or around the main worktree, and a par.branchPrefix git rejects, make every command exit 2."),
        p("start, run, finish, drop and sync hold the task's lease while they work in it: a second command on the task refuses at once, naming the holder, unless --wait is given. finish and drop refuse while a process works inside the task's worktree (its working directory, root or an open file; Linux only), unless --stop-processes is given."),
        p("git par never aborts or resets anything it did not start: finish refuses a merge, rebase, cherry-pick, revert or bisect in progress in the target's worktree, and a target being rebased or bisected anywhere; a branch checked out, rebased or bisected in any worktree is never deleted or moved. finish refuses a task whose HEAD has left its branch, and says where it went."),
    ]
}

fn configuration() -> Vec<Block> {
    vec![
        p("Settings are read with git config, so every scope works (system, global, repository, worktree, and git -c key=value)."),
        item("par.branchPrefix", &format!("Prefix of task branches: the branch of task <task> is <prefix><task>; one that git would not take in a branch name is refused (exit 2). Default: {DEFAULT_BRANCH_PREFIX}")),
        item("par.worktreeDir", &format!("Folder that holds the task worktrees, absolute or relative to the top of the main worktree; {{repo}} expands to the main worktree's folder name. A folder inside the repository is added to .git/info/exclude; one inside the git dir, or holding the main worktree, is refused (exit 2). Default: {DEFAULT_WORKTREE_DIR}")),
        item("par.minFreeSpace", "Free disk space that must remain after a new worktree is checked out (and its ignored files copied, with --copy-ignored: counted as their size, or only as inodes where they are cloned on XFS or btrfs); start refuses before it makes anything when the worktree would leave less. A number in git's integer syntax, with an optional k, m or g suffix. Default: 100m"),
        item("par.finishStrategy", "How finish merges when --strategy is not given: merge, squash or rebase. Default: merge"),
        item("par.maxWorkers", "How many tasks run runs a command in at once when --jobs is not given. Default: 3"),
        item("par.killTimeout", "Seconds run waits after passing an interrupt, or the SIGINT of a time limit, on to its commands before killing them, and for what a command left running before its task is looked at or finished; also how long --stop-processes waits before SIGKILL. Default: 10"),
        item("par.runTimeout", "How long a command of git par run may take when --timeout is not given: a number of seconds, or a duration such as 90s, 15m, 2h or 1h30m; 0 means no limit. At the limit the command gets the same stop sequence as Ctrl-C (SIGINT, then SIGKILL after par.killTimeout) and its task is kept with reason timed-out. Default: none"),
        item("par.keepIgnored", "A gitignore pattern (the setting takes several values; an empty one forgets those before it). Ignored files matching one are work, saved with the rest before a task is deleted (say .env); other ignored files are build output and are not saved. Repositories inside a worktree, ignored or not, are always saved. Default: none"),
        item("par.removeInBackground", "When true, finish and drop return once the task is taken apart (merged or saved, its worktree renamed into a trash folder beside it, git's record, the branch and the task record gone) and leave deleting the files to a detached process at low CPU and I/O priority. A crash or reboot before it is done leaves a journal entry that the next git par command hands to a new such process and git par recover finishes itself; git par recover --wait waits until they are all done. false, or --foreground, deletes before returning. Default: true"),
        item("par.checkoutWorkers", "Parallel workers for the checkout of a new task's files (git's checkout.workers; 0 means one per core). Default: 0 (measured on a two-core machine with an ext4 disk under load: several times faster than git's default of one worker, whose single process gets a small share of a busy CPU)"),
        item("core.fsmonitor", "git's own setting. When it names a hook (protocol 2, for example git's fsmonitor-watchman sample with watchman running), list asks it what changed in each task since the task's index was written and looks only at those paths, instead of every file; it falls back to looking at every file when the index has no token, the hook fails, answers / (anything may have changed), or takes more than a second. Set in the main repository's config with an absolute path (git config core.fsmonitor \"$PWD/.git/hooks/fsmonitor-watchman\": git runs the hook in each task's worktree, where .git is a file), it applies to every task's worktree. true (git's built-in daemon) is not asked. When the hook is git's own watchman sample, byte for byte, list sends that query to watchman itself over one connection, and keeps what git last said was untracked in each task (the par-untracked file in the task's admin dir, with the watchman clock it was true at), so that it reads a task's folders only when the index's paths, an ignore file or an ignore setting changed."),
        item("color.ui", "As for git: always, never or auto (colour on a terminal). NO_COLOR turns colour off."),
    ]
    .into_iter()
    .chain(super::ready::settings())
    .collect()
}

fn shell_integration() -> Vec<Block> {
    vec![
        p("A program cannot change the directory of the shell that started it. Add one of these lines to the shell's startup file to let git par do so:"),
        example(&[
            "eval \"$(git par shell-init bash)\"     # ~/.bashrc",
            "eval \"$(git par shell-init zsh)\"      # ~/.zshrc",
            "git par shell-init fish | source      # ~/.config/fish/config.fish",
        ]),
        p("The line defines shell functions named git and git-par. Plain git commands go straight to git. For git par commands the function names a temporary file in GIT_PAR_CD_FILE, and afterwards changes to the directory the command wrote there, if any, then removes the file and returns the command's exit status."),
        p("With it, git par start leaves the shell in the new worktree (unless --no-cd is given); git par finish and git par drop, run from inside the task's worktree, leave it in the worktree of the branch merged into, or in the main worktree; git par cd goes to a task's worktree, or without a task to the main worktree. Without it, git par cd prints the line to add and the path, and git par finish and git par drop, run from inside the task's worktree, print the cd line that leaves the removed folder on stderr."),
    ]
}

fn output_formats() -> Vec<Block> {
    vec![
        p("git par list --json prints a JSON array with one object per task. Its keys are stable:"),
        item("task", "The task's name."),
        item("branch", "Its branch."),
        item("base", "The branch it was started from, or null."),
        item("path", "Its worktree."),
        item("ahead, behind", "Commits on the branch and not on the base, and the other way round; null when either is missing."),
        item("staged, unstaged, untracked", "Numbers of changed paths in the worktree."),
        item("last_commit", "Time of the branch's last commit, ISO 8601 in UTC (2026-01-31T12:00:00Z), or null."),
        item("started", "When git par start made the task, ISO 8601 in UTC, or null when its record does not say."),
        item("current", "true for the task whose worktree holds the current directory."),
        item("flags", "A list of strings, each naming something odd: merging, rebasing, cherry-picking, reverting, bisecting, applying-patches (a git operation waits in the task's worktree), interrupted (an interrupted git par command worked in the task; git par recover puts it right), no-record (a branch without git par's record), missing (the worktree folder is gone), prunable (git's record of the worktree names a .git that is gone and it is not locked: git worktree prune would forget it), locked (the worktree is locked), other-branch (the worktree has another branch checked out), unregistered (a folder git does not know as a worktree), no-worktree, no-branch, status-failed (git status failed in the worktree), busy (a git par command works in the task now), running (a git par run runs a command in it now)."),
        item("busy", "The git par command working in the task now, as an object with pid, command (as git par drop x) and since (seconds since the epoch), or null."),
        item("running", "For a task a git par run is running a command in now: an object with pid (the command's), started (ISO 8601 in UTC), run (the run's id, as in its events) and run_pid (the git par run's own pid); null otherwise. Such a task also has the flag running."),
        item("conflicts", "With --conflicts, an object: merges_cleanly (whether the task's commits merge into its base's current tip without a conflict; null when that could not be worked out), base_files (the files that would conflict with the base), with_tasks (a list of objects with task and files: other tasks of the same base that, merged first, would make this one conflict in those files, beyond base_files), and reason (why the task could not be looked at, or null). Without --conflicts, null."),
        p("git par list --porcelain prints one line per task with these fields separated by tabs: task, branch, base, ahead, behind, staged, unstaged, untracked, last_commit, path, flags (joined with commas), started. A field with no value is -. With --conflicts a thirteenth field follows: - when not worked out, :clean, or what the task would conflict with, separated by spaces: :base for its base, then the names of the other tasks."),
        p("git par prune --json prints a JSON array with one object per task: task, action (pruned; would-prune with --dry-run; kept; failed, when the drop refused), merged (how its work shows in its base: empty, same-commit, ancestor, no-changes, same-tree, merge-adds-nothing, squash-patch-id, rebase-patch-ids; or null), reason (in words, why it went or stayed) and saved (the refs/par/rescued/ ref its commits were saved under, or null)."),
        p("git par list --conflicts works with git merge-tree --write-tree, which touches no worktree, index or ref. Only committed work counts: uncommitted changes are in no merge until they are committed. A task that conflicts with its base is not counted as merged first for the others. Tasks whose changed paths meet nowhere (no common path, no file where the other has a folder, no file added in a folder the other emptied) cannot conflict and are not merged at all."),
        p("git par run --json prints one object with run (the run's id, as in its events and in list's running), interrupted (the signal's name, or null) and tasks, an array with one object per task; see RUN OUTCOMES AND EVENTS."),
    ]
}

fn run_outcomes() -> Vec<Block> {
    vec![
        p("Each task of git par run ends with one outcome: merged (merged back and taken apart, with --finish), kept (left as it is, with whatever it holds; or never created) or removed (created by this run, it held no work, and was removed again; its log stays). A task kept or removed for something that went wrong has one reason from this set, which is kept stable:"),
        item("command-failed", "The command exited with a status other than 0, or a signal killed it."),
        item("timed-out", "The command ran past --timeout (or par.runTimeout) and was stopped."),
        item("conflict", "The merge would conflict, the task has unresolved conflicts, or the target's worktree has local edits to files the task changes."),
        item("uncommitted-left", "The command left uncommitted changes and --changes did not say what to do with them."),
        item("head-moved", "The task's worktree is no longer on the task's branch."),
        item("no-space", "The task's checkout did not fit on the disk, even once every other task was done."),
        item("interrupted", "The run got SIGINT, SIGTERM or SIGHUP while the task was in hand."),
        item("not-started", "The command never ran: the task could not be taken (another git par works in it), created or entered, or the command could not be started."),
        item("hook-failed", "The task was created, but its postStart hook failed: the task is kept as the hook left it (with its path), and the command was not run in it. Unlike the tasks the run creates for its commands, it is never removed for holding no work."),
        item("in-use", "Processes still work inside the task's worktree, so --finish could not take it apart."),
        item("finish-failed", "--finish failed for another reason; error says which."),
        p("A task whose command succeeded and that was not asked to finish is kept with no reason (null). A task created by the run whose command failed or timed out and that holds no work is removed."),
        p("The command is done when its process group is: once its main process exits, the rest of its group gets par.killTimeout to end, then SIGTERM and a second later SIGKILL; only then is the task looked at and finished. With one task the command runs in git par's own process group, and git par adopts what it leaves running (as their subreaper) instead. Processes that left the group but still work inside the worktree are named in a warning and in left_running."),
        p("A task whose checkout would not fit on the disk (see par.minFreeSpace) waits until a finished task frees space; it is given up, with reason no-space, only when nothing else runs."),
        p("Each object in tasks of git par run --json has: task; outcome; reason (null or one of the above); exit (the exit status, 128 + the signal when one killed it, null if it never ran); signal (its name, or null); timed_out (true or false); duration_ms; commits (made during the run); changed_files; holds (what a kept task holds, as 2 commits, 1 uncommitted change or no work); path (a kept task's worktree); merged_into and commit (the branch a merged task went into and the commit it points at after); log; left_running (a list of strings); error (null, or an object with message and hints, a list)."),
        p("git par run --events <file> (- for standard output) writes JSON Lines: one object per change of a task's state, written whole as it happens. Every object has schema (1 for this format; a change that would break a reader gets a new number), time (UTC with milliseconds, 2026-01-31T12:00:00.123Z), run (the run's id), task, and event, one of:"),
        item("queued", "The task waits for its turn (written for every task when the run begins)."),
        item("creating, created", "Its branch and worktree are being made (--start); created has path."),
        item("started", "Its command runs: pid, and log (the output's file, or null with one task, whose command writes to the terminal)."),
        item("output", "With several tasks, at most once a second while the log grows: lines (the number of lines so far) and last_line."),
        item("exited", "The command's main process ended: code (or null), signal (its name, or null), duration_ms."),
        item("timed-out", "The command ran past its limit and is being stopped: after_ms."),
        item("finishing", "The task is being merged (--finish)."),
        item("merged", "into (the branch) and commit (where it points now)."),
        item("kept", "reason, holds, path and error, as in --json."),
        item("removed", "reason and log."),
        item("interrupted", "signal: the run was interrupted while the task was in hand; kept or removed follows."),
        p("The last event of each task is merged, kept or removed. --events - cannot be combined with --json."),
    ]
}

fn environment() -> Vec<Block> {
    vec![
        item("GIT_PAR_TASK, GIT_PAR_BRANCH, GIT_PAR_BASE, GIT_PAR_WORKTREE, GIT_PAR_MAIN_WORKTREE", "Set for each command that git par run starts, and for hooks: the task's name, its branch, its base, its worktree, and the main worktree."),
        item("GIT_PAR_HOOK", "Set for hooks: the event, such as postStart (see HOOKS)."),
        item("GIT_PAR_CD_FILE", "Set by the shell integration: the file where start, finish, drop and cd write the directory the shell should change to."),
        item("NO_COLOR", "When set and not empty, no colour is used."),
        item("GIT_DIR, GIT_WORK_TREE and git's other variables", "Respected as git respects them."),
    ]
}

fn files() -> Vec<Block> {
    vec![
        item("../<repo>.par/<task>", "A task's worktree (see par.worktreeDir)."),
        item("<git-common-dir>/par/tasks/", "One JSON record per task: its branch, its base and where its worktree is."),
        item("<git-common-dir>/par/journal/", "The journal of operations in progress, read by git par recover."),
        item("<git-common-dir>/par/lock", "The repository lock that keeps two git par commands from changing things at once."),
        item("<git-common-dir>/par/leases/<task>.lock", "The task's lease: held by the one git par command working in the task (start, run, finish, drop, sync); a second one refuses, naming it, or waits with --wait."),
        item("<git-common-dir>/par/journal/refused/, <git-common-dir>/par/tasks/damaged/", "Journal entries and task records that git par recover would not believe (unreadable, or naming paths that are not the task's), kept for you to look at; nothing they name was touched."),
        item("<git-common-dir>/par/logs/", "Output of the commands started by git par run, and of their hooks."),
        item(".worktreeinclude", "Gitignore patterns selecting the ignored files copied into new tasks (see COPYING IGNORED FILES)."),
        item(".git-par.config", "Hooks committed in the repository, run once approved with git par trust (see HOOKS)."),
        item("refs/par/rescued/<task>/<date>", "Work saved before it was thrown away (by drop, finish, or a rollback): one commit whose tree is the worktree's files and whose parents keep its HEAD, the branch, commits only in the worktree's reflog, and the commits and uncommitted files of submodules and nested repositories; its message also names the task's base. git par rescued lists each piece and the command that restores it (git par start <task> --from <ref>: the branch at its commits, the base as it was, the uncommitted changes uncommitted again); only git par rescued --drop and --prune delete it."),
        item("refs/par/carrying/<task>", "Uncommitted changes that git par sync --carry set aside, for as long as they are out of the worktree; git par recover puts them back after an interrupted sync."),
        p("<git-common-dir> is the git directory shared by all worktrees: git rev-parse --git-common-dir prints it."),
    ]
}

fn exit_status() -> Vec<Block> {
    vec![
        item("0", "Done."),
        item("1", "Refused or failed; nothing was left half made."),
        item("2", "Bad usage or bad input, such as an unknown option or an invalid task name."),
        item("130, 143, 129", "Interrupted by SIGINT, SIGTERM or SIGHUP, after rolling back what was in progress."),
        p("git par run: 0 when every task's command succeeded and, with --finish, every task merged; 1 when some task was kept or removed for a reason (see RUN OUTCOMES AND EVENTS); 3 when the run failed as a whole (it could not begin: not a repository, an unknown task without --start); 2 for bad usage; 128 + the signal after an interrupt. With one task, a command that fails (other than by reaching --timeout) passes its own exit status on, as if typed alone."),
    ]
}

fn examples() -> Vec<Block> {
    vec![
        p("Start a task, work in it, and merge it back:"),
        example(&[
            "$ git par start fix-login",
            "$ cd \"$(git par path fix-login)\"",
            "$ git commit -am 'Fix the login form'",
            "$ git par finish fix-login",
        ]),
        p("Three tasks from one base, with an agent working in each, and what became of them:"),
        example(&[
            "$ git par run --start --base main t1 t2 t3 -- my-agent --task {task}",
            "$ git par list",
        ]),
        p("Squash a task into another branch than the one it came from, then list what was saved:"),
        example(&[
            "$ git par finish fix-login --into release --strategy squash",
            "$ git par rescued",
        ]),
        p("Bring back a task that was dropped, then delete saved work older than a month:"),
        example(&[
            "$ git par start fix-login --from refs/par/rescued/fix-login/20261121-214203",
            "$ git par rescued --prune --older-than 30d",
        ]),
        p("See which tasks would conflict before finishing any, then drop those already merged upstream (squashed or rebased there), looking first:"),
        example(&[
            "$ git par list --conflicts",
            "$ git par prune --dry-run",
            "$ git par prune",
        ]),
        p("Tasks as data, for scripts:"),
        example(&["$ git par list --json", "$ git par list --porcelain | cut -f1,4"]),
    ]
}
