//! The man page, `man/git-par.1`: every command and option from the clap definitions, and the
//! hand-written sections in [`sections`] for what clap has nothing to say about. One page holds
//! everything, because `git par --help` and `git help par` open `git-par(1)` and nothing else.

mod ready;
mod sections;

use clap::{Arg, ArgAction, Command};
use clap_mangen::roff::{bold, italic, roman, Inline, Roff};

pub use sections::{Block, Section};

/// The whole page, in roff.
pub fn render(mut cmd: Command) -> String {
    cmd.build();
    let mut roff = Roff::new();
    let version = cmd.get_version().unwrap_or_default().to_string();
    roff.control(
        "TH",
        [
            "GIT-PAR",
            "1",
            "",
            &format!("git-par {version}"),
            "Git Manual",
        ],
    );

    roff.control("SH", ["NAME"]);
    let about = cmd.get_about().map(|a| a.to_string()).unwrap_or_default();
    roff.text([roman(format!("git-par - {}", about.trim_end_matches('.')))]);

    roff.control("SH", ["SYNOPSIS"]);
    let subs: Vec<&Command> = cmd.get_subcommands().filter(|s| !s.is_hide_set()).collect();
    for (i, sub) in subs.iter().enumerate() {
        if i > 0 {
            roff.control("br", []);
        }
        roff.text(synopsis(sub));
    }

    roff.control("SH", ["DESCRIPTION"]);
    if let Some(long) = cmd.get_long_about() {
        paragraphs(&mut roff, &long.to_string());
    }
    for block in sections::description() {
        block.render(&mut roff);
    }

    roff.control("SH", ["OPTIONS"]);
    options(&mut roff, &cmd, true);

    roff.control("SH", ["COMMANDS"]);
    for sub in &subs {
        roff.control("SS", [sub.get_name()]);
        roff.text(synopsis(sub));
        roff.control("PP", []);
        let text = sub
            .get_long_about()
            .or_else(|| sub.get_about())
            .map(|t| t.to_string())
            .unwrap_or_default();
        paragraphs(&mut roff, &text);
        if !sub.get_visible_aliases().collect::<Vec<_>>().is_empty() {
            let aliases: Vec<&str> = sub.get_visible_aliases().collect();
            roff.control("PP", []);
            roff.text([roman(format!("Also spelled: {}.", aliases.join(", ")))]);
        }
        options(&mut roff, sub, false);
    }

    for section in sections::all() {
        roff.control("SH", [section.title.as_str()]);
        for block in &section.blocks {
            block.render(&mut roff);
        }
    }
    roff.render()
}

/// Paragraphs of help text: blank lines separate them.
fn paragraphs(roff: &mut Roff, text: &str) {
    for (i, para) in text.split("\n\n").enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        // Backticks mark code in the help text; the page has no use for them.
        let words: Vec<&str> = para.split_whitespace().collect();
        roff.text([roman(words.join(" ").replace('`', ""))]);
    }
}

fn shown(arg: &Arg) -> bool {
    !arg.is_hide_set()
}

/// `-h`/`--help` and `-V`/`--version`: documented once, under OPTIONS.
fn is_help_or_version(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong | ArgAction::Version
    )
}

fn takes_value(arg: &Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

/// Lower case, as git's pages write them (clap upper-cases positionals).
fn value_name(arg: &Arg) -> String {
    arg.get_value_names()
        .and_then(|v| v.first())
        .map(|v| v.to_string())
        .unwrap_or_else(|| arg.get_id().to_string())
        .to_lowercase()
}

/// `git par finish [--into <branch>] … [<task>]`, git's way.
fn synopsis(sub: &Command) -> Vec<Inline> {
    let mut line = vec![bold(format!("git par {}", sub.get_name()))];
    for arg in sub
        .get_arguments()
        .filter(|a| shown(a) && !a.is_positional())
    {
        if is_help_or_version(arg) {
            continue;
        }
        line.push(roman(" ["));
        let names: Vec<String> = arg
            .get_short()
            .map(|s| format!("-{s}"))
            .into_iter()
            .chain(arg.get_long().map(|l| format!("--{l}")))
            .collect();
        line.push(bold(names.join("|")));
        if takes_value(arg) {
            line.push(roman(" "));
            line.push(italic(format!("<{}>", value_name(arg))));
        }
        line.push(roman("]"));
    }
    for arg in sub.get_positionals().filter(|a| shown(a)) {
        line.push(roman(" "));
        if arg.is_last_set() {
            line.push(bold("--"));
            line.push(roman(" "));
        }
        let name = italic(format!("<{}>", value_name(arg)));
        let repeats = arg.get_num_args().is_some_and(|n| n.max_values() > 1);
        let dots = if repeats { "..." } else { "" };
        if arg.is_required_set() {
            line.extend([name, roman(dots)]);
        } else {
            line.extend([roman("["), name, roman(format!("]{dots}"))]);
        }
    }
    line
}

/// A `.TP` item for each option and positional of `cmd`, with its fixed values; `-h` and
/// `-V` only for the top level.
fn options(roff: &mut Roff, cmd: &Command, top: bool) {
    let args = cmd
        .get_arguments()
        .filter(|a| shown(a) && (top || !is_help_or_version(a)));
    let (positionals, flags): (Vec<&Arg>, Vec<&Arg>) = args.partition(|a| a.is_positional());
    for arg in positionals.into_iter().chain(flags) {
        let mut head = Vec::new();
        if arg.is_positional() {
            head.push(italic(format!("<{}>", value_name(arg))));
        } else {
            if let Some(short) = arg.get_short() {
                head.push(bold(format!("-{short}")));
                if arg.get_long().is_some() {
                    head.push(roman(", "));
                }
            }
            if let Some(long) = arg.get_long() {
                head.push(bold(format!("--{long}")));
            }
            if takes_value(arg) {
                head.push(roman(" "));
                head.push(italic(format!("<{}>", value_name(arg))));
            }
        }
        roff.control("TP", []);
        roff.text(head);
        let help = arg
            .get_long_help()
            .or_else(|| arg.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        paragraphs(roff, &help);
        let values: Vec<_> = arg
            .get_possible_values()
            .into_iter()
            .filter(|v| !v.is_hide_set())
            .collect();
        if !values.is_empty() && (takes_value(arg) || arg.is_positional()) {
            roff.control("RS", []);
            for value in values {
                roff.control("TP", []);
                roff.text([bold(value.get_name())]);
                let help = value.get_help().map(|h| h.to_string()).unwrap_or_default();
                roff.text([roman(help)]);
            }
            roff.control("RE", []);
        }
    }
}

/// Arguments that would show up in the page without a word of explanation, as
/// `git par <command> <argument>`; empty when every one has a doc comment.
pub fn undocumented(mut cmd: Command) -> Vec<String> {
    cmd.build();
    let mut missing = Vec::new();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_about().is_none() {
            missing.push(format!("git par {}", sub.get_name()));
        }
        for arg in sub
            .get_arguments()
            .filter(|a| shown(a) && !is_help_or_version(a))
        {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("git par {} {}", sub.get_name(), arg.get_id()));
            }
        }
    }
    missing
}
