//! `git par list` with a file-system monitor hook (`core.fsmonitor`): it believes the hook
//! about what changed since each task's index was written, and falls back to its full scan
//! when the hook cannot tell (`/`), is too slow, or fails.

use std::fs;
use std::os::unix::fs::PermissionsExt;

use crate::env::TestEnv;

/// A hook (protocol 2) that answers a fresh token and the paths listed, one a line, in
/// `<root>/changed`, after sleeping `<root>/delay` seconds if that file exists.
fn fake_hook(env: &TestEnv) -> std::path::PathBuf {
    let root = env.root();
    let hook = root.join("fsmonitor-hook");
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = 2 ] || exit 1\n[ -f '{r}/delay' ] && sleep \"$(cat '{r}/delay')\"\nprintf 'token-%s\\0' \"$$\"\n[ -f '{r}/changed' ] && tr '\\n' '\\0' < '{r}/changed'\nexit 0\n",
        r = root.display()
    );
    fs::write(&hook, script).unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    hook
}

/// A task whose index carries the hook's token, then a modified tracked file `README`
/// (dated back, so that only a stat finds it: not racily clean) and a new untracked file
/// `new`; the hook reports the paths in `reported`.
fn task_with_hook(env: &TestEnv, reported: &str) {
    let hook = fake_hook(env);
    env.git_in("repo", ["config", "core.fsmonitor", hook.to_str().unwrap()])
        .ok();
    fs::write(env.root().join("changed"), "/\n").unwrap();
    env.par(["start", "t"]).ok();
    // The index written a second after the checkout, so no entry is racily clean.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    env.git_in("repo.par/t", ["status", "--porcelain"]).ok();
    let index = fs::read(env.repo().join(".git/worktrees/t/index")).unwrap();
    assert!(index.windows(4).any(|w| w == b"FSMN"), "git wrote no token");
    env.write("repo.par/t/README", "changed\n");
    env.command("touch", &env.root())
        .args(["-d", "@1577836800", "repo.par/t/README"])
        .status()
        .unwrap();
    env.write("repo.par/t/new", "untracked\n");
    fs::write(env.root().join("changed"), reported).unwrap();
}

/// (unstaged, untracked) of task t, as `list --porcelain` shows them.
fn counts(env: &TestEnv) -> (String, String) {
    let out = env.par(["list", "--porcelain"]).ok().stdout;
    let fields: Vec<String> = out.trim_end().split('\t').map(str::to_string).collect();
    (fields[6].clone(), fields[7].clone())
}

#[test]
fn list_asks_the_fsmonitor_hook_what_changed() {
    let env = TestEnv::new();
    task_with_hook(&env, "README\n");
    assert_eq!(counts(&env), ("1".into(), "1".into()));
}

#[test]
fn list_believes_the_hook_about_tracked_files_and_still_finds_untracked_ones() {
    let env = TestEnv::new();
    // The hook (wrongly) reports nothing: list, trusting it, does not stat README, which
    // shows the hook decided; `new` was untracked before and after, no change to report,
    // and is found by reading the folders.
    task_with_hook(&env, "");
    assert_eq!(counts(&env), ("0".into(), "1".into()));
}

#[test]
fn list_scans_everything_when_the_hook_cannot_tell() {
    let env = TestEnv::new();
    task_with_hook(&env, "/\n");
    assert_eq!(counts(&env), ("1".into(), "1".into()));
}

#[test]
fn list_scans_everything_when_the_hook_is_slow() {
    let env = TestEnv::new();
    task_with_hook(&env, "README\n");
    // Past the deadline (1 s) list stops waiting and scans; git's own status, which list
    // then runs on what the scan found, still waits for the hook itself.
    fs::write(env.root().join("delay"), "2\n").unwrap();
    assert_eq!(counts(&env), ("1".into(), "1".into()));
}

#[test]
fn list_scans_everything_with_the_builtin_monitor_setting() {
    let env = TestEnv::new();
    task_with_hook(&env, "");
    // `true` is git's own daemon (IPC, not the hook protocol): not asked.
    env.git_in("repo", ["config", "core.fsmonitor", "false"])
        .ok();
    assert_eq!(counts(&env), ("1".into(), "1".into()));
}

#[test]
fn a_change_inside_a_submodule_reported_by_the_hook_counts_once() {
    let env = TestEnv::new();
    env.git(["init", "-q", "-b", "main", "lib"]).ok();
    env.write("lib/f", "lib\n");
    env.commit_all("lib", "lib");
    let lib = env.root().join("lib");
    let allow = ["-c", "protocol.file.allow=always"];
    let lib = lib.to_str().unwrap();
    let mut add = allow.to_vec();
    add.extend(["submodule", "add", "-q", lib, "lib"]);
    env.git_in("repo", add).ok();
    env.git_in("repo", ["commit", "-q", "-m", "submodule"]).ok();
    let hook = fake_hook(&env);
    env.git_in("repo", ["config", "core.fsmonitor", hook.to_str().unwrap()])
        .ok();
    fs::write(env.root().join("changed"), "/\n").unwrap();
    env.par(["start", "t"]).ok();
    let wt = "repo.par/t";
    let mut update = allow.to_vec();
    update.extend(["submodule", "update", "-q", "--init"]);
    env.git_in(wt, update).ok();
    env.git_in(wt, ["status", "--porcelain"]).ok();
    env.write(&format!("{wt}/lib/f"), "changed inside the submodule\n");
    fs::write(env.root().join("changed"), "lib/f\n").unwrap();
    let out = env.par(["list", "--porcelain"]).ok().stdout;
    let fields: Vec<&str> = out.trim_end().split('\t').collect();
    assert_eq!((fields[6], fields[10]), ("1", "-"), "{out}");
}
