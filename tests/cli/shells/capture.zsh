# Prints what Tab offers in zsh for each command line after the first argument: '== <line>',
# then the matches, one a line. Each line gets a new interactive zsh in a pseudo-terminal:
# with the first argument a folder, 'zsh -f' with that folder first in $fpath and compinit;
# with it empty, a login zsh that reads its rc files (which must run compinit).
# Tab runs complete-word; compadd is wrapped to print what it is given.
zmodload zsh/zpty || exit 99
local dir=$1 line all out
shift
for line in "$@"; do
  if [[ -n $dir ]]; then
    zpty z zsh -f -i
    zpty -w z "fpath=(${(q)dir} \$fpath)"
    zpty -w z 'autoload -Uz compinit && compinit -u -D'
  else
    zpty z zsh -l -i
  fi
  zpty -w z 'bindkey "^I" complete-word'
  zpty -w z 'null-line () { echo -E - $'"'"'\0'"'"' }'
  zpty -w z 'compprefuncs=( null-line ); comppostfuncs=( null-line exit )'
  zpty -w z 'compadd () {
    if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
    typeset -a __hits; builtin compadd -A __hits "$@"
    (( $#__hits )) && print -rl -- "<hit>"${^__hits}
    builtin compadd "$@"
  }'
  zpty -n -w z "$line"$'\t'
  all=
  while zpty -r z out; do all+=$out; done
  zpty -d z
  all=${all#*$'\0'}
  all=${all%%$'\0'*}
  print -r -- "== $line"
  for out in ${(f)all}; do
    [[ $out == '<hit>'* ]] && print -r -- ${${out#<hit>}%$'\r'}
  done
done
return 0
