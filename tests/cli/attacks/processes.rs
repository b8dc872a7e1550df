//! Processes inside a task's worktree: `drop` and `finish` refuse while one has its working
//! directory there (naming its pid), or stop it with `--stop-processes`.

use std::os::unix::process::ExitStatusExt;
use std::time::Duration;

use super::{assert_names, tip_of, Bg};
use crate::env::TestEnv;

/// `sleep 5` (or `script`) with its working directory in task `x`'s worktree at `sub`.
fn squatter(env: &TestEnv, sub: &str, script: &str) -> Bg {
    let dir = env.task_path("x").join(sub);
    std::fs::create_dir_all(&dir).expect("dir");
    let bg = Bg::sh_in(env, &dir, script);
    // The shell's working directory is set before it runs anything; give exec a moment.
    std::thread::sleep(Duration::from_millis(100));
    bg
}

#[test]
fn drop_force_removes_a_worktree_a_process_is_working_in() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let mut sleeper = squatter(&env, "", "exec sleep 5");
    let before = env.state();
    let run = env.par(["drop", "--force", "x"]).code(1);
    assert_names(&run, &sleeper.pid.to_string());
    assert!(sleeper.running(), "the process was stopped");
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo.par/x/work.txt"), "task work\n");
}

#[test]
fn finish_removes_a_worktree_a_process_is_working_in() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let mut sleeper = squatter(&env, "deep/er", "exec sleep 5");
    let before = env.state();
    let run = env.par(["finish", "x"]).code(1);
    assert_names(&run, &sleeper.pid.to_string());
    assert!(sleeper.running(), "the process was stopped");
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo.par/x/work.txt"), "task work\n");
}

#[test]
fn drop_force_stop_processes_does_not_stop_a_process_in_the_worktree() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let mut sleeper = squatter(&env, "", "exec sleep 5");
    env.par(["drop", "--force", "--stop-processes", "x"]).ok();
    let status = sleeper.status(Duration::from_secs(3));
    assert_eq!(status.signal(), Some(15), "{status:?}");
    assert!(!env.task_path("x").exists());
    assert!(!env.branches().contains(&"par/x".to_string()));
    assert!(!env.par_refs().is_empty(), "the work was not saved");
}

#[test]
fn finish_stop_processes_does_not_kill_a_process_that_ignores_sigterm() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    env.git_in("repo", ["config", "par.killTimeout", "1"]).ok();
    let mut stubborn = squatter(&env, "", "trap '' TERM; exec sleep 5");
    env.par(["finish", "--stop-processes", "x"]).ok();
    let status = stubborn.status(Duration::from_secs(3));
    assert_eq!(status.signal(), Some(9), "{status:?}");
    assert_eq!(env.read("repo/work.txt"), "task work\n");
    assert!(!env.task_path("x").exists());
    assert_eq!(tip_of(&env, "par/x"), "");
}
