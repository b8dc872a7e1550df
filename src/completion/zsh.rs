//! The zsh script: the function `_git-par`, which compinit picks up from `$fpath` for
//! `git-par …` and which zsh's own `_git` calls for `git par …`.

use std::fmt::Write;

use super::{Opt, Positional, Spec, Sub, Values};

const HEADER: &str = r#"#compdef git-par
# zsh completion for 'git par' and 'git-par'.
# Generated from src/cli.rs by 'cargo run -- generate'; do not edit.
#
# compinit finds this file in $fpath and uses it for 'git-par …'; zsh's own _git calls the
# function _git-par for 'git par …'.

# Task names; silent outside a repository.
(( $+functions[__git_par_tasks] )) ||
__git_par_tasks() {
  local -a tasks
  tasks=(${(f)"$(command git-par __complete-tasks 2>/dev/null)"})
  _wanted tasks expl task compadd -a tasks
}

# $1: tag, $2: what they are, the rest: the ref namespaces to offer.
(( $+functions[__git_par_refs] )) ||
__git_par_refs() {
  local tag=$1 descr=$2
  shift 2
  local -a refs
  refs=(${(f)"$(command git for-each-ref --format='%(refname:short)' "$@" 2>/dev/null)"})
  _wanted $tag expl $descr compadd -a refs
}

(( $+functions[__git_par_revisions] )) ||
__git_par_revisions() {
  __git_par_refs revisions revision refs/heads refs/tags refs/remotes
}

(( $+functions[__git_par_branches] )) ||
__git_par_branches() {
  __git_par_refs branches branch refs/heads
}

# The words after '--' are a command of its own: complete them as one.
(( $+functions[__git_par_command_line] )) ||
__git_par_command_line() {
  local at=${words[(i)--]}
  if (( at < CURRENT )); then
    words=(${words[at+1,-1]})
    (( CURRENT -= at ))
    _normal
  else
    _message 'command (after --)'
  fi
}

_git-par() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
"#;

const FOOTER: &str = r#"  esac
  return ret
}

if [ "$funcstack[1]" = "_git-par" ]; then
  _git-par "$@"
else
  compdef _git-par git-par
fi
"#;

/// Quotes a word for zsh in single quotes.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Escapes text inside an `_arguments` `[description]` or a `(value\:description)` action.
fn escape_spec(text: &str) -> String {
    text.replace('\\', r"\\")
        .replace('[', r"\[")
        .replace(']', r"\]")
        .replace(':', r"\:")
}

fn action(values: &Values) -> String {
    match values {
        Values::Task => "__git_par_tasks".into(),
        Values::Revision => "__git_par_revisions".into(),
        Values::Branch => "__git_par_branches".into(),
        Values::Choices(choices) => {
            let items: Vec<String> = choices
                .iter()
                .map(|(name, help)| {
                    let help = escape_spec(help).replace('"', r#"\""#);
                    format!(r#"{name}\:"{help}""#)
                })
                .collect();
            format!("(({}))", items.join(" "))
        }
        Values::NewTask | Values::Text => " ".into(),
        Values::CommandLine => "__git_par_command_line".into(),
        Values::File => "_files".into(),
    }
}

/// One `_arguments` spec for an option: `(excl)--long=[help]:value:action`.
fn option_spec(opt: &Opt) -> String {
    let names = opt.spellings();
    let help = escape_spec(&opt.help);
    let value = match &opt.values {
        Some(values) => format!(":value:{}", action(values)),
        None => String::new(),
    };
    let exclusive = if opt.long.as_deref() == Some("help") || opt.long.as_deref() == Some("version")
    {
        "(- *)".to_string()
    } else {
        format!("({})", names.join(" "))
    };
    let spellings: Vec<String> = names
        .iter()
        .map(|n| match (&opt.values, n.starts_with("--")) {
            (Some(_), true) => format!("{n}="),
            (Some(_), false) => format!("{n}+"),
            (None, _) => n.clone(),
        })
        .collect();
    if spellings.len() == 1 {
        quote(&format!("{exclusive}{}[{help}]{value}", spellings[0]))
    } else {
        format!(
            "{}{{{}}}{}",
            quote(&exclusive),
            spellings.join(","),
            quote(&format!("[{help}]{value}"))
        )
    }
}

fn positional_spec(pos: &Positional) -> String {
    let prefix = if pos.repeats { "*:" } else { ":" };
    quote(&format!("{prefix}{}:{}", pos.name, action(&pos.values)))
}

fn sub_case(out: &mut String, sub: &Sub) {
    let _ = writeln!(out, "    ({})", sub.names().join("|"));
    // After `--` only the `last` positional is left, and it is a command line of its own.
    let has_last = sub.positionals.iter().any(|p| p.last);
    let indent = if has_last {
        out.push_str("      if (( ${words[(i)--]} < CURRENT )); then\n");
        out.push_str("        __git_par_command_line && ret=0\n      else\n  ");
        "  "
    } else {
        ""
    };
    out.push_str("      _arguments -s -S");
    for opt in &sub.opts {
        let _ = write!(out, " \\\n        {indent}{}", option_spec(opt));
    }
    for pos in sub.positionals.iter().filter(|p| !p.last) {
        let _ = write!(out, " \\\n        {indent}{}", positional_spec(pos));
    }
    out.push_str(" && ret=0\n");
    if has_last {
        out.push_str("      fi\n");
    }
    out.push_str("      ;;\n");
}

/// The whole zsh completion file.
pub fn script(spec: &Spec) -> String {
    let mut out = String::from(HEADER);
    out.push_str("  _arguments -C");
    for opt in &spec.opts {
        let _ = write!(out, " \\\n    {}", option_spec(opt));
    }
    out.push_str(" \\\n    ': :->command' \\\n    '*:: :->args' && ret=0\n");
    out.push_str("  case $state in\n  (command)\n    local -a commands\n    commands=(\n");
    for sub in &spec.subs {
        let entry = format!("{}:{}", sub.name, sub.about.replace(':', r"\:"));
        let _ = writeln!(out, "      {}", quote(&entry));
    }
    out.push_str("    )\n    _describe -t commands 'git par command' commands && ret=0\n    ;;\n");
    out.push_str(
        "  (args)\n    curcontext=${curcontext%:*:*}:git-par-$words[1]:\n    case $words[1] in\n",
    );
    for sub in &spec.subs {
        sub_case(&mut out, sub);
    }
    out.push_str("    esac\n    ;;\n");
    out.push_str(FOOTER);
    out
}
