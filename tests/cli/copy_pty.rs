//! Ctrl-C typed on a terminal while `start --copy-ignored` copies: the key reaches git-par
//! through the terminal, the copy stops and the start rolls back.

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use expectrl::session::OsSession as Session;
use expectrl::Expect;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::env::{TestEnv, BIN};
use crate::prompts::finish;

/// Waits until the process `pid` has stopped itself (state `T`).
fn wait_until_stopped(pid: i32) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        if stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('T'))
        {
            return;
        }
        assert!(Instant::now() < deadline, "git-par never stopped: {stat}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn ctrl_c_typed_during_the_copy_rolls_the_start_back() {
    let env = TestEnv::new();
    env.write("repo/.gitignore", "target/\n");
    env.commit_all("repo", "ignore build output");
    for i in 0..2000 {
        env.write(&format!("repo/target/d{}/f{i}", i % 20), &"x".repeat(4096));
    }
    let before = env.state();
    // git-par stops itself once the copy is under way; the key is typed while it is
    // stopped (the terminal sends SIGINT to its foreground process group, here git-par
    // alone), then it goes on and finds the interrupt in the middle of the copy.
    let mut cmd = Command::new(BIN);
    env.configure(&mut cmd);
    cmd.env("TERM", "xterm")
        .env("GIT_PAR_FAILPOINT", "start:copying=SIGSTOP")
        .current_dir(env.repo())
        .args(["start", "--no-cd", "--copy-ignored", "t"]);
    let mut s = Session::spawn(cmd).expect("spawn on a pty");
    s.set_expect_timeout(Some(Duration::from_secs(30)));
    let pid = s.get_process().pid().as_raw();
    wait_until_stopped(pid);
    s.send("\x03").expect("ctrl-c");
    std::thread::sleep(Duration::from_millis(200));
    kill(Pid::from_raw(pid), Signal::SIGCONT).expect("SIGCONT");
    let screen = finish(&mut s);
    let status = format!("{:?}", s.get_process().wait().expect("wait"));
    assert!(
        status.contains("Signaled") && status.contains("SIGINT"),
        "{status}: {screen:?}"
    );
    assert!(screen.contains("rolled back"), "{screen:?}");
    assert_eq!(env.state(), before);
    assert!(fs::symlink_metadata(env.task_path("t")).is_err());
    assert_eq!(env.read("repo/target/d3/f3"), "x".repeat(4096));
}
