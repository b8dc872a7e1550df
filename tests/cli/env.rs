//! `TestEnv`: a temp folder with `home/` and `repo/`, and a hermetic git around the real
//! `git-par` binary (no inherited config, fixed names and dates, C locale, UTC).

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct TestEnv {
    pub dir: tempfile::TempDir,
}

pub const BIN: &str = env!("CARGO_BIN_EXE_git-par");

impl Drop for TestEnv {
    /// Lets the background deletions that finish and drop started end before the temp dir
    /// is deleted under them.
    fn drop(&mut self) {
        self.wait_for_background();
    }
}

/// What a command printed and how it ended.
pub struct Run {
    pub code: i32,
    /// The signal that ended the process, if one did.
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        use std::os::unix::process::ExitStatusExt;
        Run {
            code: out.status.code().unwrap_or(-1),
            signal: out.status.signal(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn killed_by(self, signal: i32) -> Run {
        assert_eq!(
            self.signal,
            Some(signal),
            "expected death by signal {signal}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn code(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

impl TestEnv {
    /// A repository `repo/` on branch `main` with one commit holding `README`.
    pub fn new() -> TestEnv {
        let env = TestEnv::empty();
        env.git(["init", "-q", "-b", "main", "repo"]).ok();
        env.write("repo/README", "hello\n");
        env.git_in("repo", ["add", "README"]).ok();
        env.git_in("repo", ["commit", "-q", "-m", "initial"]).ok();
        env
    }

    /// Only `home/`: no repository yet.
    pub fn empty() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("git-par-test")
            .tempdir()
            .expect("temp dir");
        let env = TestEnv { dir };
        fs::create_dir_all(env.home().join(".config")).expect("home");
        fs::write(
            env.home().join("gitconfig"),
            "[user]\n\tname = Test User\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n[advice]\n\tdetachedHead = false\n",
        )
        .expect("gitconfig");
        env
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonical temp dir")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn repo(&self) -> PathBuf {
        self.root().join("repo")
    }

    /// Waits until no process holds a journal entry's lock (the background deletions of
    /// finish and drop), as `git par recover --wait` does, without recovering anything.
    pub fn wait_for_background(&self) {
        // A test may have stopped one (a SIGSTOP failpoint) and failed before resuming it.
        for pid in self.deleters() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGCONT,
            );
        }
        let dir = self.dir.path().join("repo/.git/par/journal");
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|x| x == "lock") {
                if let Ok(file) = fs::File::open(entry.path()) {
                    let _ = nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockShared);
                }
            }
        }
    }

    /// The detached deletion processes (`git-par __delete-trash`) working in this test's
    /// repository now.
    pub fn deleters(&self) -> Vec<i32> {
        let root = self.root();
        let Ok(procs) = fs::read_dir("/proc") else {
            return Vec::new();
        };
        procs
            .flatten()
            .filter_map(|e| e.file_name().to_string_lossy().parse::<i32>().ok())
            .filter(|pid| {
                let cmd = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let cwd = fs::read_link(format!("/proc/{pid}/cwd")).unwrap_or_default();
                String::from_utf8_lossy(&cmd).contains("__delete-trash") && cwd.starts_with(&root)
            })
            .collect()
    }

    /// A `PATH` whose `git` runs the shell code `before` (with git's arguments as `"$@"`),
    /// then the real git.
    pub fn git_wrapper(&self, before: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let bin = self.root().join("bin");
        fs::create_dir_all(&bin).unwrap();
        let real = Command::new("sh")
            .args(["-c", "command -v git"])
            .output()
            .unwrap()
            .stdout;
        let real = String::from_utf8(real).unwrap();
        let script = format!("#!/bin/sh\n{before}\nexec '{}' \"$@\"\n", real.trim());
        fs::write(bin.join("git"), script).unwrap();
        fs::set_permissions(bin.join("git"), fs::Permissions::from_mode(0o755)).unwrap();
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
    }

    /// Where tasks go by default: `../repo.par/<task>`.
    pub fn task_path(&self, task: &str) -> PathBuf {
        self.root().join("repo.par").join(task)
    }

    /// Applies the hermetic environment to any command.
    pub fn configure(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", self.home().join("gitconfig"))
            .env("GIT_AUTHOR_NAME", "Test User")
            .env("GIT_AUTHOR_EMAIL", "test@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_NAME", "Test User")
            .env("GIT_COMMITTER_EMAIL", "test@example.com")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_EDITOR", ":")
            .env("LC_ALL", "C")
            .env("TZ", "UTC")
            .env("NO_COLOR", "1");
    }

    pub fn command(&self, program: impl AsRef<OsStr>, dir: &Path) -> Command {
        let mut cmd = Command::new(program);
        self.configure(&mut cmd);
        cmd.current_dir(dir);
        cmd
    }

    /// `git-par <args>` run in `repo/<sub>`.
    pub fn par_in<I, S>(&self, sub: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(BIN, &self.root().join(sub));
        cmd.args(args);
        cmd.output().expect("run git-par").into()
    }

    /// `git-par <args>` run in `repo/`.
    pub fn par<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.par_in("repo", args)
    }

    /// `git-par <args>` in `repo/` with `GIT_PAR_FAILPOINT=<failpoint>`: crashes or signals
    /// itself at that step.
    pub fn par_failing<I, S>(&self, failpoint: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(BIN, &self.repo());
        cmd.env("GIT_PAR_FAILPOINT", failpoint).args(args);
        cmd.output().expect("run git-par").into()
    }

    /// Everything a test compares to say "the repository is as it was": refs, worktrees,
    /// the stash, the worktree dir's folders, git-par's journal and the main worktree's status.
    pub fn state(&self) -> String {
        // A background deletion still at work is no state of the repository's.
        self.wait_for_background();
        let listing = |dir: PathBuf| names_in(&dir).join(",");
        [
            self.git_out(["for-each-ref", "--format=%(refname) %(objectname)"]),
            self.git_out(["worktree", "list", "--porcelain"]),
            self.git_out(["stash", "list"]),
            self.git_in("repo", ["status", "--porcelain", "--untracked-files=all"])
                .ok()
                .stdout,
            format!("tasks dir: {}", listing(self.root().join("repo.par"))),
            format!("journal: {}", listing(self.repo().join(".git/par/journal"))),
        ]
        .join("\n")
    }

    /// `git par <args>` through git's own dispatch, with the binary's folder on PATH.
    pub fn git_par<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let bin_dir = Path::new(BIN).parent().expect("bin dir");
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = self.command("git", &self.repo());
        cmd.env("PATH", path).arg("par").args(args);
        cmd.output().expect("run git par").into()
    }

    pub fn git<I, S>(&self, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.git_in(".", args)
    }

    pub fn git_in<I, S>(&self, sub: &str, args: I) -> Run
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command("git", &self.root().join(sub));
        cmd.args(args);
        cmd.output().expect("run git").into()
    }

    /// Trimmed stdout of a git command in `repo/` that must succeed.
    pub fn git_out<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.git_in("repo", args).ok().stdout.trim_end().to_string()
    }

    pub fn write(&self, rel: &str, content: &str) {
        let path = self.root().join(rel);
        fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs::write(path, content).expect("write");
    }

    pub fn read(&self, rel: &str) -> String {
        fs::read_to_string(self.root().join(rel)).expect("read")
    }

    /// Commits everything in `repo/<sub>` (a worktree) with `message`.
    pub fn commit_all(&self, sub: &str, message: &str) {
        self.git_in(sub, ["add", "-A"]).ok();
        self.git_in(sub, ["commit", "-q", "-m", message]).ok();
    }

    /// Starts `task` and commits `file` = `content` in its worktree.
    pub fn task_with_commit(&self, task: &str, file: &str, content: &str) {
        self.par(["start", task]).ok();
        self.write(&format!("repo.par/{task}/{file}"), content);
        self.commit_all(&format!("repo.par/{task}"), &format!("{task}: {file}"));
    }

    /// `git par recover` finds nothing left to put right.
    pub fn assert_nothing_to_recover(&self) {
        let run = self.par(["recover"]).ok();
        assert!(run.stderr.contains("Nothing to recover."), "{}", run.stderr);
    }

    /// Local branch names.
    pub fn branches(&self) -> Vec<String> {
        self.git_out(["for-each-ref", "--format=%(refname:short)", "refs/heads"])
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Paths of all worktrees git knows, main first.
    pub fn worktrees(&self) -> Vec<PathBuf> {
        self.git_out(["worktree", "list", "--porcelain"])
            .lines()
            .filter_map(|l| l.strip_prefix("worktree "))
            .map(PathBuf::from)
            .collect()
    }

    /// Refs under `refs/par/`.
    pub fn par_refs(&self) -> Vec<String> {
        self.git_out(["for-each-ref", "--format=%(refname)", "refs/par"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The names in folder `dir`, sorted (none when it cannot be read).
pub fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
