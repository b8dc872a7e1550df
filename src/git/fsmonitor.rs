//! Asking git's file-system monitor hook (`core.fsmonitor`, hook protocol version 2, for
//! example git's `fsmonitor-watchman` sample with watchman) which paths changed since a
//! worktree's index was written, so that `git par list` stats only those instead of every
//! file. Any doubt (no token in the index, the hook missing, failing, slower than
//! [`DEADLINE`], or answering `/` for "everything may have changed") returns `None`, and the
//! caller falls back to the full scan.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::git::index::Index;
use crate::git::watchman::{self, Client, Since};

/// How long the hook may take before the full scan is quicker to just do.
pub const DEADLINE: Duration = Duration::from_millis(1000);

/// The hook command of a `core.fsmonitor` value: `None` for a boolean (off, or git's
/// built-in daemon, which speaks IPC rather than the hook protocol).
pub fn hook_of(value: &str) -> Option<String> {
    match crate::config::parse_bool(value) {
        Some(_) => None,
        None => Some(value.to_string()),
    }
}

/// A file-system monitor to ask, for one thread of `git par list`: the `core.fsmonitor`
/// hook, or watchman itself when the hook is git's watchman sample (see
/// [`crate::git::watchman`]).
pub struct Monitor {
    hook: String,
    /// The connection to watchman, once asked for: `Some(None)` when it could not be made.
    watchman: Option<Option<Client>>,
}

/// What changed in a worktree since its index was written.
pub struct Changed {
    /// The paths that may differ from the index.
    pub paths: Vec<Vec<u8>>,
    /// watchman's clock as of the answer, when watchman was asked directly.
    pub clock: Option<String>,
}

impl Monitor {
    pub fn new(hook: String) -> Monitor {
        Monitor {
            hook,
            watchman: None,
        }
    }

    /// watchman, when the hook run in the worktree `top` would be git's watchman sample.
    fn watchman(&mut self, top: &Path) -> Option<&mut Client> {
        if !watchman::is_git_sample(&self.hook, top) {
            return None;
        }
        let client = self.watchman.get_or_insert_with(Client::connect);
        // A connection that lost track of its replies is not used again.
        if client.as_ref().is_some_and(|c| c.broken) {
            *client = None;
        }
        client.as_mut()
    }

    /// What watchman says changed in the worktree `top` since `clock`; `None` when watchman
    /// is not the monitor or cannot answer.
    pub fn since(&mut self, top: &Path, clock: &str) -> Option<Since> {
        let root = top.canonicalize().ok()?;
        self.watchman(top)?.since(&root, clock)
    }

    /// Paths of the worktree at `top` that may differ from `index`: what the monitor reports
    /// changed since the index's token, and the entries git had not vouched for then.
    pub fn changed(&mut self, top: &Path, index: &Index) -> Option<Changed> {
        let fsm = index.fsmonitor.as_ref()?;
        let token = String::from_utf8(fsm.token.clone()).ok()?;
        let (mut paths, clock) = match self.since(top, &token) {
            Some(Since::Fresh) => return None,
            Some(Since::Changed { clock, names }) => (names, Some(clock)),
            // Not watchman's sample, or watchman could not answer: the hook, as git runs it.
            None => (run_hook(top, &self.hook, &token)?, None),
        };
        paths.extend(fsm.unvouched.iter().filter_map(|&i| {
            let entry = index.entries.get(i)?;
            Some(index.path(entry).to_vec())
        }));
        // A submodule is always asked about as a whole (its own commits and files are not
        // events of this worktree's index), and git takes no path inside one.
        let gitlinks: Vec<&[u8]> = index
            .entries
            .iter()
            .filter(|e| e.mode == 0o160000)
            .map(|e| index.path(e))
            .collect();
        paths.retain(|p| {
            !gitlinks
                .iter()
                .any(|g| p.len() > g.len() && p.starts_with(g) && p[g.len()] == b'/')
        });
        paths.extend(gitlinks.iter().map(|g| g.to_vec()));
        paths.sort();
        paths.dedup();
        Some(Changed { paths, clock })
    }
}

/// The paths the hook `hook` reports changed in the worktree `top` since `token`.
fn run_hook(top: &Path, hook: &str, token: &str) -> Option<Vec<Vec<u8>>> {
    // As git runs it: through the shell, in the worktree's top folder.
    let mut child = Command::new("sh")
        .args(["-c", &format!("{hook} \"$@\""), "fsmonitor", "2", token])
        .current_dir(top)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        stdout.read_to_end(&mut out).map(|_| out)
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() < DEADLINE => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    let out = reader.join().ok()?.ok()?;
    if !status.success() {
        return None;
    }
    // `<new token>\0<path>\0<path>\0…`; a path `/` means everything.
    let mut fields = out.split(|&b| b == 0);
    fields.next()?;
    let mut paths = Vec::new();
    for path in fields.filter(|p| !p.is_empty()) {
        if path == b"/" {
            return None;
        }
        paths.push(path.strip_suffix(b"/").unwrap_or(path).to_vec());
    }
    Some(paths)
}
