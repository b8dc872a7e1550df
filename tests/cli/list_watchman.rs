//! `git par list` with git's own `fsmonitor-watchman` sample hook and a real watchman: list
//! asks watchman itself (one connection, no Perl per task) and keeps an untracked cache in
//! each worktree's admin dir. Every way the shortcut could lie is tried here, and list's
//! counts compared with git's full status (`core.fsmonitor=false`).
//!
//! Each test has its own watchman server (socket, state and log in its temp folder), reached
//! through a `watchman` on PATH that adds those options, as the hook and git-par both find
//! it; the server is shut down at the end. Without watchman the tests skip (and fail on CI).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::env::{TestEnv, BIN};

/// The untracked cache's file in a task's admin dir.
const CACHE: &str = "repo/.git/worktrees/t/par-untracked";

struct Watched {
    env: TestEnv,
    path: String,
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.watchman(&["--no-spawn", "shutdown-server"]);
    }
}

impl Watched {
    /// A repository whose `core.fsmonitor` is git's watchman sample, with task `t` whose
    /// worktree holds `files` (committed on main first) and is watched, and whose index
    /// carries a watchman token; `None` (skipped) without watchman.
    fn new(files: &[(&str, &str)]) -> Option<Watched> {
        if !crate::native::have("watchman") {
            return None;
        }
        let sample = ["/usr/local/share", "/usr/share"]
            .iter()
            .map(|b| PathBuf::from(b).join("git-core/templates/hooks/fsmonitor-watchman.sample"))
            .find(|p| p.exists())
            .expect("git's fsmonitor-watchman.sample");
        let env = TestEnv::new();
        let root = env.root();
        let bin = root.join("bin");
        fs::create_dir_all(&bin).unwrap();
        let real = Command::new("sh")
            .args(["-c", "command -v watchman"])
            .output()
            .unwrap()
            .stdout;
        let wm = root.join("wm");
        fs::create_dir_all(&wm).unwrap();
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{w}/calls'\nexec '{real}' --sockname='{w}/sock' --statefile='{w}/state' --logfile='{w}/log' --pidfile='{w}/pid' \"$@\"\n",
            w = wm.display(),
            real = String::from_utf8(real).unwrap().trim()
        );
        fs::write(bin.join("watchman"), script).unwrap();
        fs::set_permissions(bin.join("watchman"), fs::Permissions::from_mode(0o755)).unwrap();
        let hook = root.join("fsmonitor-watchman");
        fs::copy(sample, &hook).unwrap();
        let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
        let w = Watched { env, path };
        for (file, content) in files {
            w.env.write(&format!("repo/{file}"), content);
        }
        w.env.commit_all("repo", "files");
        w.git(
            "repo",
            &["config", "core.fsmonitor", hook.to_str().unwrap()],
        );
        w.par(&["start", "t"]);
        // The first status starts the watch (the hook answers "everything"); the second,
        // a second later (no racily clean entries), writes a token list can ask with.
        w.git("repo.par/t", &["status", "--porcelain"]);
        std::thread::sleep(std::time::Duration::from_millis(1100));
        w.git("repo.par/t", &["status", "--porcelain"]);
        let index = fs::read(w.env.repo().join(".git/worktrees/t/index")).unwrap();
        assert!(index.windows(4).any(|x| x == b"FSMN"), "git wrote no token");
        Some(w)
    }

    /// [`Watched::new`] with `a.txt` committed and an untracked `WIP.txt` older than the
    /// token, which list has been asked about once (so the untracked cache holds it).
    fn with_wip() -> Option<Watched> {
        let w = Watched::new(&[("a.txt", "a\n")])?;
        w.write("WIP.txt", "work\n");
        w.settle();
        w.agrees((0, 0, 1), "with WIP.txt");
        Some(w)
    }

    fn command(&self, program: &str, sub: &str) -> Command {
        let mut cmd = self.env.command(program, &self.env.root().join(sub));
        cmd.env("PATH", &self.path);
        cmd
    }

    /// `program <args>` in `<root>/<sub>`, which must succeed: its stdout.
    fn ok(&self, program: &str, sub: &str, args: &[&str]) -> String {
        let out = self.command(program, sub).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{program} {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn git(&self, sub: &str, args: &[&str]) -> String {
        self.ok("git", sub, args)
    }

    fn par(&self, args: &[&str]) -> String {
        self.ok(BIN, "repo", args)
    }

    /// Runs `watchman <args>`; its output goes nowhere (a server it starts would hold a
    /// pipe open for as long as it lives).
    fn watchman(&self, args: &[&str]) -> bool {
        self.command("watchman", "")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Stops the server, and waits until it is gone.
    fn stop_watchman(&self) {
        assert!(self.watchman(&["shutdown-server"]));
        let pid = fs::read_to_string(self.env.root().join("wm/pid")).unwrap();
        let proc = PathBuf::from("/proc").join(pid.trim());
        for _ in 0..500 {
            if !proc.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("watchman did not stop");
    }

    /// The `watchman` calls made so far (one a line), then forgets them.
    fn watchman_calls(&self) -> String {
        let file = self.env.root().join("wm/calls");
        let calls = fs::read_to_string(&file).unwrap_or_default();
        let _ = fs::remove_file(file);
        calls
    }

    /// (staged, unstaged, untracked) of task t as list shows them.
    fn listed(&self) -> (usize, usize, usize) {
        let out = self.par(&["list", "--porcelain"]);
        let f: Vec<&str> = out.trim_end().split('\t').collect();
        let n = |i: usize| f[i].parse::<usize>().unwrap();
        (n(5), n(6), n(7))
    }

    /// The same counts from git's own full status, without the monitor.
    fn full_scan(&self) -> (usize, usize, usize) {
        let out = self.git(
            "repo.par/t",
            // Without writing the index: git drops the token when it writes one unmonitored.
            &[
                "--no-optional-locks",
                "-c",
                "core.fsmonitor=false",
                "status",
                "--porcelain",
            ],
        );
        let mut counts = (0, 0, 0);
        for line in out.lines() {
            let b = line.as_bytes();
            match (b[0], b[1]) {
                (b'?', b'?') => counts.2 += 1,
                (x, y) => {
                    counts.0 += usize::from(x != b' ');
                    counts.1 += usize::from(y != b' ');
                }
            }
        }
        counts
    }

    /// list agrees with the full scan, and says `want`.
    fn agrees(&self, want: (usize, usize, usize), when: &str) {
        let full = self.full_scan();
        assert_eq!(full, want, "git's own full status {when}");
        assert_eq!(self.listed(), full, "list {when}");
    }

    /// A monitored `git status` in the task that writes the index, with watchman's token of
    /// now: what changed before is no change since it (only the untracked cache or the
    /// folders can tell). git writes the index only when an entry changed: README is
    /// touched for that (dated back), and the index is written in a later second than
    /// anything before, so that no entry is racily clean or unvouched, and list can take its
    /// quickest way.
    fn settle(&self) {
        let index = self.env.repo().join(".git/worktrees/t/index");
        let before = fs::read(&index).unwrap();
        let readme = self.env.root().join("repo.par/t/README");
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
        fs::File::options()
            .append(true)
            .open(&readme)
            .unwrap()
            .set_modified(past)
            .unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        std::thread::sleep(std::time::Duration::from_nanos(
            1_000_000_000 - u64::from(now.subsec_nanos()) + 10_000_000,
        ));
        self.git("repo.par/t", &["status", "--porcelain"]);
        assert_ne!(fs::read(&index).unwrap(), before, "git kept its index");
        // git vouches for the refreshed README only in the next status.
        self.git("repo.par/t", &["status", "--porcelain"]);
    }

    fn write(&self, file: &str, content: &str) {
        self.env.write(&format!("repo.par/t/{file}"), content);
    }
}

#[test]
fn an_untracked_file_older_than_the_token_is_found_and_then_kept_in_the_cache() {
    // WIP.txt is written before the token: no change watchman would report since it.
    let Some(w) = Watched::with_wip() else {
        return;
    };
    assert!(
        w.env.root().join(CACHE).exists(),
        "list kept no untracked cache"
    );
    w.watchman_calls();
    w.agrees((0, 0, 1), "from the cache");
    // watchman was asked directly: the sample hook (`watchman -j`) never ran (the
    // reference status runs without the monitor).
    let calls = w.watchman_calls();
    assert!(calls.lines().all(|c| c.contains("get-sockname")), "{calls}");
}

#[test]
fn list_believes_its_untracked_cache_when_nothing_touched_it() {
    let Some(w) = Watched::with_wip() else {
        return;
    };
    // A name nobody created, put in the cache by hand: list, trusting the cache for what
    // watchman says nobody touched, counts it (which shows the cache decided); a name that
    // climbs out of the worktree makes the whole file worthless.
    let file = w.env.root().join(CACHE);
    let cache = fs::read_to_string(&file).unwrap();
    let planted = cache.replace("\"WIP.txt\"", "\"WIP.txt\",\"ghost.txt\"");
    assert_ne!(planted, cache, "{cache}");
    fs::write(&file, &planted).unwrap();
    assert_eq!(w.listed(), (0, 0, 2));
    fs::write(
        &file,
        cache.replace("\"WIP.txt\"", "\"WIP.txt\",\"../ghost\""),
    )
    .unwrap();
    assert_eq!(w.listed(), (0, 0, 1));
}

#[test]
fn a_file_added_in_an_untracked_folder_counts_as_the_folder() {
    let Some(w) = Watched::new(&[("a.txt", "a\n")]) else {
        return;
    };
    w.write("nd/a", "1\n");
    w.settle();
    w.agrees((0, 0, 1), "with nd/");
    w.write("nd/b", "2\n");
    w.write("nd/sub/c", "3\n");
    w.write("new.txt", "4\n");
    w.agrees((0, 0, 2), "after files were added in nd/");
    fs::remove_dir_all(w.env.root().join("repo.par/t/nd")).unwrap();
    w.agrees((0, 0, 1), "after nd/ was removed");
}

#[test]
fn git_rm_cached_makes_an_untouched_file_untracked() {
    let Some(w) = Watched::new(&[("a.txt", "a\n"), ("b.txt", "b\n")]) else {
        return;
    };
    w.settle();
    w.agrees((0, 0, 0), "at first");
    w.agrees((0, 0, 0), "again, from the cache");
    // b.txt itself is not touched: watchman has nothing to say about it.
    w.git("repo.par/t", &["rm", "-q", "--cached", "b.txt"]);
    w.agrees((1, 0, 1), "after git rm --cached");
    w.git("repo.par/t", &["commit", "-q", "-m", "b.txt untracked"]);
    w.agrees((0, 0, 1), "after git rm --cached and a commit");
    w.git("repo.par/t", &["add", "b.txt"]);
    w.git("repo.par/t", &["commit", "-q", "-m", "b.txt back"]);
    w.agrees((0, 0, 0), "after adding it back");
}

#[test]
fn a_head_moved_under_the_same_index_shows_what_is_staged() {
    let Some(w) = Watched::new(&[("a.txt", "a\n")]) else {
        return;
    };
    w.write("b.txt", "b\n");
    w.git("repo.par/t", &["add", "b.txt"]);
    w.git("repo.par/t", &["commit", "-q", "-m", "b"]);
    w.settle();
    w.agrees((0, 0, 0), "after the commit");
    w.agrees((0, 0, 0), "again, from the cache");
    // The index is the same file: only HEAD says b.txt is now staged.
    let index = w.env.repo().join(".git/worktrees/t/index");
    let before = fs::read(&index).unwrap();
    w.git("repo.par/t", &["update-ref", "HEAD", "HEAD~"]);
    assert_eq!(fs::read(&index).unwrap(), before);
    w.agrees((1, 0, 0), "after HEAD moved back");
}

#[test]
fn a_change_git_saw_before_the_token_still_counts() {
    let Some(w) = Watched::new(&[("a.txt", "a\n")]) else {
        return;
    };
    w.settle();
    w.agrees((0, 0, 0), "at first");
    // git sees the change and writes a new token: watchman has nothing to report since
    // it, and only the index (a.txt not vouched for) tells.
    w.write("a.txt", "changed\n");
    w.settle();
    w.agrees((0, 1, 0), "after a change git saw");
    w.agrees((0, 1, 0), "again");
}

#[test]
fn a_gitignore_change_is_seen() {
    let Some(w) = Watched::new(&[(".gitignore", "*.log\n"), ("a.txt", "a\n")]) else {
        return;
    };
    w.write("x.log", "ignored\n");
    w.write("d/y.log", "ignored\n");
    w.settle();
    w.agrees((0, 0, 0), "with ignored files only");
    w.write(".gitignore", "*.tmp\n");
    w.agrees((0, 1, 2), "after .gitignore stopped ignoring them");
    w.write(".gitignore", "*.log\n");
    w.agrees((0, 0, 0), "after .gitignore ignores them again");
    // info/exclude lives outside the worktree: watchman does not see it change.
    w.write("z.tmp", "z\n");
    w.settle();
    w.agrees((0, 0, 1), "with z.tmp");
    fs::write(w.env.repo().join(".git/info/exclude"), "*.tmp\n").unwrap();
    w.agrees((0, 0, 0), "after info/exclude ignored z.tmp");
    fs::write(w.env.repo().join(".git/info/exclude"), "").unwrap();
    w.agrees((0, 0, 1), "after info/exclude stopped");
    w.git("repo", &["config", "status.showUntrackedFiles", "no"]);
    w.agrees((0, 0, 0), "with status.showUntrackedFiles=no");
}

#[test]
fn a_racily_clean_file_is_looked_at() {
    let Some(w) = Watched::new(&[("a.txt", "aaaa\n")]) else {
        return;
    };
    w.agrees((0, 0, 0), "at first");
    // Same size, in the second the index was written (settle returns right after).
    w.settle();
    w.write("a.txt", "bbbb\n");
    w.agrees((0, 1, 0), "after a same-size change in the index's second");
}

#[test]
fn a_folder_replaced_by_another_is_looked_at() {
    let Some(w) = Watched::new(&[(".gitignore", "*.log\n"), ("src/a.txt", "a\n")]) else {
        return;
    };
    w.write("nd/f", "untracked\n");
    w.settle();
    w.agrees((0, 0, 1), "with nd/");
    let t = w.env.root().join("repo.par/t");
    fs::remove_dir_all(t.join("nd")).unwrap();
    w.write("nd/only.log", "ignored\n");
    w.agrees(
        (0, 0, 0),
        "after nd/ was replaced by a folder of ignored files",
    );
    fs::rename(t.join("src"), t.join("old")).unwrap();
    w.write("src/a.txt", "other\n");
    w.agrees((0, 1, 1), "after src/ was replaced by another");
}

#[test]
fn a_corrupt_cache_file_is_not_believed() {
    let Some(w) = Watched::with_wip() else {
        return;
    };
    let file = w.env.root().join(CACHE);
    for junk in ["", "{", "\u{0}\u{1}", "[1, 2]"] {
        fs::write(&file, junk).unwrap();
        w.agrees((0, 0, 1), &format!("with the cache file {junk:?}"));
    }
}

#[test]
fn list_is_right_when_watchman_is_not_running() {
    let Some(w) = Watched::with_wip() else {
        return;
    };
    w.stop_watchman();
    w.write("a.txt", "changed\n");
    w.write("new.txt", "new\n");
    assert_eq!(w.listed(), (0, 1, 2));
    w.agrees((0, 1, 2), "after watchman stopped");
}

#[test]
fn list_is_right_after_watchman_restarted() {
    let Some(w) = Watched::with_wip() else {
        return;
    };
    // The watch is restored from the state file, but every clock of the old server
    // (the index's token, the cache's) now means a fresh instance.
    w.stop_watchman();
    assert!(w.watchman(&["watch-list"]), "watchman did not start again");
    w.write("a.txt", "changed\n");
    assert_eq!(w.listed(), (0, 1, 1));
    w.agrees((0, 1, 1), "after watchman restarted");
}

#[test]
fn a_hook_that_differs_from_the_sample_is_run_as_a_hook() {
    let Some(w) = Watched::new(&[("a.txt", "a\n")]) else {
        return;
    };
    let hook = w.env.root().join("fsmonitor-watchman");
    let mut content = fs::read(&hook).unwrap();
    content.extend_from_slice(b"\n# mine\n");
    fs::write(&hook, content).unwrap();
    w.write("a.txt", "changed\n");
    w.watchman_calls();
    assert_eq!(w.listed(), (0, 1, 0));
    assert!(w.watchman_calls().contains("-j"), "the hook did not run");
    w.agrees((0, 1, 0), "with a hook of its own");
}

/// The untracked cache and the monitor's answers are hints for `git par list` alone: a
/// command that removes or moves files (drop, finish, prune, run's clean-up, recover) asks
/// git for the full status. Only list and the modules behind it may name them.
#[test]
fn only_list_takes_answers_from_the_monitor_or_the_cache() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let allowed = [
        "commands/list.rs",
        "git/status.rs",
        "git/scan.rs",
        "git/fsmonitor.rs",
        "git/watchman.rs",
        "git/untracked_cache.rs",
        "git/mod.rs",
    ];
    let mut stack = vec![src.clone()];
    let mut offenders = Vec::new();
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(&src)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            let text = fs::read_to_string(&path).unwrap_or_default();
            let names = [
                "status_for_list",
                "untracked_cache",
                "scan::",
                "fsmonitor::",
                "watchman::",
            ];
            if names.iter().any(|n| text.contains(n)) && !allowed.contains(&rel.as_str()) {
                offenders.push(rel);
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:?}");
}
