# Prints what Tab offers in bash for each command line given as an argument: '== <line>',
# then COMPREPLY, one a line. bash-completion is loaded as an interactive bash loads it; the
# completions for git and git-par are left for it to load lazily, as it does on a first Tab.
[ -n "${BASH_COMPLETION_VERSINFO-}" ] || source /usr/share/bash-completion/bash_completion
for line in "$@"; do
  # COMP_WORDS as readline splits them: '=' is a word of its own.
  split=${line//=/ = }
  read -ra COMP_WORDS <<<"$split"
  case $line in *' ' | *=) COMP_WORDS+=("") ;; esac
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$line
  COMP_POINT=${#line}
  COMPREPLY=()
  complete -p "${COMP_WORDS[0]}" >/dev/null 2>&1 || _completion_loader "${COMP_WORDS[0]}"
  spec=$(complete -p "${COMP_WORDS[0]}")
  func=${spec##*-F }
  func=${func%% *}
  start=$EPOCHREALTIME
  "$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  end=$EPOCHREALTIME
  echo "== $line"
  [ -n "${GIT_PAR_TIMING-}" ] && echo "took ${start/./} ${end/./}"
  printf '%s\n' "${COMPREPLY[@]}"
done
