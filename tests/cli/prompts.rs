//! Prompts through a real pseudo-terminal: answers, cancel, and Ctrl-C in the middle of a
//! prompt (exit 130, cursor shown, echo on, nothing half-made).

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::Expect;

use crate::env::{TestEnv, BIN};

pub(crate) const DOWN: &str = "\x1b[B";
pub(crate) const ENTER: &str = "\r";
pub(crate) const UP: &str = "\x1b[A";

/// Runs `git-par <args>` in `repo/` on a terminal, then prints its exit status and the
/// terminal's settings, so a test can see both after git-par is gone.
pub(crate) fn on_terminal(env: &TestEnv, args: &str) -> Session {
    let script = format!("stty -a; echo STARTING; '{BIN}' {args}; echo EXIT=$?; stty -a");
    let mut cmd = Command::new("bash");
    env.configure(&mut cmd);
    cmd.env("TERM", "xterm")
        .current_dir(env.repo())
        .args(["--norc", "--noprofile", "-c", &script]);
    let mut session = Session::spawn(cmd).expect("spawn on a pty");
    session.set_expect_timeout(Some(Duration::from_secs(20)));
    session
}

/// Reads to the end and returns everything after `EXIT=`.
pub(crate) fn finish(session: &mut Session) -> String {
    let rest = session.expect(expectrl::Eof).expect("eof");
    let all: Vec<u8> = rest
        .before()
        .iter()
        .chain(rest.matches().flatten())
        .copied()
        .collect();
    String::from_utf8_lossy(&all).into_owned()
}

pub(crate) fn exit_status(tail: &str) -> i32 {
    tail.lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("exit status")
}

#[test]
fn start_asks_what_to_do_with_changes_and_copies_them() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    let mut s = on_terminal(&env, "start t");
    s.expect("What should happen to them?").expect("prompt");
    // The cursor starts on "leave them here"; copy is the one above.
    s.send(UP).expect("up");
    s.send(ENTER).expect("enter");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    assert_eq!(env.read("repo/README"), "edited\n");
    assert_eq!(env.read("repo.par/t/README"), "edited\n");
}

#[test]
fn start_prompt_cancel_changes_nothing() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    let before = env.state();
    let mut s = on_terminal(&env, "start t");
    s.expect("What should happen to them?").expect("prompt");
    s.send(format!("{DOWN}{ENTER}")).expect("keys");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 1);
    assert_eq!(env.state(), before);
}

#[test]
fn ctrl_c_in_a_prompt_exits_130_restores_the_terminal_and_changes_nothing() {
    let env = TestEnv::new();
    env.write("repo/README", "edited\n");
    let before = env.state();
    let mut s = on_terminal(&env, "start t");
    let settings = s.expect("STARTING").expect("stty");
    let settings_before = String::from_utf8_lossy(settings.before())
        .trim()
        .to_string();
    let shown = s.expect("What should happen to them?").expect("prompt");
    let mut screen = String::from_utf8_lossy(shown.before()).into_owned();
    std::thread::sleep(Duration::from_millis(200));
    s.send("\x03").expect("ctrl-c");
    let upto = s.expect("EXIT=").expect("exit");
    screen.push_str(&String::from_utf8_lossy(upto.before()));
    let tail = finish(&mut s);
    assert_eq!(exit_status(&tail), 130, "{screen}{tail}");
    let hidden = screen.rfind("\x1b[?25l");
    let shown = screen.rfind("\x1b[?25h");
    assert!(
        hidden.is_some() && shown > hidden,
        "cursor left hidden: {screen:?}"
    );
    let settings_after = tail.split_once('\n').map_or("", |(_, rest)| rest).trim();
    assert_eq!(settings_after, settings_before, "terminal settings changed");
    assert_eq!(env.state(), before);
}

#[test]
fn finish_asks_and_commits_with_the_given_message() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/new", "n\n");
    let mut s = on_terminal(&env, "finish t");
    s.expect("What should happen to them?").expect("prompt");
    s.send(ENTER).expect("commit");
    s.expect("Commit message").expect("message prompt");
    s.send(format!("typed message{ENTER}")).expect("message");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    assert_eq!(env.git_out(["log", "-1", "--format=%s"]), "typed message");
    assert_eq!(env.read("repo/new"), "n\n");
}

#[test]
fn drop_asks_before_throwing_work_away() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "w\n");
    let mut s = on_terminal(&env, "drop t");
    s.expect("Drop task 't'?").expect("confirm");
    s.send("n").expect("no");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 1);
    assert!(env.task_path("t").exists());
    let mut s = on_terminal(&env, "drop t");
    s.expect("Drop task 't'?").expect("confirm");
    s.send("y").expect("yes");
    s.expect("EXIT=").expect("exit");
    assert_eq!(exit_status(&finish(&mut s)), 0);
    assert!(!env.task_path("t").exists());
    assert_eq!(env.par_refs().len(), 1);
}
