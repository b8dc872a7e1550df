//! drop and rescued: work is saved before anything goes, and removal stays inside the task.

use std::os::unix::fs::symlink;

use crate::env::TestEnv;

#[test]
fn drop_of_a_clean_task_saves_nothing_and_removes_everything() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.par(["drop", "t"]).ok();
    assert_eq!(env.branches(), vec!["main"]);
    assert_eq!(env.worktrees(), vec![env.repo()]);
    assert!(env.par_refs().is_empty());
    // The files go in the background (par.removeInBackground): wait for them.
    env.wait_for_background();
    assert!(!env.root().join("repo.par").exists());
}

#[test]
fn drop_refuses_work_without_a_terminal_unless_forced_and_saves_it() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/committed", "c\n");
    env.commit_all("repo.par/t", "work");
    env.write("repo.par/t/untracked", "u\n");
    env.write("repo.par/t/README", "edited\n");
    let run = env.par(["drop", "t"]).code(1);
    assert!(
        run.stderr.contains("1 commit(s) not in its base"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    assert!(env.task_path("t").exists());
    env.par(["drop", "--force", "t"]).ok();
    let refs = env.par_refs();
    assert_eq!(refs.len(), 1);
    let saved = &refs[0];
    assert_eq!(env.git_out(["show", &format!("{saved}:untracked")]), "u");
    assert_eq!(env.git_out(["show", &format!("{saved}:README")]), "edited");
    assert_eq!(env.git_out(["show", &format!("{saved}:committed")]), "c");
    assert_eq!(
        env.git_out(["log", "-1", "--format=%s", &format!("{saved}^")]),
        "work"
    );
    assert_eq!(env.branches(), vec!["main"]);
    let listed: serde_json::Value =
        serde_json::from_str(&env.par(["rescued", "--json"]).ok().stdout).expect("json");
    assert_eq!(listed[0]["task"], "t");
    assert_eq!(listed[0]["ref"], saved.as_str());
    let restore = listed[0]["restore"].as_str().expect("restore");
    assert_eq!(restore, format!("git par start t --from {saved}"));
    let args: Vec<&str> = restore.split(' ').skip(2).collect();
    env.par(&args).ok();
    assert_eq!(env.read("repo.par/t/untracked"), "u\n");
    assert_eq!(env.read("repo.par/t/committed"), "c\n");
}

#[test]
fn drop_never_follows_symlinks_out_of_the_worktree() {
    let env = TestEnv::new();
    env.write("home/precious", "mine\n");
    env.write("shared/node_modules/pkg/index.js", "module\n");
    env.par(["start", "t"]).ok();
    let wt = env.task_path("t");
    symlink(env.home(), wt.join("home-link")).expect("symlink");
    symlink(
        env.root().join("shared/node_modules"),
        wt.join("node_modules"),
    )
    .expect("symlink");
    std::fs::create_dir_all(wt.join("deep/er")).expect("mkdir");
    symlink(env.root().join("shared"), wt.join("deep/er/up")).expect("symlink");
    env.par(["drop", "--force", "t"]).ok();
    assert!(!wt.exists());
    assert_eq!(env.read("home/precious"), "mine\n");
    assert_eq!(env.read("shared/node_modules/pkg/index.js"), "module\n");
}

/// A record whose path was changed to the main worktree is not believed: the task is taken
/// for unrecorded, and only its real worktree (proven by git's admin dir) is removed.
#[test]
fn drop_never_follows_a_record_whose_path_escapes_the_worktree_dir() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    let record = env.repo().join(".git/par/tasks/t.json");
    let text = std::fs::read_to_string(&record).expect("record");
    let evil = text.replace(
        &env.task_path("t").display().to_string(),
        &env.repo().display().to_string(),
    );
    std::fs::write(&record, evil).expect("write");
    env.par(["drop", "--force", "t"]).ok();
    assert_eq!(env.read("repo/README"), "hello\n");
    assert!(env.repo().join(".git/HEAD").exists());
    assert!(!env.task_path("t").exists());
}

#[test]
fn drop_refuses_when_the_worktree_path_is_a_symlink() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("victim/file", "v\n");
    let wt = env.task_path("t");
    std::fs::rename(&wt, env.root().join("moved")).expect("mv");
    symlink(env.root().join("victim"), &wt).expect("symlink");
    env.par(["drop", "--force", "t"]).code(1);
    assert_eq!(env.read("victim/file"), "v\n");
}

#[test]
fn drop_of_a_branch_without_record_saves_its_commits() {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "par/loose"]).ok();
    env.git_in("repo", ["checkout", "-q", "par/loose"]).ok();
    env.write("repo/x", "x\n");
    env.commit_all("repo", "loose work");
    env.git_in("repo", ["checkout", "-q", "main"]).ok();
    let tip = env.git_out(["rev-parse", "par/loose"]);
    env.par(["drop", "loose", "--force"]).ok();
    assert_eq!(env.branches(), vec!["main"]);
    let refs = env.par_refs();
    assert_eq!(env.git_out(["rev-parse", &refs[0]]), tip);
}

#[test]
fn a_refused_drop_leaves_no_journal_behind() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.git_in("repo.par/t", ["init", "-q", "clone"]).ok();
    env.write("repo.par/t/clone/work", "w\n");
    env.commit_all("repo.par/t/clone", "nested work");
    // A nested repository that cannot be fetched from: its HEAD names a missing commit.
    let head = env.task_path("t").join("clone/.git/refs/heads/main");
    std::fs::write(&head, format!("{}\n", "1".repeat(40))).expect("break HEAD");
    env.par(["drop", "--force", "t"]).code(1);
    let next = env.par(["list"]).ok();
    assert!(!next.stderr.contains("interrupted"), "{}", next.stderr);
}

#[test]
fn drop_saves_work_even_past_a_stale_index_lock() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "w\n");
    env.write("repo/.git/worktrees/t/index.lock", "");
    env.par(["drop", "--force", "t"]).ok();
    let refs = env.par_refs();
    assert_eq!(env.git_out(["show", &format!("{}:wip", refs[0])]), "w");
}

#[test]
fn drop_gets_past_a_branch_lock_left_by_a_killed_git() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo/.git/refs/heads/par/t.lock", "");
    env.par(["drop", "t"]).ok();
    assert_eq!(env.branches(), vec!["main"]);
}

/// A process on its way out of the worktree (as git's detached auto-maintenance is right
/// after a commit there) does not make drop refuse: it is given a moment to leave.
#[test]
fn drop_waits_a_moment_for_a_process_leaving_the_worktree() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    let mut leaving = env
        .command("sleep", &env.task_path("t"))
        .arg("0.4")
        .spawn()
        .expect("spawn sleep");
    env.par(["drop", "--force", "t"]).ok();
    let _ = leaving.wait();
    assert!(!env.task_path("t").exists());
}

/// A lock on the rescue ref that no process holds (a git killed by the same Ctrl-C in the
/// moment between creating it and registering it for clean-up) does not stop the next drop:
/// it is removed and the save goes through. Locks are laid for the next seconds' names.
#[test]
fn a_stale_lock_on_the_rescue_ref_does_not_stop_a_drop() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    let dir = env.repo().join(".git/refs/par/rescued/t");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    for second in now..now + 10 {
        let stamp = env
            .command("date", &env.root())
            .args(["-u", "-d", &format!("@{second}"), "+%Y%m%d-%H%M%S"])
            .output()
            .expect("date");
        let stamp = String::from_utf8_lossy(&stamp.stdout).trim().to_string();
        std::fs::write(dir.join(format!("{stamp}.lock")), "").expect("lock");
    }
    env.par(["drop", "--force", "t"]).ok();
    assert_eq!(env.par_refs().len(), 1);
}
