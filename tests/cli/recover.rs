//! Crashes (SIGKILL at each step, through GIT_PAR_FAILPOINT) and `git par recover`.

use crate::env::TestEnv;

const SIGKILL: i32 = 9;

fn recover_twice(env: &TestEnv) -> String {
    let first = env.par(["recover"]).ok().stdout;
    let again = env.par(["recover"]).ok();
    assert_eq!(
        again.stdout, "",
        "second recover did something: {}",
        again.stdout
    );
    assert!(
        again.stderr.contains("Nothing to recover."),
        "{}",
        again.stderr
    );
    first
}

#[test]
fn crash_during_start_is_noticed_and_rolled_back() {
    for point in ["start:branch", "start:checkout"] {
        let env = TestEnv::new();
        let before = env.state();
        env.par_failing(point, ["start", "t"]).killed_by(SIGKILL);
        let warned = env.par(["list"]).ok();
        assert!(
            warned.stderr.contains("an interrupted 'git par start t'"),
            "{point}: {}",
            warned.stderr
        );
        assert!(
            warned.stderr.contains("git par recover"),
            "{}",
            warned.stderr
        );
        let report = recover_twice(&env);
        assert!(
            report.contains("recovered: interrupted 'git par start t'"),
            "{point}: {report}"
        );
        assert_eq!(env.state(), before, "{point}");
        env.par(["start", "t"]).ok();
    }
}

#[test]
fn crash_while_carrying_changes_keeps_them_in_the_source() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    env.write("repo/new", "untracked\n");
    let before = env.state();
    env.par_failing("start:carry", ["start", "t", "--changes", "move"])
        .killed_by(SIGKILL);
    recover_twice(&env);
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo/README"), "edited\n");
    assert_eq!(env.read("repo/new"), "untracked\n");
}

#[test]
fn crash_while_cleaning_the_source_finishes_the_move() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    env.write("repo/new", "untracked\n");
    env.par_failing("start:clean", ["start", "t", "--changes", "move"])
        .killed_by(SIGKILL);
    let report = recover_twice(&env);
    assert!(report.contains("finished moving the changes"), "{report}");
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    assert_eq!(env.read("repo.par/t/README"), "edited\n");
    assert_eq!(env.read("repo.par/t/new"), "untracked\n");
}

/// A crash while moving changes out of the main worktree, then work there before `recover`.
fn crash_while_cleaning_then_work(env: &TestEnv, later: &[(&str, &str)]) -> String {
    env.write("repo/other", "committed\n");
    env.write("repo/again", "committed\n");
    env.commit_all("repo", "more files");
    env.write("repo/README", "edited\n");
    env.write("repo/again", "moved\n");
    env.write("repo/new", "untracked\n");
    env.write("repo/newdir/deep/x", "untracked in a folder\n");
    env.par_failing("start:clean", ["start", "t", "--changes", "move"])
        .killed_by(SIGKILL);
    for (path, text) in later {
        env.write(path, text);
    }
    let report = recover_twice(env);
    assert_eq!(env.read("repo.par/t/README"), "edited\n");
    assert_eq!(env.read("repo.par/t/again"), "moved\n");
    assert_eq!(env.read("repo.par/t/new"), "untracked\n");
    report
}

/// recover finishes the move by cleaning out only what was moved: the user's later edits to
/// other files stay (they used to be reset with everything else).
#[test]
fn recover_after_a_crash_while_cleaning_the_source_keeps_later_work() {
    let env = TestEnv::new();
    let report = crash_while_cleaning_then_work(
        &env,
        &[
            ("repo/other", "later work\n"),
            ("repo/newer", "later untracked\n"),
        ],
    );
    assert!(
        report.contains("finished moving the changes out of"),
        "{report}"
    );
    assert_eq!(env.read("repo/other"), "later work\n");
    assert_eq!(env.read("repo/newer"), "later untracked\n");
    assert_eq!(env.read("repo/README"), "hello\n");
    assert!(!env.repo().join("new").exists());
    assert!(!env.repo().join("newdir").exists());
    assert_eq!(
        env.read("repo.par/t/newdir/deep/x"),
        "untracked in a folder\n"
    );
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        " M other\n?? newer\n"
    );
}

/// A moved file edited again before `recover`: nothing is cleaned out (the changes are in the
/// task and stay where they were too), and recover says so.
#[test]
fn recover_leaves_moved_changes_in_place_when_one_was_edited_since() {
    let env = TestEnv::new();
    let report =
        crash_while_cleaning_then_work(&env, &[("repo/again", "moved, then edited again\n")]);
    assert!(report.contains("also left in"), "{report}");
    assert!(report.contains("again"), "{report}");
    assert_eq!(env.read("repo/again"), "moved, then edited again\n");
    assert_eq!(env.read("repo/README"), "edited\n");
    assert_eq!(env.read("repo/new"), "untracked\n");
}

#[test]
fn crash_after_the_merge_finishes_the_finish() {
    for point in ["finish:merged", "teardown:trashed"] {
        let env = TestEnv::new();
        env.task_with_commit("t", "f", "task\n");
        env.par_failing(point, ["finish", "t"]).killed_by(SIGKILL);
        recover_twice(&env);
        assert_eq!(env.read("repo/f"), "task\n", "{point}");
        assert_eq!(env.branches(), vec!["main"], "{point}");
        assert_eq!(env.worktrees(), vec![env.repo()], "{point}");
        assert!(!env.root().join("repo.par").exists(), "{point}");
        assert!(env.par_refs().is_empty(), "{point}");
    }
}

#[test]
fn crash_before_the_merge_leaves_the_task_as_it_was() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    let before = env.state();
    env.par_failing("finish:begin", ["finish", "t"])
        .killed_by(SIGKILL);
    recover_twice(&env);
    assert_eq!(env.state(), before);
}

#[test]
fn crash_during_drop_finishes_it_with_the_work_saved() {
    for point in ["drop:saved", "teardown:trashed"] {
        let env = TestEnv::new();
        env.par(["start", "t"]).ok();
        env.write("repo.par/t/wip", "unsaved\n");
        env.par_failing(point, ["drop", "--force", "t"])
            .killed_by(SIGKILL);
        recover_twice(&env);
        assert_eq!(env.branches(), vec!["main"], "{point}");
        assert!(!env.root().join("repo.par").exists(), "{point}");
        let refs = env.par_refs();
        assert_eq!(refs.len(), 1, "{point}: {refs:?}");
        assert_eq!(
            env.git_out(["show", &format!("{}:wip", refs[0])]),
            "unsaved"
        );
    }
}

#[test]
fn recover_reports_leftovers_and_touches_only_what_is_safe() {
    let env = TestEnv::new();
    env.par(["start", "deleted-by-hand"]).ok();
    std::fs::remove_dir_all(env.task_path("deleted-by-hand")).expect("rm");
    env.write("repo.par/stranger/notes.txt", "not a worktree\n");
    std::fs::create_dir_all(env.root().join("repo.par/empty")).expect("mkdir");
    env.git_in("repo", ["branch", "par/orphan-branch"]).ok();
    let json: serde_json::Value =
        serde_json::from_str(&env.par(["recover", "--dry-run", "--json"]).ok().stdout)
            .expect("json");
    assert!(json
        .as_array()
        .expect("array")
        .iter()
        .all(|f| f["action"].as_str().expect("action").starts_with("would ")));
    assert!(env.repo().join(".git/worktrees/deleted-by-hand").exists());
    let report = env.par(["recover"]).ok().stdout;
    assert!(
        report.contains("clean up: git's record of the deleted worktree"),
        "{report}"
    );
    assert!(
        report.contains("leave alone: folder") && report.contains("stranger"),
        "{report}"
    );
    // An empty folder is nobody's work, but git par did not make it either: it stays.
    assert!(!report.contains("empty folder"), "{report}");
    assert!(env.root().join("repo.par/empty").is_dir());
    assert!(
        report.contains("leave alone: branch 'par/orphan-branch'"),
        "{report}"
    );
    assert_eq!(env.read("repo.par/stranger/notes.txt"), "not a worktree\n");
    assert!(!env.repo().join(".git/worktrees/deleted-by-hand").exists());
    assert!(env.branches().contains(&"par/deleted-by-hand".to_string()));
    let again = env.par(["recover"]).ok().stdout;
    assert!(!again.contains("clean up"), "{again}");
}

#[test]
fn crash_after_a_squash_or_rebase_merge_finishes_the_finish() {
    for strategy in ["squash", "rebase"] {
        let env = TestEnv::new();
        env.task_with_commit("t", "f", "task\n");
        env.write("repo/m", "main\n");
        env.commit_all("repo", "main moves");
        env.par_failing("finish:merged", ["finish", "t", "--strategy", strategy])
            .killed_by(SIGKILL);
        recover_twice(&env);
        assert_eq!(env.read("repo/f"), "task\n", "{strategy}");
        assert_eq!(env.branches(), vec!["main"], "{strategy}");
        assert_eq!(env.worktrees(), vec![env.repo()], "{strategy}");
    }
}

#[test]
fn recover_removes_private_index_copies_of_dead_processes() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo/.git/worktrees/t/par-index.999999999", "x");
    env.write("repo/.git/worktrees/t/par-index.999999999.lock", "x");
    let report = env.par(["recover"]).ok().stdout;
    assert!(report.contains("temporary index"), "{report}");
    assert!(!env
        .repo()
        .join(".git/worktrees/t/par-index.999999999.lock")
        .exists());
    env.assert_nothing_to_recover();
}

#[test]
fn recover_removes_git_locks_no_process_holds_and_keeps_held_ones() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo/.git/worktrees/t/index.lock", "");
    env.write("repo/.git/HEAD.lock", "");
    let held = std::fs::File::open(env.repo().join(".git/HEAD.lock")).expect("hold it open");
    let report = env.par(["recover"]).ok().stdout;
    assert!(report.contains("clean up: stale git lock file"), "{report}");
    assert!(
        report.contains("leave alone: git lock file") && report.contains("has it open"),
        "{report}"
    );
    assert!(!env.repo().join(".git/worktrees/t/index.lock").exists());
    assert!(env.repo().join(".git/HEAD.lock").exists());
    drop(held);
    env.par(["recover"]).ok();
    assert!(!env.repo().join(".git/HEAD.lock").exists());
    env.write("repo.par/t/new", "n\n");
    env.git_in("repo.par/t", ["add", "new"]).ok();
}

#[test]
fn recover_removes_half_written_files_and_an_empty_trash_slot() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.par(["drop", "t"]).ok();
    env.write("repo/.git/par/journal/.123-4.json.tmp999999999", "{");
    env.write("repo/.git/par/tasks/.t.json.tmp999999999", "{");
    let slot = env.root().join("repo.par/.par-trash.123-4");
    std::fs::create_dir_all(&slot).expect("mkdir");
    let report = env.par(["recover"]).ok().stdout;
    assert!(report.contains("half-written file"), "{report}");
    assert!(!env
        .repo()
        .join(".git/par/journal/.123-4.json.tmp999999999")
        .exists());
    assert!(!env
        .repo()
        .join(".git/par/tasks/.t.json.tmp999999999")
        .exists());
    assert!(!slot.exists());
    env.assert_nothing_to_recover();
}

#[test]
fn recover_removes_journal_locks_and_records_a_crash_left_half_made() {
    let env = TestEnv::new();
    env.par(["list"]).ok();
    env.write("repo/.git/par/journal/123-999999999.lock", "");
    env.write("repo/.git/par/forgotten/job.999999999/ORIG_HEAD", "x\n");
    let report = env.par(["recover"]).ok().stdout;
    assert!(
        report.contains("journal lock") && report.contains("half-deleted record"),
        "{report}"
    );
    assert!(!env
        .repo()
        .join(".git/par/journal/123-999999999.lock")
        .exists());
    assert!(!env.repo().join(".git/par/forgotten/job.999999999").exists());
    env.assert_nothing_to_recover();
}

/// A start killed after making its worktree, the half-made task dropped, and the task started
/// again: the first start's journal entry is stale. recover must touch nothing of the new
/// task (its branch, worktree and record), and be done with the stale entry in one run.
#[test]
fn a_stale_start_entry_leaves_the_task_made_again_alone() {
    for second_start_crashes in [false, true] {
        let env = TestEnv::new();
        env.par_failing("start:checkout", ["start", "t1"])
            .killed_by(SIGKILL);
        env.par(["drop", "--force", "t1"]).ok();
        if second_start_crashes {
            env.par_failing("start:checkout", ["start", "t1"])
                .killed_by(SIGKILL);
            let report = env.par(["recover"]).ok().stdout;
            assert!(!report.contains("leave alone"), "{report}");
            assert!(!env.task_path("t1").exists());
            assert!(!env.branches().contains(&"par/t1".to_string()));
        } else {
            env.par(["start", "t1"]).ok();
            env.write("repo.par/t1/wip", "new task's work\n");
            let report = env.par(["recover"]).ok().stdout;
            assert!(report.contains("started again since"), "{report}");
            assert_eq!(env.read("repo.par/t1/wip"), "new task's work\n");
            assert!(env.branches().contains(&"par/t1".to_string()));
            env.par(["path", "t1"]).ok();
        }
        env.assert_nothing_to_recover();
    }
}

/// A folder made right after another was deleted often gets the deleted one's inode number
/// (ext4 does it at once). The stale entry of a killed start is made to name the new task's
/// folder by device and inode, as that reuse would; its birth time still tells them apart,
/// so recover leaves the task that was started again alone.
#[test]
fn a_stale_start_entry_whose_inode_was_reused_leaves_the_new_task_alone() {
    use std::os::unix::fs::MetadataExt;
    let env = TestEnv::new();
    env.par_failing("start:checkout", ["start", "t1"])
        .killed_by(SIGKILL);
    env.par(["drop", "--force", "t1"]).ok();
    env.par(["start", "t1"]).ok();
    env.write("repo.par/t1/wip", "new task's work\n");
    let now = std::fs::symlink_metadata(env.task_path("t1")).expect("new worktree");
    let journal = env.repo().join(".git/par/journal");
    let mut stale = 0;
    for entry in std::fs::read_dir(&journal).expect("journal").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("entry")).expect("json");
        let identity = json
            .pointer_mut("/identity")
            .filter(|v| v.is_object())
            .unwrap_or_else(|| panic!("no identity in {}", path.display()));
        assert!(identity.get("born").is_some(), "{identity}");
        identity["dev"] = now.dev().into();
        identity["ino"] = now.ino().into();
        std::fs::write(&path, serde_json::to_vec(&json).expect("json")).expect("write");
        stale += 1;
    }
    assert_eq!(stale, 1);
    let report = env.par(["recover"]).ok().stdout;
    assert!(report.contains("started again since"), "{report}");
    assert_eq!(env.read("repo.par/t1/wip"), "new task's work\n");
    assert!(env.branches().contains(&"par/t1".to_string()));
    env.par(["path", "t1"]).ok();
    env.assert_nothing_to_recover();
}
