//! What a newcomer reads (issue 13): finish saying what it did and refusing before it
//! commits, list's header, flags and marker, sync with uncommitted changes, where to go after
//! the task's folder is gone, and what `recover --dry-run` would do.

use expectrl::Expect;

use crate::env::TestEnv;

fn short(env: &TestEnv, rev: &str) -> String {
    env.git_out(["rev-parse", "--short=7", rev])
}

/// The lines of `stderr`, with the test's temp folder shown as `<root>`.
fn lines(env: &TestEnv, stderr: &str) -> Vec<String> {
    let root = env.root().display().to_string();
    stderr.lines().map(|l| l.replace(&root, "<root>")).collect()
}

#[test]
fn finish_refuses_before_committing_when_the_target_has_edits_to_the_task_files() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo.par/t/README", "task edit\n");
    env.write("repo/README", "local edit\n");
    env.write("repo/f", "untracked here\n");
    let before = env.state();
    let task_tip = env.git_out(["rev-parse", "par/t"]);
    let run = env.par(["finish", "t", "--changes", "commit"]).code(1);
    assert_eq!(
        lines(&env, &run.stderr),
        [
            "error: 'main' has local edits in <root>/repo to files task 't' changes: README, f",
            "hint: commit them there, or carry them into a task of their own: cd <root>/repo && git par start <new-task> --changes move",
            "hint: then finish again; nothing was changed",
        ]
    );
    assert_eq!(env.state(), before);
    assert_eq!(env.git_out(["rev-parse", "par/t"]), task_tip, "committed");
    assert_eq!(env.read("repo.par/t/README"), "task edit\n");
    assert_eq!(env.read("repo/README"), "local edit\n");
    assert_eq!(env.read("repo/f"), "untracked here\n");
}

#[test]
fn finish_goes_ahead_when_the_target_edits_other_files() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo/README", "local edit\n");
    env.par(["finish", "t"]).ok();
    assert_eq!(env.read("repo/f"), "task\n");
    assert_eq!(env.read("repo/README"), "local edit\n");
}

/// A task with two commits, and main moved on by one, so nothing fast-forwards.
fn two_commits_behind_main(env: &TestEnv) {
    env.task_with_commit("t", "f", "one\n");
    env.write("repo.par/t/g", "two\n");
    env.commit_all("repo.par/t", "second");
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
}

#[test]
fn finish_rebase_says_it_rebased_then_that_the_task_went() {
    let env = TestEnv::new();
    two_commits_behind_main(&env);
    let run = env.par(["finish", "t", "--strategy", "rebase"]).ok();
    let stderr = lines(&env, &run.stderr);
    assert_eq!(
        stderr[0],
        format!(
            "Rebased 2 commits of 'par/t' onto 'main' (now at {}).",
            short(&env, "main")
        )
    );
    assert!(stderr[1].starts_with("Saved what the merge did not keep as refs/par/rescued/t/"));
    assert_eq!(
        stderr[2..],
        [
            "Removed the worktree <root>/repo.par/t and branch 'par/t'.",
            "'main' is checked out at <root>/repo",
        ]
    );
    assert_eq!(env.git_out(["rev-list", "--count", "main"]), "4");
}

#[test]
fn finish_squash_says_how_many_commits_became_one() {
    let env = TestEnv::new();
    two_commits_behind_main(&env);
    let run = env.par(["finish", "t", "--strategy", "squash"]).ok();
    assert_eq!(
        lines(&env, &run.stderr)[0],
        format!(
            "Squashed 2 commits of 'par/t' into one on 'main' (new commit {}).",
            short(&env, "main")
        )
    );
    assert_eq!(env.git_out(["rev-list", "--count", "main"]), "3");
}

#[test]
fn finish_merge_names_the_new_merge_commit() {
    let env = TestEnv::new();
    two_commits_behind_main(&env);
    let run = env.par(["finish", "t"]).ok();
    assert_eq!(
        lines(&env, &run.stderr),
        [
            format!(
                "Merged 'par/t' into 'main' (new commit {}).",
                short(&env, "main")
            ),
            "Removed the worktree <root>/repo.par/t and branch 'par/t'.".to_string(),
            "'main' is checked out at <root>/repo".to_string(),
        ]
    );
}

#[test]
fn finish_fast_forward_says_so() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "one\n");
    let preview = env.par(["finish", "t", "--dry-run"]).ok();
    assert_eq!(
        lines(&env, &preview.stderr)[0],
        "Would fast-forward 'main' to 'par/t' (1 commit)."
    );
    let run = env.par(["finish", "t", "--strategy", "rebase"]).ok();
    assert_eq!(
        lines(&env, &run.stderr)[..2],
        [
            format!(
                "Fast-forwarded 'main' to 'par/t' (1 commit, now at {}).",
                short(&env, "main")
            ),
            "Removed the worktree <root>/repo.par/t and branch 'par/t'.".to_string(),
        ]
    );
}

#[test]
fn finish_keep_says_the_task_was_kept() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    let run = env.par(["finish", "t", "--keep"]).ok();
    assert_eq!(
        lines(&env, &run.stderr)[..2],
        [
            "'main' already holds everything of 'par/t'; nothing to merge.",
            "Kept task 't' (--keep): <root>/repo.par/t",
        ]
    );
}

fn json_of(env: &TestEnv, sub: &str) -> serde_json::Value {
    let run = env.par_in(sub, ["list", "--json"]).ok();
    serde_json::from_str(&run.stdout).expect("json")
}

fn flags_of(list: &serde_json::Value, task: &str) -> Vec<String> {
    let task = list
        .as_array()
        .expect("array")
        .iter()
        .find(|t| t["task"] == task)
        .expect("task listed");
    task["flags"]
        .as_array()
        .expect("flags")
        .iter()
        .map(|f| f.as_str().expect("flag").to_string())
        .collect()
}

#[test]
fn list_flags_a_merge_rebase_or_cherry_pick_waiting_in_the_task() {
    let env = TestEnv::new();
    for task in ["m", "r", "c"] {
        env.task_with_commit(task, "README", &format!("{task}\n"));
    }
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main edits README");
    env.git_in("repo.par/m", ["merge", "main"]).code(1);
    env.git_in("repo.par/r", ["rebase", "main"]).code(1);
    env.git_in("repo.par/c", ["cherry-pick", "main"]).code(1);
    let list = json_of(&env, "repo");
    assert_eq!(flags_of(&list, "m"), ["merging"]);
    assert_eq!(flags_of(&list, "r"), ["rebasing"]);
    assert_eq!(flags_of(&list, "c"), ["cherry-picking"]);
    let table = env.par(["list"]).ok().stdout;
    let line = table.lines().find(|l| l.contains("repo.par/m")).expect("m");
    assert!(line.ends_with("  [merging]"), "{line}");
    let porcelain = env.par(["list", "--porcelain"]).ok().stdout;
    let fields: Vec<&str> = porcelain.lines().next().expect("c").split('\t').collect();
    assert_eq!(fields[10], "cherry-picking");
}

#[test]
fn list_flags_a_task_an_interrupted_command_worked_in() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.par(["start", "other"]).ok();
    env.par_failing("finish:begin", ["finish", "t"])
        .killed_by(9);
    let list = json_of(&env, "repo");
    assert_eq!(flags_of(&list, "t"), ["interrupted"]);
    assert!(flags_of(&list, "other").is_empty());
    env.par(["recover"]).ok();
    assert!(flags_of(&json_of(&env, "repo"), "t").is_empty());
}

#[test]
fn list_marks_the_task_you_are_in_and_says_when_it_started() {
    let env = TestEnv::new();
    env.par(["start", "a"]).ok();
    env.par(["start", "b"]).ok();
    env.write("repo.par/b/sub/x", "x\n");
    let list = json_of(&env, "repo.par/b/sub");
    let current: Vec<bool> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|t| t["current"].as_bool().expect("current"))
        .collect();
    assert_eq!(current, [false, true]);
    let started = list[0]["started"].as_str().expect("started");
    assert!(
        started.starts_with("20") && started.ends_with('Z'),
        "{started}"
    );
    assert_ne!(list[0]["last_commit"], list[0]["started"]);
    let table = env.par_in("repo.par/b", ["list"]).ok().stdout;
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("  a  "), "{table}");
    assert!(rows[1].starts_with("* b  "), "{table}");
    // Started just now (a loaded machine may make that "1 second ago"); its last commit is
    // the fixture's, long ago.
    assert!(
        rows[0].contains("  clean  ")
            && (rows[0].contains(" seconds ago  ") || rows[0].contains(" 1 second ago  ")),
        "{table}"
    );
    assert!(!table.contains("TASK"), "no header when piped: {table}");
    let porcelain = env.par(["list", "--porcelain"]).ok().stdout;
    let fields: Vec<&str> = porcelain.lines().next().expect("a").split('\t').collect();
    assert_eq!(fields[11], started);
}

#[test]
fn list_on_a_terminal_has_a_header_and_aligns_wide_names_by_display_width() {
    use crate::prompts::{finish, on_terminal};
    use unicode_width::UnicodeWidthStr;
    let env = TestEnv::new();
    for task in ["日本語", "emoji-🎉", "plain"] {
        env.par(["start", task]).ok();
    }
    let mut s = on_terminal(&env, "list");
    let out = finish(&mut s);
    // The table is drawn at once and redrawn in place as each task's changes come in
    // (cursor moves, line clears): the last drawing is what stays on the screen.
    let lines: Vec<String> = out
        .lines()
        .map(|l| console::strip_ansi_codes(l).replace('\r', ""))
        .collect();
    let last = lines
        .iter()
        .rposition(|l| l.contains("TASK"))
        .expect("a header");
    let rows: Vec<&str> = lines[last..].iter().take(4).map(String::as_str).collect();
    assert_eq!(rows.len(), 4, "{out}");
    assert!(
        rows[0].starts_with("  TASK  ") && rows[0].contains("BRANCH ← BASE"),
        "{out}"
    );
    assert!(rows[0].trim_end().ends_with("PATH  [FLAGS]"), "{out}");
    // Every column starts at the same display column on every row.
    let column = |row: &str, text: &str| row[..row.find(text).expect(text)].width();
    let root = env.root().display().to_string();
    for row in &rows[1..] {
        assert_eq!(column(row, "par/"), column(rows[0], "BRANCH"), "{out}");
        assert_eq!(column(row, "clean"), column(rows[0], "CHANGES"), "{out}");
        assert_eq!(column(row, &root), column(rows[0], "PATH"), "{out}");
    }
}

/// Task `t` with a staged edit, an unstaged edit and an untracked file; main has moved on
/// with a change to another file.
fn task_with_changes_behind_main(env: &TestEnv) -> String {
    env.write("repo/other", "1\n");
    env.write("repo/staged", "s\n");
    env.commit_all("repo", "more files");
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/staged", "staged edit\n");
    env.git_in("repo.par/t", ["add", "staged"]).ok();
    env.write("repo.par/t/README", "unstaged edit\n");
    env.write("repo.par/t/new", "untracked\n");
    env.write("repo/other", "2\n");
    env.commit_all("repo", "main moves");
    env.git_in("repo.par/t", ["status", "--porcelain"])
        .ok()
        .stdout
}

#[test]
fn sync_with_uncommitted_changes_refuses_with_a_git_par_way_through() {
    let env = TestEnv::new();
    let status = task_with_changes_behind_main(&env);
    let before = env.state();
    let run = env.par(["sync", "t", "--rebase"]).code(1);
    assert_eq!(
        lines(&env, &run.stderr),
        [
            "error: task 't' has uncommitted changes: README, staged, new",
            "hint: 'git par sync t --rebase --carry' sets them aside, brings in 'main', and puts them back (never in the stash list); or commit them first",
            "hint: nothing was changed",
        ]
    );
    assert_eq!(env.state(), before);
    assert_eq!(
        env.git_in("repo.par/t", ["status", "--porcelain"])
            .ok()
            .stdout,
        status
    );
}

#[test]
fn sync_carry_keeps_staged_unstaged_and_untracked_changes_as_they_were() {
    for (flag, said) in [
        ("--rebase", "Rebased task 't' onto 'main'."),
        ("--no-rebase-marker", "Merged 'main' into task 't'."),
    ] {
        let env = TestEnv::new();
        let status = task_with_changes_behind_main(&env);
        let mut args = vec!["sync", "t", "--carry"];
        if flag == "--rebase" {
            args.push(flag);
        }
        let run = env.par(&args).ok();
        assert_eq!(
            lines(&env, &run.stderr),
            [said, "Its uncommitted changes are back, as they were."]
        );
        assert_eq!(env.read("repo.par/t/other"), "2\n", "{flag}");
        assert_eq!(env.read("repo.par/t/README"), "unstaged edit\n");
        assert_eq!(env.read("repo.par/t/new"), "untracked\n");
        assert_eq!(
            env.git_in("repo.par/t", ["status", "--porcelain"])
                .ok()
                .stdout,
            status
        );
        assert_eq!(env.git_out(["stash", "list"]), "");
        assert!(env.par_refs().is_empty());
        assert!(env.par_refs().is_empty(), "{flag}");
        env.assert_nothing_to_recover();
    }
}

#[test]
fn sync_carry_that_the_changes_conflict_with_is_undone_whole() {
    let env = TestEnv::new();
    let status = task_with_changes_behind_main(&env);
    env.write("repo/README", "main edit\n");
    env.commit_all("repo", "main edits README");
    let head = env.git_out(["rev-parse", "par/t"]);
    let run = env.par(["sync", "t", "--carry"]).code(1);
    assert_eq!(
        lines(&env, &run.stderr),
        [
            "error: could not merge 'main' into task 't': the uncommitted changes do not apply on 'main': conflicts in README",
            "hint: the sync was undone and the uncommitted changes are back in <root>/repo.par/t as they were",
            "hint: commit them, then 'git par sync t' again to resolve the conflicts there",
        ]
    );
    assert_eq!(env.git_out(["rev-parse", "par/t"]), head);
    assert_eq!(env.read("repo.par/t/README"), "unstaged edit\n");
    assert_eq!(
        env.git_in("repo.par/t", ["status", "--porcelain"])
            .ok()
            .stdout,
        status
    );
    env.assert_nothing_to_recover();
}

#[test]
fn sync_says_when_the_task_is_already_up_to_date() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "w\n");
    let before = env.state();
    for args in [["sync", "t", "--rebase"], ["sync", "t", "--carry"]] {
        let run = env.par(args).ok();
        assert_eq!(
            run.stderr,
            "Task 't' is already up to date with 'main'; nothing to do.\n"
        );
    }
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo.par/t/wip"), "w\n");
}

#[test]
fn sync_carry_cut_short_is_put_right_by_recover() {
    for point in ["sync:set-aside", "sync:before", "sync:put-back"] {
        let env = TestEnv::new();
        let status = task_with_changes_behind_main(&env);
        env.par_failing(point, ["sync", "t", "--carry"])
            .killed_by(9);
        // Cut short, the changes are reachable from a ref until they are back.
        assert_eq!(env.par_refs(), ["refs/par/carrying/t"], "{point}");
        let run = env.par(["recover"]).ok();
        assert!(
            run.stdout.contains("put the uncommitted changes back"),
            "{point}: {}",
            run.stdout
        );
        assert_eq!(env.read("repo.par/t/README"), "unstaged edit\n", "{point}");
        assert_eq!(env.read("repo.par/t/new"), "untracked\n", "{point}");
        assert_eq!(
            env.git_in("repo.par/t", ["status", "--porcelain"])
                .ok()
                .stdout,
            status,
            "{point}"
        );
        assert!(env.par_refs().is_empty(), "{point}");
        env.assert_nothing_to_recover();
    }
}

#[test]
fn sync_on_a_terminal_asks_and_enter_alone_carries_nothing() {
    use crate::prompts::{exit_status, finish, on_terminal, ENTER, UP};
    let env = TestEnv::new();
    let status = task_with_changes_behind_main(&env);
    let before = env.state();
    let mut s = on_terminal(&env, "sync t");
    s.expect("What should happen to them?").expect("prompt");
    s.send(ENTER).expect("enter");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 1);
    assert_eq!(env.state(), before);
    let mut s = on_terminal(&env, "sync t");
    s.expect("What should happen to them?").expect("prompt");
    s.send(format!("{UP}{ENTER}")).expect("carry");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    assert_eq!(env.read("repo.par/t/other"), "2\n");
    assert_eq!(
        env.git_in("repo.par/t", ["status", "--porcelain"])
            .ok()
            .stdout,
        status
    );
}

#[test]
fn finish_or_drop_from_inside_the_task_says_where_to_go() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.write("repo.par/t/sub/keep", "k\n");
    env.commit_all("repo.par/t", "sub");
    let run = env.par_in("repo.par/t/sub", ["finish"]).ok();
    let said = lines(&env, &run.stderr);
    assert_eq!(
        said[said.len() - 2..],
        [
            "Your shell is in the folder that was just removed; go on from here:",
            "  cd <root>/repo",
        ]
    );
    assert!(!env.task_path("t").exists());
    env.par(["start", "d"]).ok();
    let run = env.par_in("repo.par/d", ["drop", "d"]).ok();
    assert!(
        run.stderr.ends_with(&format!(
            "go on from here:\n  cd {}\n",
            env.repo().display()
        )),
        "{}",
        run.stderr
    );
    // From outside the task nothing needs saying.
    env.par(["start", "e"]).ok();
    let run = env.par(["drop", "e"]).ok();
    assert!(!run.stderr.contains("cd "), "{}", run.stderr);
}

#[test]
fn with_the_shell_integration_the_shell_is_moved_instead() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    let file = env.root().join("cd-file");
    std::fs::write(&file, "").expect("cd file");
    let mut cmd = env.command(crate::env::BIN, &env.task_path("t"));
    cmd.env("GIT_PAR_CD_FILE", &file).args(["drop", "t"]);
    let run: crate::env::Run = cmd.output().expect("run").into();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stderr.contains("go on from here"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        env.repo().display().to_string()
    );
}

#[test]
fn the_cd_line_quotes_a_path_the_shell_would_split() {
    let env = TestEnv::empty();
    env.git(["init", "-q", "-b", "main", "my repo"]).ok();
    env.write("my repo/README", "hello\n");
    env.commit_all("my repo", "initial");
    env.par_in("my repo", ["start", "t"]).ok();
    let run = env.par_in("my repo.par/t", ["drop", "t"]).ok();
    assert!(
        run.stderr
            .ends_with(&format!("  cd '{}/my repo'\n", env.root().display())),
        "{}",
        run.stderr
    );
}

/// What `recover --dry-run` says it would do with the one interrupted operation.
fn dry_run_intent(env: &TestEnv) -> String {
    let before = env.state();
    let run = env.par(["recover", "--dry-run", "--json"]).ok();
    assert_eq!(env.state(), before, "a dry run changed something");
    let findings: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let found: Vec<&serde_json::Value> = findings
        .as_array()
        .expect("array")
        .iter()
        .filter(|f| {
            f["what"]
                .as_str()
                .is_some_and(|w| w.starts_with("interrupted"))
        })
        .collect();
    assert_eq!(found.len(), 1, "{}", run.stdout);
    assert_eq!(found[0]["action"], "would recover");
    let root = env.root().display().to_string();
    found[0]["detail"]
        .as_str()
        .expect("detail")
        .replace(&root, "<root>")
}

#[test]
fn recover_dry_run_says_whether_it_would_finish_or_roll_back_each_operation() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "task\n");
    env.par_failing("finish:begin", ["finish", "t"])
        .killed_by(9);
    assert_eq!(
        dry_run_intent(&env),
        "roll it back: 'main' did not get the merge; a half-made merge of the finish's own is aborted and task 't' stays as it is"
    );
    env.par(["recover"]).ok();
    assert!(env.task_path("t").exists());

    env.par_failing("finish:merged", ["finish", "t"])
        .killed_by(9);
    assert_eq!(
        dry_run_intent(&env),
        "finish it: 'main' holds the merge, so task 't' is taken apart (its worktree and branch go, anything they hold that is not merged is saved first)"
    );
    env.par(["recover"]).ok();
    assert!(!env.task_path("t").exists());

    env.par_failing("start:checkout", ["start", "s"])
        .killed_by(9);
    assert_eq!(
        dry_run_intent(&env),
        "roll it back: the half-made task 's' (branch 'par/s', <root>/repo.par/s) is removed, anything written in it since saved first"
    );
    env.par(["recover"]).ok();

    env.par(["start", "d"]).ok();
    env.par_failing("drop:saved", ["drop", "d", "--force"])
        .killed_by(9);
    assert_eq!(
        dry_run_intent(&env),
        "finish it: the work of task 'd' was saved, so the rest of its worktree and branch are removed"
    );
    env.par(["recover"]).ok();
    env.assert_nothing_to_recover();
}

#[test]
fn recover_dry_run_of_a_carried_sync_says_the_changes_go_back() {
    let env = TestEnv::new();
    task_with_changes_behind_main(&env);
    env.par_failing("sync:before", ["sync", "t", "--carry"])
        .killed_by(9);
    assert_eq!(
        dry_run_intent(&env),
        "roll it back: the sync's own unfinished merge in <root>/repo.par/t is aborted, if it is there (a finished one stays), and the uncommitted changes set aside are put back (saved under refs/par/rescued/ if they no longer apply)"
    );
    env.par(["recover"]).ok();
    env.par_failing("sync:put-back", ["sync", "t", "--carry"])
        .killed_by(9);
    assert_eq!(
        dry_run_intent(&env),
        "finish it: the uncommitted changes set aside are put back (saved under refs/par/rescued/ if they no longer apply) onto the synced task in <root>/repo.par/t"
    );
    env.par(["recover"]).ok();
    assert_eq!(env.read("repo.par/t/README"), "unstaged edit\n");
}

/// Temporary files the shell integration left in `tmp/`.
fn cd_files_left(env: &TestEnv) -> Vec<String> {
    std::fs::read_dir(env.root().join("tmp"))
        .expect("tmp")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("git-par-cd."))
        .collect()
}

#[test]
fn ctrl_c_at_a_prompt_under_the_shell_integration_leaves_no_temporary_file() {
    use std::time::Duration;
    for (program, via) in [
        ("bash", "git par"),
        ("bash", "git-par"),
        ("zsh", "git par"),
        ("fish", "git par"),
    ] {
        if !crate::native::have(program) {
            continue;
        }
        let env = TestEnv::new();
        std::fs::create_dir_all(env.root().join("tmp")).expect("tmp");
        env.write("repo/README", "edited\n");
        let (load, args): (String, &[&str]) = match program {
            "fish" => ("git-par shell-init fish | source".into(), &["--no-config"]),
            "zsh" => (format!("eval \"$(git-par shell-init {program})\""), &["-f"]),
            _ => (
                format!("eval \"$(git-par shell-init {program})\""),
                &["--norc", "--noprofile"],
            ),
        };
        let script = format!("{load}; {via} start t; echo EXITED");
        let mut cmd = std::process::Command::new("env");
        env.configure(&mut cmd);
        cmd.env("TERM", "xterm")
            .env("PATH", crate::shells::path_with_bin())
            .env("TMPDIR", env.root().join("tmp"))
            .current_dir(env.repo())
            .args(["--default-signal=INT", program])
            .args(args)
            .args(["-c", &script]);
        let mut s = expectrl::session::OsSession::spawn(cmd).expect("spawn on a pty");
        s.set_expect_timeout(Some(Duration::from_secs(20)));
        s.expect("What should happen to them?").expect("prompt");
        std::thread::sleep(Duration::from_millis(200));
        s.send("\x03").expect("ctrl-c");
        let _ = s.expect(expectrl::Eof);
        assert_eq!(
            cd_files_left(&env),
            Vec::<String>::new(),
            "{program} with {via}"
        );
        assert!(!env.task_path("t").exists());
    }
}

#[test]
fn prompts_cancel_on_esc_and_q_and_ask_without_a_stray_colon() {
    use crate::prompts::{exit_status, finish, on_terminal};
    for key in ["\x1b", "q"] {
        let env = TestEnv::new();
        env.write("repo/README", "edited\n");
        let before = env.state();
        let mut s = on_terminal(&env, "start t");
        let shown = s.expect("leave them here").expect("prompt");
        let screen = String::from_utf8_lossy(shown.before()).into_owned();
        assert!(
            screen.contains("What should happen to them?\r\n"),
            "{screen:?}"
        );
        assert!(!screen.contains("them?:"), "{screen:?}");
        std::thread::sleep(std::time::Duration::from_millis(200));
        s.send(key).expect("key");
        s.expect("EXIT=").expect("exit");
        assert_eq!(exit_status(&finish(&mut s)), 1, "{key:?}");
        assert_eq!(env.state(), before, "{key:?}");

        env.par(["start", "d", "--changes", "leave"]).ok();
        env.write("repo.par/d/wip", "w\n");
        let mut s = on_terminal(&env, "drop d");
        s.expect("Drop task 'd'?").expect("confirm");
        std::thread::sleep(std::time::Duration::from_millis(200));
        s.send(key).expect("key");
        s.expect("EXIT=").expect("exit");
        assert_eq!(exit_status(&finish(&mut s)), 1, "{key:?}");
        assert_eq!(env.read("repo.par/d/wip"), "w\n");
    }
}

#[test]
fn enter_alone_at_a_prompt_neither_moves_nor_discards() {
    use crate::prompts::{exit_status, finish, on_terminal, ENTER};
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    let mut s = on_terminal(&env, "start t");
    s.expect("What should happen to them?").expect("prompt");
    s.send(ENTER).expect("enter");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    // The task exists; the changes stayed where they were.
    assert_eq!(env.read("repo/README"), "edited\n");
    assert_eq!(env.read("repo.par/t/README"), "hello\n");

    env.write("repo.par/t/wip", "w\n");
    let mut s = on_terminal(&env, "drop t");
    s.expect("Drop task 't'?").expect("confirm");
    s.send(ENTER).expect("enter");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 1);
    assert_eq!(env.read("repo.par/t/wip"), "w\n");
}

#[test]
fn sync_carry_cut_short_saves_the_changes_when_the_task_was_worked_in_since() {
    let env = TestEnv::new();
    task_with_changes_behind_main(&env);
    env.par_failing("sync:before", ["sync", "t", "--carry"])
        .killed_by(9);
    // An agent writes into the cleaned-out worktree before anyone runs recover.
    env.write("repo.par/t/README", "the agent's edit\n");
    let run = env.par(["recover"]).ok();
    assert!(
        run.stdout
            .contains("saved the uncommitted changes that were set aside as refs/par/rescued/t/"),
        "{}",
        run.stdout
    );
    assert_eq!(env.read("repo.par/t/README"), "the agent's edit\n");
    let saved = env.par_refs();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert_eq!(
        env.git_out(["show", &format!("{}:README", saved[0])]),
        "unstaged edit"
    );
    assert_eq!(
        env.git_out(["show", &format!("{}:new", saved[0])]),
        "untracked"
    );
    env.assert_nothing_to_recover();
}

#[test]
fn finish_dry_run_says_it_would_commit_the_changes_first() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "one\n");
    env.write("repo.par/t/wip", "w\n");
    let before = env.state();
    let run = env
        .par(["finish", "t", "--dry-run", "--changes", "commit"])
        .ok();
    assert_eq!(
        lines(&env, &run.stderr)[..2],
        [
            "Would first commit the uncommitted changes of task 't': wip",
            "Would fast-forward 'main' to 'par/t' (1 commit).",
        ]
    );
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo.par/t/wip"), "w\n");
}
