//! An agent that switched branch inside its task: its commits are not on the task's branch,
//! so finishing must not report success or take the task apart.

use std::time::Duration;

use super::{assert_names, tip_of, Bg};
use crate::env::TestEnv;

#[track_caller]
fn assert_task_kept(env: &TestEnv) {
    let path = env.task_path("x");
    assert!(path.is_dir(), "{} went", path.display());
    assert!(
        env.worktrees().contains(&path),
        "git forgot {}",
        path.display()
    );
    assert_ne!(tip_of(env, "refs/heads/par/x"), "", "branch par/x went");
}

#[test]
fn finish_succeeds_after_the_agent_switched_to_another_branch() {
    let env = TestEnv::new();
    env.par(["start", "x"]).ok();
    env.git_in("repo.par/x", ["switch", "-q", "-c", "side"])
        .ok();
    env.write("repo.par/x/f", "a\n");
    env.commit_all("repo.par/x", "on side");
    let side = tip_of(&env, "side");
    let run = env.par(["finish", "x"]).code(1);
    assert_names(&run, "side");
    assert_task_kept(&env);
    assert_eq!(tip_of(&env, "side"), side);
    assert_eq!(env.read("repo.par/x/f"), "a\n");
}

#[test]
fn finish_succeeds_after_the_agent_committed_on_a_detached_head() {
    let env = TestEnv::new();
    env.par(["start", "x"]).ok();
    env.git_in("repo.par/x", ["checkout", "-q", "--detach"])
        .ok();
    env.write("repo.par/x/f", "a\n");
    env.commit_all("repo.par/x", "detached");
    let head = env
        .git_in("repo.par/x", ["rev-parse", "HEAD"])
        .ok()
        .stdout
        .trim()
        .to_string();
    let run = env.par(["finish", "x"]).code(1);
    assert_names(&run, "detached");
    assert_task_kept(&env);
    let now = env.git_in("repo.par/x", ["rev-parse", "HEAD"]).ok().stdout;
    assert_eq!(
        now.trim(),
        head,
        "the detached commit is no longer checked out"
    );
}

#[test]
fn run_finish_reports_success_after_the_command_switched_branch() {
    let env = TestEnv::new();
    env.par(["start", "x"]).ok();
    let mut run = Bg::par(
        &env,
        &[
            "run",
            "x",
            "--finish",
            "--",
            "sh",
            "-c",
            "git switch -q -c side && echo a>f && git add f && git commit -qm c",
        ],
    );
    let run = run.run(Duration::from_secs(30));
    assert_ne!(run.code, 0, "reported success\n{}", run.stderr);
    assert_task_kept(&env);
    assert_ne!(tip_of(&env, "side"), "", "the command's commit went");
}
