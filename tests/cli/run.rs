//! `git par run`: one task and many, exit statuses, `{task}`, the environment, `--start` and
//! `--finish`, the plain output, and interrupts that leave nothing running and lose no work.

use std::fs;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

use crate::env::{Run, TestEnv, BIN};

/// `git-par` started in `repo/` in a process group of its own (so a test's terminal, if
/// any, plays no part), for tests that signal it.
pub(crate) fn spawn_par(env: &TestEnv, args: &[&str]) -> Child {
    let mut cmd = env.command(BIN, &env.repo());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    cmd.spawn().expect("spawn git-par")
}

pub(crate) fn signal(child: &Child, sig: Signal) {
    kill(Pid::from_raw(child.id() as i32), sig).expect("signal git-par");
}

/// Waits until `path` exists (a command writes it once it runs).
#[track_caller]
pub(crate) fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        sleep(Duration::from_millis(20));
    }
}

/// Processes (not zombies) whose working directory is inside `dir`.
pub(crate) fn processes_in(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(cwd) = fs::read_link(entry.path().join("cwd")) else {
            continue;
        };
        if cwd.starts_with(dir) {
            let cmdline = fs::read(entry.path().join("cmdline")).unwrap_or_default();
            found.push(format!(
                "{} {}",
                entry.file_name().to_string_lossy(),
                String::from_utf8_lossy(&cmdline).replace('\0', " ")
            ));
        }
    }
    found
}

/// Asserts that no process is left in the temp dir (allowing a moment for the kernel).
#[track_caller]
pub(crate) fn assert_nothing_running(env: &TestEnv) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = processes_in(&env.root());
        if left.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still running: {left:?}");
        sleep(Duration::from_millis(50));
    }
}

/// Waits for `child` and checks that it died of `sig`, as a shell would see it.
pub(crate) fn died_of(child: Child, sig: Signal) -> Run {
    let (status, run) = finish_output(child);
    assert_eq!(status.signal(), Some(sig as i32), "{}", run.stderr);
    run
}

pub(crate) fn assert_within(started: Instant, most: Duration) {
    assert!(started.elapsed() < most, "took {:?}", started.elapsed());
}

pub(crate) fn finish_output(child: Child) -> (std::process::ExitStatus, Run) {
    let out = child.wait_with_output().expect("wait for git-par");
    (out.status, out.into())
}

pub(crate) fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}", run.stdout))
}

pub(crate) fn task_json<'a>(summary: &'a Value, task: &str) -> &'a Value {
    summary["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["task"] == task)
        .unwrap_or_else(|| panic!("no {task} in {summary}"))
}

pub(crate) fn ready(env: &TestEnv, task: &str) -> PathBuf {
    env.root().join(format!("ready-{task}"))
}

#[test]
fn one_task_runs_in_its_worktree_with_the_environment_and_exit_status() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    let script = r#"printf '%s\n' "$PWD" "$GIT_PAR_TASK" "$GIT_PAR_BRANCH" "$GIT_PAR_BASE" \
        "$GIT_PAR_WORKTREE" "$GIT_PAR_MAIN_WORKTREE" "$1" > "$HOME/seen"; exit 3"#;
    let run = env
        .par([
            "run",
            "t1",
            "--",
            "sh",
            "-c",
            script,
            "sh",
            "arg-{task}-{task}",
        ])
        .code(3);
    let path = env.task_path("t1");
    let seen = fs::read_to_string(env.home().join("seen")).expect("seen");
    let want = [
        path.display().to_string(),
        "t1".into(),
        "par/t1".into(),
        "main".into(),
        path.display().to_string(),
        env.repo().display().to_string(),
        "arg-t1-t1".into(),
    ];
    assert_eq!(seen.lines().collect::<Vec<_>>(), want);
    assert!(
        run.stderr.contains("task 't1': exited 3 after ")
            && run
                .stderr
                .contains("0 commits, 0 files changed; kept (command-failed) at "),
        "{}",
        run.stderr
    );
    assert_eq!(env.branches(), vec!["main", "par/t1"]);
}

#[test]
fn one_task_summary_counts_commits_and_files() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    let script = "echo a > a && git add a && git commit -qm a && echo b > b && echo c > README";
    let run = env
        .par(["run", "t1", "--json", "--", "sh", "-c", script])
        .ok();
    assert!(
        run.stderr.contains("exited 0 after ")
            && run.stderr.contains("1 commit, 3 files changed; kept"),
        "{}",
        run.stderr
    );
    let summary = json(&run);
    let t1 = task_json(&summary, "t1");
    assert_eq!(
        (
            t1["exit"].as_i64(),
            t1["commits"].as_i64(),
            t1["changed_files"].as_i64()
        ),
        (Some(0), Some(1), Some(3))
    );
    assert_eq!(t1["outcome"], "kept");
}

#[test]
fn git_variables_from_the_caller_do_not_leak_into_the_command() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("GIT_DIR", env.repo().join(".git"))
        .env("GIT_WORK_TREE", env.repo())
        .env("GIT_INDEX_FILE", env.repo().join(".git/index"))
        .args([
            "run",
            "t1",
            "--",
            "sh",
            "-c",
            "git rev-parse --show-toplevel --abbrev-ref HEAD; env | grep '^GIT_DIR=' || true",
        ]);
    let run: Run = cmd.output().expect("run").into();
    let run = run.ok();
    assert_eq!(
        run.stdout,
        format!("{}\npar/t1\n", env.task_path("t1").display())
    );
}

#[test]
fn a_command_killed_by_a_signal_gives_128_plus_the_signal() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    env.par(["run", "t1", "--", "sh", "-c", "kill -TERM $$"])
        .code(143);
}

#[test]
fn a_missing_command_is_an_error_that_names_it() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    let run = env.par(["run", "t1", "--", "no-such-command-xyz"]).code(1);
    assert!(
        run.stderr
            .contains("error: could not run 'no-such-command-xyz' in task 't1'"),
        "{}",
        run.stderr
    );
    // The journal entry is closed: the next command does not report an interrupted run.
    let list = env.par(["list"]).ok();
    assert!(!list.stderr.contains("interrupted"), "{}", list.stderr);
}

#[test]
fn unknown_tasks_are_refused_before_anything_runs_unless_start_is_given() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    let run = env
        .par(["run", "t1", "t2", "--", "touch", "{task}.ran"])
        .code(3);
    assert!(
        run.stderr.contains("error: no task named 't2'"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("pass --start"), "{}", run.stderr);
    assert!(!env.task_path("t1").join("t1.ran").exists());

    env.par(["run", "t1", "t2", "--start", "--", "touch", "{task}.ran"])
        .ok();
    assert!(env.task_path("t1").join("t1.ran").exists());
    assert!(env.task_path("t2").join("t2.ran").exists());
    assert_eq!(env.branches(), vec!["main", "par/t1", "par/t2"]);
}

#[test]
fn start_with_base_creates_the_task_there() {
    let env = TestEnv::new();
    let first = env.git_out(["rev-parse", "HEAD"]);
    env.write("repo/second", "2\n");
    env.commit_all("repo", "second");
    env.par(["run", "old", "--start", "--base", &first, "--", "true"])
        .ok();
    assert_eq!(env.git_out(["rev-parse", "par/old"]), first);
}

#[test]
fn bad_usage_exits_2() {
    let env = TestEnv::new();
    let twice = env.par(["run", "a", "a", "--start", "--", "true"]).code(2);
    assert!(twice.stderr.contains("named twice"), "{}", twice.stderr);
    env.par(["run", "-j", "0", "a", "b", "--start", "--", "true"])
        .code(2);
    env.par(["run", "a"]).code(2);
    let base = env
        .par(["run", "a", "b", "--start", "--base", "nope", "--", "true"])
        .code(2);
    assert!(
        base.stderr.contains("error: unknown revision 'nope'"),
        "{}",
        base.stderr
    );
    assert_eq!(env.branches(), vec!["main"]);
}

#[test]
fn many_tasks_write_logs_and_plain_lines_and_exit_1_when_one_fails() {
    let env = TestEnv::new();
    let run = env
        .par([
            "run",
            "t1",
            "t2",
            "t3",
            "--start",
            "--json",
            "--",
            "sh",
            "-c",
            "echo out-$GIT_PAR_TASK; echo err-{task} >&2; test {task} != t2",
        ])
        .code(1);
    let logs = env.repo().join(".git/par/logs");
    for task in ["t1", "t2", "t3"] {
        let log = fs::read_to_string(logs.join(format!("{task}.log"))).expect("log");
        assert_eq!(log, format!("out-{task}\nerr-{task}\n"));
        let running = format!(
            "{task}: running, output in {}\n",
            logs.join(format!("{task}.log")).display()
        );
        assert!(run.stderr.contains(&running), "{}", run.stderr);
    }
    assert!(run.stderr.contains("t1: exited 0 after "), "{}", run.stderr);
    assert!(run.stderr.contains("t2: exited 1 after "), "{}", run.stderr);
    // Nothing animated: no carriage returns or escape sequences without a terminal.
    assert!(!run.stderr.contains('\r') && !run.stderr.contains('\x1b'));
    let summary = json(&run);
    assert_eq!(summary["interrupted"], Value::Null);
    // t2 failed and held no work: the run created it, so it is removed (its log stays).
    for (task, exit, outcome, reason) in [
        ("t1", 0, "kept", Value::Null),
        ("t2", 1, "removed", "command-failed".into()),
        ("t3", 0, "kept", Value::Null),
    ] {
        let t = task_json(&summary, task);
        assert_eq!(t["exit"].as_i64(), Some(exit), "{t}");
        assert_eq!(t["outcome"], outcome, "{t}");
        assert_eq!(t["reason"], reason, "{t}");
        assert!(t["duration_ms"].is_u64());
        assert_eq!(
            t["log"].as_str().map(PathBuf::from),
            Some(logs.join(format!("{task}.log")))
        );
    }
}

/// Runs four tasks that record when they start and end, and returns the most that ran at
/// the same time.
fn most_at_once(env: &TestEnv, extra: &[&str]) -> usize {
    let times = env.root().join("times");
    let script = format!(
        "echo start $(date +%s%N) >> {0}; sleep 0.4; echo end $(date +%s%N) >> {0}",
        times.display()
    );
    let mut args = vec!["run", "a", "b", "c", "d", "--start"];
    args.extend(extra);
    args.extend(["--", "sh", "-c", &script]);
    env.par(&args).ok();
    let mut events: Vec<(u128, i32)> = fs::read_to_string(&times)
        .expect("times")
        .lines()
        .map(|l| {
            let (kind, at) = l.split_once(' ').expect("event");
            (
                at.parse().expect("time"),
                if kind == "start" { 1 } else { -1 },
            )
        })
        .collect();
    events.sort_by_key(|&(at, delta)| (at, delta));
    let (mut now, mut most) = (0, 0);
    for (_, delta) in events {
        now += delta;
        most = most.max(now);
    }
    fs::remove_file(times).expect("rm times");
    most as usize
}

#[test]
fn at_most_j_commands_run_at_once_and_max_workers_is_the_default() {
    let env = TestEnv::new();
    assert_eq!(most_at_once(&env, &["-j", "2"]), 2);
    env.git_in("repo", ["config", "par.maxWorkers", "1"]).ok();
    assert_eq!(most_at_once(&env, &[]), 1);
    assert_eq!(most_at_once(&env, &["-j", "4"]), 4);
}

#[test]
fn finish_merges_each_task_whose_command_succeeded() {
    let env = TestEnv::new();
    let script =
        "echo {task} > {task}.txt && git add . && git commit -qm {task} && test {task} != t3";
    let run = env
        .par([
            "run", "t1", "t2", "t3", "--start", "--finish", "--json", "--", "sh", "-c", script,
        ])
        .code(1);
    assert_eq!(env.branches(), vec!["main", "par/t3"]);
    assert_eq!(env.read("repo/t1.txt"), "t1\n");
    assert_eq!(env.read("repo/t2.txt"), "t2\n");
    assert!(!env.repo().join("t3.txt").exists());
    assert!(run.stderr.contains("t1: exited 0 after "), "{}", run.stderr);
    assert!(run.stderr.contains("merged into main"), "{}", run.stderr);
    let summary = json(&run);
    let t1 = task_json(&summary, "t1");
    assert_eq!(t1["outcome"], "merged");
    assert_eq!(t1["reason"], Value::Null);
    assert_eq!(t1["merged_into"], "main");
    assert_eq!(t1["commits"].as_i64(), Some(1));
    let t3 = task_json(&summary, "t3");
    assert_eq!(
        (&t3["outcome"], &t3["reason"]),
        (&"kept".into(), &"command-failed".into())
    );
    assert_eq!(t3["holds"], "1 commit");
    assert_eq!(
        t3["path"].as_str().map(PathBuf::from),
        Some(env.task_path("t3"))
    );
}

#[test]
fn finish_conflict_keeps_that_task_and_the_others_go_on() {
    let env = TestEnv::new();
    // t2 commits a change to README that clashes with t1's, and does so later.
    let script = "if [ {task} = t2 ]; then sleep 1; fi; \
                  if [ {task} = t3 ]; then echo t3 > t3.txt; else echo {task} > README; fi; \
                  git add . && git commit -qm {task}";
    let run = env
        .par([
            "run", "t1", "t2", "t3", "-j", "3", "--start", "--finish", "--", "sh", "-c", script,
        ])
        .code(1);
    assert_eq!(env.branches(), vec!["main", "par/t2"]);
    assert_eq!(env.read("repo/README"), "t1\n");
    assert_eq!(env.read("repo/t3.txt"), "t3\n");
    assert!(env.task_path("t2").exists());
    assert!(run.stderr.contains("t2: exited 0 after "), "{}", run.stderr);
    assert!(
        run.stderr.contains(", kept (conflict: 1 commit)\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Kept tasks:\n  t2 (conflict): 1 commit, "),
        "{}",
        run.stderr
    );
    // The main worktree is left as it was: no half-made merge.
    assert_eq!(env.git_out(["status", "--porcelain"]), "");
}

#[test]
fn one_task_finish_merges_on_success_and_keeps_on_failure() {
    let env = TestEnv::new();
    let commit = "echo x > x.txt && git add . && git commit -qm x";
    let run = env
        .par(["run", "ok", "--start", "--finish", "--", "sh", "-c", commit])
        .ok();
    assert!(
        run.stderr.contains("task 'ok': exited 0 after "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("1 commit, 1 file changed; merged into main"),
        "{}",
        run.stderr
    );
    assert_eq!(env.read("repo/x.txt"), "x\n");
    let failing = "echo y > y.txt && git add . && git commit -qm y && exit 4";
    env.par([
        "run", "bad", "--start", "--finish", "--", "sh", "-c", failing,
    ])
    .code(4);
    assert_eq!(env.branches(), vec!["main", "par/bad"]);
}

#[test]
fn a_task_that_does_not_fit_with_nothing_else_running_is_given_up_with_reason_no_space() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.minFreeSpace", "1000000g"])
        .ok();
    let run = env
        .par(["run", "t1", "t2", "--start", "--json", "--", "true"])
        .code(1);
    assert!(
        run.stderr
            .contains("error: not enough disk space for task 't1'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("t2: not started: not enough disk space for task 't2'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Kept tasks:\n  t1 (no-space): not created\n"),
        "{}",
        run.stderr
    );
    let summary = json(&run);
    for task in ["t1", "t2"] {
        let t = task_json(&summary, task);
        assert_eq!(
            (&t["outcome"], &t["reason"]),
            (&"kept".into(), &"no-space".into())
        );
        assert!(t["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("not enough disk space")));
        assert!(t["error"]["hints"].is_array(), "{t}");
    }
    assert_eq!(env.branches(), vec!["main"]);
}

/// Two tasks created by the run: `work` commits and leaves a file, `idle` does nothing; both
/// then wait in a command that `script` describes.
fn interrupted_run(env: &TestEnv, script: &str, extra: &[&str]) -> Child {
    let wait = format!(
        "if [ {{task}} = work ]; then echo w > w && git add w && git commit -qm w && echo u > u; fi; \
         touch {root}/ready-{{task}}; {script}",
        root = env.root().display()
    );
    let mut args = vec!["run", "work", "idle", "--start", "--json"];
    args.extend(extra);
    args.extend(["--", "sh", "-c", &wait]);
    let child = spawn_par(env, &args);
    wait_for(&ready(env, "work"));
    wait_for(&ready(env, "idle"));
    child
}

#[track_caller]
fn assert_work_kept_and_idle_removed(env: &TestEnv, run: &Run) {
    assert_eq!(env.branches(), vec!["main", "par/work"]);
    assert!(!env.task_path("idle").exists());
    assert_eq!(env.read("repo.par/work/u"), "u\n");
    assert_eq!(env.git_out(["log", "-1", "--format=%s", "par/work"]), "w");
    assert!(
        run.stderr
            .contains("Kept tasks:\n  work (interrupted): 1 commit, 1 uncommitted change, "),
        "{}",
        run.stderr
    );
    let summary = json(run);
    for task in ["idle", "work"] {
        assert_eq!(task_json(&summary, task)["reason"], "interrupted");
    }
    assert_eq!(task_json(&summary, "idle")["outcome"], "removed");
    assert_eq!(task_json(&summary, "work")["outcome"], "kept");
    // No interrupted run is reported afterwards: the journal entry was closed.
    let list = env.par(["list"]).ok();
    assert!(!list.stderr.contains("interrupted"), "{}", list.stderr);
}

#[test]
fn ctrl_c_stops_every_command_removes_empty_tasks_and_keeps_work() {
    let env = TestEnv::new();
    let child = interrupted_run(&env, "exec sleep 30", &[]);
    let started = Instant::now();
    signal(&child, Signal::SIGINT);
    let run = died_of(child, Signal::SIGINT);
    assert_within(started, Duration::from_secs(8));
    assert_nothing_running(&env);
    assert_work_kept_and_idle_removed(&env, &run);
    assert_eq!(json(&run)["interrupted"], "SIGINT");
    assert!(
        run.stderr.contains("work: killed by SIGINT after "),
        "{}",
        run.stderr
    );
}

#[test]
fn ctrl_c_stops_what_the_commands_started_even_when_they_outlive_them() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.killTimeout", "1"]).ok();
    // A background job of a script ignores SIGINT, and the shell dies at once: the sleep is
    // left in the command's process group after its leader is gone.
    let child = interrupted_run(&env, "sleep 30 & wait", &[]);
    signal(&child, Signal::SIGINT);
    let run = died_of(child, Signal::SIGINT);
    assert_nothing_running(&env);
    assert_work_kept_and_idle_removed(&env, &run);
}

/// Waits until `n` `sleep` processes run in this test's folders with SIGINT not ignored.
fn wait_for_sleepers_that_take_sigint(env: &TestEnv, n: usize) {
    let root = env.root();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let found = std::fs::read_dir("/proc")
            .expect("/proc")
            .flatten()
            .filter(|e| {
                let pid = e.path();
                let comm = std::fs::read_to_string(pid.join("comm")).unwrap_or_default();
                let status = std::fs::read_to_string(pid.join("status")).unwrap_or_default();
                let ignores_int = status
                    .lines()
                    .find_map(|l| l.strip_prefix("SigIgn:"))
                    .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
                    .is_some_and(|m| m & 2 != 0);
                comm.trim() == "sleep"
                    && !ignores_int
                    && std::fs::read_link(pid.join("cwd")).is_ok_and(|c| c.starts_with(&root))
            })
            .count();
        if found >= n {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "only {found} sleep(s) take SIGINT"
        );
        sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_reaches_the_whole_process_group_of_each_command() {
    let env = TestEnv::new();
    // Only a signal to the group reaches the shell's child, which takes SIGINT here.
    let child = interrupted_run(&env, "env --default-signal=INT sleep 30 & wait", &[]);
    // Until `env` has made SIGINT count again and become the sleep, the key is ignored
    // there (a background job's SIGINT is), and only the kill timeout would end it.
    wait_for_sleepers_that_take_sigint(&env, 2);
    let started = Instant::now();
    signal(&child, Signal::SIGINT);
    died_of(child, Signal::SIGINT);
    assert_within(started, Duration::from_secs(5));
    assert_nothing_running(&env);
}

#[test]
fn commands_that_ignore_ctrl_c_are_killed_after_the_kill_timeout() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.killTimeout", "1"]).ok();
    let child = interrupted_run(&env, "trap '' INT; exec sleep 30", &[]);
    let started = Instant::now();
    signal(&child, Signal::SIGINT);
    let run = died_of(child, Signal::SIGINT);
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "{took:?}");
    assert!(took < Duration::from_secs(8), "{took:?}");
    assert!(run.stderr.contains("killed by SIGKILL"), "{}", run.stderr);
    assert_nothing_running(&env);
    assert_work_kept_and_idle_removed(&env, &run);
}

#[test]
fn a_second_ctrl_c_kills_at_once() {
    let env = TestEnv::new();
    let child = interrupted_run(&env, "trap '' INT; exec sleep 30", &[]);
    let started = Instant::now();
    signal(&child, Signal::SIGINT);
    // A separate press: further apart than git's forwarded echo of the same one.
    sleep(Duration::from_millis(600));
    signal(&child, Signal::SIGINT);
    let run = died_of(child, Signal::SIGINT);
    assert_within(started, Duration::from_secs(5));
    assert!(run.stderr.contains("killed by SIGKILL"), "{}", run.stderr);
    assert_nothing_running(&env);
    assert_work_kept_and_idle_removed(&env, &run);
}

#[test]
fn sigterm_is_passed_to_every_command_and_git_par_dies_by_it() {
    let env = TestEnv::new();
    let child = interrupted_run(&env, "exec sleep 30", &[]);
    signal(&child, Signal::SIGTERM);
    let run = died_of(child, Signal::SIGTERM);
    assert!(run.stderr.contains("killed by SIGTERM"), "{}", run.stderr);
    assert_nothing_running(&env);
    assert_work_kept_and_idle_removed(&env, &run);
}

#[test]
fn killing_git_par_stops_its_commands_and_the_next_command_reports_the_run() {
    let env = TestEnv::new();
    let child = interrupted_run(&env, "exec sleep 30", &[]);
    signal(&child, Signal::SIGKILL);
    died_of(child, Signal::SIGKILL);
    assert_nothing_running(&env);
    let list = env.par(["list"]).ok();
    assert!(
        list.stderr
            .contains("warning: an interrupted 'git par run work idle'"),
        "{}",
        list.stderr
    );
    env.par(["recover"]).ok();
    let list = env.par(["list"]).ok();
    assert!(!list.stderr.contains("interrupted"), "{}", list.stderr);
    // The work is still there.
    assert_eq!(env.read("repo.par/work/u"), "u\n");
}

#[test]
fn killing_git_par_also_stops_what_its_commands_started() {
    let env = TestEnv::new();
    let child = interrupted_run(&env, "sleep 30 & wait", &[]);
    signal(&child, Signal::SIGKILL);
    let _ = finish_output(child);
    assert_nothing_running(&env);
}

#[test]
fn one_task_passes_sigterm_on_and_exits_with_the_command_status() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    let script = format!(
        "trap 'echo got-term; exit 5' TERM; touch {}; while :; do sleep 0.05; done",
        ready(&env, "t1").display()
    );
    let child = spawn_par(&env, &["run", "t1", "--", "sh", "-c", &script]);
    wait_for(&ready(&env, "t1"));
    signal(&child, Signal::SIGTERM);
    let (status, run) = finish_output(child);
    assert_eq!(status.code(), Some(5), "{}", run.stderr);
    assert_eq!(run.stdout, "got-term\n");
    assert_nothing_running(&env);
    assert_eq!(env.branches(), vec!["main", "par/t1"]);
}

#[test]
fn one_task_interrupted_without_a_terminal_passes_sigint_on_and_removes_an_empty_new_task() {
    let env = TestEnv::new();
    let script = format!("touch {}; exec sleep 30", ready(&env, "t1").display());
    let child = spawn_par(&env, &["run", "t1", "--start", "--", "sh", "-c", &script]);
    wait_for(&ready(&env, "t1"));
    signal(&child, Signal::SIGINT);
    let run = died_of(child, Signal::SIGINT);
    assert!(run.stderr.contains("killed by SIGINT"), "{}", run.stderr);
    assert!(run.stderr.contains("; removed"), "{}", run.stderr);
    assert_eq!(env.branches(), vec!["main"]);
    assert_nothing_running(&env);
}

#[test]
fn a_task_whose_worktree_is_gone_is_refused_by_name_and_the_others_run() {
    let env = TestEnv::new();
    env.par(["start", "gone"]).ok();
    env.par(["start", "here"]).ok();
    fs::remove_dir_all(env.task_path("gone")).expect("rm worktree");
    let run = env.par(["run", "gone", "--", "true"]).code(1);
    assert!(
        run.stderr
            .contains("error: task 'gone' has no worktree at "),
        "{}",
        run.stderr
    );
    let run = env
        .par(["run", "gone", "here", "--", "touch", "ran"])
        .code(1);
    assert!(
        run.stderr
            .contains("gone: not started: task 'gone' has no worktree"),
        "{}",
        run.stderr
    );
    assert!(env.task_path("here").join("ran").exists());
}

/// A command's background child that is still writing when the command exits: in many-task
/// mode the run waits for the command's process group before it finishes the task, so the
/// late file is there to be seen (the task is kept with it, uncommitted) and never removed.
#[test]
fn run_finish_waits_for_what_the_command_left_running() {
    let env = TestEnv::new();
    for task in ["a", "b"] {
        env.par(["start", task]).ok();
    }
    let late = "(sleep 1; echo late > late.txt) & exit 0";
    let run = env.par(["run", "a", "b", "--finish", "--", "sh", "-c", late]);
    assert_ne!(run.code, 0, "{}", run.stderr);
    for task in ["a", "b"] {
        assert_eq!(env.read(&format!("repo.par/{task}/late.txt")), "late\n");
    }
}

/// With one task the command runs in git-par's own process group; what it leaves running is
/// adopted by git-par (its subreaper) and waited for, so the finish sees the late file and
/// keeps the task for it instead of merging and removing the worktree under the child.
#[test]
fn run_finish_of_one_task_waits_for_what_the_command_left_running() {
    let env = TestEnv::new();
    env.par(["start", "a"]).ok();
    let late = "(sleep 2; echo late > late.txt) & exit 0";
    let started = Instant::now();
    let run = env.par(["run", "a", "--finish", "--json", "--", "sh", "-c", late]);
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{}",
        run.stderr
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(env.read("repo.par/a/late.txt"), "late\n");
    let a = task_json(&json(&run), "a").clone();
    assert_eq!(
        (&a["outcome"], &a["reason"]),
        (&"kept".into(), &"uncommitted-left".into())
    );
    assert_nothing_running(&env);
}

/// A child that outlives the par.killTimeout given after the command exits is stopped.
#[test]
fn one_task_stops_what_the_command_left_running_after_the_kill_timeout() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.killTimeout", "1"]).ok();
    env.par(["start", "a"]).ok();
    let started = Instant::now();
    let run = env
        .par(["run", "a", "--", "sh", "-c", "sleep 60 & exit 0"])
        .ok();
    assert_within(started, Duration::from_secs(6));
    assert!(
        run.stderr
            .contains("task 'a': stopped 1 process(es) its command left running"),
        "{}",
        run.stderr
    );
    assert_nothing_running(&env);
}
