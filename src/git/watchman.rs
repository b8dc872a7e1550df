//! Asking watchman itself what changed in a worktree, when `core.fsmonitor` is git's own
//! `fsmonitor-watchman` sample hook. That hook is a Perl script (50–80 ms to start) that
//! sends watchman one query; `git par list` would start it once per task. Instead list opens
//! one connection to watchman's socket and sends, per task, the query the sample sends
//! (`since` the index's token, names only, nothing under `.git`), so it gets the answer
//! git's hook would give.
//!
//! Only the sample, recognized byte for byte ([`is_git_sample`]), is replaced: any other
//! hook may do anything and is run as git runs it. Anything unexpected (no socket, an error,
//! a worktree watchman does not watch, a reply slower than the deadline) is `None`, and the
//! caller runs the hook instead; a fresh watchman instance (it restarted since the token)
//! is [`Since::Fresh`]: everything may have changed.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{json, Value};

/// git blob ids of git's `templates/hooks/fsmonitor-watchman.sample` (the same file in git
/// 2.39 and 2.47; another version is simply not recognized, and run as a hook).
const GIT_SAMPLES: [&str; 1] = ["23e856f5deeb7f564afc22f2beed54449c2d3afb"];

/// How long one reply may take; watchman answers a `since` query in about a millisecond.
const DEADLINE: Duration = Duration::from_millis(1000);

/// Most bytes of a hook file read to recognize it (the sample is under 5,000).
const MOST_HOOK_BYTES: u64 = 64 * 1024;

/// Whether the `core.fsmonitor` value `hook`, run by git through the shell in the worktree
/// `top`, is git's watchman sample: a plain path (no arguments, no shell syntax) to a file
/// whose content is one of [`GIT_SAMPLES`].
pub fn is_git_sample(hook: &str, top: &Path) -> bool {
    let plain = !hook.is_empty()
        && hook
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+@".contains(&b));
    if !plain {
        return false;
    }
    let Ok(file) = std::fs::File::open(top.join(hook)) else {
        return false;
    };
    let mut content = Vec::new();
    use std::io::Read;
    if file
        .take(MOST_HOOK_BYTES)
        .read_to_end(&mut content)
        .is_err()
    {
        return false;
    }
    git2::Oid::hash_object(git2::ObjectType::Blob, &content)
        .is_ok_and(|id| GIT_SAMPLES.contains(&id.to_string().as_str()))
}

/// What watchman says changed under a root since a clock.
#[derive(Debug, PartialEq, Eq)]
pub enum Since {
    /// The paths (relative to the root, as the sample hook reports them), and watchman's
    /// clock as of the answer: everything that changes later is reported since that clock.
    Changed { clock: String, names: Vec<Vec<u8>> },
    /// The clock is from another watchman instance (or none it knows): anything may have
    /// changed.
    Fresh,
}

/// One connection to the watchman server, for one thread's queries.
pub struct Client {
    stream: BufReader<UnixStream>,
    /// A reply did not come whole in time: a late one would be taken for the next.
    pub broken: bool,
}

impl Client {
    /// Connects to the server the `watchman` command on `PATH` talks to (the one git's hook
    /// asks), without starting one.
    pub fn connect() -> Option<Client> {
        let stream = UnixStream::connect(sockname()?).ok()?;
        stream.set_read_timeout(Some(DEADLINE)).ok()?;
        stream.set_write_timeout(Some(DEADLINE)).ok()?;
        Some(Client {
            stream: BufReader::new(stream),
            broken: false,
        })
    }

    /// The sample hook's query for the worktree at `root` since `clock`.
    pub fn since(&mut self, root: &Path, clock: &str) -> Option<Since> {
        // The sample sends no `since` for a token that is not a watchman clock, and so
        // reports every file: as good as "anything may have changed".
        if !clock.starts_with("c:") {
            return Some(Since::Fresh);
        }
        let query = json!([
            "query",
            root.to_str()?,
            {
                "since": clock,
                "fields": ["name"],
                "expression": ["not", ["dirname", ".git"]],
            }
        ]);
        let reply = self.ask(&query)?;
        if reply.get("error").is_some() {
            return None;
        }
        if reply.get("is_fresh_instance") == Some(&Value::Bool(true)) {
            return Some(Since::Fresh);
        }
        let clock = reply.get("clock")?.as_str()?.to_string();
        let names = reply
            .get("files")?
            .as_array()?
            .iter()
            .map(|name| name.as_str().map(|n| n.as_bytes().to_vec()))
            .collect::<Option<Vec<_>>>()?;
        // A name JSON could not carry as it is (not UTF-8) comes back mangled: unusable.
        if names.iter().any(|n| n.is_empty() || n.contains(&0)) {
            return None;
        }
        Some(Since::Changed { clock, names })
    }

    fn ask(&mut self, command: &Value) -> Option<Value> {
        if self.broken {
            return None;
        }
        let mut line = serde_json::to_vec(command).ok()?;
        line.push(b'\n');
        let mut reply = Vec::new();
        let sent = self.stream.get_mut().write_all(&line);
        if sent.is_err()
            || self.stream.read_until(b'\n', &mut reply).is_err()
            || !reply.ends_with(b"\n")
        {
            self.broken = true;
            return None;
        }
        let reply: Value = serde_json::from_slice(&reply).ok()?;
        // A unilateral message (a log line, a subscription) is not ours, and the answer
        // would come after it: the connection is given up.
        if reply.get("unilateral").is_some() || reply.get("log").is_some() {
            self.broken = true;
            return None;
        }
        Some(reply)
    }
}

/// The socket of the server the `watchman` command on `PATH` uses (asked once per process:
/// `watchman get-sockname` only computes it, and starts nothing).
fn sockname() -> Option<PathBuf> {
    static SOCKNAME: OnceLock<Option<PathBuf>> = OnceLock::new();
    SOCKNAME
        .get_or_init(|| {
            let out = Command::new("watchman")
                .args(["--no-spawn", "--no-pretty", "get-sockname"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())?;
            let reply: Value = serde_json::from_slice(&out.stdout).ok()?;
            Some(PathBuf::from(reply.get("sockname")?.as_str()?))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_only_the_sample_itself() {
        let dir = tempfile::tempdir().expect("tempdir");
        let top = dir.path();
        std::fs::write(top.join("other"), "#!/bin/sh\n").expect("write");
        assert!(!is_git_sample("other", top));
        assert!(!is_git_sample("missing", top));
        assert!(!is_git_sample("other --flag", top));
        assert!(!is_git_sample("", top));
        for base in ["/usr/share", "/usr/local/share"] {
            let sample = Path::new(base).join("git-core/templates/hooks/fsmonitor-watchman.sample");
            if let Ok(content) = std::fs::read(&sample) {
                std::fs::write(top.join("hook"), &content).expect("write");
                assert!(is_git_sample("hook", top), "{}", sample.display());
                assert!(is_git_sample(
                    top.join("hook").to_str().expect("utf-8"),
                    top
                ));
                let mut changed = content.clone();
                changed.extend_from_slice(b"\n# mine\n");
                std::fs::write(top.join("hook"), &changed).expect("write");
                assert!(
                    !is_git_sample("hook", top),
                    "a changed sample is a hook like any"
                );
            }
        }
    }
}
