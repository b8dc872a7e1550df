//! `start`'s checkout: `par.checkoutWorkers` reaches git as `checkout.workers`.

use std::fs;

use crate::env::{TestEnv, BIN};

/// Runs `git-par <args>` with a `git` on PATH that logs its arguments, one call a line.
pub(crate) fn logged_git_calls(env: &TestEnv, args: &[&str]) -> String {
    let log = env.root().join("git-calls");
    let path = env.git_wrapper(&format!("echo \"$*\" >> '{}'", log.display()));
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("PATH", path).args(args);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::read_to_string(log).unwrap_or_default()
}

#[test]
fn checkout_workers_setting_reaches_git() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.checkoutWorkers", "2"])
        .ok();
    let calls = logged_git_calls(&env, &["start", "t"]);
    let reset = calls
        .lines()
        .find(|l| l.contains("reset --hard"))
        .expect("a checkout");
    assert!(
        reset.contains("-c checkout.workers=2 -c checkout.thresholdForParallelism=1"),
        "{reset}"
    );
    assert_eq!(env.read("repo.par/t/README"), "hello\n");
}

#[test]
fn by_default_one_worker_per_core_writes_the_files() {
    let env = TestEnv::new();
    let calls = logged_git_calls(&env, &["start", "t"]);
    let reset = calls.lines().find(|l| l.contains("reset --hard")).unwrap();
    assert!(reset.contains("-c checkout.workers=0 "), "{reset}");
}

#[test]
fn a_negative_checkout_workers_is_refused() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.checkoutWorkers", "-1"])
        .ok();
    let run = env.par(["start", "t"]).code(2);
    assert!(run.stderr.contains("par.checkoutworkers"), "{}", run.stderr);
    assert!(!env.task_path("t").exists());
}
