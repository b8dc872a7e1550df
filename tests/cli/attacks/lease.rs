//! Two commands on one task: a per-task lease makes the second refuse at once (naming the
//! holder) or, with `--wait`, wait for the first to be done.

use std::time::{Duration, Instant};

use super::{assert_names, assert_task_intact, hook, tip_of, wait_for, Bg};
use crate::env::{Run, TestEnv};

/// `git par run x -- <sleep>` in the background, once its command is running; the file
/// `running` holds the command's pid.
fn run_in_x(env: &TestEnv, secs: u32) -> Bg {
    let running = env.root().join("running");
    let script = format!("echo $$ > '{}'; exec sleep {secs}", running.display());
    let bg = Bg::par(env, &["run", "x", "--", "sh", "-c", &script]);
    wait_for(&running);
    bg
}

/// The refusal names a holder: git-par's run or the command it runs.
#[track_caller]
fn assert_names_holder(env: &TestEnv, run: &Run, holder: &Bg) {
    let command = env.read("running").trim().to_string();
    let text = super::said(run);
    assert!(
        text.contains(&holder.pid.to_string()) || text.contains(&command),
        "names neither git-par's pid {} nor the command's {command}\n{}",
        holder.pid,
        text
    );
}

/// The command started at `started` went ahead only once the run's two-second command had
/// ended, and the run ended well.
#[track_caller]
fn assert_waited(started: Instant, holder: &mut Bg) {
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "went ahead after {:?}, while the run was still going",
        started.elapsed()
    );
    let run = holder.run(Duration::from_secs(10));
    assert_eq!(run.code, 0, "the run failed:\n{}", run.stderr);
}

#[test]
fn drop_force_tears_down_a_task_while_run_works_in_it() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    env.write("repo.par/x/wip.txt", "uncommitted\n");
    let tip = tip_of(&env, "par/x");
    let mut holder = run_in_x(&env, 3);
    let started = Instant::now();
    let run = env.par(["drop", "--force", "x"]).code(1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_names_holder(&env, &run, &holder);
    assert!(holder.running(), "the run was stopped");
    assert_task_intact(&env, "x", "work.txt", "task work\n", &tip);
    assert_eq!(env.read("repo.par/x/wip.txt"), "uncommitted\n");
    assert!(holder.status(Duration::from_secs(10)).success());
}

#[test]
fn finish_merges_and_tears_down_a_task_while_run_works_in_it() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let tip = tip_of(&env, "par/x");
    let main = tip_of(&env, "main");
    let mut holder = run_in_x(&env, 3);
    let started = Instant::now();
    let run = env.par(["finish", "x"]).code(1);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_names_holder(&env, &run, &holder);
    assert_task_intact(&env, "x", "work.txt", "task work\n", &tip);
    assert_eq!(tip_of(&env, "main"), main, "main moved");
    assert!(holder.status(Duration::from_secs(10)).success());
}

#[test]
fn drop_force_wait_does_not_wait_for_a_run_in_the_task() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let mut holder = run_in_x(&env, 2);
    let started = Instant::now();
    env.par(["drop", "--force", "--wait", "x"]).ok();
    assert_waited(started, &mut holder);
    assert!(!env.task_path("x").exists());
    assert!(!env.branches().contains(&"par/x".to_string()));
}

#[test]
fn finish_wait_does_not_wait_for_a_run_in_the_task() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let mut holder = run_in_x(&env, 2);
    let started = Instant::now();
    env.par(["finish", "--wait", "x"]).ok();
    assert_waited(started, &mut holder);
    assert_eq!(env.read("repo/work.txt"), "task work\n");
    assert!(!env.task_path("x").exists());
    assert!(!env.branches().contains(&"par/x".to_string()));
}

#[test]
fn drop_force_during_starts_checkout_leaves_a_half_made_task() {
    let env = TestEnv::new();
    let checking_out = env.root().join("checking-out");
    hook(
        &env,
        "post-checkout",
        &format!("touch '{}'\nsleep 3", checking_out.display()),
    );
    let mut start = Bg::par(&env, &["start", "x"]);
    wait_for(&checking_out);
    let run = env.par(["drop", "--force", "x"]).code(1);
    assert_names(&run, "x");
    start.run(Duration::from_secs(20)).ok();
    let path = env.task_path("x");
    assert_eq!(env.read("repo.par/x/README"), "hello\n");
    assert!(
        env.worktrees().contains(&path),
        "git does not know {}",
        path.display()
    );
    assert_eq!(tip_of(&env, "par/x"), tip_of(&env, "main"));
    let list = env.par(["list", "--porcelain"]).ok();
    let line = list
        .stdout
        .lines()
        .find(|l| l.starts_with("x\t"))
        .unwrap_or_else(|| panic!("x is not listed:\n{}", list.stdout));
    for flag in ["missing", "no-branch", "unregistered"] {
        assert!(!line.contains(flag), "{line}");
    }
    env.assert_nothing_to_recover();
}
