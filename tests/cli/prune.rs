//! `git par prune`: tasks whose work is in their base go (through drop: saved first), found
//! by ancestry and after a squash or rebase; tasks with anything uncommitted, or in use, stay.

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::env::{TestEnv, BIN};

/// `repo/f` holds the numbers 1 to 30, one a line: edits ten lines apart share no context
/// lines, so their patch ids do not depend on each other.
fn with_numbers() -> TestEnv {
    let env = TestEnv::new();
    let lines: String = (1..=30).map(|n| format!("{n}\n")).collect();
    env.write("repo/f", &lines);
    env.commit_all("repo", "numbers");
    env
}

/// Replaces line `line` of `f` in `sub` and commits.
fn edit_line(env: &TestEnv, sub: &str, line: &str, to: &str) {
    let text: Vec<String> = env
        .read(&format!("{sub}/f"))
        .lines()
        .map(|l| {
            if l == line {
                to.to_string()
            } else {
                l.to_string()
            }
        })
        .collect();
    env.write(&format!("{sub}/f"), &format!("{}\n", text.join("\n")));
    env.commit_all(sub, &format!("{line} -> {to}"));
}

/// Adds `file` to task `task` in a commit of its own.
fn add_file(env: &TestEnv, task: &str, file: &str) {
    env.write(&format!("repo.par/{task}/{file}"), &format!("{file}\n"));
    env.commit_all(&format!("repo.par/{task}"), &format!("add {file}"));
}

fn outcomes(run: &str) -> Value {
    let list: Value = serde_json::from_str(run).expect("json");
    let mut by_task = serde_json::Map::new();
    for o in list.as_array().expect("array") {
        by_task.insert(o["task"].as_str().expect("task").into(), o.clone());
    }
    Value::Object(by_task)
}

#[test]
fn prune_finds_tasks_merged_by_squash_rebase_or_ancestry_and_saves_their_commits() {
    let env = with_numbers();
    for t in [
        "squashed",
        "squashed-edited",
        "rebased",
        "merged",
        "empty",
        "open",
    ] {
        env.par(["start", t]).ok();
    }
    edit_line(&env, "repo.par/squashed", "1", "s");
    add_file(&env, "squashed", "s.txt");
    edit_line(&env, "repo.par/squashed-edited", "10", "e");
    edit_line(&env, "repo.par/rebased", "20", "r");
    add_file(&env, "rebased", "r.txt");
    add_file(&env, "merged", "m.txt");
    add_file(&env, "open", "o.txt");
    // Upstream: two squashes, a rebase (cherry-picks), a plain merge; then main edits the
    // lines squashed-edited and rebased changed, so merging those would conflict now.
    for t in ["squashed", "squashed-edited"] {
        env.git_in("repo", ["merge", "-q", "--squash", &format!("par/{t}")])
            .ok();
        env.git_in("repo", ["commit", "-q", "-m", &format!("{t}, squashed")])
            .ok();
    }
    env.git_in("repo", ["cherry-pick", "par/rebased~1", "par/rebased"])
        .ok();
    env.git_in(
        "repo",
        ["merge", "-q", "--no-ff", "-m", "merge", "par/merged"],
    )
    .ok();
    edit_line(&env, "repo", "e", "e2");
    edit_line(&env, "repo", "r", "r2");
    let tips: Vec<String> = ["squashed", "squashed-edited", "rebased"]
        .iter()
        .map(|t| env.git_out(["rev-parse", &format!("par/{t}")]))
        .collect();

    let dry = env.par(["prune", "--dry-run"]).ok();
    assert!(
        dry.stdout
            .contains("would prune squashed: merging it would change nothing in main"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("would prune squashed-edited: its whole change is one commit of main"),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout
            .contains("would prune rebased: each of its commits has an equal one in main"),
        "{}",
        dry.stdout
    );
    assert!(dry
        .stdout
        .contains("would prune merged: its commits are in main"));
    assert!(dry.stdout.contains("would prune empty: it holds nothing"));
    assert!(dry
        .stdout
        .contains("kept open: 1 commit(s) not in main; 'git par finish open' merges them"));
    assert_eq!(env.branches().len(), 7, "a dry run removed something");
    assert_eq!(env.worktrees().len(), 7);

    let run = env.par(["prune", "--json"]).ok();
    let o = outcomes(&run.stdout);
    assert_eq!(o["squashed"]["action"], "pruned");
    assert_eq!(o["squashed"]["merged"], "merge-adds-nothing");
    assert_eq!(o["squashed-edited"]["merged"], "squash-patch-id");
    assert_eq!(o["rebased"]["merged"], "rebase-patch-ids");
    assert_eq!(o["merged"]["merged"], "ancestor");
    assert_eq!(o["merged"]["saved"], Value::Null);
    assert_eq!(o["empty"]["merged"], "empty");
    assert_eq!(o["open"]["action"], "kept");
    assert_eq!(env.branches(), ["main", "par/open"]);
    assert_eq!(env.worktrees(), [env.repo(), env.task_path("open")]);
    // What is not in main by ancestry was saved as drop saves it.
    for (t, tip) in ["squashed", "squashed-edited", "rebased"].iter().zip(&tips) {
        let saved = o[t]["saved"].as_str().expect("saved");
        assert!(
            saved.starts_with(&format!("refs/par/rescued/{t}/")),
            "{saved}"
        );
        let kept = env.git_in("repo", ["merge-base", "--is-ancestor", tip, saved]);
        assert_eq!(kept.code, 0, "{t}'s commits are not in {saved}");
    }
    env.assert_nothing_to_recover();
}

#[test]
fn prune_finds_a_squash_that_landed_in_the_remote_branch_the_base_tracks() {
    let env = with_numbers();
    env.git(["clone", "-q", "--bare", "repo", "origin.git"])
        .ok();
    env.git_in("repo", ["remote", "add", "origin", "../origin.git"])
        .ok();
    env.git_in("repo", ["fetch", "-q", "origin"]).ok();
    env.git_in("repo", ["branch", "-q", "-u", "origin/main", "main"])
        .ok();
    env.par(["start", "t"]).ok();
    edit_line(&env, "repo.par/t", "2", "t");
    // Someone else squashes the same change into origin's main; here main lags behind it.
    env.git(["clone", "-q", "origin.git", "other"]).ok();
    let theirs = env.read("repo.par/t/f");
    env.write("other/f", &theirs);
    env.git_in("other", ["commit", "-q", "-am", "Squashed t (#12)"])
        .ok();
    env.git_in("other", ["push", "-q", "origin", "main"]).ok();
    env.git_in("repo", ["fetch", "-q", "origin"]).ok();

    let run = env.par(["prune"]).ok();
    assert!(
        run.stdout
            .contains("pruned t: its files are those of origin/main"),
        "{}",
        run.stdout
    );
    assert_eq!(env.branches(), ["main"]);
}

#[test]
fn prune_never_removes_a_task_with_uncommitted_or_untracked_work() {
    let env = with_numbers();
    for t in ["changed", "untracked", "staged"] {
        env.par(["start", t]).ok();
    }
    env.write("repo.par/changed/f", "changed\n");
    env.write("repo.par/untracked/new.txt", "new\n");
    env.write("repo.par/staged/g", "g\n");
    env.git_in("repo.par/staged", ["add", "g"]).ok();
    // A branch under the task prefix that git par did not make: not judged, named.
    env.git_in("repo", ["branch", "par/handmade"]).ok();

    let run = env.par(["prune"]).ok();
    assert!(
        run.stdout
            .contains("kept handmade: git par has no record of it"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("kept changed: 1 uncommitted change(s)"));
    assert!(run.stdout.contains("kept untracked: 1 untracked file(s)"));
    assert!(run.stdout.contains("kept staged: 1 uncommitted change(s)"));
    assert_eq!(env.branches().len(), 5);
    assert_eq!(env.read("repo.par/changed/f"), "changed\n");
    assert_eq!(env.read("repo.par/untracked/new.txt"), "new\n");
    assert!(
        env.par_refs().is_empty(),
        "nothing was dropped, nothing saved"
    );
}

#[test]
fn prune_leaves_a_task_another_git_par_works_in() {
    let env = with_numbers();
    env.par(["start", "busy"]).ok();
    env.par(["start", "idle"]).ok();
    let mut cmd = env.command(BIN, &env.repo());
    cmd.args(["run", "busy", "--", "sleep", "8"])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("git par run");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list: Value =
            serde_json::from_str(&env.par(["list", "--json"]).ok().stdout).expect("json");
        if list[0]["busy"] != Value::Null {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "git par run never took the lease"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let dry = env.par(["prune", "--dry-run"]).ok();
    let run = env.par(["prune"]).ok();
    let _ = child.kill();
    let _ = child.wait();
    for out in [&dry.stdout, &run.stdout] {
        let line = out
            .lines()
            .find(|l| l.starts_with("kept busy: "))
            .unwrap_or_else(|| panic!("{out}"));
        assert!(line.contains("git par run"), "{line}");
    }
    assert!(run.stdout.contains("pruned idle: it holds nothing"));
    assert_eq!(env.branches(), ["main", "par/busy"]);
}

#[test]
fn prune_leaves_a_task_a_process_works_in() {
    let env = with_numbers();
    env.par(["start", "used"]).ok();
    let mut sleeper = env
        .command("sleep", &env.task_path("used"))
        .arg("8")
        .spawn()
        .expect("sleep");
    let run = env.par(["prune"]).ok();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert!(
        run.stdout
            .contains(&format!("kept used: in use by pid {}", sleeper.id())),
        "{}",
        run.stdout
    );
    assert!(env.task_path("used").exists());
    assert_eq!(env.branches(), ["main", "par/used"]);
}

#[test]
fn prune_keeps_a_merged_task_whose_branch_another_task_started_from() {
    let env = with_numbers();
    env.par(["start", "lower"]).ok();
    add_file(&env, "lower", "l.txt");
    env.par_in("repo.par/lower", ["start", "upper"]).ok();
    add_file(&env, "upper", "u.txt");
    env.git_in("repo", ["merge", "-q", "--ff-only", "par/lower"])
        .ok();
    let run = env.par(["prune"]).ok();
    assert!(
        run.stdout
            .contains("kept lower: task 'upper' was started from its branch"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("kept upper: 1 commit(s) not in par/lower"),
        "{}",
        run.stdout
    );
    assert_eq!(env.branches(), ["main", "par/lower", "par/upper"]);
    // Once upper holds nothing of its own, both go in one run: upper first.
    env.git_in("repo.par/upper", ["reset", "-q", "--hard", "par/lower"])
        .ok();
    let dry = env.par(["prune", "--dry-run"]).ok();
    assert_eq!(
        dry.stdout,
        "would prune upper: it holds nothing: no commits, no changes\n\
         would prune lower: its branch is at main\n"
    );
    env.par(["prune"]).ok();
    assert_eq!(env.branches(), ["main"]);
}

#[test]
fn prune_keeps_a_task_holding_a_repository_or_ignored_files_kept_as_work() {
    let env = with_numbers();
    env.write("repo/.gitignore", "clone/\n.env\n");
    env.commit_all("repo", "ignore");
    env.par(["start", "nested"]).ok();
    env.par(["start", "secrets"]).ok();
    env.par(["start", "plain"]).ok();
    env.git_in("repo.par/nested", ["init", "-q", "clone"]).ok();
    env.write("repo.par/secrets/.env", "TOKEN=1\n");
    env.write("repo.par/plain/.env", "TOKEN=2\n");
    env.git_in("repo", ["config", "par.keepIgnored", ".env"])
        .ok();
    let run = env.par(["prune"]).ok();
    assert!(
        run.stdout
            .contains("kept nested: it holds a repository of its own at clone"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("kept secrets: it holds ignored files that par.keepIgnored counts as work"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("kept plain: it holds ignored files"));
    env.git_in("repo", ["config", "--unset", "par.keepIgnored"])
        .ok();
    // Without the setting, an ignored .env is build output: the task goes, as drop takes it.
    let run = env.par(["prune"]).ok();
    assert!(
        run.stdout.contains("pruned plain: it holds nothing"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("pruned secrets: it holds nothing"));
    assert!(run.stdout.contains("kept nested: it holds a repository"));
    assert!(env.task_path("nested").join("clone/.git").exists());
}

#[test]
fn prune_takes_a_merged_task_whose_folder_was_deleted_by_hand_and_keeps_an_unmerged_one() {
    let env = with_numbers();
    env.par(["start", "merged"]).ok();
    env.par(["start", "open"]).ok();
    add_file(&env, "merged", "m.txt");
    add_file(&env, "open", "o.txt");
    env.git_in("repo", ["merge", "-q", "--ff-only", "par/merged"])
        .ok();
    for t in ["merged", "open"] {
        std::fs::remove_dir_all(env.task_path(t)).expect("rm -r");
    }
    let run = env.par(["prune"]).ok();
    assert!(
        run.stdout.contains("pruned merged: its branch is at main"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("kept open: 1 commit(s) not in main"),
        "{}",
        run.stdout
    );
    assert_eq!(env.branches(), ["main", "par/open"]);
    assert_eq!(
        env.worktrees().len(),
        2,
        "git's record of the merged task is gone"
    );
}
