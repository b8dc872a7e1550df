# git par shell integration for fish: lets 'git par start', 'finish', 'drop' and 'cd' change
# this shell's directory. Plain git commands go straight to git.
# Load it from ~/.config/fish/config.fish with:  git par shell-init fish | source

# Succeeds when git's arguments $argv run 'git par': the first word after git's own options.
function __git_par_is_par
    while set -q argv[1]
        switch $argv[1]
            case -C -c --git-dir --work-tree --namespace --config-env --super-prefix --attr-source
                set -q argv[2]; or return 1
                set -e argv[1..2]
            case '-*'
                set -e argv[1]
            case par
                return 0
            case '*'
                return 1
        end
    end
    return 1
end

# Runs $argv with GIT_PAR_CD_FILE naming a new temporary file, then goes to the directory the
# command wrote there, if any, removes the file and returns the command's exit status.
function __git_par_cd_run
    # A run stopped by Ctrl-C ends this function early too; its file goes now.
    set -q __git_par_cd_file[1]; and command rm -f -- $__git_par_cd_file
    set -l tmp /tmp
    set -q TMPDIR[1]; and test -n "$TMPDIR"; and set tmp $TMPDIR
    set -g __git_par_cd_file (command mktemp $tmp/git-par-cd.XXXXXX)
    or begin
        set -e __git_par_cd_file
        command $argv
        return $status
    end
    GIT_PAR_CD_FILE=$__git_par_cd_file command $argv
    set -l code $status
    set -l dir (command cat -- $__git_par_cd_file 2>/dev/null)
    command rm -f -- $__git_par_cd_file
    set -e __git_par_cd_file
    if test -n "$dir"; and test "$dir" != "$PWD"
        cd $dir
    end
    return $code
end

function git
    if __git_par_is_par $argv
        __git_par_cd_run git $argv
    else
        command git $argv
    end
end

function git-par
    __git_par_cd_run git-par $argv
end
