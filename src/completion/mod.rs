//! Shell completion scripts for bash, zsh and fish, generated from the clap definitions.
//!
//! clap_complete's own scripts cannot be used as they are: its bash output breaks on a binary
//! whose name has a hyphen, and none of its outputs hook into git's completion, so `git par
//! <TAB>` would complete nothing. So this module reads the clap `Command` into a small [`Spec`]
//! (subcommands, options, what each value is) and the shell modules print scripts from it.

pub mod bash;
pub mod fish;
pub mod zsh;

use clap::{Arg, ArgAction, Command};

/// What a word of the command line holds, which decides what Tab offers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Values {
    /// The name of an existing task (`git par __complete-tasks`).
    Task,
    /// The name of a task that does not exist yet: nothing to offer.
    NewTask,
    /// Any revision: branches, tags, remote branches.
    Revision,
    /// A local branch.
    Branch,
    /// One of a fixed set, with a description each.
    Choices(Vec<(String, String)>),
    /// Free text or a number: nothing to offer.
    Text,
    /// A command and its arguments (after `--`): the shell's own completion.
    CommandLine,
    /// A file name.
    File,
}

#[derive(Debug, Clone)]
pub struct Opt {
    pub long: Option<String>,
    pub short: Option<char>,
    pub help: String,
    /// `None` for a flag.
    pub values: Option<Values>,
}

#[derive(Debug, Clone)]
pub struct Positional {
    pub name: String,
    pub values: Values,
    /// Takes any number of words (the last positional only).
    pub repeats: bool,
    /// Comes after `--` only.
    pub last: bool,
}

#[derive(Debug, Clone)]
pub struct Sub {
    pub name: String,
    pub aliases: Vec<String>,
    pub about: String,
    pub opts: Vec<Opt>,
    pub positionals: Vec<Positional>,
}

#[derive(Debug, Clone)]
pub struct Spec {
    pub opts: Vec<Opt>,
    pub subs: Vec<Sub>,
}

impl Opt {
    /// `--long` and `-s`, long first, as they are typed.
    pub fn spellings(&self) -> Vec<String> {
        let mut names: Vec<String> = self.long.iter().map(|l| format!("--{l}")).collect();
        names.extend(self.short.iter().map(|s| format!("-{s}")));
        names
    }
}

impl Sub {
    /// Every spelling of an option that takes its value in the next word.
    pub fn value_options(&self) -> Vec<String> {
        self.opts
            .iter()
            .filter(|o| o.values.is_some())
            .flat_map(Opt::spellings)
            .collect()
    }

    /// The name and the aliases, as typed.
    pub fn names(&self) -> Vec<String> {
        std::iter::once(self.name.clone())
            .chain(self.aliases.iter().cloned())
            .collect()
    }
}

/// What each value of the command line holds. Every argument that takes a value must have a
/// rule here, so that a new argument cannot silently complete to nothing (or to file names).
fn values_of(sub: &str, arg: &Arg) -> Result<Values, String> {
    let choices: Vec<(String, String)> = arg
        .get_possible_values()
        .into_iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| {
            let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
            (v.get_name().to_string(), help)
        })
        .collect();
    if !choices.is_empty() {
        return Ok(Values::Choices(choices));
    }
    Ok(match (sub, arg.get_id().as_str()) {
        ("start", "task") => Values::NewTask,
        (_, "task" | "tasks") => Values::Task,
        // Saved work is a ref: `refs/par/<Tab>` completes it as git completes refs.
        (_, "base") | ("start", "from") | ("rescued", "drop") => Values::Revision,
        (_, "into") => Values::Branch,
        (_, "message" | "jobs" | "older_than" | "timeout") => Values::Text,
        (_, "events" | "tasks_from") => Values::File,
        (_, "command") => Values::CommandLine,
        (_, id) => {
            return Err(format!(
                "no completion rule for '{id}' of 'git par {sub}'; add one to values_of in src/completion/mod.rs"
            ))
        }
    })
}

fn help_of(arg: &Arg) -> String {
    let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
    first_sentence(&help)
}

/// The first line of a help text, without its final period: what fits in a completion menu.
pub fn first_sentence(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    line.strip_suffix('.').unwrap_or(line).to_string()
}

fn options(sub: &str, cmd: &Command) -> Result<Vec<Opt>, String> {
    let mut opts = Vec::new();
    for arg in cmd.get_arguments() {
        if arg.is_hide_set() || arg.is_positional() {
            continue;
        }
        // `git par <command> --version` works, but is not worth offering.
        if !sub.is_empty() && matches!(arg.get_action(), ArgAction::Version) {
            continue;
        }
        let takes_value = matches!(arg.get_action(), ArgAction::Set | ArgAction::Append);
        opts.push(Opt {
            long: arg.get_long().map(str::to_string),
            short: arg.get_short(),
            help: help_of(arg),
            values: if takes_value {
                Some(values_of(sub, arg)?)
            } else {
                None
            },
        });
    }
    Ok(opts)
}

/// Reads the command line definition (`Cli::command()`) into a [`Spec`].
pub fn spec(mut cmd: Command) -> Result<Spec, String> {
    cmd.build();
    let mut subs = Vec::new();
    for sub in cmd.get_subcommands() {
        if sub.is_hide_set() {
            continue;
        }
        let name = sub.get_name().to_string();
        let mut positionals = Vec::new();
        for arg in sub.get_positionals() {
            let values = if name == "help" {
                Values::Choices(Vec::new())
            } else {
                values_of(&name, arg)?
            };
            positionals.push(Positional {
                name: arg.get_id().to_string(),
                values,
                repeats: arg.get_num_args().is_some_and(|n| n.max_values() > 1),
                last: arg.is_last_set(),
            });
        }
        subs.push(Sub {
            aliases: sub.get_visible_aliases().map(str::to_string).collect(),
            about: first_sentence(&sub.get_about().map(|a| a.to_string()).unwrap_or_default()),
            opts: options(&name, sub)?,
            positionals,
            name,
        });
    }
    // `git par help <command>` completes the command names.
    let names: Vec<(String, String)> = subs
        .iter()
        .filter(|s| s.name != "help")
        .map(|s| (s.name.clone(), s.about.clone()))
        .collect();
    for sub in subs.iter_mut().filter(|s| s.name == "help") {
        sub.positionals = vec![Positional {
            name: "command".into(),
            values: Values::Choices(names.clone()),
            repeats: false,
            last: false,
        }];
    }
    Ok(Spec {
        opts: options("", &cmd)?,
        subs,
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;

    #[test]
    fn every_argument_has_a_completion_rule() {
        let spec = spec(Cli::command()).expect("spec");
        let finish = spec
            .subs
            .iter()
            .find(|s| s.name == "finish")
            .expect("finish");
        let into = finish
            .opts
            .iter()
            .find(|o| o.long.as_deref() == Some("into"));
        assert_eq!(into.and_then(|o| o.values.clone()), Some(Values::Branch));
        assert!(!spec.subs.iter().any(|s| s.name.starts_with("__")));
        let run = spec.subs.iter().find(|s| s.name == "run").expect("run");
        assert!(run.positionals[0].repeats && !run.positionals[0].last);
        assert!(run.positionals[1].last);
    }

    #[test]
    fn unknown_arguments_are_refused_with_where_to_add_them() {
        let cmd = Command::new("x").subcommand(Command::new("y").arg(Arg::new("zz").long("zz")));
        let err = spec(cmd).expect_err("no rule for zz");
        assert!(err.contains("'zz' of 'git par y'"), "{err}");
    }
}
