//! finish and sync: merges, refusals, and what is left on disk.

use crate::env::TestEnv;

fn assert_task_gone(env: &TestEnv, task: &str) {
    assert!(
        !env.branches().contains(&format!("par/{task}")),
        "branch left"
    );
    assert!(!env.task_path(task).exists(), "folder left");
    assert_eq!(env.worktrees(), vec![env.repo()]);
    assert_eq!(env.par(["list", "--porcelain"]).ok().stdout, "");
}

#[test]
fn finish_fast_forwards_the_checked_out_base_and_cleans_up() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    let run = env.par(["finish", "t"]).ok();
    assert!(run.stderr.contains("Fast-forwarded"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("checked out at {}", env.repo().display())),
        "{}",
        run.stderr
    );
    assert_eq!(env.read("repo/f"), "task\n");
    assert_eq!(env.git_out(["log", "-1", "--format=%s"]), "t: f");
    assert_task_gone(&env, "t");
    assert!(env.par_refs().is_empty());
}

#[test]
fn finish_makes_a_merge_commit_when_the_base_moved() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo/g", "main\n");
    env.commit_all("repo", "main moves");
    env.par(["finish", "t"]).ok();
    assert_eq!(
        env.git_out(["log", "-1", "--format=%P"]).split(" ").count(),
        2
    );
    assert_eq!(
        env.git_out(["log", "-1", "--format=%s"]),
        "Merge branch 'par/t'"
    );
    assert_eq!(env.read("repo/f"), "task\n");
    assert_task_gone(&env, "t");
}

#[test]
fn finish_into_a_branch_checked_out_nowhere_touches_no_working_tree() {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "release"]).ok();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo/local", "uncommitted\n");
    let main_before = env.git_out(["rev-parse", "main"]);
    env.par(["finish", "t", "--into", "release", "-m", "custom"])
        .ok();
    assert_eq!(env.git_out(["rev-parse", "main"]), main_before);
    assert!(!env.repo().join("f").exists());
    assert_eq!(env.git_out(["show", "release:f"]), "task");
    assert_eq!(env.read("repo/local"), "uncommitted\n");
    assert_task_gone(&env, "t");
}

#[test]
fn finish_squash_makes_one_commit_and_saves_the_original_commits() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "one\n");
    env.write("repo.par/t/g", "two\n");
    env.commit_all("repo.par/t", "second");
    let tip = env.git_out(["rev-parse", "par/t"]);
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
    env.par(["finish", "t", "--strategy", "squash"]).ok();
    assert_eq!(env.git_out(["rev-list", "--count", "HEAD"]), "3");
    assert_eq!(
        env.git_out(["log", "-1", "--format=%P"]).split(' ').count(),
        1
    );
    assert_eq!(env.read("repo/g"), "two\n");
    let refs = env.par_refs();
    assert_eq!(refs.len(), 1, "{refs:?}");
    // The original commits, under a rescue commit that names the task's base for a restore.
    assert_eq!(env.git_out(["rev-parse", &format!("{}^", refs[0])]), tip);
    let message = env.git_out(["log", "-1", "--format=%B", &refs[0]]);
    let base = env.git_out(["rev-parse", "main~2"]);
    assert!(message.contains(&format!("base {base} main")), "{message}");
}

#[test]
fn finish_rebase_replays_the_commits_in_a_line() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "one\n");
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
    env.par(["finish", "t", "--strategy", "rebase"]).ok();
    assert_eq!(
        env.git_out(["log", "--format=%s"]),
        "t: f\nmain moves\ninitial"
    );
    assert_eq!(env.read("repo/f"), "one\n");
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
}

#[test]
fn finish_strategy_comes_from_config() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.finishStrategy", "squash"])
        .ok();
    env.task_with_commit("t", "f", "one\n");
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
    env.par(["finish", "t"]).ok();
    assert_eq!(
        env.git_out(["log", "-1", "--format=%P"]).split(' ').count(),
        1
    );
}

#[test]
fn finish_with_a_conflict_changes_nothing() {
    let env = TestEnv::new();
    env.task_with_commit("t", "README", "task\n");
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main edits README");
    let refs_before = env.git_out(["for-each-ref"]);
    let run = env.par(["finish", "t"]).code(1);
    assert!(
        run.stderr.contains("would conflict in: README"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("git par sync t"), "{}", run.stderr);
    assert_eq!(env.git_out(["for-each-ref"]), refs_before);
    assert!(!env.repo().join(".git/MERGE_HEAD").exists());
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    assert!(env.task_path("t").join("README").exists());
    for strategy in ["squash", "rebase"] {
        env.par(["finish", "t", "--strategy", strategy]).code(1);
        assert_eq!(env.git_out(["for-each-ref"]), refs_before);
    }
}

#[test]
fn finish_refuses_uncommitted_changes_without_a_terminal_and_lists_them() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    env.write("repo.par/t/dirty", "d\n");
    let run = env.par(["finish", "t"]).code(1);
    assert!(
        run.stderr.contains("uncommitted changes: dirty"),
        "{}",
        run.stderr
    );
    assert!(env.task_path("t").join("dirty").exists());
    assert!(!env.repo().join("f").exists());
}

#[test]
fn finish_commits_changes_when_told() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/new", "n\n");
    env.par(["finish", "t", "--changes", "commit", "-m", "my message"])
        .ok();
    assert_eq!(env.read("repo/new"), "n\n");
    assert_eq!(env.git_out(["log", "-1", "--format=%s"]), "my message");
    assert_task_gone(&env, "t");
}

#[test]
fn finish_discards_changes_after_saving_them() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    env.write("repo.par/t/scratch", "keep me\n");
    env.par(["finish", "t", "--changes", "discard"]).ok();
    assert!(!env.repo().join("scratch").exists());
    let refs = env.par_refs();
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert_eq!(
        env.git_out(["show", &format!("{}:scratch", refs[0])]),
        "keep me"
    );
    assert_task_gone(&env, "t");
}

#[test]
fn finish_keep_leaves_task_in_place() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    env.par(["finish", "t", "--keep"]).ok();
    assert_eq!(env.read("repo/f"), "x\n");
    assert!(env.task_path("t").exists());
    assert!(env.branches().contains(&"par/t".to_string()));
}

#[test]
fn finish_dry_run_changes_nothing_and_reports_conflicts() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    let refs_before = env.git_out(["for-each-ref"]);
    let run = env.par(["finish", "t", "--dry-run"]).ok();
    assert!(
        run.stderr
            .contains("Would fast-forward 'main' to 'par/t' (1 commit)."),
        "{}",
        run.stderr
    );
    assert_eq!(env.git_out(["for-each-ref"]), refs_before);
    assert!(env.task_path("t").exists());
    env.write("repo/f", "conflict\n");
    env.commit_all("repo", "main adds f");
    let run = env.par(["finish", "t", "-n"]).code(1);
    assert!(
        run.stderr.contains("would conflict in: f"),
        "{}",
        run.stderr
    );
}

#[test]
fn finish_never_overwrites_local_changes_where_the_base_is_checked_out() {
    let env = TestEnv::new();
    env.task_with_commit("t", "README", "task\n");
    env.write("repo/README", "local edit\n");
    let head = env.git_out(["rev-parse", "HEAD"]);
    let run = env.par(["finish", "t"]).code(1);
    assert!(run.stderr.contains("has local edits in"), "{}", run.stderr);
    assert_eq!(env.read("repo/README"), "local edit\n");
    assert_eq!(env.git_out(["rev-parse", "HEAD"]), head);
    assert!(env.task_path("t").exists());
    env.write("repo/README", "hello\n");
    env.write("repo/other", "unrelated local\n");
    env.par(["finish", "t"]).ok();
    assert_eq!(env.read("repo/other"), "unrelated local\n");
    assert_eq!(env.read("repo/README"), "task\n");
}

#[test]
fn finish_from_inside_the_task_worktree() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    env.write("repo.par/t/sub/keep", "k\n");
    env.commit_all("repo.par/t", "sub");
    env.par_in("repo.par/t/sub", ["finish"]).ok();
    assert_eq!(env.read("repo/sub/keep"), "k\n");
    assert_task_gone(&env, "t");
}

#[test]
fn finish_of_a_stacked_task_goes_into_its_parent_task() {
    let env = TestEnv::new();
    env.task_with_commit("parent", "p", "p\n");
    env.par_in("repo.par/parent", ["start", "child"]).ok();
    env.write("repo.par/child/c", "c\n");
    env.commit_all("repo.par/child", "child");
    env.par(["finish", "child"]).ok();
    assert_eq!(env.read("repo.par/parent/c"), "c\n");
    assert!(!env.repo().join("c").exists());
}

#[test]
fn finish_refuses_unknown_tasks_and_missing_bases() {
    let env = TestEnv::new();
    env.par(["finish", "nope"]).code(1);
    env.par(["finish"]).code(2);
    let head = env.git_out(["rev-parse", "HEAD"]);
    env.par(["start", "detached", "--base", &head]).ok();
    let run = env.par(["finish", "detached"]).code(1);
    assert!(run.stderr.contains("--into"), "{}", run.stderr);
}

#[test]
fn sync_merges_the_base_into_the_task() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
    env.par(["sync", "t"]).ok();
    assert_eq!(env.read("repo.par/t/m"), "m\n");
    let line = env.par(["list", "--porcelain"]).ok().stdout;
    assert_eq!(line.split('\t').nth(4), Some("0"));
}

#[test]
fn sync_rebase_and_conflicts_are_left_to_git() {
    let env = TestEnv::new();
    env.task_with_commit("t", "README", "task\n");
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main edits");
    let run = env.par(["sync", "t"]).code(1);
    assert!(
        run.stderr.contains("resolve the conflicts"),
        "{}",
        run.stderr
    );
    assert!(env.task_path("t").join(".git").exists());
    let status = env
        .git_in("repo.par/t", ["status", "--porcelain"])
        .ok()
        .stdout;
    assert_eq!(status, "UU README\n");
    env.git_in("repo.par/t", ["merge", "--abort"]).ok();
    let run = env.par(["sync", "t", "--rebase"]).code(1);
    assert!(run.stderr.contains("rebase --continue"), "{}", run.stderr);
}

/// A finish refused because a process works in the worktree commits nothing first: the
/// task's changes stay uncommitted, its branch where it was.
#[test]
fn finish_refused_for_a_process_commits_nothing() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "not yet\n");
    let tip = env.git_out(["rev-parse", "par/t"]);
    let mut busy = env
        .command("sleep", &env.task_path("t"))
        .arg("5")
        .spawn()
        .expect("spawn sleep");
    let run = env.par(["finish", "t", "--changes", "commit"]);
    let _ = busy.kill();
    let _ = busy.wait();
    let run = run.code(1);
    assert!(run.stderr.contains("is in use"), "{}", run.stderr);
    assert_eq!(env.git_out(["rev-parse", "par/t"]), tip);
    assert_eq!(env.read("repo.par/t/wip"), "not yet\n");
}

/// A file that appears in the task after its changes were checked (here written by the
/// main worktree's post-merge hook, during the finish's own merge) is found after the move
/// into the trash: the worktree is put back with it and the task kept, and no operation is
/// left for recover.
#[test]
fn finish_puts_the_worktree_back_when_files_appear_after_the_merge() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    let late = env.task_path("t").join("late.txt");
    env.write(
        "repo/.git/hooks/post-merge",
        &format!("#!/bin/sh\necho late > '{}'\n", late.display()),
    );
    let hook = env.repo().join(".git/hooks/post-merge");
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    std::fs::set_permissions(&hook, mode).expect("chmod");
    let run = env.par(["finish", "t"]).code(1);
    assert!(
        run.stderr.contains("has new changes: late.txt"),
        "{}",
        run.stderr
    );
    assert_eq!(env.read("repo/f"), "task\n");
    assert_eq!(env.read("repo.par/t/late.txt"), "late\n");
    assert!(env.branches().contains(&"par/t".to_string()));
    env.assert_nothing_to_recover();
}

/// `git merge-tree` exits 1 for a conflict, after the tree it wrote; when it exits 1 without
/// one (here a wrapper makes it fail as for an unreadable commit), finish reports git's
/// failure, not a conflict with no files, and changes nothing.
#[test]
fn a_failing_merge_tree_is_no_conflict() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo/g", "main\n");
    env.commit_all("repo", "main moves");
    let before = env.state();
    let path = env.git_wrapper(
        "for a; do [ \"$a\" = merge-tree ] && { echo 'fatal: could not read commit' >&2; exit 1; }; done",
    );
    let mut cmd = env.command(crate::env::BIN, &env.repo());
    cmd.env("PATH", path).args(["finish", "t"]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("git merge-tree failed"), "{stderr}");
    assert!(!stderr.contains("conflict"), "{stderr}");
    assert_eq!(env.state(), before);
}
