//! Hooks: `par.hook.<event>` from git config, committed ones in `.git-par.config` behind
//! `git par trust`, `--no-hooks`, where their output goes and what a failing one leaves.

use std::fs;

use expectrl::Expect;

use crate::env::TestEnv;
use crate::prompts::{exit_status, finish, on_terminal, ENTER};

/// A hook that appends what it saw to `<root>/hooks.log`.
fn recorder(env: &TestEnv, label: &str) -> String {
    let log = env.root().join("hooks.log");
    format!(
        "echo \"{label} $GIT_PAR_HOOK $GIT_PAR_TASK $GIT_PAR_BRANCH $GIT_PAR_BASE $(pwd)\" >> '{}'",
        log.display()
    )
}

fn recorded(env: &TestEnv) -> Vec<String> {
    fs::read_to_string(env.root().join("hooks.log"))
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

fn add_hook(env: &TestEnv, event: &str, command: &str) {
    env.git_in(
        "repo",
        ["config", "--add", &format!("par.hook.{event}"), command],
    )
    .ok();
}

#[test]
fn post_start_hooks_run_in_order_in_the_new_worktree_with_the_task_variables() {
    let env = TestEnv::new();
    add_hook(&env, "postStart", &recorder(&env, "one"));
    add_hook(&env, "postStart", &recorder(&env, "two"));
    add_hook(&env, "postStart", "echo to-stdout");
    let run = env.par(["start", "t"]).ok();
    let path = env.task_path("t");
    assert_eq!(
        recorded(&env),
        [
            format!("one postStart t par/t main {}", path.display()),
            format!("two postStart t par/t main {}", path.display()),
        ]
    );
    // stdout stays the path alone: a hook's output goes to stderr, as git's hooks' does.
    assert_eq!(run.stdout.trim(), path.to_string_lossy());
    assert!(run.stderr.contains("to-stdout"), "{}", run.stderr);
}

#[test]
fn a_failing_post_start_hook_keeps_the_task_and_says_so() {
    let env = TestEnv::new();
    add_hook(&env, "postStart", "exit 3");
    add_hook(&env, "postStart", &recorder(&env, "after"));
    let run = env.par(["start", "t"]).code(1);
    assert!(
        run.stderr
            .contains("the postStart hook 'exit 3' failed (exit 3)"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("was started and is kept"),
        "{}",
        run.stderr
    );
    assert!(env.task_path("t").join("README").exists());
    assert!(recorded(&env).is_empty(), "later hooks do not run");
    assert!(env.branches().contains(&"par/t".to_string()));
}

#[test]
fn a_failing_pre_finish_hook_stops_the_finish_with_nothing_changed() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    add_hook(&env, "preFinish", "test -f must-exist");
    let before = env.state();
    let run = env.par(["finish", "t"]).code(1);
    assert!(run.stderr.contains("preFinish hook"), "{}", run.stderr);
    assert!(run.stderr.contains("nothing was changed"), "{}", run.stderr);
    assert_eq!(env.state(), before);
    // Passing: it runs in the task's worktree, and the finish goes ahead.
    env.write("repo.par/t/must-exist", "");
    env.git_in("repo.par/t", ["add", "must-exist"]).ok();
    env.git_in("repo.par/t", ["commit", "-q", "-m", "fix"]).ok();
    env.par(["finish", "t"]).ok();
    assert_eq!(env.read("repo/f"), "x\n");
}

#[test]
fn post_finish_runs_where_the_work_was_merged() {
    let env = TestEnv::new();
    env.task_with_commit("t", "f", "x\n");
    add_hook(&env, "postFinish", &recorder(&env, "done"));
    env.par(["finish", "t"]).ok();
    assert_eq!(
        recorded(&env),
        [format!(
            "done postFinish t par/t main {}",
            env.repo().display()
        )]
    );
}

#[test]
fn a_failing_pre_drop_hook_keeps_the_task() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    add_hook(&env, "preDrop", "false");
    let before = env.state();
    env.par(["drop", "t"]).code(1);
    assert_eq!(env.state(), before);
    env.par(["drop", "--no-hooks", "t"]).ok();
    assert!(!env.task_path("t").exists());
}

#[test]
fn no_hooks_skips_every_hook() {
    let env = TestEnv::new();
    for event in ["postStart", "preFinish", "postFinish"] {
        add_hook(&env, event, &recorder(&env, event));
    }
    env.par(["start", "--no-hooks", "t"]).ok();
    env.git_in("repo.par/t", ["commit", "-q", "--allow-empty", "-m", "x"])
        .ok();
    env.par(["finish", "--no-hooks", "t"]).ok();
    env.par(["run", "--start", "--no-hooks", "u", "--", "true"])
        .ok();
    assert!(recorded(&env).is_empty(), "{:?}", recorded(&env));
}

#[test]
fn in_a_many_task_run_hook_output_goes_to_the_task_log() {
    let env = TestEnv::new();
    add_hook(&env, "postStart", "echo hook-said-$GIT_PAR_TASK");
    let run = env
        .par(["run", "--start", "a", "b", "--", "echo", "command-said"])
        .ok();
    for task in ["a", "b"] {
        let log =
            fs::read_to_string(env.repo().join(format!(".git/par/logs/{task}.log"))).expect("log");
        assert!(log.contains(&format!("hook-said-{task}")), "{log}");
        assert!(log.contains("command-said"), "{log}");
    }
    assert!(!run.stderr.contains("hook-said"), "{}", run.stderr);
}

/// A committed `.git-par.config` whose postStart hook leaves a mark in the new worktree.
fn with_committed_hook(env: &TestEnv) {
    env.write(
        "repo/.git-par.config",
        "[hook]\n\tpostStart = touch committed-hook-ran\n",
    );
    env.commit_all("repo", "hooks");
}

#[test]
fn an_unapproved_committed_hook_is_skipped_without_a_terminal() {
    let env = TestEnv::new();
    with_committed_hook(&env);
    let run = env.par(["start", "t"]).ok();
    assert!(
        run.stderr.contains("skipped 1 postStart hook(s) from"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("git par trust"), "{}", run.stderr);
    assert!(!env.task_path("t").join("committed-hook-ran").exists());

    // Approved: it runs.
    let trust = env.par(["trust"]).code(1);
    assert!(trust.stderr.contains("not approved"), "{}", trust.stderr);
    env.par(["trust", "--yes"]).ok();
    let global = fs::read_to_string(env.home().join("gitconfig")).unwrap();
    assert!(global.contains("trusted = "), "{global}");
    let local = fs::read_to_string(env.repo().join(".git/config")).unwrap();
    assert!(!local.contains("trusted"), "{local}");
    env.par(["start", "u"]).ok();
    assert!(env.task_path("u").join("committed-hook-ran").exists());

    // Changed: it needs approving again.
    env.write(
        "repo/.git-par.config",
        "[hook]\n\tpostStart = touch changed-hook-ran\n",
    );
    env.commit_all("repo", "change the hook");
    let run = env.par(["start", "v"]).ok();
    assert!(run.stderr.contains("not approved"), "{}", run.stderr);
    assert!(!env.task_path("v").join("changed-hook-ran").exists());

    // Withdrawn.
    env.par(["trust", "--revoke"]).ok();
    let global = fs::read_to_string(env.home().join("gitconfig")).unwrap();
    assert!(!global.contains("trusted = "), "{global}");
}

#[test]
fn committed_hooks_cannot_include_other_files() {
    let env = TestEnv::new();
    env.write(
        "outside.config",
        "[hook]\n\tpostStart = touch included-ran\n",
    );
    env.write(
        "repo/.git-par.config",
        &format!(
            "[include]\n\tpath = {}\n",
            env.root().join("outside.config").display()
        ),
    );
    env.commit_all("repo", "hooks");
    env.par(["trust", "--yes"]).ok();
    env.par(["start", "t"]).ok();
    assert!(!env.task_path("t").join("included-ran").exists());
}

#[test]
fn an_unapproved_committed_hook_is_asked_about_on_a_terminal() {
    let env = TestEnv::new();
    with_committed_hook(&env);
    let mut s = on_terminal(&env, "start t");
    s.expect("touch committed-hook-ran")
        .expect("the hook's text is shown");
    s.expect("Run its postStart hook(s)?").expect("prompt");
    s.send(ENTER).expect("trust");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    assert!(env.task_path("t").join("committed-hook-ran").exists());
    // Trusted from now on: no question the next time.
    let run = env.par(["start", "u"]).ok();
    assert!(!run.stderr.contains("not approved"), "{}", run.stderr);
    assert!(env.task_path("u").join("committed-hook-ran").exists());
}

#[test]
fn skipping_an_unapproved_hook_on_a_terminal_runs_nothing() {
    let env = TestEnv::new();
    with_committed_hook(&env);
    let mut s = on_terminal(&env, "start t");
    s.expect("Run its postStart hook(s)?").expect("prompt");
    s.send(format!("\x1b[B\x1b[B{ENTER}")).expect("skip");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    assert!(env.task_path("t").exists());
    assert!(!env.task_path("t").join("committed-hook-ran").exists());
    let global = fs::read_to_string(env.home().join("gitconfig")).unwrap();
    assert!(!global.contains("trusted"), "{global}");
}

#[test]
fn run_does_not_run_its_command_where_post_start_failed_and_keeps_the_task() {
    let env = TestEnv::new();
    add_hook(&env, "postStart", "test $GIT_PAR_TASK != b");
    let run = env
        .par(["run", "--start", "a", "b", "--", "touch", "ran"])
        .code(1);
    assert!(env.task_path("a").join("ran").exists());
    assert!(env.task_path("b").exists(), "kept");
    assert!(!env.task_path("b").join("ran").exists());
    assert!(
        run.stderr
            .contains("the postStart hook 'test $GIT_PAR_TASK != b' failed"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("task 'b' was created and is kept"),
        "{}",
        run.stderr
    );
}

#[test]
fn prune_runs_pre_drop_for_each_task_and_keeps_one_whose_hook_fails() {
    let env = TestEnv::new();
    env.par(["start", "merged"]).ok();
    env.par(["start", "guarded"]).ok();
    // Both hold nothing of their own, so both would be pruned.
    add_hook(&env, "preDrop", "test $GIT_PAR_TASK != guarded");
    add_hook(&env, "preDrop", &recorder(&env, "dropping"));
    let run = env.par(["prune"]).code(1);
    assert!(
        run.stdout.contains("failed guarded: the preDrop hook"),
        "{}",
        run.stdout
    );
    assert!(!env.task_path("merged").exists());
    assert!(env.task_path("guarded").exists(), "its preDrop hook failed");
    assert_eq!(
        recorded(&env),
        [format!(
            "dropping preDrop merged par/merged main {}",
            env.task_path("merged").display()
        )]
    );
    env.par(["prune", "--no-hooks"]).ok();
    assert!(!env.task_path("guarded").exists());
}

/// Regression: a task of a run whose postStart hook failed was reported "not started" and, in
/// the summary, "(not-started): not created", though it was created and kept. Now it is
/// reported as created (an event) and kept with reason hook-failed, its path and what it holds,
/// in the summary, the events and `--json`; the other task runs as usual.
#[test]
fn a_run_reports_a_task_whose_post_start_hook_failed_as_created_and_kept() {
    let env = TestEnv::new();
    add_hook(&env, "postStart", "test \"$GIT_PAR_TASK\" != bad");
    let file = env.root().join("events.jsonl");
    let run = env
        .par([
            "run",
            "--start",
            "good",
            "bad",
            "--json",
            "--events",
            file.to_str().expect("path"),
            "--",
            "true",
        ])
        .code(1);
    let bad = env.task_path("bad");
    assert!(bad.join("README").exists(), "the task stands");
    assert!(
        run.stderr.contains(&format!(
            "\n  bad (hook-failed): no work, {}, log ",
            bad.display()
        )),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("not created"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("hint: task 'bad' was created and is kept; its command was not run"),
        "{}",
        run.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let task = |name: &str| {
        json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["task"] == name)
            .cloned()
            .expect("task in json")
    };
    let (good, bad_json) = (task("good"), task("bad"));
    assert_eq!(good["exit"], 0, "{good}");
    assert_eq!(bad_json["outcome"], "kept", "{bad_json}");
    assert_eq!(bad_json["reason"], "hook-failed", "{bad_json}");
    assert_eq!(bad_json["path"], bad.to_str().expect("path"), "{bad_json}");
    assert_eq!(bad_json["holds"], "no work", "{bad_json}");
    assert!(
        bad_json["exit"].is_null(),
        "the command never ran: {bad_json}"
    );
    // The hook's output is in the task's log.
    assert!(bad_json["log"].is_string(), "{bad_json}");
    let events: Vec<serde_json::Value> = fs::read_to_string(&file)
        .expect("events")
        .lines()
        .map(|l| serde_json::from_str(l).expect("event"))
        .filter(|e: &serde_json::Value| e["task"] == "bad")
        .collect();
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    assert_eq!(
        kinds,
        ["queued", "creating", "created", "kept"],
        "{events:?}"
    );
    assert_eq!(events[3]["reason"], "hook-failed");
    assert_eq!(events[3]["path"], bad.to_str().expect("path"));
}

/// The same with one task: the command does not run, and the task is kept with its path.
#[test]
fn a_one_task_run_whose_post_start_hook_failed_keeps_the_task_with_its_path() {
    let env = TestEnv::new();
    add_hook(&env, "postStart", "exit 3");
    let run = env
        .par(["run", "--start", "t", "--json", "--", "touch", "ran"])
        .code(1);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let t = &json["tasks"][0];
    assert_eq!(t["reason"], "hook-failed", "{t}");
    assert_eq!(t["path"], env.task_path("t").to_str().expect("path"), "{t}");
    assert!(
        !env.task_path("t").join("ran").exists(),
        "the command never ran"
    );
    assert!(
        env.task_path("t").join("README").exists(),
        "the task stands"
    );
}
