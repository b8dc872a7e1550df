//! `git par list` on a terminal: the table is drawn at once with what needs no look at the
//! files (task, branch, base, ahead/behind, age, path; changes shown as `…`), then redrawn in
//! place as each task's changes come in, and left as the complete table. `--json` and
//! `--porcelain`, and a stdout that is not a terminal, print once, complete (see `list`).

use super::list::{self, TaskInfo};
use crate::error::Result;
use crate::git::Repo;
use crate::ui::Ui;

pub fn run(repo: &Repo, ui: &mut Ui) -> Result<u8> {
    let mut tasks = list::collect_without_status(repo);
    if tasks.is_empty() {
        ui.note("No tasks. Start one with 'git par start <task>'.");
        return Ok(0);
    }
    let mut pending: Vec<bool> = tasks.iter().map(TaskInfo::has_checkout).collect();
    let width = usize::from(console::Term::stdout().size().1).max(20);
    let mut shown = draw(ui, &list::table_lines(ui, &tasks, &pending), 0, width)?;
    let mut failed = None;
    list::fill_status(repo, &mut tasks, &mut |i, tasks| {
        pending[i] = false;
        let lines = list::table_lines(ui, tasks, &pending);
        match draw(ui, &lines, shown, width) {
            Ok(n) => shown = n,
            Err(e) => failed = Some(e),
        }
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(0),
    }
}

/// Draws `lines` over the `shown` lines drawn before (the cursor is below them), each cut
/// to the terminal's width so that none wraps and the next redraw lands on it; returns how
/// many lines are now shown.
fn draw(ui: &mut Ui, lines: &[String], shown: usize, width: usize) -> Result<usize> {
    let mut text = String::new();
    if shown > 0 {
        text.push_str(&format!("\x1b[{shown}A"));
    }
    for line in lines {
        text.push_str("\r\x1b[2K");
        text.push_str(&console::truncate_str(line, width - 1, ""));
        text.push('\n');
    }
    let out = ui.out();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(lines.len())
}
