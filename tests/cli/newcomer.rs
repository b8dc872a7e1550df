//! What a newcomer reads (issue 13): finish saying what it did and refusing before it
//! commits, list's header, flags and marker, sync with uncommitted changes, where to go after
//! the task's folder is gone, and what `recover --dry-run` would do.

use crate::env::TestEnv;

fn short(env: &TestEnv, rev: &str) -> String {
    env.git_out(["rev-parse", "--short=7", rev])
}

/// The lines of `stderr`, with the test's temp folder shown as `<root>`.
fn lines(env: &TestEnv, stderr: &str) -> Vec<String> {
    let root = env.root().display().to_string();
    stderr.lines().map(|l| l.replace(&root, "<root>")).collect()
}

#[test]
fn finish_refuses_before_committing_when_the_target_has_edits_to_the_task_files() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo.par/t/README", "task edit\n");
    env.write("repo/README", "local edit\n");
    env.write("repo/f", "untracked here\n");
    let before = env.state();
    let task_tip = env.git_out(["rev-parse", "par/t"]);
    let run = env.par(["finish", "t", "--changes", "commit"]).code(1);
    assert_eq!(
        lines(&env, &run.stderr),
        [
            "error: 'main' has local edits in <root>/repo to files task 't' changes: README, f",
            "hint: commit them there, or carry them into a task of their own: cd <root>/repo && git par start <new-task> --changes move",
            "hint: then finish again; nothing was changed",
        ]
    );
    assert_eq!(env.state(), before);
    assert_eq!(env.git_out(["rev-parse", "par/t"]), task_tip, "committed");
    assert_eq!(env.read("repo.par/t/README"), "task edit\n");
    assert_eq!(env.read("repo/README"), "local edit\n");
    assert_eq!(env.read("repo/f"), "untracked here\n");
}

#[test]
fn finish_goes_ahead_when_the_target_edits_other_files() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo/README", "local edit\n");
    env.par(["finish", "t"]).ok();
    assert_eq!(env.read("repo/f"), "task\n");
    assert_eq!(env.read("repo/README"), "local edit\n");
}

/// A task with two commits, and main moved on by one, so nothing fast-forwards.
fn two_commits_behind_main(env: &TestEnv) {
    env.task_with_commit("t", "f", "one\n");
    env.write("repo.par/t/g", "two\n");
    env.commit_all("repo.par/t", "second");
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
}

#[test]
fn finish_rebase_says_it_rebased_then_that_the_task_went() {
    let env = TestEnv::new();
    two_commits_behind_main(&env);
    let run = env.par(["finish", "t", "--strategy", "rebase"]).ok();
    let stderr = lines(&env, &run.stderr);
    assert_eq!(
        stderr[0],
        format!(
            "Rebased 2 commits of 'par/t' onto 'main' (now at {}).",
            short(&env, "main")
        )
    );
    assert!(stderr[1].starts_with("Saved what the merge did not keep as refs/par/rescued/t/"));
    assert_eq!(
        stderr[2..],
        [
            "Removed the worktree <root>/repo.par/t and branch 'par/t'.",
            "'main' is checked out at <root>/repo",
        ]
    );
    assert_eq!(env.git_out(["rev-list", "--count", "main"]), "4");
}

#[test]
fn finish_squash_says_how_many_commits_became_one() {
    let env = TestEnv::new();
    two_commits_behind_main(&env);
    let run = env.par(["finish", "t", "--strategy", "squash"]).ok();
    assert_eq!(
        lines(&env, &run.stderr)[0],
        format!(
            "Squashed 2 commits of 'par/t' into one on 'main' (new commit {}).",
            short(&env, "main")
        )
    );
    assert_eq!(env.git_out(["rev-list", "--count", "main"]), "3");
}

#[test]
fn finish_merge_names_the_new_merge_commit() {
    let env = TestEnv::new();
    two_commits_behind_main(&env);
    let run = env.par(["finish", "t"]).ok();
    assert_eq!(
        lines(&env, &run.stderr),
        [
            format!(
                "Merged 'par/t' into 'main' (new commit {}).",
                short(&env, "main")
            ),
            "Removed the worktree <root>/repo.par/t and branch 'par/t'.".to_string(),
            "'main' is checked out at <root>/repo".to_string(),
        ]
    );
}

#[test]
fn finish_fast_forward_says_so() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "one\n");
    let preview = env.par(["finish", "t", "--dry-run"]).ok();
    assert_eq!(
        lines(&env, &preview.stderr)[0],
        "Would fast-forward 'main' to 'par/t' (1 commit)."
    );
    let run = env.par(["finish", "t", "--strategy", "rebase"]).ok();
    assert_eq!(
        lines(&env, &run.stderr)[..2],
        [
            format!(
                "Fast-forwarded 'main' to 'par/t' (1 commit, now at {}).",
                short(&env, "main")
            ),
            "Removed the worktree <root>/repo.par/t and branch 'par/t'.".to_string(),
        ]
    );
}

#[test]
fn finish_keep_says_the_task_was_kept() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    let run = env.par(["finish", "t", "--keep"]).ok();
    assert_eq!(
        lines(&env, &run.stderr)[..2],
        [
            "'main' already holds everything of 'par/t'; nothing to merge.",
            "Kept task 't' (--keep): <root>/repo.par/t",
        ]
    );
}
