//! What a run of many tasks shows while it goes. On a terminal: one indicatif line per task,
//! redrawn in place at the terminal's current width (every line is cut to fit, so a resize
//! never leaves wrapped halves behind), and left on screen as the final summary. Elsewhere:
//! one plain line per change of state, nothing animated.
//!
//! When the tasks outnumber the terminal's rows, only the tasks in hand have a line, above
//! one line of counts (queued, merged, kept…); a task that ends prints its last line above
//! them, where it stays. The summary after the run lists every task that did not merge.

use std::cell::RefCell;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::ui::Ui;

/// How much of the end of a log is read to find its last line.
const TAIL: u64 = 4096;

pub struct View {
    live: Option<Live>,
    names: Vec<String>,
}

struct Live {
    multi: MultiProgress,
    /// A line per task; in compact mode only for the tasks in hand.
    bars: Vec<Option<ProgressBar>>,
    /// Compact mode's line of counts.
    counts: Option<ProgressBar>,
}

/// Rows the view leaves free around the tasks' lines: the line of counts, a message, the
/// prompt.
const SPARE_ROWS: usize = 3;

/// Marks at the head of a task's line.
#[derive(Debug, Clone, Copy)]
pub enum Mark {
    Waiting,
    Good,
    Bad,
}

impl Mark {
    fn symbol(self) -> &'static str {
        match self {
            Mark::Waiting => "·",
            Mark::Good => "✓",
            Mark::Bad => "✗",
        }
    }
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

impl View {
    /// Live on a terminal that can draw, plain otherwise.
    pub fn new(ui: &Ui, names: &[String]) -> View {
        let dumb = std::env::var("TERM").map_or(true, |t| t == "dumb");
        let live = (ui.stderr_is_terminal && !dumb).then(|| {
            let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
            let rows = console::Term::stderr().size().0 as usize;
            if names.len() + SPARE_ROWS > rows {
                let counts = multi.add(ProgressBar::new_spinner());
                counts.set_style(style("{wide_msg}"));
                counts.set_message(format!("{} queued", names.len()));
                return Live {
                    multi,
                    bars: names.iter().map(|_| None).collect(),
                    counts: Some(counts),
                };
            }
            let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
            let bars = names
                .iter()
                .map(|name| {
                    let bar = multi.add(ProgressBar::new_spinner());
                    bar.set_style(style("{prefix} {wide_msg}"));
                    bar.set_prefix(format!("{} {name:<width$}", Mark::Waiting.symbol()));
                    bar.set_message("queued");
                    Some(bar)
                })
                .collect();
            Live {
                multi,
                bars,
                counts: None,
            }
        });
        View {
            live,
            names: names.to_vec(),
        }
    }

    /// A new state for task `i`; `Good` and `Bad` marks are the last.
    pub fn show(&mut self, ui: &mut Ui, i: usize, mark: Mark, text: &str) {
        let prefix = self.prefix(mark, i);
        match &mut self.live {
            Some(live) if live.counts.is_some() && !matches!(mark, Mark::Waiting) => {
                if let Some(bar) = live.bars[i].take() {
                    bar.finish_and_clear();
                    live.multi.remove(&bar);
                }
                let _ = live.multi.println(format!("{prefix} {text}"));
            }
            Some(live) => {
                let bar = live.bar(i);
                bar.disable_steady_tick();
                bar.set_style(style("{prefix} {wide_msg}"));
                bar.set_prefix(prefix);
                bar.set_message(text.to_string());
            }
            None => ui.note(&format!("{}: {text}", self.names[i])),
        }
    }

    /// The line of counts, when the tasks do not all have a line of their own.
    pub fn counts(&mut self, text: &str) {
        if let Some(counts) = self.live.as_ref().and_then(|l| l.counts.as_ref()) {
            counts.set_message(text.to_string());
        }
    }

    /// Task `i` is running: a spinner and the time it has run, and a handle through which
    /// the last line of its output is shown.
    pub fn running(&mut self, ui: &mut Ui, i: usize, log: &Path) -> Option<ProgressBar> {
        let width = self.width();
        match &mut self.live {
            Some(live) => {
                let bar = live.bar(i);
                bar.set_style(
                    style("{spinner} {prefix} {elapsed:>4} {wide_msg}").tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
                );
                let name = &self.names[i];
                bar.set_prefix(format!("{name:<width$}"));
                bar.set_message(String::new());
                bar.reset_elapsed();
                bar.enable_steady_tick(Duration::from_millis(100));
                Some(bar.clone())
            }
            None => {
                ui.note(&format!(
                    "{}: running, output in {}",
                    self.names[i],
                    log.display()
                ));
                None
            }
        }
    }

    /// Runs `f` with a `Ui` whose messages appear above the live lines instead of through
    /// them; without a live view, with `ui` itself.
    pub fn with_ui<T>(&mut self, ui: &mut Ui, f: impl FnOnce(&mut Ui) -> T) -> T {
        let Some(live) = &self.live else {
            return f(ui);
        };
        let buf = SharedBuf::default();
        let mut captured = Ui::capture(Box::new(buf.clone()), Box::new(buf.clone()));
        let result = f(&mut captured);
        drop(captured);
        let text = String::from_utf8_lossy(&buf.0.borrow()).into_owned();
        for line in text.lines() {
            let _ = live.multi.println(line);
        }
        result
    }

    /// Leaves every line on screen as it stands, the cursor below them.
    pub fn close(&mut self) {
        if let Some(live) = self.live.take() {
            for bar in live.bars.iter().flatten() {
                bar.disable_steady_tick();
                bar.finish();
            }
            if let Some(counts) = &live.counts {
                counts.finish();
            }
        }
    }

    fn width(&self) -> usize {
        self.names
            .iter()
            .map(|n| n.chars().count())
            .max()
            .unwrap_or(0)
    }

    fn prefix(&self, mark: Mark, i: usize) -> String {
        format!(
            "{} {:<width$}",
            mark.symbol(),
            self.names[i],
            width = self.width()
        )
    }
}

impl Live {
    /// Task `i`'s line, made when it first needs one (compact mode), above the counts.
    fn bar(&mut self, i: usize) -> &ProgressBar {
        let (multi, counts) = (&self.multi, &self.counts);
        self.bars[i].get_or_insert_with(|| {
            let bar = ProgressBar::new_spinner();
            match counts {
                Some(counts) => multi.insert_before(counts, bar),
                None => multi.add(bar),
            }
        })
    }
}

/// The last line a command wrote to its log, made safe to show on one line.
pub fn last_line(log: &Path) -> Option<String> {
    let mut file = File::open(log).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL))).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let text = console::strip_ansi_codes(&text);
    text.split(['\n', '\r'])
        .map(|l| l.trim())
        .rfind(|l| !l.is_empty())
        .map(|l| l.chars().filter(|c| !c.is_control()).collect())
}

#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::last_line;

    #[test]
    fn last_line_skips_blank_lines_and_progress_returns() {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("t.log");
        std::fs::write(&log, "first\nsecond\n\n").expect("write");
        assert_eq!(last_line(&log).as_deref(), Some("second"));
        std::fs::write(&log, "building 10%\rbuilding 50%\r\x1b[32mdone\x1b[0m\n").expect("write");
        assert_eq!(last_line(&log).as_deref(), Some("done"));
        assert_eq!(last_line(&dir.path().join("missing")), None);
    }
}
