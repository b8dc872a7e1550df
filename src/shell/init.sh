# git par shell integration for bash and zsh: lets 'git par start', 'finish', 'drop' and 'cd'
# change this shell's directory. Plain git commands go straight to git.
# Load it from ~/.bashrc or ~/.zshrc with:  eval "$(git par shell-init bash)"  (or zsh)

# Succeeds when git's arguments "$@" run 'git par': the first word after git's own options.
__git_par_is_par() {
  while [ "$#" -gt 0 ]; do
    case $1 in
    -C|-c|--git-dir|--work-tree|--namespace|--config-env|--super-prefix|--attr-source)
      [ "$#" -ge 2 ] || return 1
      shift 2 ;;
    -*) shift ;;
    par) return 0 ;;
    *) return 1 ;;
    esac
  done
  return 1
}

# Runs "$@" with GIT_PAR_CD_FILE naming a new temporary file, then goes to the directory the
# command wrote there, if any, removes the file and returns the command's exit status.
__git_par_cd_run() {
  # A run stopped by Ctrl-C ends this function early too; its file goes now.
  [ -z "${__git_par_cd_file-}" ] || command rm -f -- "$__git_par_cd_file"
  __git_par_cd_file=$(command mktemp "${TMPDIR:-/tmp}/git-par-cd.XXXXXX") || {
    __git_par_cd_file=
    command "$@"
    return
  }
  GIT_PAR_CD_FILE=$__git_par_cd_file command "$@"
  set -- "$?" "$(command cat -- "$__git_par_cd_file" 2>/dev/null)"
  command rm -f -- "$__git_par_cd_file"
  __git_par_cd_file=
  if [ -n "$2" ] && [ "$2" != "$PWD" ]; then
    builtin cd -- "$2" || :
  fi
  return "$1"
}

function git {
  if __git_par_is_par "$@"; then
    __git_par_cd_run git "$@"
  else
    command git "$@"
  fi
}

function git-par {
  __git_par_cd_run git-par "$@"
}
