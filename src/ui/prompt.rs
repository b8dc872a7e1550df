//! Questions to the user, behind a trait so unit tests can script the answers.
//!
//! The terminal implementation uses dialoguer on stderr. A Ctrl-C in a prompt arrives as
//! SIGINT (console raises it after leaving raw mode); we show the cursor again ourselves,
//! since dialoguer does not, and report the interrupt.

use crate::cleanup;
use crate::error::{Error, Result};

pub trait Prompter {
    /// Index of the chosen item; `None` when the user cancels (Esc or `q`). The cursor
    /// starts on `default`, what Enter alone picks.
    fn select(&mut self, prompt: &str, items: &[&str], default: usize) -> Result<Option<usize>>;
    /// Yes or no; Enter alone, Esc and `q` say no.
    fn confirm(&mut self, prompt: &str) -> Result<bool>;
    fn input(&mut self, prompt: &str) -> Result<String>;
}

pub struct TermPrompter;

/// dialoguer's plain look, without the colon it puts after every question: git asks
/// "Drop task 't'?", not "Drop task 't'?:".
struct Plain;

impl dialoguer::theme::Theme for Plain {
    fn format_prompt(&self, f: &mut dyn std::fmt::Write, prompt: &str) -> std::fmt::Result {
        write!(f, "{prompt}")
    }

    fn format_input_prompt_selection(
        &self,
        f: &mut dyn std::fmt::Write,
        prompt: &str,
        sel: &str,
    ) -> std::fmt::Result {
        match prompt.ends_with('?') {
            true => write!(f, "{prompt} {sel}"),
            false => write!(f, "{prompt}: {sel}"),
        }
    }
}

fn finish<T>(result: dialoguer::Result<T>) -> Result<T> {
    let term = console::Term::stderr();
    let _ = term.show_cursor();
    if let Some(sig) = cleanup::pending() {
        return Err(Error::interrupted(sig));
    }
    result.map_err(|e| {
        let dialoguer::Error::IO(io) = e;
        if io.kind() == std::io::ErrorKind::Interrupted {
            Error::interrupted(nix::sys::signal::Signal::SIGINT)
        } else {
            Error::failed(format!("could not read the answer: {io}"))
        }
    })
}

impl Prompter for TermPrompter {
    fn select(&mut self, prompt: &str, items: &[&str], default: usize) -> Result<Option<usize>> {
        finish(
            dialoguer::Select::with_theme(&Plain)
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact_on_opt(&console::Term::stderr()),
        )
    }

    fn confirm(&mut self, prompt: &str) -> Result<bool> {
        let answer = finish(
            dialoguer::Confirm::with_theme(&Plain)
                .with_prompt(prompt)
                .default(false)
                .interact_on_opt(&console::Term::stderr()),
        )?;
        Ok(answer == Some(true))
    }

    fn input(&mut self, prompt: &str) -> Result<String> {
        finish(
            dialoguer::Input::<String>::with_theme(&Plain)
                .with_prompt(prompt)
                .interact_text_on(&console::Term::stderr()),
        )
    }
}

/// Answers given in advance, for unit tests.
pub struct Scripted(pub Vec<String>);

impl Scripted {
    fn next(&mut self) -> Result<String> {
        if self.0.is_empty() {
            return Err(Error::failed("no scripted answer left"));
        }
        Ok(self.0.remove(0))
    }
}

impl Prompter for Scripted {
    fn select(&mut self, _prompt: &str, items: &[&str], default: usize) -> Result<Option<usize>> {
        let answer = self.next()?;
        match answer.as_str() {
            "" => return Ok(Some(default)),
            "esc" => return Ok(None),
            _ => {}
        }
        items
            .iter()
            .position(|i| i.starts_with(&answer))
            .map(Some)
            .ok_or_else(|| Error::failed(format!("scripted answer '{answer}' matches no item")))
    }

    fn confirm(&mut self, _prompt: &str) -> Result<bool> {
        Ok(self.next()? == "y")
    }

    fn input(&mut self, _prompt: &str) -> Result<String> {
        self.next()
    }
}
