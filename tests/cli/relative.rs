//! Worktree records written relative (`worktree.useRelativePaths`, git 2.48 and later) are
//! read as git reads them, and git's `prunable` is honoured: `list` does not call such a task
//! unregistered, and `drop --force` removes it.
//!
//! With a git that has the setting the test turns it on and lets git write the files. With an
//! older one (this machine's gits are 2.39.5 and 2.47.3) it writes them as git 2.48 does: the
//! worktree's `.git` file `gitdir: <path from the worktree to its admin dir>`, the admin dir's
//! `gitdir` file `<path from the admin dir to the worktree's .git>`; it leaves out
//! `extensions.relativeWorktrees`, which an older git refuses to open a repository with.
//! Either way the test runs: it never skips.

use std::fs;

use crate::env::TestEnv;

fn git_has_relative_paths(env: &TestEnv) -> bool {
    let version = env.git(["version"]).ok().stdout;
    let numbers: Vec<u32> = version
        .trim()
        .trim_start_matches("git version ")
        .split(['.', ' '])
        .take(2)
        .map(|n| n.parse().unwrap_or(0))
        .collect();
    numbers >= vec![2, 48]
}

/// Starts `task` with its worktree records relative, however this git can.
fn start_relative(env: &TestEnv, task: &str) {
    let native = git_has_relative_paths(env);
    if native {
        env.git_in("repo", ["config", "worktree.useRelativePaths", "true"])
            .ok();
    }
    env.par(["start", task]).ok();
    let dot_git = env.task_path(task).join(".git");
    let admin = env.repo().join(".git/worktrees").join(task);
    if !native {
        fs::write(
            &dot_git,
            format!("gitdir: ../../repo/.git/worktrees/{task}\n"),
        )
        .expect("write .git");
        fs::write(
            admin.join("gitdir"),
            format!("../../../../repo.par/{task}/.git\n"),
        )
        .expect("write gitdir");
    }
    let pointer = fs::read_to_string(admin.join("gitdir")).expect("gitdir");
    assert!(pointer.starts_with("../"), "not relative: {pointer}");
    let back = fs::read_to_string(&dot_git).expect(".git");
    assert!(back.starts_with("gitdir: ../"), "not relative: {back}");
    // The worktree works for git itself.
    env.git_in(&format!("repo.par/{task}"), ["status", "--short"])
        .ok();
}

fn flags(env: &TestEnv, task: &str) -> Vec<String> {
    let listed: serde_json::Value =
        serde_json::from_str(&env.par(["list", "--json"]).ok().stdout).expect("json");
    let entry = listed
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["task"] == task)
        .unwrap_or_else(|| panic!("no {task} in {listed:#}"));
    entry["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f.as_str().expect("flag").to_string())
        .collect()
}

#[test]
fn relative_worktree_paths_are_registered_worktrees_that_drop_removes() {
    let env = TestEnv::new();
    start_relative(&env, "t");
    env.write("repo.par/t/work", "w\n");
    env.commit_all("repo.par/t", "work");
    if !git_has_relative_paths(&env) {
        // git 2.48 also marks the repository (extensions.relativeWorktrees, format version
        // 1), which an older git refuses to work in: only git-par's own reads (libgit2, the
        // worktree list) are checked with it.
        let config = env.repo().join(".git/config");
        let plain = fs::read_to_string(&config).expect("config");
        let marked = plain.replace("repositoryformatversion = 0", "repositoryformatversion = 1")
            + "[extensions]\n\trelativeWorktrees = true\n";
        fs::write(&config, marked).expect("config");
        // (git status, which list may run, is this git's and fails here.)
        let flags = flags(&env, "t");
        assert!(!flags.contains(&"unregistered".to_string()), "{flags:?}");
        env.par(["path", "t"]).ok();
        fs::write(&config, plain).expect("config");
    }
    env.write("repo.par/t/wip", "uncommitted\n");
    assert_eq!(flags(&env, "t"), Vec::<String>::new());
    let listed = env.par(["list"]).ok().stdout;
    assert!(listed.contains("+0 ~0 ?1"), "{listed}");
    env.par(["path", "t"]).ok();
    env.par(["drop", "--force", "t"]).ok();
    assert!(!env.task_path("t").exists());
    assert!(!env.repo().join(".git/worktrees/t").exists());
    assert_eq!(env.branches(), vec!["main"]);
    let saved = &env.par_refs()[0];
    assert_eq!(
        env.git_out(["show", &format!("{saved}:wip")]),
        "uncommitted"
    );
    env.assert_nothing_to_recover();
}

#[test]
fn finish_and_sync_work_with_relative_worktree_paths() {
    let env = TestEnv::new();
    start_relative(&env, "t");
    env.write("repo/main-file", "m\n");
    env.commit_all("repo", "main moves");
    env.write("repo.par/t/f", "x\n");
    env.commit_all("repo.par/t", "task work");
    env.par(["sync", "t"]).ok();
    env.par(["finish", "t"]).ok();
    assert_eq!(env.git_out(["show", "main:f"]), "x");
    assert!(!env.task_path("t").exists());
    assert!(!env.repo().join(".git/worktrees/t").exists());
}

/// A task whose folder was deleted by hand: git calls its record prunable. `list` says so,
/// and `drop --force` forgets the record (saving what it held) instead of refusing.
#[test]
fn a_prunable_worktree_is_flagged_and_dropped() {
    let env = TestEnv::new();
    start_relative(&env, "t");
    env.write("repo.par/t/f", "x\n");
    env.commit_all("repo.par/t", "task work");
    let tip = env.git_out(["rev-parse", "par/t"]);
    fs::remove_dir_all(env.task_path("t")).expect("rm");
    let porcelain = env.git_out(["worktree", "list", "--porcelain"]);
    assert!(porcelain.contains("prunable"), "{porcelain}");
    let flags = flags(&env, "t");
    assert!(flags.contains(&"prunable".to_string()), "{flags:?}");
    assert!(flags.contains(&"missing".to_string()), "{flags:?}");
    env.par(["drop", "--force", "t"]).ok();
    assert!(!env.repo().join(".git/worktrees/t").exists());
    assert_eq!(env.branches(), vec!["main"]);
    let kept = env.git_out(["rev-list", "--glob=refs/par/rescued/*"]);
    assert!(kept.contains(&tip), "{kept}");
}
