//! The command line, as clap derive types. Doc comments here are the `-h`/`--help` text, and
//! the man page and shell completions are generated from these same definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// One branch and worktree per task: start, run, finish, list.
///
/// git par gives every task its own branch and worktree, so that people and coding agents can
/// work on many tasks at once without stashing, re-cloning or stepping on each other.
#[derive(Debug, Parser)]
#[command(name = "git-par", bin_name = "git par", version, max_term_width = 100)]
#[command(
    propagate_version = true,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Start(StartArgs),
    Finish(FinishArgs),
    Sync(SyncArgs),
    Drop(DropArgs),
    #[command(visible_alias = "ls")]
    List(ListArgs),
    Prune(PruneArgs),
    Diff(DiffArgs),
    Path(PathArgs),
    Rescued(RescuedArgs),
    Recover(RecoverArgs),
    Run(RunArgs),
    Cd(CdArgs),
    ShellInit(ShellInitArgs),
    Trust(TrustArgs),
    /// Writes the man page and shell completions generated from these definitions.
    #[command(hide = true)]
    Generate(GenerateArgs),
    /// Prints task names, one a line, for shell completion.
    #[command(hide = true, name = "__complete-tasks")]
    CompleteTasks,
    /// Deletes a finished or dropped task's trashed worktree: the detached process that
    /// `finish` and `drop` hand the deletion to, holding its journal entry's lock on fd 3.
    #[command(hide = true, name = "__delete-trash")]
    DeleteTrash(DeleteTrashArgs),
}

#[derive(Debug, Args)]
pub struct DeleteTrashArgs {
    /// The journal entry whose trash slot to delete.
    pub id: String,
}

/// What to do with uncommitted changes in the worktree `start` runs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StartChanges {
    /// Carry them into the new task and clean them out of here.
    Move,
    /// Carry them into the new task and keep them here too.
    Copy,
    /// Leave them here.
    Leave,
}

/// Create a task: its branch and its worktree.
///
/// Prints the new worktree's path alone on stdout, so `cd "$(git par start x)"` works.
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Name of the task; its branch is `<par.branchPrefix><task>`.
    pub task: String,
    /// Start from this revision (default: the branch checked out here). With `--from`: the
    /// branch the restored task belongs to, when the saved work names none.
    #[arg(long, value_name = "rev")]
    pub base: Option<String>,
    /// What to do with uncommitted changes here, without asking.
    #[arg(long, value_enum, value_name = "what")]
    pub changes: Option<StartChanges>,
    /// Restore saved work (a ref `git par rescued` lists): the task's branch at the commit it
    /// had checked out, its base as it was, and its uncommitted changes as uncommitted changes.
    /// The saved work is kept.
    #[arg(long, value_name = "ref", conflicts_with = "changes")]
    pub from: Option<String>,
    /// With `git par shell-init`: stay in this directory.
    #[arg(long)]
    pub no_cd: bool,
    /// If another git par works in the task, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
    /// Copy ignored files (build caches, `.env`) from this worktree into the new one:
    /// those `.worktreeinclude` selects, else all, less `par.copyIgnoredExclude`
    /// (default: `par.copyIgnored`).
    #[arg(long, overrides_with = "no_copy_ignored")]
    pub copy_ignored: bool,
    /// Do not copy ignored files, whatever `par.copyIgnored` says.
    #[arg(long, overrides_with = "copy_ignored")]
    pub no_copy_ignored: bool,
    /// Run no hooks (`par.hook.postStart`, and those in `.git-par.toml`).
    #[arg(long)]
    pub no_hooks: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Fast-forward when possible, else a merge commit.
    Merge,
    /// One new commit on the target with the whole change.
    Squash,
    /// Replay the task's commits on the target, then fast-forward.
    Rebase,
}

/// What to do with uncommitted changes in the task's worktree when finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FinishChanges {
    /// Commit them to the task's branch first.
    Commit,
    /// Throw them away (saved under refs/par/rescued/ first).
    Discard,
}

/// Merge a task back into its base, then remove its worktree and branch.
#[derive(Debug, Args)]
pub struct FinishArgs {
    /// The task (default: the one whose worktree holds the current directory).
    pub task: Option<String>,
    /// Merge into this branch instead of the task's base.
    #[arg(long, value_name = "branch")]
    pub into: Option<String>,
    /// How to merge (default: `par.finishStrategy`, else merge).
    #[arg(long, value_enum, value_name = "strategy")]
    pub strategy: Option<Strategy>,
    /// Message for the commit of uncommitted changes and for a merge or squash commit.
    #[arg(short, long, value_name = "msg")]
    pub message: Option<String>,
    /// What to do with uncommitted changes in the task, without asking.
    #[arg(long, value_enum, value_name = "what")]
    pub changes: Option<FinishChanges>,
    /// Keep the worktree and branch after merging.
    #[arg(long)]
    pub keep: bool,
    /// Say what would happen, conflicts included, and change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// Stop processes working inside the task's worktree (SIGTERM, then SIGKILL after
    /// `par.killTimeout`) instead of refusing.
    #[arg(long)]
    pub stop_processes: bool,
    /// If another git par works in the task, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
    /// Delete the worktree's files before returning, instead of in a background process
    /// (what `par.removeInBackground = false` makes the default).
    #[arg(long)]
    pub foreground: bool,
    /// Run no hooks (`par.hook.preFinish`, `par.hook.postFinish`, and `.git-par.toml`'s).
    #[arg(long)]
    pub no_hooks: bool,
}

/// Bring the base branch's new commits into a task (merge, or rebase).
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// The task (default: the one whose worktree holds the current directory).
    pub task: Option<String>,
    /// Rebase the task onto its base instead of merging.
    #[arg(long)]
    pub rebase: bool,
    /// Carry uncommitted changes through the sync: set them aside (never in the stash list),
    /// sync, and put them back as uncommitted changes. A sync that would conflict with them is
    /// undone, and they are put back as they were.
    #[arg(long)]
    pub carry: bool,
    /// If another git par works in the task, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
}

/// Throw a task away: its worktree and branch go, its work is saved first.
#[derive(Debug, Args)]
pub struct DropArgs {
    /// The task to drop.
    pub task: String,
    /// Do not ask, even when the task holds work (it is still saved first).
    #[arg(short, long)]
    pub force: bool,
    /// Stop processes working inside the task's worktree (SIGTERM, then SIGKILL after
    /// `par.killTimeout`) instead of refusing.
    #[arg(long)]
    pub stop_processes: bool,
    /// If another git par works in the task, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
    /// Delete the worktree's files before returning, instead of in a background process
    /// (what `par.removeInBackground = false` makes the default).
    #[arg(long)]
    pub foreground: bool,
    /// Run no hooks (`par.hook.preDrop`, and `.git-par.toml`'s).
    #[arg(long)]
    pub no_hooks: bool,
}

/// Drop every task whose work is already in its base, saying of each task why or why not.
///
/// A task goes when its commits are in its base (or in the remote branch its base tracks):
/// by ancestry, or after a squash or rebase there, seen as equal files, a merge that would
/// change nothing, or equal patch ids; a task with no commits of its own goes too. It goes as
/// `git par drop` takes it: its commits are saved under refs/par/rescued/ first. A task is
/// never pruned while its worktree holds uncommitted or untracked changes, a repository of its
/// own, or ignored files that par.keepIgnored counts as work, while its HEAD is off its
/// branch, a merge or rebase waits there, it is locked, a process works inside it, another
/// git par command works in it, or another task that stays was started from its branch (tasks
/// started from a task's branch are looked at before it, so both can go in one run).
#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Say what would be pruned and why, change nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// A JSON array, one object per task: task, action (pruned, would-prune, kept, failed),
    /// merged, reason, saved.
    #[arg(long)]
    pub json: bool,
    /// Run no preDrop hooks (`par.hook.preDrop`, and `.git-par.config`'s).
    #[arg(long)]
    pub no_hooks: bool,
}

/// Show every task: branch, base, ahead/behind, changes, age, path and anything odd.
///
/// One line a task; on a terminal a header row names the columns. `*` marks the task whose
/// worktree holds the current directory. BRANCH, an arrow, BASE: the task's branch and the
/// branch it merges into. Up and down arrows: commits on the branch and not on the base, and
/// the other way round. CHANGES: `clean`, or `+N ~N ?N`, the paths `git status` shows staged (+), changed but not
/// staged, conflicts included (~), and untracked (?). STARTED: since `git par start` made the
/// task. LAST COMMIT: since the branch's last commit. PATH: the task's worktree.
///
/// Flags, in brackets after the path: merging, rebasing, cherry-picking, reverting,
/// bisecting, applying-patches (a git operation waits in the task's worktree for you to go on
/// or abort it); interrupted (a git par command working in the task was interrupted: run `git
/// par recover`); busy (a git par command works in the task now); missing (the worktree folder
/// is gone); no-worktree (git knows no worktree for the task and there is no folder);
/// unregistered (a folder git does not know as a worktree); locked (`git worktree lock`);
/// other-branch (the worktree has another branch checked out); no-branch (the task's branch is
/// gone); no-record (a branch or worktree without git par's record); status-failed (`git
/// status` failed in the worktree).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// A JSON array, one object per task (keys in the man page; kept stable).
    #[arg(long, conflicts_with = "porcelain")]
    pub json: bool,
    /// Stable tab-separated lines for scripts.
    #[arg(long)]
    pub porcelain: bool,
    /// Also say whether each task's commits merge cleanly into its base's current tip, and
    /// which other tasks would make it conflict if they were merged first (with the files).
    /// Worked out with `git merge-tree`; uncommitted changes do not count.
    #[arg(long)]
    pub conflicts: bool,
}

/// Show a task's whole change against its base, committed and uncommitted, as it would merge.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The task (default: the one whose worktree holds the current directory).
    pub task: Option<String>,
    /// Only a diffstat.
    #[arg(long)]
    pub stat: bool,
}

/// Print a task's worktree path (without a task: the main worktree's).
#[derive(Debug, Args)]
pub struct PathArgs {
    /// The task (default: the main worktree).
    pub task: Option<String>,
}

/// List saved work under refs/par/rescued/, and how to restore each; delete what is no
/// longer wanted.
///
/// Saved work is kept until it is deleted here: no other command, and no `git gc`, removes it.
#[derive(Debug, Args)]
pub struct RescuedArgs {
    /// Only the work saved from this task.
    #[arg(conflicts_with_all = ["drop", "prune"])]
    pub task: Option<String>,
    /// A JSON array instead of text.
    #[arg(long, conflicts_with_all = ["drop", "prune"])]
    pub json: bool,
    /// Delete this saved work (a ref the list shows; repeat for more).
    #[arg(long, value_name = "ref", conflicts_with = "prune")]
    pub drop: Vec<String>,
    /// Delete the saved work older than `--older-than`.
    #[arg(long, requires = "older_than")]
    pub prune: bool,
    /// With `--prune`: an age such as 30d, 2w, 12h or 2.weeks.ago.
    #[arg(long, value_name = "age", requires = "prune")]
    pub older_than: Option<String>,
    /// With `--drop` or `--prune`: say what would be deleted, delete nothing.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
}

/// Finish or roll back interrupted operations and clean up leftovers.
#[derive(Debug, Args)]
pub struct RecoverArgs {
    /// Say what would be done, change nothing: for each interrupted operation, whether it
    /// would be finished or rolled back, and how.
    #[arg(short = 'n', long)]
    pub dry_run: bool,
    /// A JSON report instead of text.
    #[arg(long)]
    pub json: bool,
    /// First wait until the worktrees that finish and drop left to background processes are
    /// deleted (for scripts and tests that look at the disk next).
    #[arg(long)]
    pub wait: bool,
}

/// Run a command inside one or more tasks.
///
/// Exit status: 0 when every task's command succeeded (and, with --finish, every task
/// merged); 1 when some task was kept or removed for a reason (--json and --events say
/// which); 3 when the run failed as a whole; 2 for bad usage; 128 + the signal after an
/// interrupt. With one task, a command that fails passes its own exit status on.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The tasks to run in.
    #[arg(required_unless_present = "tasks_from", num_args = 1..)]
    pub tasks: Vec<String>,
    /// Read task names from this file (`-`: standard input), one a line, after those named.
    #[arg(long, value_name = "file")]
    pub tasks_from: Option<PathBuf>,
    /// At most this many tasks in hand at once, being created or running their command
    /// (default: `par.maxWorkers`, else 3).
    #[arg(short, long, value_name = "n")]
    pub jobs: Option<usize>,
    /// Create each task first if it does not exist.
    #[arg(long)]
    pub start: bool,
    /// Base for tasks created by `--start`.
    #[arg(long, value_name = "rev", requires = "start")]
    pub base: Option<String>,
    /// Finish each task whose command exited 0.
    #[arg(long)]
    pub finish: bool,
    /// With --finish: what to do with uncommitted changes a command left (default: keep
    /// the task, reason uncommitted-left).
    #[arg(long, value_enum, value_name = "what", requires = "finish")]
    pub changes: Option<FinishChanges>,
    /// With --changes commit: the message of that commit (default: one naming the task and
    /// the command).
    #[arg(short, long, value_name = "msg", requires = "changes")]
    pub message: Option<String>,
    /// Stop a task's command after this long (`90s`, `15m`, `2h`; default:
    /// `par.runTimeout`, else none): SIGINT, then SIGKILL after `par.killTimeout`. The task
    /// is kept with reason timed-out.
    #[arg(long, value_name = "duration", value_parser = parse_timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Write one JSON object a line per change of a task's state to this file (`-`:
    /// standard output); the man page describes them.
    #[arg(long, value_name = "file")]
    pub events: Option<PathBuf>,
    /// A machine-readable summary on stdout.
    #[arg(long)]
    pub json: bool,
    /// If another git par works in a task, wait for it instead of refusing.
    #[arg(long)]
    pub wait: bool,
    /// Copy ignored files into tasks created by `--start`, as `git par start --copy-ignored`
    /// (default: `par.copyIgnored`).
    #[arg(long, requires = "start", overrides_with = "no_copy_ignored")]
    pub copy_ignored: bool,
    /// Do not copy ignored files into tasks created by `--start`.
    #[arg(long, overrides_with = "copy_ignored")]
    pub no_copy_ignored: bool,
    /// Run no hooks (postStart for tasks it creates, preFinish and postFinish with
    /// `--finish`).
    #[arg(long)]
    pub no_hooks: bool,
    /// The command and its arguments; `{task}` is replaced by the task's name.
    #[arg(last = true, required = true, value_name = "command")]
    pub command: Vec<String>,
}

fn parse_timeout(value: &str) -> Result<std::time::Duration, String> {
    crate::config::parse_duration(value)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "expected a duration such as 90s, 15m or 2h".to_string())
}

/// Go to a task's worktree (without a task: the main worktree), with `git par shell-init`.
#[derive(Debug, Args)]
pub struct CdArgs {
    /// The task to go to (default: the main worktree).
    pub task: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Print shell code that lets `start`, `finish`, `drop` and `cd` change your directory.
#[derive(Debug, Args)]
pub struct ShellInitArgs {
    /// The shell to print code for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Folder to write `man/` and `completions/` into.
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// Approve the hooks committed in this repository's `.git-par.toml`, exactly as they read now.
///
/// Hooks that arrive with a clone run only once you have read and approved their text. The
/// approval is kept in your global git config (`par.trusted`, one value per repository and
/// text); a changed hook needs approving again.
#[derive(Debug, Args)]
pub struct TrustArgs {
    /// Only show the hooks and whether each is approved.
    #[arg(long, conflicts_with = "revoke")]
    pub show: bool,
    /// Withdraw the approvals given for this repository.
    #[arg(long)]
    pub revoke: bool,
    /// Approve without asking (for scripts that have checked the text themselves).
    #[arg(short, long)]
    pub yes: bool,
}
