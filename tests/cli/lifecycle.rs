//! start, list, path: what they print and what they leave on disk.

use crate::env::TestEnv;

#[test]
fn start_makes_branch_and_worktree_and_prints_only_the_path() {
    let env = TestEnv::new();
    let run = env.par(["start", "task-1"]).ok();
    let path = env.task_path("task-1");
    assert_eq!(run.stdout, format!("{}\n", path.display()));
    assert!(env.branches().contains(&"par/task-1".to_string()));
    assert_eq!(env.worktrees(), vec![env.repo(), path.clone()]);
    assert_eq!(
        env.git_in("repo.par/task-1", ["status", "--porcelain"])
            .ok()
            .stdout,
        ""
    );
    assert_eq!(env.read("repo.par/task-1/README"), "hello\n");
}

#[test]
fn start_through_git_dispatch() {
    let env = TestEnv::new();
    env.git_par(["start", "via-git"]).ok();
    assert!(env.task_path("via-git").join("README").exists());
}

#[test]
fn start_refuses_bad_names_with_usage_code_and_changes_nothing() {
    let env = TestEnv::new();
    for name in ["a b", "../x", "-x", "x.lock", "a..b", "/abs"] {
        let run = env.par(["start", "--", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: invalid task name"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(env.branches(), vec!["main"]);
    assert!(!env.root().join("repo.par").exists());
}
