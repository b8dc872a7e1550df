# bash completion for 'git par' and 'git-par'.                    -*- shell-script -*-
# Generated from src/cli.rs by 'cargo run -- generate'; do not edit.
#
# For 'git par …', git's completion calls _git_par, and when it is not defined yet it loads
# this file by its name, git-par, from bash-completion's folders. For 'git-par …' the end of
# this file registers _git_par through git's own __git_complete.

# Task names, for the word being completed ($1); silent outside a repository.
__git_par_tasks ()
{
	__gitcomp_nl "$(command git ${__git_C_args:+"${__git_C_args[@]}"} \
		${__git_dir:+--git-dir="$__git_dir"} par __complete-tasks 2>/dev/null)" "" "$1"
}

__git_par_revisions ()
{
	__git_complete_refs --cur="$1"
}

__git_par_branches ()
{
	__gitcomp_direct "$(__git_heads "" "$1" " ")"
}

# Prints how many positional words come before the cursor, from word $1 on, or '--' when a
# '--' comes first. The other arguments are the options whose value is the next word.
__git_par_position ()
{
	local i=$1 n=0 o
	shift
	while [ "$i" -lt "$cword" ]; do
		case ${words[i]} in
		--) echo -- ; return ;;
		-*)
			for o; do
				if [ "${words[i]}" = "$o" ]; then
					i=$((i + 1))
					break
				fi
			done ;;
		*) n=$((n + 1)) ;;
		esac
		i=$((i + 1))
	done
	echo "$n"
}

__git_par_cmd_start ()
{
	case $prev in
	--base) __git_par_revisions "$cur"; return ;;
	--changes) __gitcomp "move copy leave" "" "$cur"; return ;;
	--from) __git_par_revisions "$cur"; return ;;
	esac
	case $cur in
	--base=*) __git_par_revisions "${cur#*=}"; return ;;
	--changes=*) __gitcomp "move copy leave" "" "${cur#*=}"; return ;;
	--from=*) __git_par_revisions "${cur#*=}"; return ;;
	-*) __gitcomp "--base= --changes= --from= --no-cd --wait --copy-ignored --no-copy-ignored --no-hooks --help"; return ;;
	esac
	case $(__git_par_position "$1" --base --changes --from) in
	0) : ;;
	esac
}

__git_par_cmd_finish ()
{
	case $prev in
	--into) __git_par_branches "$cur"; return ;;
	--strategy) __gitcomp "merge squash rebase" "" "$cur"; return ;;
	--message|-m) :; return ;;
	--changes) __gitcomp "commit discard" "" "$cur"; return ;;
	esac
	case $cur in
	--into=*) __git_par_branches "${cur#*=}"; return ;;
	--strategy=*) __gitcomp "merge squash rebase" "" "${cur#*=}"; return ;;
	--message=*) :; return ;;
	--changes=*) __gitcomp "commit discard" "" "${cur#*=}"; return ;;
	-*) __gitcomp "--into= --strategy= --message= --changes= --keep --dry-run --stop-processes --wait --foreground --no-hooks --help"; return ;;
	esac
	case $(__git_par_position "$1" --into --strategy --message -m --changes) in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_sync ()
{
	case $cur in
	-*) __gitcomp "--rebase --carry --wait --help"; return ;;
	esac
	case $(__git_par_position "$1") in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_drop ()
{
	case $cur in
	-*) __gitcomp "--force --stop-processes --wait --foreground --no-hooks --help"; return ;;
	esac
	case $(__git_par_position "$1") in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_list ()
{
	case $cur in
	-*) __gitcomp "--json --porcelain --conflicts --help"; return ;;
	esac
}

__git_par_cmd_prune ()
{
	case $cur in
	-*) __gitcomp "--dry-run --json --no-hooks --help"; return ;;
	esac
}

__git_par_cmd_diff ()
{
	case $cur in
	-*) __gitcomp "--stat --help"; return ;;
	esac
	case $(__git_par_position "$1") in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_path ()
{
	case $cur in
	-*) __gitcomp "--help"; return ;;
	esac
	case $(__git_par_position "$1") in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_rescued ()
{
	case $prev in
	--drop) __git_par_revisions "$cur"; return ;;
	--older-than) :; return ;;
	esac
	case $cur in
	--drop=*) __git_par_revisions "${cur#*=}"; return ;;
	--older-than=*) :; return ;;
	-*) __gitcomp "--json --drop= --prune --older-than= --dry-run --help"; return ;;
	esac
	case $(__git_par_position "$1" --drop --older-than) in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_recover ()
{
	case $cur in
	-*) __gitcomp "--dry-run --json --wait --help"; return ;;
	esac
}

__git_par_cmd_run ()
{
	case $prev in
	--tasks-from) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--jobs|-j) :; return ;;
	--base) __git_par_revisions "$cur"; return ;;
	--changes) __gitcomp "commit discard" "" "$cur"; return ;;
	--message|-m) :; return ;;
	--timeout) :; return ;;
	--events) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	esac
	case $cur in
	--tasks-from=*) COMPREPLY=($(compgen -f -- "${cur#*=}")); return ;;
	--jobs=*) :; return ;;
	--base=*) __git_par_revisions "${cur#*=}"; return ;;
	--changes=*) __gitcomp "commit discard" "" "${cur#*=}"; return ;;
	--message=*) :; return ;;
	--timeout=*) :; return ;;
	--events=*) COMPREPLY=($(compgen -f -- "${cur#*=}")); return ;;
	-*) __gitcomp "--tasks-from= --jobs= --start --base= --finish --changes= --message= --timeout= --events= --json --wait --copy-ignored --no-copy-ignored --no-hooks --help"; return ;;
	esac
	case $(__git_par_position "$1" --tasks-from --jobs -j --base --changes --message -m --timeout --events) in
	*[0-9]*) __git_par_tasks "$cur" ;;
	--) : ;;
	esac
}

__git_par_cmd_cd ()
{
	case $cur in
	-*) __gitcomp "--help"; return ;;
	esac
	case $(__git_par_position "$1") in
	0) __git_par_tasks "$cur" ;;
	esac
}

__git_par_cmd_shell_init ()
{
	case $cur in
	-*) __gitcomp "--help"; return ;;
	esac
	case $(__git_par_position "$1") in
	0) __gitcomp "bash zsh fish" "" "$cur" ;;
	esac
}

__git_par_cmd_trust ()
{
	case $cur in
	-*) __gitcomp "--show --revoke --yes --help"; return ;;
	esac
}

__git_par_cmd_help ()
{
	case $cur in
	esac
	case $(__git_par_position "$1") in
	0) __gitcomp "start finish sync drop list prune diff path rescued recover run cd shell-init trust" "" "$cur" ;;
	esac
}

_git_par ()
{
	local i=$((${__git_cmd_idx:-1} + 1)) sub=
	while [ "$i" -lt "$cword" ]; do
		case ${words[i]} in
		-*) ;;
		*) sub=${words[i]}; break ;;
		esac
		i=$((i + 1))
	done
	case $sub in
	'')
		case $cur in
		-*) __gitcomp "--help --version" ;;
		*) __gitcomp "start finish sync drop list prune diff path rescued recover run cd shell-init trust help" ;;
		esac ;;
	start) __git_par_cmd_start $((i + 1)) ;;
	finish) __git_par_cmd_finish $((i + 1)) ;;
	sync) __git_par_cmd_sync $((i + 1)) ;;
	drop) __git_par_cmd_drop $((i + 1)) ;;
	list|ls) __git_par_cmd_list $((i + 1)) ;;
	prune) __git_par_cmd_prune $((i + 1)) ;;
	diff) __git_par_cmd_diff $((i + 1)) ;;
	path) __git_par_cmd_path $((i + 1)) ;;
	rescued) __git_par_cmd_rescued $((i + 1)) ;;
	recover) __git_par_cmd_recover $((i + 1)) ;;
	run) __git_par_cmd_run $((i + 1)) ;;
	cd) __git_par_cmd_cd $((i + 1)) ;;
	shell-init) __git_par_cmd_shell_init $((i + 1)) ;;
	trust) __git_par_cmd_trust $((i + 1)) ;;
	help) __git_par_cmd_help $((i + 1)) ;;
	esac
}

# 'git-par …' typed directly: git's completion provides the machinery, so load it if
# bash-completion has not yet, then register _git_par the way git documents for aliases.
if ! declare -F __git_complete >/dev/null 2>&1 && declare -F __load_completion >/dev/null 2>&1; then
	__load_completion git
fi
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-par _git_par
fi
