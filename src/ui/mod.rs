//! Everything a command shows goes through one [`Ui`]: stdout for results, stderr for
//! messages, git's `error:`/`warning:`/`hint:` prefixes, colour only where git would use it,
//! and prompts only on a terminal.

pub mod prompt;

use std::io::{self, IsTerminal, Write};

use crate::error::Error;
pub use prompt::{Prompter, TermPrompter};

pub struct Ui {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    /// Colour on stdout.
    pub color: bool,
    /// Colour on stderr.
    pub color_err: bool,
    /// Whether prompts may be shown (stdin and stderr are a terminal).
    pub interactive: bool,
    pub stderr_is_terminal: bool,
    /// Whether stdout is a terminal (a person reads it, not a script).
    pub stdout_is_terminal: bool,
    pub prompter: Box<dyn Prompter>,
}

/// `color.ui`/`NO_COLOR` decide as git does: `always`, `never`, or `auto` (a terminal).
fn wants_color(color_ui: Option<&str>, is_terminal: bool) -> bool {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    match color_ui {
        Some("always") => true,
        Some("never" | "false" | "no" | "off" | "0") => false,
        _ => is_terminal && std::env::var("TERM").map_or(true, |t| t != "dumb"),
    }
}

impl Ui {
    /// The real terminal, or whatever stdout and stderr are.
    pub fn from_env() -> Ui {
        let stderr_is_terminal = io::stderr().is_terminal();
        let interactive = io::stdin().is_terminal() && stderr_is_terminal;
        Ui {
            out: Box::new(io::stdout()),
            err: Box::new(io::stderr()),
            color: wants_color(None, io::stdout().is_terminal()),
            color_err: wants_color(None, stderr_is_terminal),
            interactive,
            stderr_is_terminal,
            stdout_is_terminal: io::stdout().is_terminal(),
            prompter: Box::new(TermPrompter),
        }
    }

    /// A Ui writing into the given sinks, never interactive: for tests.
    pub fn capture(out: Box<dyn Write>, err: Box<dyn Write>) -> Ui {
        Ui {
            out,
            err,
            color: false,
            color_err: false,
            interactive: false,
            stderr_is_terminal: false,
            stdout_is_terminal: false,
            prompter: Box::new(TermPrompter),
        }
    }

    /// Applies `color.ui` once the repository's config is known.
    pub fn apply_color_config(&mut self, color_ui: Option<&str>) {
        self.color = wants_color(color_ui, io::stdout().is_terminal());
        self.color_err = wants_color(color_ui, self.stderr_is_terminal);
    }

    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// A line of results on stdout.
    pub fn println(&mut self, line: &str) -> io::Result<()> {
        writeln!(self.out, "{line}")
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }

    /// A plain message on stderr.
    pub fn note(&mut self, line: &str) {
        let _ = writeln!(self.err, "{line}");
    }

    pub fn warn(&mut self, line: &str) {
        let prefix = self.paint_err("warning:", "33");
        let _ = writeln!(self.err, "{prefix} {line}");
    }

    pub fn hint(&mut self, line: &str) {
        let prefix = self.paint_err("hint:", "33");
        let _ = writeln!(self.err, "{prefix} {line}");
    }

    pub fn error(&mut self, err: &Error) {
        let prefix = self.paint_err("error:", "31");
        let _ = writeln!(self.err, "{prefix} {}", err.message);
        for hint in &err.hints {
            self.hint(hint);
        }
    }

    fn paint_err(&self, text: &str, code: &str) -> String {
        if self.color_err {
            format!("\x1b[{code}m{text}\x1b[m")
        } else {
            text.to_string()
        }
    }

    /// Colours text for stdout when colour is on.
    pub fn paint(&self, text: &str, code: &str) -> String {
        if self.color && !text.is_empty() {
            format!("\x1b[{code}m{text}\x1b[m")
        } else {
            text.to_string()
        }
    }
}
