//! Regression tests for attacks on git-par's safety: each test pins what git-par must do
//! when a folder, a journal entry, a setting, another command or another process is not
//! what it expects. Written against the behaviour git-par must have, not what it does today.

mod identity;
mod lease;
mod processes;
mod settings;
mod switched;
mod user_state;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::env::{Run, TestEnv, BIN};

/// Everything under `dir` (symlinks recorded, never followed): relative path to what it is.
/// Equal snapshots mean the folder and its files are intact byte for byte.
pub fn tree(dir: &Path) -> BTreeMap<PathBuf, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("inside").to_path_buf();
            let meta = fs::symlink_metadata(&path).expect("metadata");
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path).expect("link");
                out.insert(rel, format!("link {}", target.display()));
            } else if meta.is_dir() {
                out.insert(rel, "dir".into());
                walk(root, &path, out);
            } else {
                let bytes = fs::read(&path).expect("read");
                out.insert(rel, describe(&bytes));
            }
        }
    }
    let mut out = BTreeMap::new();
    let root = match fs::symlink_metadata(dir) {
        Ok(meta) if meta.file_type().is_symlink() => "symlink".to_string(),
        Ok(meta) if meta.is_dir() => "dir".to_string(),
        Ok(_) => "not a folder".to_string(),
        Err(e) => format!("gone: {e}"),
    };
    out.insert(PathBuf::new(), root);
    walk(dir, dir, &mut out);
    out
}

/// A file's content: itself when short and text, else its length and a hash.
fn describe(bytes: &[u8]) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    match std::str::from_utf8(bytes) {
        Ok(text) if text.len() <= 80 => format!("file {text:?}"),
        _ => {
            let mut hasher = DefaultHasher::new();
            bytes.hash(&mut hasher);
            format!(
                "file of {} bytes, hash {:016x}",
                bytes.len(),
                hasher.finish()
            )
        }
    }
}

/// `dir` is as [`tree`] saw it in `before`; a failure lists only what differs.
#[track_caller]
pub fn assert_tree(dir: &Path, before: &BTreeMap<PathBuf, String>, context: &str) {
    let now = tree(dir);
    if &now == before {
        return;
    }
    let mut diff = Vec::new();
    for (path, was) in before {
        match now.get(path) {
            Some(is) if is == was => {}
            Some(is) => diff.push(format!("changed {}: {was} -> {is}", path.display())),
            None => diff.push(format!("gone    {}: {was}", path.display())),
        }
    }
    for (path, is) in &now {
        if !before.contains_key(path) {
            diff.push(format!("new     {}: {is}", path.display()));
        }
    }
    diff.truncate(20);
    panic!(
        "{} is not as it was:\n{}\n{context}",
        dir.display(),
        diff.join("\n")
    );
}

/// Runs `check` for every variant, each to its end, and fails naming every variant that
/// failed (their panic messages are printed above), so one report shows them all.
#[track_caller]
pub fn each<T: Copy + std::fmt::Debug + std::panic::RefUnwindSafe>(
    variants: &[T],
    check: impl Fn(T) + std::panic::RefUnwindSafe,
) {
    let failed: Vec<T> = variants
        .iter()
        .copied()
        .filter(|v| std::panic::catch_unwind(|| check(*v)).is_err())
        .collect();
    assert!(failed.is_empty(), "failed for {failed:?} of {variants:?}");
}

/// stdout and stderr together, for loose checks on what a command said.
pub fn said(run: &Run) -> String {
    format!("{}\n{}", run.stdout, run.stderr)
}

/// The command's output names `needle` (case-insensitive).
#[track_caller]
pub fn assert_names(run: &Run, needle: &str) {
    assert!(
        said(run).to_lowercase().contains(&needle.to_lowercase()),
        "expected the output to name {needle:?}\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
}

/// Waits until `path` exists (a spawned command writes it once it runs).
#[track_caller]
pub fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        sleep(Duration::from_millis(20));
    }
}

/// A process the test started in a process group of its own, reaped by a thread as soon
/// as it ends (so it never lingers as a zombie that looks alive), and killed with its group
/// when the guard goes.
pub struct Bg {
    pub pid: u32,
    done: Receiver<Output>,
    ended: Option<Output>,
}

impl Bg {
    pub fn spawn(mut cmd: std::process::Command) -> Bg {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0);
        let child = cmd.spawn().expect("spawn");
        let pid = child.id();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            if let Ok(out) = child.wait_with_output() {
                let _ = tx.send(out);
            }
        });
        Bg {
            pid,
            done,
            ended: None,
        }
    }

    /// `git-par <args>` in `repo/`.
    pub fn par(env: &TestEnv, args: &[&str]) -> Bg {
        let mut cmd = env.command(BIN, &env.repo());
        cmd.args(args);
        Bg::spawn(cmd)
    }

    /// `sh -c <script>` with its working directory at `dir`.
    pub fn sh_in(env: &TestEnv, dir: &Path, script: &str) -> Bg {
        let mut cmd = env.command("sh", dir);
        cmd.args(["-c", script]);
        Bg::spawn(cmd)
    }

    /// Its output once it has ended, waiting at most `most`.
    pub fn wait(&mut self, most: Duration) -> Option<&Output> {
        if self.ended.is_none() {
            self.ended = self.done.recv_timeout(most).ok();
        }
        self.ended.as_ref()
    }

    /// How it ended, waiting at most `most`; panics if it is still running.
    #[track_caller]
    pub fn status(&mut self, most: Duration) -> ExitStatus {
        self.wait(most).expect("still running").status
    }

    /// Its exit code and output, waiting at most `most`.
    #[track_caller]
    pub fn run(&mut self, most: Duration) -> Run {
        let out = self.wait(most).expect("still running").clone();
        out.into()
    }

    pub fn running(&mut self) -> bool {
        self.wait(Duration::ZERO).is_none()
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if self.running() {
            let _ = kill(Pid::from_raw(-(self.pid as i32)), Signal::SIGKILL);
            let _ = kill(Pid::from_raw(self.pid as i32), Signal::SIGKILL);
            let _ = self.wait(Duration::from_secs(5));
        }
    }
}

/// Task `task` exists whole: its worktree folder with `file` = `content`, git's record of
/// the worktree, and its branch at `tip`.
#[track_caller]
pub fn assert_task_intact(env: &TestEnv, task: &str, file: &str, content: &str, tip: &str) {
    let path = env.task_path(task);
    assert_eq!(
        fs::read_to_string(path.join(file)).ok().as_deref(),
        Some(content),
        "{} lost {file}",
        path.display()
    );
    assert!(
        env.worktrees().contains(&path),
        "git no longer knows the worktree {}",
        path.display()
    );
    assert_eq!(
        tip_of(env, &format!("par/{task}")),
        tip,
        "branch par/{task}"
    );
}

/// The commit `rev` names, or "" when it names none.
pub fn tip_of(env: &TestEnv, rev: &str) -> String {
    let run = env.git_in("repo", ["rev-parse", "-q", "--verify", rev]);
    run.stdout.trim().to_string()
}

/// Makes `repo/.git/hooks/<name>` run `script`.
pub fn hook(env: &TestEnv, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = env.repo().join(".git/hooks").join(name);
    fs::create_dir_all(path.parent().expect("hooks")).expect("hooks dir");
    fs::write(&path, format!("#!/bin/sh\n{script}\n")).expect("hook");
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod");
}
