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

/// Paths of the worktree at `top` that may differ from `index`, by the hook `hook`: what it
/// reports changed since the index's token, and the entries git had not vouched for then.
pub fn changed(top: &Path, index: &Index, hook: &str) -> Option<Vec<Vec<u8>>> {
    let fsm = index.fsmonitor.as_ref()?;
    let token = String::from_utf8(fsm.token.clone()).ok()?;
    // As git runs it: through the shell, in the worktree's top folder.
    let mut child = Command::new("sh")
        .args(["-c", &format!("{hook} \"$@\""), "fsmonitor", "2", &token])
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
    Some(paths)
}
