//! The bash script: `_git_par`, which git's completion calls for `git par …` (loading this
//! file by the name `git-par` from bash-completion's folders), registered for `git-par …` too
//! through git's `__git_complete`. It uses git's helpers, so it follows git's conventions:
//! `--opt=` forms, refs as git completes them, `git -C <dir> par` honoured.

use std::fmt::Write;

use super::{Spec, Sub, Values};

const HEADER: &str = r#"# bash completion for 'git par' and 'git-par'.                    -*- shell-script -*-
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
"#;

const FOOTER: &str = r#"
# 'git-par …' typed directly: git's completion provides the machinery, so load it if
# bash-completion has not yet, then register _git_par the way git documents for aliases.
if ! declare -F __git_complete >/dev/null 2>&1 && declare -F __load_completion >/dev/null 2>&1; then
	__load_completion git
fi
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-par _git_par
fi
"#;

/// Shell code that completes `values`, the value being in `word` (a shell expression).
fn complete_values(values: &Values, word: &str) -> String {
    match values {
        Values::Task => format!("__git_par_tasks \"{word}\""),
        Values::Revision => format!("__git_par_revisions \"{word}\""),
        Values::Branch => format!("__git_par_branches \"{word}\""),
        Values::Choices(choices) => {
            let names: Vec<&str> = choices.iter().map(|(n, _)| n.as_str()).collect();
            format!("__gitcomp \"{}\" \"\" \"{word}\"", names.join(" "))
        }
        Values::File => format!("COMPREPLY=($(compgen -f -- \"{word}\"))"),
        Values::NewTask | Values::Text | Values::CommandLine => ":".into(),
    }
}

fn function_name(sub: &Sub) -> String {
    format!("__git_par_cmd_{}", sub.name.replace('-', "_"))
}

fn sub_function(out: &mut String, sub: &Sub) {
    let _ = writeln!(out, "\n{} ()\n{{", function_name(sub));
    let valued: Vec<_> = sub.opts.iter().filter(|o| o.values.is_some()).collect();
    if !valued.is_empty() {
        out.push_str("\tcase $prev in\n");
        for opt in &valued {
            let values = opt
                .values
                .as_ref()
                .map_or(":".into(), |v| complete_values(v, "$cur"));
            let _ = writeln!(out, "\t{}) {values}; return ;;", opt.spellings().join("|"));
        }
        out.push_str("\tesac\n");
    }
    out.push_str("\tcase $cur in\n");
    for opt in &valued {
        if let (Some(long), Some(values)) = (&opt.long, &opt.values) {
            let code = complete_values(values, "${cur#*=}");
            let _ = writeln!(out, "\t--{long}=*) {code}; return ;;");
        }
    }
    let offered: Vec<String> = sub
        .opts
        .iter()
        .filter_map(|o| {
            let long = o.long.as_ref()?;
            Some(format!(
                "--{long}{}",
                if o.values.is_some() { "=" } else { "" }
            ))
        })
        .collect();
    if !offered.is_empty() {
        let _ = writeln!(out, "\t-*) __gitcomp \"{}\"; return ;;", offered.join(" "));
    }
    out.push_str("\tesac\n");
    if !sub.positionals.is_empty() {
        let mut call = String::from("__git_par_position \"$1\"");
        for opt in sub.value_options() {
            let _ = write!(call, " {opt}");
        }
        let _ = writeln!(out, "\tcase $({call}) in");
        for (i, pos) in sub.positionals.iter().enumerate() {
            let pattern = if pos.last {
                "--".to_string()
            } else if pos.repeats {
                "*[0-9]*".to_string()
            } else {
                i.to_string()
            };
            let code = complete_values(&pos.values, "$cur");
            let _ = writeln!(out, "\t{pattern}) {code} ;;");
        }
        out.push_str("\tesac\n");
    }
    out.push_str("}\n");
}

/// The whole bash completion file.
pub fn script(spec: &Spec) -> String {
    let mut out = String::from(HEADER);
    for sub in &spec.subs {
        sub_function(&mut out, sub);
    }
    let names: Vec<&str> = spec.subs.iter().map(|s| s.name.as_str()).collect();
    let top_opts: Vec<String> = spec
        .opts
        .iter()
        .filter_map(|o| o.long.as_ref().map(|l| format!("--{l}")))
        .collect();
    out.push_str(
        r#"
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
"#,
    );
    let _ = writeln!(out, "\t\t-*) __gitcomp \"{}\" ;;", top_opts.join(" "));
    let _ = writeln!(out, "\t\t*) __gitcomp \"{}\" ;;", names.join(" "));
    out.push_str("\t\tesac ;;\n");
    for sub in &spec.subs {
        let _ = writeln!(
            out,
            "\t{}) {} $((i + 1)) ;;",
            sub.names().join("|"),
            function_name(sub)
        );
    }
    out.push_str("\tesac\n}\n");
    out.push_str(FOOTER);
    out
}
