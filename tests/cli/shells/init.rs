//! `git par shell-init` in real bash, zsh and fish: commands leave the shell where they say,
//! plain git is untouched, exit statuses pass through, no temporary file is left behind.

use std::path::Path;

use super::shell;
use crate::env::TestEnv;
use crate::native::have;

const POSIX_SCRIPT: &str = r#"set -u
eval "$(git par shell-init SHELL)"
main=$PWD
git par start t1 >/dev/null; echo "start: $PWD"
builtin cd "$main"
git par start --no-cd t2 >/dev/null; echo "no-cd: $PWD"
git par cd t2; echo "cd t2: $PWD"
git par cd; echo "cd: $PWD"
git -C "$main" par cd t1; echo "-C cd t1: $PWD"
git-par cd; echo "git-par cd: $PWD"
git rev-parse --abbrev-ref HEAD
git rev-parse --verify nope 2>/dev/null; echo "git status: $?"
git par cd nope 2>/dev/null; echo "cd nope status: $?"
git par start "a b" 2>/dev/null; echo "bad name status: $?"
echo "left: $(ls -A "$TMPDIR")"
"#;

const FISH_SCRIPT: &str = r#"git par shell-init fish | source
set main $PWD
git par start t1 >/dev/null; echo "start: $PWD"
cd $main
git par start --no-cd t2 >/dev/null; echo "no-cd: $PWD"
git par cd t2; echo "cd t2: $PWD"
git par cd; echo "cd: $PWD"
git -C $main par cd t1; echo "-C cd t1: $PWD"
git-par cd; echo "git-par cd: $PWD"
git rev-parse --abbrev-ref HEAD
git rev-parse --verify nope 2>/dev/null; echo "git status: $status"
git par cd nope 2>/dev/null; echo "cd nope status: $status"
git par start "a b" 2>/dev/null; echo "bad name status: $status"
set -l left (ls -A $TMPDIR); echo "left: $left"
"#;

fn expected(env: &TestEnv) -> String {
    let main = env.repo();
    let t1 = env.task_path("t1");
    let t2 = env.task_path("t2");
    [
        format!("start: {}", t1.display()),
        format!("no-cd: {}", main.display()),
        format!("cd t2: {}", t2.display()),
        format!("cd: {}", main.display()),
        format!("-C cd t1: {}", t1.display()),
        format!("git-par cd: {}", main.display()),
        "main".into(),
        "git status: 128".into(),
        "cd nope status: 1".into(),
        "bad name status: 2".into(),
        "left: ".into(),
    ]
    .join("\n")
        + "\n"
}

fn run_script(program: &str, script: &str) {
    if !have(program) {
        return;
    }
    let env = TestEnv::new();
    let args: &[&str] = match program {
        "fish" => &["--no-config", "-c", script],
        "zsh" => &["-f", "-c", script],
        _ => &["--norc", "--noprofile", "-c", script],
    };
    let run = shell(&env, "repo", program, args).ok();
    assert_eq!(
        run.stdout,
        expected(&env),
        "{program}; stderr:\n{}",
        run.stderr
    );
    assert!(Path::new(&env.task_path("t1")).is_dir());
}

#[test]
fn bash_integration_changes_directory_and_passes_statuses() {
    run_script("bash", &POSIX_SCRIPT.replace("SHELL", "bash"));
}

#[test]
fn zsh_integration_changes_directory_and_passes_statuses() {
    run_script("zsh", &POSIX_SCRIPT.replace("SHELL", "zsh"));
}

#[test]
fn fish_integration_changes_directory_and_passes_statuses() {
    run_script("fish", FISH_SCRIPT);
}

/// `finish` and `drop` from inside a task leave the shell in the worktree merged into.
fn finish_and_drop(program: &str, script: &str) {
    if !have(program) {
        return;
    }
    let env = TestEnv::new();
    let args: &[&str] = match program {
        "fish" => &["--no-config", "-c", script],
        "zsh" => &["-f", "-c", script],
        _ => &["--norc", "--noprofile", "-c", script],
    };
    let run = shell(&env, "repo", program, args).ok();
    let main = env.repo();
    assert_eq!(
        run.stdout,
        format!(
            "in t3: {}\ndrop: {main}\nin t4: {}\nfinish: {main}\n",
            env.task_path("t3").display(),
            env.task_path("t4").display(),
            main = main.display()
        ),
        "{program}; stderr:\n{}",
        run.stderr
    );
    assert_eq!(env.branches(), vec!["main"]);
    assert_eq!(env.read("repo/f"), "x\n");
}

const POSIX_FINISH: &str = r#"eval "$(git par shell-init SHELL)"
git par start t3 >/dev/null; echo "in t3: $PWD"
git par drop --force t3 >/dev/null 2>&1; echo "drop: $PWD"
git par start t4 >/dev/null; echo "in t4: $PWD"
echo x >f && git add f && git commit -qm x
git par finish >/dev/null 2>&1; echo "finish: $PWD"
"#;

#[test]
fn bash_finish_and_drop_leave_the_shell_in_the_main_worktree() {
    finish_and_drop("bash", &POSIX_FINISH.replace("SHELL", "bash"));
}

#[test]
fn zsh_finish_and_drop_leave_the_shell_in_the_main_worktree() {
    finish_and_drop("zsh", &POSIX_FINISH.replace("SHELL", "zsh"));
}

#[test]
fn fish_finish_and_drop_leave_the_shell_in_the_main_worktree() {
    let script = r#"git par shell-init fish | source
git par start t3 >/dev/null; echo "in t3: $PWD"
git par drop --force t3 >/dev/null 2>&1; echo "drop: $PWD"
git par start t4 >/dev/null; echo "in t4: $PWD"
echo x >f; and git add f; and git commit -qm x
git par finish >/dev/null 2>&1; echo "finish: $PWD"
"#;
    finish_and_drop("fish", script);
}
