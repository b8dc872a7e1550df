//! finish and drop leave deleting the worktree's files to a detached process: what is on
//! disk when they return, how a killed deletion is finished, and that the process proves the
//! trash folder again rather than trusting a path.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::env::TestEnv;

/// Trash slots in the worktree dir.
fn slots(env: &TestEnv) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(env.root().join("repo.par"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| {
        p.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".par-trash.")
    });
    found
}

fn journal(env: &TestEnv) -> Vec<String> {
    crate::env::names_in(&env.repo().join(".git/par/journal"))
}

/// The one detached process of this test, once it has stopped itself at its failpoint.
fn stopped_deleter(env: &TestEnv) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pids = env.deleters();
        if let [pid] = pids[..] {
            let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            if stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
            {
                return pid;
            }
        }
        assert!(Instant::now() < deadline, "no stopped deleter: {pids:?}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A task with 300 files, so that deleting it is not instant.
fn big_task(env: &TestEnv, task: &str) {
    env.par(["start", task]).ok();
    for i in 0..300 {
        env.write(&format!("repo.par/{task}/d/f{i}"), "x\n");
    }
    env.commit_all(&format!("repo.par/{task}"), "files");
}

#[test]
fn finish_returns_before_the_files_are_deleted_and_recover_wait_waits() {
    let env = TestEnv::new();
    big_task(&env, "t");
    // The background process stops itself before deleting anything, so the test sees the
    // state finish returns with.
    env.par_failing("background:deleting=SIGSTOP", ["finish", "t"])
        .ok();
    assert!(
        !env.task_path("t").exists(),
        "the task's path is free at once"
    );
    assert_eq!(env.branches(), vec!["main"]);
    assert_eq!(env.worktrees(), vec![env.repo()]);
    assert_eq!(env.par(["list", "--porcelain"]).ok().stdout, "");
    assert_eq!(
        slots(&env).len(),
        1,
        "the trash waits for the background process"
    );
    let entry = journal(&env)
        .into_iter()
        .find(|n| n.ends_with(".json"))
        .expect("a journal entry");
    let text = fs::read_to_string(env.repo().join(".git/par/journal").join(&entry)).unwrap();
    assert!(text.contains("\"phase\": \"deleting\""), "{text}");
    // While it runs, its entry is live: recover leaves it alone.
    let rec = env.par(["recover"]).ok();
    assert!(rec.stderr.contains("Nothing to recover"), "{}", rec.stderr);
    let pid = stopped_deleter(&env);
    let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
    env.par(["recover", "--wait"]).ok();
    assert!(slots(&env).is_empty());
    assert!(journal(&env).is_empty(), "{:?}", journal(&env));
    assert!(
        !env.root().join("repo.par").exists(),
        "start made it, so it goes"
    );
}

#[test]
fn the_detached_process_runs_in_its_own_session_at_low_priority() {
    let env = TestEnv::new();
    big_task(&env, "t");
    env.par_failing("background:deleting=SIGSTOP", ["drop", "--force", "t"])
        .ok();
    let pid = stopped_deleter(&env);
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // Fields after the command: state, ppid, pgrp, session, ..., nice is the 17th. The
    // session is the one the first fork made (the second fork leaves it, so it can never
    // take a terminal again).
    let own = nix::unistd::getsid(None).unwrap().as_raw();
    assert_ne!(
        fields[3].parse::<i32>().unwrap(),
        own,
        "a session of its own"
    );
    assert_eq!(fields[16], "10", "nice");
    let _ = kill(Pid::from_raw(pid), Signal::SIGCONT);
    env.par(["recover", "--wait"]).ok();
    assert!(slots(&env).is_empty());
}

#[test]
fn a_killed_background_deletion_is_finished_by_the_next_command() {
    let env = TestEnv::new();
    big_task(&env, "t");
    env.par_failing("background:deleting", ["finish", "t"]).ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !env.deleters().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(slots(&env).len(), 1, "killed before deleting anything");
    // Any command notices and hands it to a new background process, quietly.
    let list = env.par(["list"]).ok();
    assert!(!list.stderr.contains("interrupted"), "{}", list.stderr);
    // A dry run changes nothing itself: what is gone, the new process deleted.
    let rec = env.par(["recover", "--wait", "--dry-run"]).ok();
    assert!(rec.stderr.contains("Nothing to recover"), "{}", rec.stderr);
    assert!(slots(&env).is_empty());
    assert!(journal(&env).is_empty(), "{:?}", journal(&env));
}

#[test]
fn recover_finishes_a_killed_background_deletion_itself() {
    let env = TestEnv::new();
    big_task(&env, "t");
    env.par_failing("background:deleting", ["drop", "--force", "t"])
        .ok();
    env.wait_for_background();
    assert_eq!(slots(&env).len(), 1);
    let rec = env.par(["recover"]).ok();
    assert!(
        rec.stdout.contains("(deleting)") && rec.stdout.contains("deleted the removed worktree"),
        "{}",
        rec.stdout
    );
    assert!(slots(&env).is_empty());
    assert!(journal(&env).is_empty());
    env.assert_nothing_to_recover();
}

#[test]
fn foreground_and_the_setting_delete_before_returning() {
    let env = TestEnv::new();
    big_task(&env, "a");
    big_task(&env, "b");
    // Were a background process started, it would stop itself and leave the trash.
    env.par_failing(
        "background:deleting=SIGSTOP",
        ["finish", "--foreground", "a"],
    )
    .ok();
    assert!(slots(&env).is_empty());
    assert!(journal(&env).is_empty());
    env.git_in("repo", ["config", "par.removeInBackground", "false"])
        .ok();
    env.par_failing("background:deleting=SIGSTOP", ["drop", "--force", "b"])
        .ok();
    assert!(slots(&env).is_empty());
    assert!(journal(&env).is_empty());
    assert!(env.deleters().is_empty());
}

#[test]
fn a_bad_value_for_remove_in_background_is_refused() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.removeInBackground", "sometimes"])
        .ok();
    let run = env.par(["list"]).code(2);
    assert!(
        run.stderr.contains("par.removeinbackground"),
        "{}",
        run.stderr
    );
}

/// The background process must prove the folder it deletes from the journal entry: a
/// folder swapped in under the slot's name is not the one that was moved there.
#[test]
fn a_folder_swapped_into_the_trash_slot_is_not_deleted() {
    let env = TestEnv::new();
    big_task(&env, "t");
    env.par_failing("background:deleting", ["finish", "t"]).ok();
    env.wait_for_background();
    let slot = slots(&env).pop().expect("the trash slot");
    fs::rename(&slot, env.root().join("moved-away")).unwrap();
    fs::create_dir(&slot).unwrap();
    fs::write(slot.join("precious"), "mine\n").unwrap();
    env.par(["list"]).ok();
    env.wait_for_background();
    assert_eq!(fs::read_to_string(slot.join("precious")).unwrap(), "mine\n");
    // recover refuses it too, and says so.
    let rec = env.par(["recover"]).ok();
    assert!(rec.stdout.contains("leave alone"), "{}", rec.stdout);
    assert_eq!(fs::read_to_string(slot.join("precious")).unwrap(), "mine\n");
}

/// A journal entry is read from disk: one whose path points elsewhere makes the background
/// process delete nothing there.
#[test]
fn a_forged_deleting_entry_deletes_nothing_outside_the_worktree_dir() {
    let env = TestEnv::new();
    big_task(&env, "t");
    env.par_failing("background:deleting", ["drop", "--force", "t"])
        .ok();
    env.wait_for_background();
    let dir = env.repo().join(".git/par/journal");
    let entry = journal(&env)
        .into_iter()
        .find(|n| n.ends_with(".json"))
        .unwrap();
    let id = entry.trim_end_matches(".json");
    let outside = env.root().join("outside");
    fs::create_dir_all(outside.join(format!(".par-trash.{id}"))).unwrap();
    fs::write(outside.join(format!(".par-trash.{id}/precious")), "mine\n").unwrap();
    let text = fs::read_to_string(dir.join(&entry)).unwrap();
    let forged = text.replace(
        &env.task_path("t").display().to_string(),
        &outside.join("t").display().to_string(),
    );
    assert_ne!(forged, text);
    fs::write(dir.join(&entry), forged).unwrap();
    env.par(["list"]).ok();
    env.wait_for_background();
    assert!(outside.join(format!(".par-trash.{id}/precious")).exists());
}
