//! Move first, then look once (`src/ops/aside.rs`): drop and finish move the worktree into
//! the trash before saving it, and read its files once there. Nothing may be lost for it: a
//! file written before the look, a crash between the move and the save, a save that fails
//! or is interrupted.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::checkout::logged_git_calls;
use crate::env::{TestEnv, BIN};
use crate::rescue::{assert_rescued, repo_with_submodule, rescued_file, task_with_nested_clone};

const SIGKILL: i32 = 9;

/// The trash slots in the worktree dir.
fn slots(env: &TestEnv) -> Vec<PathBuf> {
    fs::read_dir(env.root().join("repo.par"))
        .map(|dir| {
            dir.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with(".par-trash."))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `git-par <args>` stopped by SIGSTOP at `point`; the caller continues it.
fn stopped_at(env: &TestEnv, point: &str, args: &[&str]) -> Child {
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("GIT_PAR_FAILPOINT", format!("{point}=SIGSTOP"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn git-par");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !is_stopped(child.id()) {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("git-par did not stop at {point}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

fn is_stopped(pid: u32) -> bool {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    stat.rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
}

/// Continues a stopped git-par and returns its stderr once it has exited with `code`.
fn continue_to_end(child: Child, code: i32) -> String {
    kill(Pid::from_raw(child.id() as i32), Signal::SIGCONT).expect("SIGCONT");
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(code), "{stderr}");
    stderr
}

/// A task whose worktree holds every kind of work: a commit, a changed tracked file, a
/// staged change that differs from the file on disk, an untracked file, a kept ignored file,
/// and a clone in an ignored folder with commits and an uncommitted file (returned).
fn task_with_everything(env: &TestEnv) -> Vec<String> {
    env.git_in("repo", ["config", "par.keepIgnored", ".env"])
        .ok();
    let commits = task_with_nested_clone(env);
    env.write("repo.par/x/.env", "SECRET=1\n");
    env.write("repo.par/x/f", "changed, not committed\n");
    env.write("repo.par/x/staged", "as staged\n");
    env.git_in("repo.par/x", ["add", "staged"]).ok();
    env.write("repo.par/x/staged", "as on disk\n");
    env.write("repo.par/x/untracked", "new\n");
    commits
}

/// The content of `path` in some rescue commit (any ref under refs/par/rescued/).
fn in_some_rescue(env: &TestEnv, path: &str) -> Vec<String> {
    env.par_refs()
        .into_iter()
        .filter_map(|r| {
            let run = env.git_in("repo", ["show", &format!("{r}:{path}")]);
            (run.code == 0).then_some(run.stdout)
        })
        .collect()
}

#[track_caller]
fn assert_everything_saved(env: &TestEnv, commits: &[String]) {
    for commit in commits {
        assert_rescued(env, commit);
    }
    assert_eq!(rescued_file(env, "nested", "files", "wip"), "not committed");
    assert_eq!(in_some_rescue(env, "f"), vec!["changed, not committed\n"]);
    assert_eq!(in_some_rescue(env, "untracked"), vec!["new\n"]);
    assert_eq!(in_some_rescue(env, "staged"), vec!["as on disk\n"]);
    assert_eq!(in_some_rescue(env, ".env"), vec!["SECRET=1\n"]);
    // One rescue holds it all, as `git par rescued` shows it.
    assert_eq!(env.par_refs().len(), 1, "{:?}", env.par_refs());
    assert_eq!(
        rescued_file(env, "worktree", "staged", "staged"),
        "as staged"
    );
}

/// One `recover` finishes a crashed drop or finish of [`task_with_everything`]: all is
/// saved, nothing is left.
#[track_caller]
fn recover_saves_everything(env: &TestEnv, commits: &[String]) {
    env.par(["recover"]).ok();
    env.wait_for_background();
    assert_everything_saved(env, commits);
    assert!(slots(env).is_empty());
    assert_eq!(env.branches(), vec!["main"]);
    env.assert_nothing_to_recover();
}

#[test]
fn drop_of_a_clean_task_reads_its_files_once() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    let calls = logged_git_calls(&env, &["drop", "--force", "t"]);
    let passes: Vec<&str> = calls
        .lines()
        .filter(|l| l.contains(" status ") || l.contains(" add "))
        .collect();
    assert_eq!(passes.len(), 1, "{calls}");
    assert!(passes[0].contains(".par-trash."), "{calls}");
    assert!(!env.task_path("t").exists());
    env.assert_nothing_to_recover();
}

#[test]
fn finish_of_a_clean_task_makes_no_snapshot() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    let calls = logged_git_calls(&env, &["finish", "t"]);
    assert!(!calls.lines().any(|l| l.contains(" add ")), "{calls}");
    assert_eq!(env.read("repo/f"), "task\n");
    assert!(env.par_refs().is_empty(), "{:?}", env.par_refs());
}

#[test]
fn drop_saves_everything_from_the_trash() {
    let env = TestEnv::new();
    let commits = task_with_everything(&env);
    env.par(["drop", "--force", "x"]).ok();
    env.wait_for_background();
    assert_everything_saved(&env, &commits);
    assert!(!env.task_path("x").exists());
    assert!(slots(&env).is_empty());
    assert_eq!(env.branches(), vec!["main"]);
    env.assert_nothing_to_recover();
}

/// What is written into the worktree after it moved and before the look (a process that
/// had it open keeps writing there) is in the rescue: a new file, a change, a repository.
#[test]
fn files_written_after_the_move_and_before_the_look_are_saved() {
    let env = TestEnv::new();
    env.write("repo/.gitignore", "scratch/\n");
    env.commit_all("repo", "ignore scratch");
    env.task_with_commit("x", "f", "task\n");
    let child = stopped_at(&env, "teardown:trashed", &["drop", "--force", "x"]);
    let [slot] = &slots(&env)[..] else {
        panic!("no single trash slot: {:?}", slots(&env));
    };
    assert!(!env.task_path("x").exists());
    fs::write(slot.join("late"), "written after the move\n").expect("write");
    fs::write(slot.join("f"), "changed after the move\n").expect("write");
    let clone = slot.join("scratch/clone");
    let at = clone.to_str().expect("utf-8");
    env.git(["init", "-q", "-b", "main", at]).ok();
    fs::write(clone.join("a"), "in a clone made after the move\n").expect("write");
    env.git(["-C", at, "add", "a"]).ok();
    env.git(["-C", at, "commit", "-q", "-m", "clone: late"])
        .ok();
    let late_commit = env.git_out(["-C", at, "rev-parse", "HEAD"]);
    continue_to_end(child, 0);
    env.wait_for_background();
    assert_eq!(
        in_some_rescue(&env, "late"),
        vec!["written after the move\n"]
    );
    assert_eq!(in_some_rescue(&env, "f"), vec!["changed after the move\n"]);
    assert_rescued(&env, &late_commit);
    assert!(slots(&env).is_empty());
    env.assert_nothing_to_recover();
}

/// A crash between the move and the save (the `moved` phase): `recover` saves everything
/// from the trash before it deletes anything, and says so beforehand.
#[test]
fn a_drop_killed_after_the_move_is_saved_whole_by_recover() {
    let env = TestEnv::new();
    let commits = task_with_everything(&env);
    env.par_failing("teardown:trashed", ["drop", "--force", "x"])
        .killed_by(SIGKILL);
    assert!(!env.task_path("x").exists());
    assert_eq!(slots(&env).len(), 1);
    assert!(env.par_refs().is_empty(), "{:?}", env.par_refs());
    let plan = env.par(["recover", "--dry-run"]).ok().stdout;
    assert!(
        plan.contains("is saved from its worktree (moved into the trash or not)"),
        "{plan}"
    );
    recover_saves_everything(&env, &commits);
}

/// The same crash in a finish that discards the task's changes: the merge stays, and what
/// it did not take is saved by `recover` from the trash.
#[test]
fn a_finish_killed_after_the_move_is_saved_whole_by_recover() {
    let env = TestEnv::new();
    let commits = task_with_everything(&env);
    env.par_failing("teardown:trashed", ["finish", "x", "--changes", "discard"])
        .killed_by(SIGKILL);
    assert_eq!(env.read("repo/f"), "task\n");
    assert_eq!(slots(&env).len(), 1);
    recover_saves_everything(&env, &commits);
}

/// A crash right after the journal says `moved` and before the rename: the worktree is still
/// at its path, and `recover` saves it from there.
#[test]
fn a_drop_killed_before_the_rename_is_finished_by_recover() {
    let env = TestEnv::new();
    let commits = task_with_everything(&env);
    env.par_failing("aside:moving", ["drop", "--force", "x"])
        .killed_by(SIGKILL);
    assert!(env.task_path("x").exists());
    recover_saves_everything(&env, &commits);
    assert!(!env.task_path("x").exists());
}

/// A save that fails in the trash (a nested repository that cannot be read) puts the
/// worktree back where it was and ends the drop: nothing moved, nothing left to recover.
#[test]
fn a_save_that_fails_in_the_trash_puts_the_worktree_back() {
    let env = TestEnv::new();
    env.task_with_commit("x", "f", "task\n");
    let clone = "repo.par/x/clone";
    env.git_in("repo.par/x", ["init", "-q", "clone"]).ok();
    env.write(&format!("{clone}/work"), "agent's work\n");
    env.commit_all(clone, "nested work");
    let feature = env.task_path("x").join("clone/.git/refs/heads/feature");
    fs::write(feature, format!("{}\n", "1".repeat(40))).expect("break a branch");
    let before = env.state();
    let run = env.par(["drop", "--force", "x"]).code(1);
    assert!(run.stderr.contains("nothing was removed"), "{}", run.stderr);
    assert_eq!(env.read("repo.par/x/clone/work"), "agent's work\n");
    assert!(slots(&env).is_empty());
    assert_eq!(env.state(), before);
    env.assert_nothing_to_recover();
}

/// Ctrl-C while the trashed worktree is being looked at: the drop is undone (the worktree is
/// back, the branch kept) and the command exits as interrupted.
#[test]
fn an_interrupt_during_the_look_puts_the_worktree_back() {
    let env = TestEnv::new();
    env.task_with_commit("x", "f", "task\n");
    env.write("repo.par/x/wip", "uncommitted\n");
    let before = env.state();
    let run = env
        .par_failing("teardown:trashed=SIGINT+git", ["drop", "--force", "x"])
        .killed_by(2);
    assert!(run.stderr.contains("interrupted"), "{}", run.stderr);
    assert_eq!(env.read("repo.par/x/wip"), "uncommitted\n");
    assert!(slots(&env).is_empty());
    assert_eq!(env.state(), before);
    env.assert_nothing_to_recover();
}

/// Submodules set up in the worktree between the check and the move cannot be read from the
/// trash (their `core.worktree` names the old place): the drop puts the worktree back and
/// refuses, and the next one saves them where they are.
#[test]
fn submodules_set_up_during_the_drop_put_the_worktree_back() {
    let env = TestEnv::new();
    repo_with_submodule(&env);
    env.par(["start", "x"]).ok();
    let child = stopped_at(&env, "aside:moving", &["drop", "--force", "x"]);
    env.git_in("repo.par/x", ["submodule", "update", "-q", "--init"])
        .ok();
    env.write("repo.par/x/lib/s", "edited, not committed\n");
    let stderr = continue_to_end(child, 1);
    assert!(stderr.contains("submodules were set up"), "{stderr}");
    assert_eq!(env.read("repo.par/x/lib/s"), "edited, not committed\n");
    assert!(slots(&env).is_empty());
    env.assert_nothing_to_recover();
    env.par(["drop", "--force", "x"]).ok();
    env.wait_for_background();
    assert_eq!(
        rescued_file(&env, "submodule", "files", "s"),
        "edited, not committed"
    );
}
