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
    let width = usize::from(console::Term::stdout().size().1).max(1);
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

/// Draws `lines` over the `shown` screen rows drawn before (the cursor is below them);
/// returns how many screen rows they take now (a line wider than the terminal wraps onto
/// more than one, and the next redraw must go up past them all).
fn draw(ui: &mut Ui, lines: &[String], shown: usize, width: usize) -> Result<usize> {
    let mut text = String::new();
    if shown > 0 {
        text.push_str(&format!("\x1b[{shown}A"));
    }
    let mut rows = 0;
    for line in lines {
        text.push_str("\r\x1b[J");
        text.push_str(line);
        text.push('\n');
        rows += console::measure_text_width(line).div_ceil(width).max(1);
    }
    let out = ui.out();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(rows)
}
