//! `git par list --conflicts`: which tasks would conflict with their base or with each other,
//! worked out without touching any worktree, index or ref.

use serde_json::Value;

use crate::env::TestEnv;

const LINES: &str = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";

/// `repo/f` holds nine lines; each task replaces one line of it, or adds a file.
fn with_numbers() -> TestEnv {
    let env = TestEnv::new();
    env.write("repo/f", LINES);
    env.commit_all("repo", "numbers");
    env
}

fn edit_line(env: &TestEnv, sub: &str, line: &str, to: &str) {
    let text = env
        .read(&format!("{sub}/f"))
        .lines()
        .map(|l| if l == line { to } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    env.write(&format!("{sub}/f"), &format!("{text}\n"));
    env.commit_all(sub, &format!("{line} -> {to}"));
}

fn forecasts(env: &TestEnv) -> Value {
    let out = env.par(["list", "--conflicts", "--json"]).ok().stdout;
    let tasks: Value = serde_json::from_str(&out).expect("json");
    let mut by_task = serde_json::Map::new();
    for t in tasks.as_array().expect("array") {
        by_task.insert(
            t["task"].as_str().expect("task").to_string(),
            t["conflicts"].clone(),
        );
    }
    Value::Object(by_task)
}

/// Everything a forecast must leave alone: refs, each worktree's HEAD, index and files.
fn snapshot(env: &TestEnv) -> String {
    let mut s = env.git_out(["for-each-ref", "--format=%(refname) %(objectname)"]);
    for wt in env.worktrees() {
        let dir = wt.to_string_lossy().into_owned();
        s.push_str(&env.git_out(["-C", &dir, "rev-parse", "HEAD"]));
        s.push_str(&env.git_out(["-C", &dir, "ls-files", "--stage", "--debug"]));
        s.push_str(&env.git_out(["-C", &dir, "status", "--porcelain", "--ignored"]));
    }
    s
}

#[test]
fn list_conflicts_names_the_base_and_the_tasks_each_task_would_conflict_with() {
    let env = with_numbers();
    for t in ["a", "b", "c", "d", "e"] {
        env.par(["start", t]).ok();
    }
    edit_line(&env, "repo.par/a", "1", "a");
    edit_line(&env, "repo.par/b", "1", "b");
    edit_line(&env, "repo.par/c", "9", "c");
    edit_line(&env, "repo.par/e", "5", "e");
    env.write("repo.par/d/new", "d\n");
    env.commit_all("repo.par/d", "d: new file");
    // main moves on and changes line 9 too: c conflicts with it, the others merge.
    edit_line(&env, "repo", "9", "main");
    let before = snapshot(&env);

    let f = forecasts(&env);
    assert_eq!(f["a"]["merges_cleanly"], true);
    assert_eq!(f["a"]["with_tasks"][0]["task"], "b");
    assert_eq!(f["a"]["with_tasks"][0]["files"][0], "f");
    assert_eq!(f["a"]["with_tasks"].as_array().map(Vec::len), Some(1));
    assert_eq!(f["b"]["with_tasks"][0]["task"], "a");
    assert_eq!(f["c"]["merges_cleanly"], false);
    assert_eq!(f["c"]["base_files"][0], "f");
    // Lines 1, 5 and 9 of the same file merge without a conflict.
    assert_eq!(f["e"]["merges_cleanly"], true);
    assert_eq!(f["e"]["with_tasks"], Value::Array(vec![]));
    assert_eq!(f["d"]["merges_cleanly"], true);
    assert_eq!(f["d"]["with_tasks"], Value::Array(vec![]));

    let table = env.par(["list", "--conflicts"]).ok().stdout;
    let line = |t: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{t} ")))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("a").ends_with("after b: f"), "{table}");
    assert!(line("c").ends_with("conflicts with main in f"), "{table}");
    assert!(line("d").ends_with("merges cleanly"), "{table}");
    let porcelain = env.par(["list", "--conflicts", "--porcelain"]).ok().stdout;
    let fields: Vec<String> = porcelain
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            format!("{} {}", f[0], f[12])
        })
        .collect();
    assert_eq!(fields, ["a b", "b a", "c :base", "d :clean", "e :clean"]);
    // Without --conflicts, nothing is worked out and the key is null.
    let plain: Value =
        serde_json::from_str(&env.par(["list", "--json"]).ok().stdout).expect("json");
    assert_eq!(plain[0]["conflicts"], Value::Null);

    assert_eq!(snapshot(&env), before, "the forecast changed something");
}

#[test]
fn list_conflicts_finds_a_file_against_a_folder_and_a_file_added_in_a_renamed_folder() {
    let env = TestEnv::new();
    env.write("repo/old/f", "f\n");
    env.write("repo/old/f2", "f2\n");
    env.commit_all("repo", "old/");
    env.par(["start", "file"]).ok();
    env.par(["start", "folder"]).ok();
    env.par(["start", "into-old"]).ok();
    env.write("repo.par/file/x", "a file\n");
    env.commit_all("repo.par/file", "x is a file");
    env.write("repo.par/folder/x/y", "in a folder\n");
    env.commit_all("repo.par/folder", "x is a folder");
    env.write("repo.par/into-old/old/g", "task\n");
    env.commit_all("repo.par/into-old", "old/g");
    // main moves old/ to new/ and adds new/g: the task's old/g follows the rename into it.
    env.git_in("repo", ["mv", "old", "new"]).ok();
    env.write("repo/new/g", "main\n");
    env.commit_all("repo", "old/ is new/");

    let f = forecasts(&env);
    assert_eq!(f["file"]["with_tasks"][0]["task"], "folder");
    assert_eq!(f["folder"]["with_tasks"][0]["task"], "file");
    assert_eq!(f["into-old"]["merges_cleanly"], false);
    assert_eq!(f["into-old"]["base_files"][0], "new/g");
}

#[test]
fn list_conflicts_counts_committed_work_only() {
    let env = with_numbers();
    env.par(["start", "a"]).ok();
    env.par(["start", "b"]).ok();
    edit_line(&env, "repo.par/a", "1", "a");
    // b's edit of the same line is not committed: no merge would carry it.
    env.write("repo.par/b/f", &LINES.replace("1\n", "b\n"));
    let f = forecasts(&env);
    assert_eq!(f["a"]["with_tasks"], Value::Array(vec![]));
    assert_eq!(f["b"]["merges_cleanly"], true);
    assert_eq!(env.read("repo.par/b/f"), LINES.replace("1\n", "b\n"));
}

#[test]
fn list_conflicts_says_why_a_task_without_a_base_branch_is_not_looked_at() {
    let env = with_numbers();
    let commit = env.git_out(["rev-parse", "HEAD"]);
    env.par(["start", "detached", "--base", &commit]).ok();
    let f = forecasts(&env);
    assert_eq!(f["detached"]["merges_cleanly"], Value::Null);
    assert_eq!(f["detached"]["reason"], "it has no base branch");
    let porcelain = env.par(["list", "--conflicts", "--porcelain"]).ok().stdout;
    assert!(porcelain.trim_end().ends_with("\t-"), "{porcelain}");
}

#[test]
fn list_conflicts_of_two_tasks_that_fast_forward_name_each_other() {
    let env = with_numbers();
    for t in ["a", "b", "c"] {
        env.par(["start", t]).ok();
    }
    edit_line(&env, "repo.par/a", "4", "a");
    edit_line(&env, "repo.par/b", "4", "b");
    edit_line(&env, "repo.par/c", "8", "c");
    let f = forecasts(&env);
    assert_eq!(f["a"]["merges_cleanly"], true);
    assert_eq!(
        f["a"]["with_tasks"],
        serde_json::json!([{"task": "b", "files": ["f"]}])
    );
    assert_eq!(
        f["b"]["with_tasks"],
        serde_json::json!([{"task": "a", "files": ["f"]}])
    );
    assert_eq!(f["c"]["with_tasks"], Value::Array(vec![]));
}
