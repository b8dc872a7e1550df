//! Many `git par` commands at once on one repository: the lock makes them take turns in the
//! short sections that change shared state, and every one of them succeeds.

use std::process::Child;

use crate::env::{Run, TestEnv, BIN};

fn spawn_all(env: &TestEnv, commands: Vec<Vec<String>>) -> Vec<Run> {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|args| {
            let mut cmd = env.command(BIN, &env.repo());
            cmd.args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait").into())
        .collect()
}

#[test]
fn eight_starts_then_eight_finishes_at_once_all_succeed() {
    let env = TestEnv::new();
    let names: Vec<String> = (1..=8).map(|i| format!("agent-{i}")).collect();
    let starts = names
        .iter()
        .map(|n| vec!["start".to_string(), n.clone()])
        .collect();
    for run in spawn_all(&env, starts) {
        run.ok();
    }
    assert_eq!(env.worktrees().len(), 9);
    for name in &names {
        env.write(&format!("repo.par/{name}/{name}.txt"), &format!("{name}\n"));
        env.commit_all(&format!("repo.par/{name}"), name);
    }
    let finishes = names
        .iter()
        .map(|n| vec!["finish".to_string(), n.clone()])
        .collect();
    for run in spawn_all(&env, finishes) {
        run.ok();
    }
    assert_eq!(env.worktrees(), vec![env.repo()]);
    assert_eq!(env.branches(), vec!["main"]);
    for name in &names {
        assert_eq!(env.read(&format!("repo/{name}.txt")), format!("{name}\n"));
    }
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    env.git_in("repo", ["fsck", "--no-progress"]).ok();
}
