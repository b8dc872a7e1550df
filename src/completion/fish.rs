//! The fish script. fish 3.6 does not hand `git par …` to the completions of `git-par` (its
//! git completion looks for the subcommand `git-par` instead of `par`), so everything is
//! registered on both commands, and the file is installed where fish reads it at startup
//! (a `vendor_conf.d` folder), since a completion file named after `git-par` would only be
//! loaded for `git-par …`. Where fish's git completion does forward (3.7 and later), the
//! copies on `git` stand aside so nothing is offered twice.

use std::fmt::Write;

use super::{Spec, Sub, Values};

const HEADER: &str = r#"# fish completion for 'git par' and 'git-par'.
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
"#;

/// Quotes a word for fish in single quotes.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', r"\\").replace('\'', r"\'"))
}

/// The `-a` list for `values` (without quoting), or `None` when there is nothing to offer.
fn arguments(values: &Values) -> Option<String> {
    match values {
        Values::Task => Some("(__git_par_tasks)".into()),
        Values::Revision => Some("(__git_par_revisions)".into()),
        Values::Branch => Some("(__git_par_branches)".into()),
        Values::Choices(choices) => Some(
            choices
                .iter()
                .map(|(name, help)| {
                    let help = help
                        .replace('\\', r"\\")
                        .replace('"', "\\\"")
                        .replace('$', r"\$");
                    format!("{name}\\t\"{help}\"")
                })
                .collect::<Vec<_>>()
                .join(" "),
        ),
        Values::File => Some("(__fish_complete_path)".into()),
        Values::NewTask | Values::Text | Values::CommandLine => None,
    }
}

fn sub_lines(out: &mut String, command: &str, sub: &Sub) {
    let names = sub.names().join(" ");
    let using = quote(&format!("__git_par_using {names}"));
    for opt in &sub.opts {
        let mut line = format!("complete -c {command} -n {using}");
        if let Some(short) = opt.short {
            let _ = write!(line, " -s {short}");
        }
        if let Some(long) = &opt.long {
            let _ = write!(line, " -l {long}");
        }
        if let Some(values) = &opt.values {
            line.push_str(" -x");
            if let Some(args) = arguments(values) {
                let _ = write!(line, " -a {}", quote(&args));
            }
        }
        let _ = writeln!(out, "{line} -d {}", quote(&opt.help));
    }
    let value_options = sub.value_options().join(" ");
    for (i, pos) in sub.positionals.iter().enumerate() {
        let Some(args) = arguments(&pos.values) else {
            continue;
        };
        let want = if pos.last {
            "--".to_string()
        } else if pos.repeats {
            format!("{i}+")
        } else {
            i.to_string()
        };
        let condition = format!("__git_par_position \"{names}\" {want} {value_options}");
        let _ = writeln!(
            out,
            "complete -c {command} -n {} -f -a {}",
            quote(condition.trim_end()),
            quote(&args)
        );
    }
}

/// The whole fish completion file.
pub fn script(spec: &Spec) -> String {
    let mut out = String::from(HEADER);
    for command in ["git-par", "git"] {
        let _ = writeln!(out, "\n# {command}");
        let _ = writeln!(out, "complete -c {command} -n __git_par_no_files -f");
        for sub in &spec.subs {
            let _ = writeln!(
                out,
                "complete -c {command} -n __git_par_needs_command -f -a {} -d {}",
                sub.name,
                quote(&sub.about)
            );
        }
        for opt in &spec.opts {
            let mut line = format!("complete -c {command} -n __git_par_needs_command");
            if let Some(short) = opt.short {
                let _ = write!(line, " -s {short}");
            }
            if let Some(long) = &opt.long {
                let _ = write!(line, " -l {long}");
            }
            let _ = writeln!(out, "{line} -d {}", quote(&opt.help));
        }
        for sub in &spec.subs {
            sub_lines(&mut out, command, sub);
        }
    }
    out
}
