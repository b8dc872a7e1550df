#!/bin/sh
# Installs git-par for `git par`: the binary where PATH finds it, the man page where `man`
# finds it (so `git par --help` and `git help par` work), and the bash, zsh and fish
# completions where those shells load them. Nothing is added to any rc file.
#
#   ./install.sh                    build (cargo build --release --locked) and install into ~/.local
#   ./install.sh --prefix DIR       install into DIR/bin, DIR/share/... (e.g. /usr/local as root)
#   ./install.sh --bin FILE         install this already built binary (also: GIT_PAR_BIN=FILE)
#   ./install.sh --zsh-dir DIR      put the zsh completion in DIR (a folder in zsh's $fpath)
#   ./install.sh --bash-completion FILE|none
#                                   bash-completion's main script, when it is not where
#                                   install.sh looks (none: it is not installed)
#   ./install.sh --uninstall        remove exactly what an earlier install put there
#
# Every file and folder it creates is listed in <prefix>/share/git-par/manifest; the
# uninstaller (also installed, as <prefix>/share/git-par/uninstall.sh) removes those and no
# others. At the end it says what each shell found on this machine still needs for Tab to
# complete `git par` (a package, or the exact line for a startup file).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
prefix=${PREFIX:-$HOME/.local}
bin=${GIT_PAR_BIN:-}
zsh_dir=
bash_completion=
action=install

die() {
  echo "error: $*" >&2
  exit 1
}

while [ "$#" -gt 0 ]; do
  case $1 in
  --prefix) [ "$#" -ge 2 ] || die "--prefix needs a folder"; prefix=$2; shift 2 ;;
  --prefix=*) prefix=${1#*=}; shift ;;
  --bin) [ "$#" -ge 2 ] || die "--bin needs a file"; bin=$2; shift 2 ;;
  --bin=*) bin=${1#*=}; shift ;;
  --zsh-dir) [ "$#" -ge 2 ] || die "--zsh-dir needs a folder"; zsh_dir=$2; shift 2 ;;
  --zsh-dir=*) zsh_dir=${1#*=}; shift ;;
  --bash-completion) [ "$#" -ge 2 ] || die "--bash-completion needs a file or none"; bash_completion=$2; shift 2 ;;
  --bash-completion=*) bash_completion=${1#*=}; shift ;;
  --uninstall) action=uninstall; shift ;;
  -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (see --help)" ;;
  esac
done

case $prefix in
/*) ;;
*) prefix=$(pwd)/$prefix ;;
esac
state=$prefix/share/git-par
manifest=$state/manifest

if [ "$action" = uninstall ]; then
  [ -x "$state/uninstall.sh" ] || die "nothing installed under $prefix (no $state/uninstall.sh)"
  exec "$state/uninstall.sh"
fi

# Where each piece goes. The system prefixes are in XDG_DATA_DIRS, where bash-completion and
# fish look, and in zsh's default fpath; elsewhere the per-user folders of bash-completion
# and fish are used, and zsh needs one line in ~/.zshrc (printed at the end).
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
case $prefix in
/usr | /usr/local | /opt/homebrew | /home/linuxbrew/.linuxbrew) system=yes ;;
*) system=no ;;
esac
# zsh's default $fpath (without any rc file), one folder a line; empty without zsh.
zsh_fpath() {
  command -v zsh >/dev/null 2>&1 && zsh -fc 'print -rl -- $fpath' || :
}
if [ "$system" = yes ]; then
  bash_dir=$prefix/share/bash-completion/completions
  fish_dir=$prefix/share/fish/vendor_conf.d
  if [ -z "$zsh_dir" ]; then
    zsh_dir=$(zsh_fpath | grep -x -e "$prefix/share/zsh/site-functions" \
      -e "$prefix/share/zsh/vendor-completions" | head -n 1)
    : "${zsh_dir:=$prefix/share/zsh/site-functions}"
  fi
else
  bash_dir=$data_home/bash-completion/completions
  fish_dir=$data_home/fish/vendor_conf.d
  : "${zsh_dir:=$data_home/zsh/site-functions}"
fi

if [ -z "$bin" ]; then
  command -v cargo >/dev/null 2>&1 || die "cargo not found; install Rust (https://rustup.rs) or pass --bin FILE"
  (cd "$here" && cargo build --release --locked)
  bin=$here/target/release/git-par
fi
[ -x "$bin" ] || die "no executable at $bin"

new_manifest=$(mktemp "${TMPDIR:-/tmp}/git-par-manifest.XXXXXX")
trap 'rm -f "$new_manifest"' EXIT
[ -f "$manifest" ] && cat "$manifest" >"$new_manifest"

# Creates folder $1 and the missing ones above it, recording each one made.
make_dir() {
  [ -d "$1" ] && return 0
  make_dir "$(dirname "$1")"
  mkdir "$1"
  echo "dir $1" >>"$new_manifest"
}

# Copies $1 to $2 with mode $3 and records it.
put() {
  make_dir "$(dirname "$2")"
  cp "$1" "$2.tmp.$$"
  chmod "$3" "$2.tmp.$$"
  mv -f "$2.tmp.$$" "$2"
  echo "file $2" >>"$new_manifest"
  echo "installed $2"
}

put "$bin" "$prefix/bin/git-par" 755
put "$here/man/git-par.1" "$prefix/share/man/man1/git-par.1" 644
put "$here/completions/git-par.bash" "$bash_dir/git-par" 644
put "$here/completions/_git-par" "$zsh_dir/_git-par" 644
put "$here/completions/git-par.fish" "$fish_dir/git-par.fish" 644

make_dir "$state"
uninstaller=$(mktemp "${TMPDIR:-/tmp}/git-par-uninstall.XXXXXX")
cat >"$uninstaller" <<'EOF'
#!/bin/sh
# Removes what install.sh installed: the files and folders listed in the manifest next to
# this script (folders only when empty: anything else in them is not ours), this script too.
set -eu
state=$(cd "$(dirname "$0")" && pwd)
manifest=$state/manifest
[ -f "$manifest" ] || { echo "error: no manifest at $manifest" >&2; exit 1; }
listed=$(cat "$manifest")
printf '%s\n' "$listed" | sed -n 's/^file //p' | sort -u | while IFS= read -r path; do
  if [ -e "$path" ] || [ -L "$path" ]; then
    rm -f "$path"
    echo "removed $path"
  fi
done
rm -f "$manifest"
printf '%s\n' "$listed" | sed -n 's/^dir //p' | sort -ru | while IFS= read -r dir; do
  if rmdir "$dir" 2>/dev/null; then echo "removed $dir/"; fi
done
EOF
put "$uninstaller" "$state/uninstall.sh" 755
rm -f "$uninstaller"
sort -u "$new_manifest" >"$manifest"
echo "installed $manifest"

# What the user still has to know.
case ":$PATH:" in
*":$prefix/bin:"*) ;;
*) echo "note: $prefix/bin is not on your PATH yet; add it (a new login shell may do so already)" ;;
esac

# bash-completion's main script, where distributions put it (none found: not installed).
find_bash_completion() {
  for f in /usr/share/bash-completion/bash_completion \
    /usr/local/share/bash-completion/bash_completion \
    /opt/homebrew/etc/profile.d/bash_completion.sh \
    /usr/local/etc/profile.d/bash_completion.sh \
    /etc/bash_completion; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 0
}
# git's own bash completion, which `git par <Tab>` goes through.
find_git_completion() {
  exec_path=$(git --exec-path 2>/dev/null || :)
  for f in /usr/share/bash-completion/completions/git \
    /usr/local/share/bash-completion/completions/git \
    /opt/homebrew/etc/bash_completion.d/git-completion.bash \
    /usr/local/etc/bash_completion.d/git-completion.bash \
    /usr/share/git/completion/git-completion.bash \
    /usr/share/git-core/contrib/completion/git-completion.bash \
    "${exec_path%/libexec/git-core}/share/git-core/contrib/completion/git-completion.bash" \
    /Library/Developer/CommandLineTools/usr/share/git-core/git-completion.bash; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 0
}
# The command that installs package $1 with this machine's package manager.
package_command() {
  for pm in "apt-get install" "dnf install" "yum install" "zypper install" "pacman -S" "apk add"; do
    command -v "${pm%% *}" >/dev/null 2>&1 && { echo "sudo $pm $1"; return 0; }
  done
  command -v brew >/dev/null 2>&1 && { echo "brew install $1@2"; return 0; }
  echo "install the $1 package"
}
# True when an interactive bash, as a terminal starts one, has bash-completion loaded: asked
# of bash itself, since what loads it differs (~/.bashrc, /etc/bash.bashrc, /etc/bashrc and
# /etc/profile.d on some systems, login shells only on others).
bash_loads_completion() {
  limit=
  command -v timeout >/dev/null 2>&1 && limit="timeout 10"
  answer=$($limit bash -ic 'if [ -n "${BASH_COMPLETION_VERSINFO-}" ] || declare -F _completion_loader >/dev/null; then echo loaded; fi' </dev/null 2>/dev/null | tail -n 1)
  [ "$answer" = loaded ]
}

if command -v bash >/dev/null 2>&1; then
  case $bash_completion in
  none) bash_completion= ;;
  '') bash_completion=$(find_bash_completion) ;;
  esac
  if [ -z "$bash_completion" ]; then
    echo "note: bash: Tab completes 'git par' through the bash-completion package, which is not installed:"
    echo "note:   $(package_command bash-completion)"
    git_completion=$(find_git_completion)
    if [ -n "$git_completion" ]; then
      echo "note: or, without it, add this line to ~/.bashrc:"
      echo "note:   . $git_completion && . $bash_dir/git-par"
    fi
  elif ! bash_loads_completion; then
    echo "note: bash: bash-completion is installed, but your bash does not load it; add this line to ~/.bashrc:"
    echo "note:   [ -f $bash_completion ] && . $bash_completion"
  fi
fi
if command -v zsh >/dev/null 2>&1; then
  if ! zsh_fpath | grep -qx "$zsh_dir"; then
    echo "note: zsh loads completions only from folders in its \$fpath; if you use zsh, add"
    echo "note:   fpath+=($zsh_dir)"
    echo "note: to ~/.zshrc before compinit runs"
  fi
  if [ -f "$HOME/.zshrc" ] && ! grep -Eqs '^[^#]*compinit' "$HOME/.zshrc"; then
    echo "note: zsh: your ~/.zshrc does not start completion; add this line to it (after any fpath line):"
    echo "note:   autoload -Uz compinit && compinit"
  fi
fi
echo "note: to let 'git par' change your directory, see 'git par shell-init --help'"
echo "note: to uninstall: $state/uninstall.sh"
