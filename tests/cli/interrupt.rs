//! Interrupts (SIGINT, SIGTERM, SIGHUP) at each step: the repository ends exactly as before
//! or exactly as after, and the exit status is the signal's.

use crate::env::{Run, TestEnv, BIN};

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

#[test]
fn interrupted_start_rolls_back_everything() {
    for (point, sig) in [
        ("start:branch=SIGINT", SIGINT),
        ("start:checkout=SIGTERM", SIGTERM),
        ("start:checkout=SIGHUP", SIGHUP),
    ] {
        let env = TestEnv::new();
        let before = env.state();
        let run = env.par_failing(point, ["start", "t"]).killed_by(sig);
        assert!(
            run.stderr.contains("rolled back"),
            "{point}: {}",
            run.stderr
        );
        assert_eq!(run.stdout, "", "{point}");
        assert_eq!(env.state(), before, "{point}");
    }
}

#[test]
fn interrupted_move_puts_the_changes_back() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    env.write("repo/new", "untracked\n");
    env.git_in("repo", ["add", "new"]).ok();
    let before = env.state();
    env.par_failing("start:carry=SIGINT", ["start", "t", "--changes", "move"])
        .killed_by(SIGINT);
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo/README"), "edited\n");
}

#[test]
fn signal_during_the_final_clean_lets_the_move_complete() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    env.par_failing("start:clean=SIGTERM", ["start", "t", "--changes", "move"])
        .ok();
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    assert_eq!(env.read("repo.par/t/README"), "edited\n");
}

#[test]
fn interrupted_finish_before_the_merge_changes_nothing() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    let before = env.state();
    env.par_failing("finish:begin=SIGINT", ["finish", "t"])
        .killed_by(SIGINT);
    assert_eq!(env.state(), before);
}

#[test]
fn interrupted_finish_after_the_merge_completes_it() {
    finish_completes_despite("finish:merged=SIGTERM", SIGTERM);
}

/// A signal at `failpoint` (after the merge) still ends with the finish done: merged, the
/// task's branch and worktree gone, nothing left for recover.
fn finish_completes_despite(failpoint: &str, signal: i32) {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    let run = env
        .par_failing(failpoint, ["finish", "t"])
        .killed_by(signal);
    assert!(
        run.stderr.contains("had already happened"),
        "{}",
        run.stderr
    );
    assert_eq!(env.branches(), vec!["main"]);
    env.wait_for_background();
    assert!(!env.root().join("repo.par").exists());
    assert_eq!(env.read("repo/f"), "x\n");
    env.assert_nothing_to_recover();
}

#[test]
fn interrupted_sync_with_a_conflict_leaves_no_half_merge() {
    let env = TestEnv::new();
    env.task_with_commit("t", "README", "task\n");
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main");
    let before = env.state();
    let status_before = env
        .git_in("repo.par/t", ["status", "--porcelain"])
        .ok()
        .stdout;
    env.par_failing("sync:before=SIGINT", ["sync", "t"])
        .killed_by(SIGINT);
    assert_eq!(env.state(), before);
    assert_eq!(
        env.git_in("repo.par/t", ["status", "--porcelain"])
            .ok()
            .stdout,
        status_before
    );
    assert!(!env.repo().join(".git/worktrees/t/MERGE_HEAD").exists());
}

#[test]
fn interrupted_drop_before_saving_changes_nothing() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "w\n");
    let before = env.state();
    env.par_failing("drop:saved=SIGHUP", ["drop", "--force", "t"])
        .killed_by(SIGHUP);
    assert_ne!(
        env.state(),
        before,
        "the drop had saved the work and so completes"
    );
    assert_eq!(env.branches(), vec!["main"]);
    assert_eq!(env.par_refs().len(), 1);
}

#[test]
fn signal_during_a_git_command_after_the_merge_still_completes_the_finish() {
    finish_completes_despite("finish:merged=SIGHUP+git", SIGHUP);
}

#[test]
fn signal_during_a_git_command_after_the_rescue_still_completes_the_drop() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "w\n");
    env.par_failing("drop:saved=SIGTERM+git", ["drop", "--force", "t"])
        .killed_by(SIGTERM);
    assert_eq!(env.branches(), vec!["main"]);
    env.wait_for_background();
    assert!(!env.root().join("repo.par").exists());
    env.assert_nothing_to_recover();
}

/// Ctrl-C that reaches `git worktree add` as well as git-par (the key pressed while git was
/// being started, before it had a process group of its own): git fails, and git-par, which
/// got the signal too, rolls back and dies by it as git does, rather than exiting 1 with
/// git's failure as if nothing had been pressed.
#[test]
fn ctrl_c_that_also_kills_git_ends_git_par_by_the_signal() {
    let env = TestEnv::new();
    let before = env.state();
    let path = env.git_wrapper(
        "case \"$*\" in *'worktree add'*) kill -INT $PPID; sleep 0.2; exit 130;; esac",
    );
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("PATH", path).args(["start", "t"]);
    let run: Run = cmd.output().expect("run").into();
    assert_eq!(run.signal, Some(SIGINT), "{}", run.stderr);
    assert_eq!(env.state(), before);
}

/// A signal while git writes a drop's rescue ref: the ref was written, but git-par took the
/// save for failed, put the worktree back, and left the ref behind (the torture test found
/// "state before, plus a rescue ref"). A ref once written is kept and reported: the drop
/// goes on from its save.
#[test]
fn a_signal_while_the_rescue_ref_is_written_does_not_leave_it_behind_a_rolled_back_drop() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip.txt", "work in progress\n");
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .expect("sh")
        .stdout;
    let real = String::from_utf8(real).expect("utf-8");
    // The ref is written, then git-par is signalled while git has not yet exited.
    let path = env.git_wrapper(&format!(
        "case \"$*\" in *update-ref*refs/par/rescued/*) '{}' \"$@\"; s=$?; kill -TERM $PPID; sleep 0.3; exit $s;; esac",
        real.trim()
    ));
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("PATH", path).args(["drop", "--force", "t"]);
    let run: Run = cmd.output().expect("run").into();
    let rescued = env
        .git_in(
            "repo",
            ["for-each-ref", "--format=%(refname)", "refs/par/rescued/"],
        )
        .ok()
        .stdout;
    if env.task_path("t").exists() {
        assert_eq!(
            rescued, "",
            "rolled back, yet a rescue ref is left: {}",
            run.stderr
        );
    } else {
        assert_eq!(rescued.lines().count(), 1, "{}", run.stderr);
        let saved = env
            .git_in("repo", ["show", &format!("{}:wip.txt", rescued.trim())])
            .ok()
            .stdout;
        assert_eq!(saved, "work in progress\n");
    }
}
