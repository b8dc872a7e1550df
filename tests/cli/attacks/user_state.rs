//! The user's own state elsewhere: a merge, rebase, cherry-pick, revert or bisect under way
//! in the worktree where the target branch is checked out, and branches checked out in
//! other worktrees, are never disturbed by `finish` or `drop`.

use std::fs;
use std::path::Path;

use super::{assert_names, assert_task_intact, tip_of, tree};
use crate::env::TestEnv;

const RESOLUTION: &str = "resolved by hand\n";

/// Task `x` with a commit of its own (no conflict with anything), and a branch `other`
/// whose README conflicts with main's.
fn task_and_conflicting_branches(env: &TestEnv) -> String {
    env.task_with_commit("x", "work.txt", "task work\n");
    env.git_in("repo", ["switch", "-q", "-c", "other"]).ok();
    env.write("repo/README", "other\n");
    env.commit_all("repo", "other's README");
    env.git_in("repo", ["switch", "-q", "main"]).ok();
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main's README");
    tip_of(env, "par/x")
}

/// Everything of the user's in the main worktree that finish must leave alone: the git
/// dir's state files, HEAD, the index, the README and the branches.
fn users_state(env: &TestEnv) -> String {
    let git_dir = env.repo().join(".git");
    let state: Vec<String> = [
        "MERGE_HEAD",
        "MERGE_MSG",
        "CHERRY_PICK_HEAD",
        "REVERT_HEAD",
        "BISECT_START",
        "BISECT_LOG",
        "HEAD",
        "rebase-merge",
        "rebase-apply",
        "sequencer",
    ]
    .iter()
    .map(|name| {
        let path = git_dir.join(name);
        if path.is_dir() {
            format!("{name}: {:?}", tree(&path))
        } else {
            format!("{name}: {:?}", fs::read_to_string(&path).ok())
        }
    })
    .collect();
    format!(
        "{}\nindex: {}\nREADME: {:?}\nrefs: {}",
        state.join("\n"),
        env.git_out(["ls-files", "-s"]),
        fs::read_to_string(env.repo().join("README")).ok(),
        env.git_out([
            "for-each-ref",
            "--format=%(refname) %(objectname)",
            "refs/heads"
        ]),
    )
}

/// `finish x` refuses, naming `what`, and leaves the user's state and the task as they were.
#[track_caller]
fn finish_refuses(env: &TestEnv, tip: &str, what: &str, marker: &str) {
    assert!(env.repo().join(".git").join(marker).exists(), "no {marker}");
    let before = users_state(env);
    let run = env.par(["finish", "x"]).code(1);
    assert_eq!(users_state(env), before, "{}", run.stderr);
    assert!(
        env.repo().join(".git").join(marker).exists(),
        "{marker} went"
    );
    assert_task_intact(env, "x", "work.txt", "task work\n", tip);
    assert_names(&run, what);
}

#[test]
fn finish_runs_into_a_conflicted_merge_in_the_main_worktree() {
    let env = TestEnv::new();
    let tip = task_and_conflicting_branches(&env);
    env.git_in("repo", ["merge", "-q", "--no-edit", "other"])
        .code(1);
    env.write("repo/README", RESOLUTION);
    finish_refuses(&env, &tip, "merge", "MERGE_HEAD");
    assert_eq!(env.read("repo/README"), RESOLUTION);
}

#[test]
fn finish_runs_into_a_stopped_rebase_in_the_main_worktree() {
    let env = TestEnv::new();
    let tip = task_and_conflicting_branches(&env);
    env.git_in("repo", ["rebase", "other"]).code(1);
    env.write("repo/README", RESOLUTION);
    finish_refuses(&env, &tip, "rebase", "rebase-merge");
    assert_eq!(env.read("repo/README"), RESOLUTION);
}

#[test]
fn finish_runs_into_a_conflicted_cherry_pick_in_the_main_worktree() {
    let env = TestEnv::new();
    let tip = task_and_conflicting_branches(&env);
    env.git_in("repo", ["cherry-pick", "other"]).code(1);
    env.write("repo/README", RESOLUTION);
    finish_refuses(&env, &tip, "cherry-pick", "CHERRY_PICK_HEAD");
    assert_eq!(env.read("repo/README"), RESOLUTION);
}

#[test]
fn finish_runs_into_a_conflicted_revert_in_the_main_worktree() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let tip = tip_of(&env, "par/x");
    env.write("repo/README", "two\n");
    env.commit_all("repo", "two");
    env.write("repo/README", "three\n");
    env.commit_all("repo", "three");
    env.git_in("repo", ["revert", "--no-edit", "HEAD~1"])
        .code(1);
    env.write("repo/README", RESOLUTION);
    finish_refuses(&env, &tip, "revert", "REVERT_HEAD");
    assert_eq!(env.read("repo/README"), RESOLUTION);
}

#[test]
fn finish_runs_into_a_bisect_in_the_main_worktree() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let tip = tip_of(&env, "par/x");
    env.write("repo/README", "two\n");
    env.commit_all("repo", "two");
    env.git_in("repo", ["bisect", "start"]).ok();
    finish_refuses(&env, &tip, "bisect", "BISECT_START");
}

/// With no branch prefix, task `feat`'s branch is `feat`; the task detaches its HEAD and the
/// main worktree checks `feat` out.
fn feat_checked_out_in_main(env: &TestEnv) -> String {
    env.git_in("repo", ["config", "par.branchPrefix", ""]).ok();
    env.par(["start", "feat"]).ok();
    env.write("repo.par/feat/feat.txt", "feat\n");
    env.commit_all("repo.par/feat", "feat");
    env.git_in("repo.par/feat", ["checkout", "-q", "--detach"])
        .ok();
    env.git_in("repo", ["switch", "-q", "feat"]).ok();
    tip_of(env, "feat")
}

#[track_caller]
fn assert_feat_still_checked_out(env: &TestEnv, tip: &str) {
    assert_eq!(
        tip_of(env, "refs/heads/feat"),
        tip,
        "branch feat was deleted or moved"
    );
    assert_eq!(
        env.git_out(["symbolic-ref", "HEAD"]),
        "refs/heads/feat",
        "the main worktree lost its branch"
    );
    assert_eq!(env.read("repo/feat.txt"), "feat\n");
    assert_eq!(env.git_out(["status", "--porcelain"]), "");
}

#[test]
fn drop_force_deletes_a_branch_checked_out_in_another_worktree() {
    let env = TestEnv::new();
    let tip = feat_checked_out_in_main(&env);
    let run = env.par(["drop", "--force", "feat"]).code(1);
    assert_names(&run, "feat");
    assert_feat_still_checked_out(&env, &tip);
}

#[test]
fn finish_deletes_a_branch_checked_out_in_another_worktree() {
    let env = TestEnv::new();
    let tip = feat_checked_out_in_main(&env);
    let run = env.par(["finish", "feat"]).code(1);
    assert_names(&run, "feat");
    assert_feat_still_checked_out(&env, &tip);
}

#[test]
fn finish_into_a_branch_being_rebased_in_another_worktree_moves_it() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let tip = tip_of(&env, "par/x");
    env.git_in("repo", ["switch", "-q", "-c", "target"]).ok();
    env.write("repo/README", "target\n");
    env.commit_all("repo", "target's README");
    env.git_in("repo", ["switch", "-q", "main"]).ok();
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main's README");
    env.git_in("repo", ["switch", "-q", "target"]).ok();
    env.git_in("repo", ["rebase", "main"]).code(1);
    env.write("repo/README", RESOLUTION);
    let target = tip_of(&env, "target");
    let before = users_state(&env);
    let run = env.par(["finish", "x", "--into", "target"]).code(1);
    assert_names(&run, "target");
    assert_eq!(
        tip_of(&env, "target"),
        target,
        "target moved under the rebase"
    );
    assert_eq!(users_state(&env), before);
    assert!(Path::new(&env.repo().join(".git/rebase-merge")).is_dir());
    assert_task_intact(&env, "x", "work.txt", "task work\n", &tip);
}
