# fish completion for 'git par' and 'git-par'.
# Generated from src/cli.rs by 'cargo run -- generate'; do not edit.
#
# Read at startup (vendor_conf.d), because completions for 'git par' have to be registered on
# 'git' itself: fish 3.6 does not forward 'git par' to the completions of 'git-par'.

# Prints the words after 'git par' or 'git-par' before the cursor, one a line; fails for any
# other command line, and for 'git par' where fish's git completion forwards it to 'git-par'.
function __git_par_words
    set -l words (commandline -opc)
    switch "$words[1]"
        case git-par
            set -e words[1]
        case git
            if not set -q __git_par_forwarded
                set -g __git_par_forwarded 0
                complete -c git | string match -q -- '*_custom_command par)*'
                and set __git_par_forwarded 1
            end
            test $__git_par_forwarded = 0; or return 1
            set -e words[1]
            while true
                switch "$words[1]"
                    case par
                        set -e words[1]
                        break
                    case -C -c --git-dir --work-tree --namespace --config-env
                        set -e words[1]
                        set -e words[1]
                    case '-*'
                        set -e words[1]
                    case '*'
                        return 1
                end
            end
        case '*'
            return 1
    end
    set -q words[1]; and printf '%s\n' $words
    return 0
end

# Succeeds while no subcommand has been typed.
function __git_par_needs_command
    set -l words (__git_par_words); or return 1
    for word in $words
        string match -q -- '-*' $word; or return 1
    end
end

# Succeeds when the subcommand is one of $argv.
function __git_par_using
    set -l words (__git_par_words); or return 1
    for word in $words
        string match -q -- '-*' $word; and continue
        contains -- $word $argv
        return
    end
    return 1
end

# Succeeds when no '--' has been typed: file names are never a git par argument before it.
function __git_par_no_files
    set -l words (__git_par_words); or return 1
    not contains -- -- $words
end

# Succeeds for the subcommands in $argv[1] (space-separated) when the word being completed is
# their positional $argv[2]: a number from 0, 'N+' for N and any after it, or '--' for the
# words after a '--'. The rest of $argv are the options whose value is the next word.
function __git_par_position
    set -l words (__git_par_words); or return 1
    set -l subs (string split ' ' -- $argv[1])
    set -l want $argv[2]
    set -l value_options $argv[3..-1]
    set -l sub
    set -l n 0
    set -l skip 0
    for word in $words
        if test -z "$sub"
            string match -q -- '-*' $word; and continue
            contains -- $word $subs; or return 1
            set sub $word
        else if test $skip = 1
            set skip 0
        else if test "$word" = --
            test "$want" = --
            return
        else if string match -q -- '-*' $word
            contains -- $word $value_options; and set skip 1
        else
            set n (math $n + 1)
        end
    end
    test -n "$sub"; and test $skip = 0; and test "$want" != --; or return 1
    if string match -q -- '*+' $want
        test $n -ge (string trim -r -c + -- $want)
    else
        test $n -eq $want
    end
end

function __git_par_tasks
    command git-par __complete-tasks 2>/dev/null | string replace -r '$' '\tTask'
end

function __git_par_branches
    command git for-each-ref --format='%(refname:short)%09Branch' refs/heads 2>/dev/null
end

function __git_par_revisions
    __git_par_branches
    command git for-each-ref --format='%(refname:short)%09Tag' refs/tags 2>/dev/null
    command git for-each-ref --format='%(refname:short)%09Remote branch' refs/remotes 2>/dev/null
end

# git-par
complete -c git-par -n __git_par_no_files -f
complete -c git-par -n __git_par_needs_command -f -a start -d 'Create a task: its branch and its worktree'
complete -c git-par -n __git_par_needs_command -f -a finish -d 'Merge a task back into its base, then remove its worktree and branch'
complete -c git-par -n __git_par_needs_command -f -a sync -d 'Bring the base branch\'s new commits into a task (merge, or rebase)'
complete -c git-par -n __git_par_needs_command -f -a drop -d 'Throw a task away: its worktree and branch go, its work is saved first'
complete -c git-par -n __git_par_needs_command -f -a list -d 'Show every task: branch, base, ahead/behind, changes, age, path and anything odd'
complete -c git-par -n __git_par_needs_command -f -a prune -d 'Drop every task whose work is already in its base, saying of each task why or why not'
complete -c git-par -n __git_par_needs_command -f -a diff -d 'Show a task\'s whole change against its base, committed and uncommitted, as it would merge'
complete -c git-par -n __git_par_needs_command -f -a path -d 'Print a task\'s worktree path (without a task: the main worktree\'s)'
complete -c git-par -n __git_par_needs_command -f -a rescued -d 'List saved work under refs/par/rescued/, and how to restore each; delete what is no longer wanted'
complete -c git-par -n __git_par_needs_command -f -a recover -d 'Finish or roll back interrupted operations and clean up leftovers'
complete -c git-par -n __git_par_needs_command -f -a run -d 'Run a command inside one or more tasks'
complete -c git-par -n __git_par_needs_command -f -a cd -d 'Go to a task\'s worktree (without a task: the main worktree), with `git par shell-init`'
complete -c git-par -n __git_par_needs_command -f -a shell-init -d 'Print shell code that lets `start`, `finish`, `drop` and `cd` change your directory'
complete -c git-par -n __git_par_needs_command -f -a trust -d 'Approve the hooks committed in this repository\'s `.git-par.toml`, exactly as they read now'
complete -c git-par -n __git_par_needs_command -f -a help -d 'Print this message or the help of the given subcommand(s)'
complete -c git-par -n __git_par_needs_command -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n __git_par_needs_command -s V -l version -d 'Print version'
complete -c git-par -n '__git_par_using start' -l base -x -a '(__git_par_revisions)' -d 'Start from this revision (default: the branch checked out here). With `--from`: the branch the restored task belongs to, when the saved work names none'
complete -c git-par -n '__git_par_using start' -l changes -x -a 'move\\t"Carry them into the new task and clean them out of here" copy\\t"Carry them into the new task and keep them here too" leave\\t"Leave them here"' -d 'What to do with uncommitted changes here, without asking'
complete -c git-par -n '__git_par_using start' -l from -x -a '(__git_par_revisions)' -d 'Restore saved work (a ref `git par rescued` lists): the task\'s branch at the commit it had checked out, its base as it was, and its uncommitted changes as uncommitted changes. The saved work is kept'
complete -c git-par -n '__git_par_using start' -l no-cd -d 'With `git par shell-init`: stay in this directory'
complete -c git-par -n '__git_par_using start' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git-par -n '__git_par_using start' -l copy-ignored -d 'Copy ignored files (build caches, `.env`) from this worktree into the new one: those `.worktreeinclude` selects, else all, less `par.copyIgnoredExclude` (default: `par.copyIgnored`)'
complete -c git-par -n '__git_par_using start' -l no-copy-ignored -d 'Do not copy ignored files, whatever `par.copyIgnored` says'
complete -c git-par -n '__git_par_using start' -l no-hooks -d 'Run no hooks (`par.hook.postStart`, and those in `.git-par.toml`)'
complete -c git-par -n '__git_par_using start' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_using finish' -l into -x -a '(__git_par_branches)' -d 'Merge into this branch instead of the task\'s base'
complete -c git-par -n '__git_par_using finish' -l strategy -x -a 'merge\\t"Fast-forward when possible, else a merge commit" squash\\t"One new commit on the target with the whole change" rebase\\t"Replay the task\'s commits on the target, then fast-forward"' -d 'How to merge (default: `par.finishStrategy`, else merge)'
complete -c git-par -n '__git_par_using finish' -s m -l message -x -d 'Message for the commit of uncommitted changes and for a merge or squash commit'
complete -c git-par -n '__git_par_using finish' -l changes -x -a 'commit\\t"Commit them to the task\'s branch first" discard\\t"Throw them away (saved under refs/par/rescued/ first)"' -d 'What to do with uncommitted changes in the task, without asking'
complete -c git-par -n '__git_par_using finish' -l keep -d 'Keep the worktree and branch after merging'
complete -c git-par -n '__git_par_using finish' -s n -l dry-run -d 'Say what would happen, conflicts included, and change nothing'
complete -c git-par -n '__git_par_using finish' -l stop-processes -d 'Stop processes working inside the task\'s worktree (SIGTERM, then SIGKILL after `par.killTimeout`) instead of refusing'
complete -c git-par -n '__git_par_using finish' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git-par -n '__git_par_using finish' -l foreground -d 'Delete the worktree\'s files before returning, instead of in a background process (what `par.removeInBackground = false` makes the default)'
complete -c git-par -n '__git_par_using finish' -l no-hooks -d 'Run no hooks (`par.hook.preFinish`, `par.hook.postFinish`, and `.git-par.toml`\'s)'
complete -c git-par -n '__git_par_using finish' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_position "finish" 0 --into --strategy --message -m --changes' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using sync' -l rebase -d 'Rebase the task onto its base instead of merging'
complete -c git-par -n '__git_par_using sync' -l carry -d 'Carry uncommitted changes through the sync: set them aside (never in the stash list), sync, and put them back as uncommitted changes. A sync that would conflict with them is undone, and they are put back as they were'
complete -c git-par -n '__git_par_using sync' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git-par -n '__git_par_using sync' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_position "sync" 0' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using drop' -s f -l force -d 'Do not ask, even when the task holds work (it is still saved first)'
complete -c git-par -n '__git_par_using drop' -l stop-processes -d 'Stop processes working inside the task\'s worktree (SIGTERM, then SIGKILL after `par.killTimeout`) instead of refusing'
complete -c git-par -n '__git_par_using drop' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git-par -n '__git_par_using drop' -l foreground -d 'Delete the worktree\'s files before returning, instead of in a background process (what `par.removeInBackground = false` makes the default)'
complete -c git-par -n '__git_par_using drop' -l no-hooks -d 'Run no hooks (`par.hook.preDrop`, and `.git-par.toml`\'s)'
complete -c git-par -n '__git_par_using drop' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_position "drop" 0' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using list ls' -l json -d 'A JSON array, one object per task (keys in the man page; kept stable)'
complete -c git-par -n '__git_par_using list ls' -l porcelain -d 'Stable tab-separated lines for scripts'
complete -c git-par -n '__git_par_using list ls' -l conflicts -d 'Also say whether each task\'s commits merge cleanly into its base\'s current tip, and which other tasks would make it conflict if they were merged first (with the files). Worked out with `git merge-tree`; uncommitted changes do not count'
complete -c git-par -n '__git_par_using list ls' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_using prune' -s n -l dry-run -d 'Say what would be pruned and why, change nothing'
complete -c git-par -n '__git_par_using prune' -l json -d 'A JSON array, one object per task: task, action (pruned, would-prune, kept, failed), merged, reason, saved'
complete -c git-par -n '__git_par_using prune' -l no-hooks -d 'Run no preDrop hooks (`par.hook.preDrop`, and `.git-par.config`\'s)'
complete -c git-par -n '__git_par_using prune' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_using diff' -l stat -d 'Only a diffstat'
complete -c git-par -n '__git_par_using diff' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_position "diff" 0' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using path' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_position "path" 0' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using rescued' -l json -d 'A JSON array instead of text'
complete -c git-par -n '__git_par_using rescued' -l drop -x -a '(__git_par_revisions)' -d 'Delete this saved work (a ref the list shows; repeat for more)'
complete -c git-par -n '__git_par_using rescued' -l prune -d 'Delete the saved work older than `--older-than`'
complete -c git-par -n '__git_par_using rescued' -l older-than -x -d 'With `--prune`: an age such as 30d, 2w, 12h or 2.weeks.ago'
complete -c git-par -n '__git_par_using rescued' -s n -l dry-run -d 'With `--drop` or `--prune`: say what would be deleted, delete nothing'
complete -c git-par -n '__git_par_using rescued' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_position "rescued" 0 --drop --older-than' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using recover' -s n -l dry-run -d 'Say what would be done, change nothing: for each interrupted operation, whether it would be finished or rolled back, and how'
complete -c git-par -n '__git_par_using recover' -l json -d 'A JSON report instead of text'
complete -c git-par -n '__git_par_using recover' -l wait -d 'First wait until the worktrees that finish and drop left to background processes are deleted (for scripts and tests that look at the disk next)'
complete -c git-par -n '__git_par_using recover' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_using run' -l tasks-from -x -a '(__fish_complete_path)' -d 'Read task names from this file (`-`: standard input), one a line, after those named'
complete -c git-par -n '__git_par_using run' -s j -l jobs -x -d 'At most this many tasks in hand at once, being created or running their command (default: `par.maxWorkers`, else 3)'
complete -c git-par -n '__git_par_using run' -l start -d 'Create each task first if it does not exist'
complete -c git-par -n '__git_par_using run' -l base -x -a '(__git_par_revisions)' -d 'Base for tasks created by `--start`'
complete -c git-par -n '__git_par_using run' -l finish -d 'Finish each task whose command exited 0'
complete -c git-par -n '__git_par_using run' -l changes -x -a 'commit\\t"Commit them to the task\'s branch first" discard\\t"Throw them away (saved under refs/par/rescued/ first)"' -d 'With --finish: what to do with uncommitted changes a command left (default: keep the task, reason uncommitted-left)'
complete -c git-par -n '__git_par_using run' -s m -l message -x -d 'With --changes commit: the message of that commit (default: one naming the task and the command)'
complete -c git-par -n '__git_par_using run' -l timeout -x -d 'Stop a task\'s command after this long (`90s`, `15m`, `2h`; default: `par.runTimeout`, else none): SIGINT, then SIGKILL after `par.killTimeout`. The task is kept with reason timed-out'
complete -c git-par -n '__git_par_using run' -l events -x -a '(__fish_complete_path)' -d 'Write one JSON object a line per change of a task\'s state to this file (`-`: standard output); the man page describes them'
complete -c git-par -n '__git_par_using run' -l json -d 'A machine-readable summary on stdout'
complete -c git-par -n '__git_par_using run' -l wait -d 'If another git par works in a task, wait for it instead of refusing'
complete -c git-par -n '__git_par_using run' -l copy-ignored -d 'Copy ignored files into tasks created by `--start`, as `git par start --copy-ignored` (default: `par.copyIgnored`)'
complete -c git-par -n '__git_par_using run' -l no-copy-ignored -d 'Do not copy ignored files into tasks created by `--start`'
complete -c git-par -n '__git_par_using run' -l no-hooks -d 'Run no hooks (postStart for tasks it creates, preFinish and postFinish with `--finish`)'
complete -c git-par -n '__git_par_using run' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_position "run" 0+ --tasks-from --jobs -j --base --changes --message -m --timeout --events' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using cd' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_position "cd" 0' -f -a '(__git_par_tasks)'
complete -c git-par -n '__git_par_using shell-init' -s h -l help -d 'Print help'
complete -c git-par -n '__git_par_position "shell-init" 0' -f -a 'bash\\t"" zsh\\t"" fish\\t""'
complete -c git-par -n '__git_par_using trust' -l show -d 'Only show the hooks and whether each is approved'
complete -c git-par -n '__git_par_using trust' -l revoke -d 'Withdraw the approvals given for this repository'
complete -c git-par -n '__git_par_using trust' -s y -l yes -d 'Approve without asking (for scripts that have checked the text themselves)'
complete -c git-par -n '__git_par_using trust' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-par -n '__git_par_position "help" 0' -f -a 'start\\t"Create a task: its branch and its worktree" finish\\t"Merge a task back into its base, then remove its worktree and branch" sync\\t"Bring the base branch\'s new commits into a task (merge, or rebase)" drop\\t"Throw a task away: its worktree and branch go, its work is saved first" list\\t"Show every task: branch, base, ahead/behind, changes, age, path and anything odd" prune\\t"Drop every task whose work is already in its base, saying of each task why or why not" diff\\t"Show a task\'s whole change against its base, committed and uncommitted, as it would merge" path\\t"Print a task\'s worktree path (without a task: the main worktree\'s)" rescued\\t"List saved work under refs/par/rescued/, and how to restore each; delete what is no longer wanted" recover\\t"Finish or roll back interrupted operations and clean up leftovers" run\\t"Run a command inside one or more tasks" cd\\t"Go to a task\'s worktree (without a task: the main worktree), with `git par shell-init`" shell-init\\t"Print shell code that lets `start`, `finish`, `drop` and `cd` change your directory" trust\\t"Approve the hooks committed in this repository\'s `.git-par.toml`, exactly as they read now"'

# git
complete -c git -n __git_par_no_files -f
complete -c git -n __git_par_needs_command -f -a start -d 'Create a task: its branch and its worktree'
complete -c git -n __git_par_needs_command -f -a finish -d 'Merge a task back into its base, then remove its worktree and branch'
complete -c git -n __git_par_needs_command -f -a sync -d 'Bring the base branch\'s new commits into a task (merge, or rebase)'
complete -c git -n __git_par_needs_command -f -a drop -d 'Throw a task away: its worktree and branch go, its work is saved first'
complete -c git -n __git_par_needs_command -f -a list -d 'Show every task: branch, base, ahead/behind, changes, age, path and anything odd'
complete -c git -n __git_par_needs_command -f -a prune -d 'Drop every task whose work is already in its base, saying of each task why or why not'
complete -c git -n __git_par_needs_command -f -a diff -d 'Show a task\'s whole change against its base, committed and uncommitted, as it would merge'
complete -c git -n __git_par_needs_command -f -a path -d 'Print a task\'s worktree path (without a task: the main worktree\'s)'
complete -c git -n __git_par_needs_command -f -a rescued -d 'List saved work under refs/par/rescued/, and how to restore each; delete what is no longer wanted'
complete -c git -n __git_par_needs_command -f -a recover -d 'Finish or roll back interrupted operations and clean up leftovers'
complete -c git -n __git_par_needs_command -f -a run -d 'Run a command inside one or more tasks'
complete -c git -n __git_par_needs_command -f -a cd -d 'Go to a task\'s worktree (without a task: the main worktree), with `git par shell-init`'
complete -c git -n __git_par_needs_command -f -a shell-init -d 'Print shell code that lets `start`, `finish`, `drop` and `cd` change your directory'
complete -c git -n __git_par_needs_command -f -a trust -d 'Approve the hooks committed in this repository\'s `.git-par.toml`, exactly as they read now'
complete -c git -n __git_par_needs_command -f -a help -d 'Print this message or the help of the given subcommand(s)'
complete -c git -n __git_par_needs_command -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n __git_par_needs_command -s V -l version -d 'Print version'
complete -c git -n '__git_par_using start' -l base -x -a '(__git_par_revisions)' -d 'Start from this revision (default: the branch checked out here). With `--from`: the branch the restored task belongs to, when the saved work names none'
complete -c git -n '__git_par_using start' -l changes -x -a 'move\\t"Carry them into the new task and clean them out of here" copy\\t"Carry them into the new task and keep them here too" leave\\t"Leave them here"' -d 'What to do with uncommitted changes here, without asking'
complete -c git -n '__git_par_using start' -l from -x -a '(__git_par_revisions)' -d 'Restore saved work (a ref `git par rescued` lists): the task\'s branch at the commit it had checked out, its base as it was, and its uncommitted changes as uncommitted changes. The saved work is kept'
complete -c git -n '__git_par_using start' -l no-cd -d 'With `git par shell-init`: stay in this directory'
complete -c git -n '__git_par_using start' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git -n '__git_par_using start' -l copy-ignored -d 'Copy ignored files (build caches, `.env`) from this worktree into the new one: those `.worktreeinclude` selects, else all, less `par.copyIgnoredExclude` (default: `par.copyIgnored`)'
complete -c git -n '__git_par_using start' -l no-copy-ignored -d 'Do not copy ignored files, whatever `par.copyIgnored` says'
complete -c git -n '__git_par_using start' -l no-hooks -d 'Run no hooks (`par.hook.postStart`, and those in `.git-par.toml`)'
complete -c git -n '__git_par_using start' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_using finish' -l into -x -a '(__git_par_branches)' -d 'Merge into this branch instead of the task\'s base'
complete -c git -n '__git_par_using finish' -l strategy -x -a 'merge\\t"Fast-forward when possible, else a merge commit" squash\\t"One new commit on the target with the whole change" rebase\\t"Replay the task\'s commits on the target, then fast-forward"' -d 'How to merge (default: `par.finishStrategy`, else merge)'
complete -c git -n '__git_par_using finish' -s m -l message -x -d 'Message for the commit of uncommitted changes and for a merge or squash commit'
complete -c git -n '__git_par_using finish' -l changes -x -a 'commit\\t"Commit them to the task\'s branch first" discard\\t"Throw them away (saved under refs/par/rescued/ first)"' -d 'What to do with uncommitted changes in the task, without asking'
complete -c git -n '__git_par_using finish' -l keep -d 'Keep the worktree and branch after merging'
complete -c git -n '__git_par_using finish' -s n -l dry-run -d 'Say what would happen, conflicts included, and change nothing'
complete -c git -n '__git_par_using finish' -l stop-processes -d 'Stop processes working inside the task\'s worktree (SIGTERM, then SIGKILL after `par.killTimeout`) instead of refusing'
complete -c git -n '__git_par_using finish' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git -n '__git_par_using finish' -l foreground -d 'Delete the worktree\'s files before returning, instead of in a background process (what `par.removeInBackground = false` makes the default)'
complete -c git -n '__git_par_using finish' -l no-hooks -d 'Run no hooks (`par.hook.preFinish`, `par.hook.postFinish`, and `.git-par.toml`\'s)'
complete -c git -n '__git_par_using finish' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_position "finish" 0 --into --strategy --message -m --changes' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using sync' -l rebase -d 'Rebase the task onto its base instead of merging'
complete -c git -n '__git_par_using sync' -l carry -d 'Carry uncommitted changes through the sync: set them aside (never in the stash list), sync, and put them back as uncommitted changes. A sync that would conflict with them is undone, and they are put back as they were'
complete -c git -n '__git_par_using sync' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git -n '__git_par_using sync' -s h -l help -d 'Print help'
complete -c git -n '__git_par_position "sync" 0' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using drop' -s f -l force -d 'Do not ask, even when the task holds work (it is still saved first)'
complete -c git -n '__git_par_using drop' -l stop-processes -d 'Stop processes working inside the task\'s worktree (SIGTERM, then SIGKILL after `par.killTimeout`) instead of refusing'
complete -c git -n '__git_par_using drop' -l wait -d 'If another git par works in the task, wait for it instead of refusing'
complete -c git -n '__git_par_using drop' -l foreground -d 'Delete the worktree\'s files before returning, instead of in a background process (what `par.removeInBackground = false` makes the default)'
complete -c git -n '__git_par_using drop' -l no-hooks -d 'Run no hooks (`par.hook.preDrop`, and `.git-par.toml`\'s)'
complete -c git -n '__git_par_using drop' -s h -l help -d 'Print help'
complete -c git -n '__git_par_position "drop" 0' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using list ls' -l json -d 'A JSON array, one object per task (keys in the man page; kept stable)'
complete -c git -n '__git_par_using list ls' -l porcelain -d 'Stable tab-separated lines for scripts'
complete -c git -n '__git_par_using list ls' -l conflicts -d 'Also say whether each task\'s commits merge cleanly into its base\'s current tip, and which other tasks would make it conflict if they were merged first (with the files). Worked out with `git merge-tree`; uncommitted changes do not count'
complete -c git -n '__git_par_using list ls' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_using prune' -s n -l dry-run -d 'Say what would be pruned and why, change nothing'
complete -c git -n '__git_par_using prune' -l json -d 'A JSON array, one object per task: task, action (pruned, would-prune, kept, failed), merged, reason, saved'
complete -c git -n '__git_par_using prune' -l no-hooks -d 'Run no preDrop hooks (`par.hook.preDrop`, and `.git-par.config`\'s)'
complete -c git -n '__git_par_using prune' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_using diff' -l stat -d 'Only a diffstat'
complete -c git -n '__git_par_using diff' -s h -l help -d 'Print help'
complete -c git -n '__git_par_position "diff" 0' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using path' -s h -l help -d 'Print help'
complete -c git -n '__git_par_position "path" 0' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using rescued' -l json -d 'A JSON array instead of text'
complete -c git -n '__git_par_using rescued' -l drop -x -a '(__git_par_revisions)' -d 'Delete this saved work (a ref the list shows; repeat for more)'
complete -c git -n '__git_par_using rescued' -l prune -d 'Delete the saved work older than `--older-than`'
complete -c git -n '__git_par_using rescued' -l older-than -x -d 'With `--prune`: an age such as 30d, 2w, 12h or 2.weeks.ago'
complete -c git -n '__git_par_using rescued' -s n -l dry-run -d 'With `--drop` or `--prune`: say what would be deleted, delete nothing'
complete -c git -n '__git_par_using rescued' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_position "rescued" 0 --drop --older-than' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using recover' -s n -l dry-run -d 'Say what would be done, change nothing: for each interrupted operation, whether it would be finished or rolled back, and how'
complete -c git -n '__git_par_using recover' -l json -d 'A JSON report instead of text'
complete -c git -n '__git_par_using recover' -l wait -d 'First wait until the worktrees that finish and drop left to background processes are deleted (for scripts and tests that look at the disk next)'
complete -c git -n '__git_par_using recover' -s h -l help -d 'Print help'
complete -c git -n '__git_par_using run' -l tasks-from -x -a '(__fish_complete_path)' -d 'Read task names from this file (`-`: standard input), one a line, after those named'
complete -c git -n '__git_par_using run' -s j -l jobs -x -d 'At most this many tasks in hand at once, being created or running their command (default: `par.maxWorkers`, else 3)'
complete -c git -n '__git_par_using run' -l start -d 'Create each task first if it does not exist'
complete -c git -n '__git_par_using run' -l base -x -a '(__git_par_revisions)' -d 'Base for tasks created by `--start`'
complete -c git -n '__git_par_using run' -l finish -d 'Finish each task whose command exited 0'
complete -c git -n '__git_par_using run' -l changes -x -a 'commit\\t"Commit them to the task\'s branch first" discard\\t"Throw them away (saved under refs/par/rescued/ first)"' -d 'With --finish: what to do with uncommitted changes a command left (default: keep the task, reason uncommitted-left)'
complete -c git -n '__git_par_using run' -s m -l message -x -d 'With --changes commit: the message of that commit (default: one naming the task and the command)'
complete -c git -n '__git_par_using run' -l timeout -x -d 'Stop a task\'s command after this long (`90s`, `15m`, `2h`; default: `par.runTimeout`, else none): SIGINT, then SIGKILL after `par.killTimeout`. The task is kept with reason timed-out'
complete -c git -n '__git_par_using run' -l events -x -a '(__fish_complete_path)' -d 'Write one JSON object a line per change of a task\'s state to this file (`-`: standard output); the man page describes them'
complete -c git -n '__git_par_using run' -l json -d 'A machine-readable summary on stdout'
complete -c git -n '__git_par_using run' -l wait -d 'If another git par works in a task, wait for it instead of refusing'
complete -c git -n '__git_par_using run' -l copy-ignored -d 'Copy ignored files into tasks created by `--start`, as `git par start --copy-ignored` (default: `par.copyIgnored`)'
complete -c git -n '__git_par_using run' -l no-copy-ignored -d 'Do not copy ignored files into tasks created by `--start`'
complete -c git -n '__git_par_using run' -l no-hooks -d 'Run no hooks (postStart for tasks it creates, preFinish and postFinish with `--finish`)'
complete -c git -n '__git_par_using run' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_position "run" 0+ --tasks-from --jobs -j --base --changes --message -m --timeout --events' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using cd' -s h -l help -d 'Print help'
complete -c git -n '__git_par_position "cd" 0' -f -a '(__git_par_tasks)'
complete -c git -n '__git_par_using shell-init' -s h -l help -d 'Print help'
complete -c git -n '__git_par_position "shell-init" 0' -f -a 'bash\\t"" zsh\\t"" fish\\t""'
complete -c git -n '__git_par_using trust' -l show -d 'Only show the hooks and whether each is approved'
complete -c git -n '__git_par_using trust' -l revoke -d 'Withdraw the approvals given for this repository'
complete -c git -n '__git_par_using trust' -s y -l yes -d 'Approve without asking (for scripts that have checked the text themselves)'
complete -c git -n '__git_par_using trust' -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git -n '__git_par_position "help" 0' -f -a 'start\\t"Create a task: its branch and its worktree" finish\\t"Merge a task back into its base, then remove its worktree and branch" sync\\t"Bring the base branch\'s new commits into a task (merge, or rebase)" drop\\t"Throw a task away: its worktree and branch go, its work is saved first" list\\t"Show every task: branch, base, ahead/behind, changes, age, path and anything odd" prune\\t"Drop every task whose work is already in its base, saying of each task why or why not" diff\\t"Show a task\'s whole change against its base, committed and uncommitted, as it would merge" path\\t"Print a task\'s worktree path (without a task: the main worktree\'s)" rescued\\t"List saved work under refs/par/rescued/, and how to restore each; delete what is no longer wanted" recover\\t"Finish or roll back interrupted operations and clean up leftovers" run\\t"Run a command inside one or more tasks" cd\\t"Go to a task\'s worktree (without a task: the main worktree), with `git par shell-init`" shell-init\\t"Print shell code that lets `start`, `finish`, `drop` and `cd` change your directory" trust\\t"Approve the hooks committed in this repository\'s `.git-par.toml`, exactly as they read now"'
