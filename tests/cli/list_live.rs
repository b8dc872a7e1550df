//! `git par list` on a real pseudo-terminal: the table comes at once, with the changes shown
//! as `…` until each task's look at its files is done, is redrawn in place, and ends complete.

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::Expect;

use crate::env::{TestEnv, BIN};

#[test]
fn list_on_a_terminal_draws_at_once_and_fills_in_the_changes() {
    let env = TestEnv::new();
    env.par(["start", "a"]).ok();
    env.par(["start", "b"]).ok();
    env.write("repo.par/b/new", "untracked\n");
    let mut cmd = Command::new(BIN);
    env.configure(&mut cmd);
    cmd.env("TERM", "xterm").current_dir(env.repo()).arg("list");
    let mut session = Session::spawn(cmd).expect("spawn on a pty");
    session
        .get_process_mut()
        .set_window_size(120, 30)
        .expect("window size");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    let found = session.expect(expectrl::Eof).expect("list ends");
    let mut all = found.before().to_vec();
    for m in found.matches() {
        all.extend_from_slice(m);
    }
    let text = String::from_utf8_lossy(&all);
    // First drawn with the changes still pending, then redrawn over the header and both rows.
    assert!(text.contains('…'), "{text:?}");
    assert!(
        text.contains("\x1b[3A"),
        "no redraw in place (header and two rows): {text:?}"
    );
    let mut screen = vt100::Parser::new(30, 120, 0);
    screen.process(&all);
    let rows: Vec<String> = screen.screen().rows(0, 120).collect();
    let row = |task: &str| {
        rows.iter()
            .find(|r| r.split_whitespace().next() == Some(task))
            .cloned()
            .unwrap_or_default()
    };
    assert!(row("a").contains("clean"), "{rows:?}");
    assert!(row("b").contains("+0 ~0 ?1"), "{rows:?}");
    assert!(!rows.iter().any(|r| r.contains('…')), "{rows:?}");
    assert_eq!(
        rows.iter().filter(|r| !r.trim().is_empty()).count(),
        3,
        "the header and each task once: {rows:?}"
    );
}
