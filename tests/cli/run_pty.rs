//! `git par run` on a real pseudo-terminal: the live view of many tasks (drawn in place,
//! redrawn after a resize, left as the summary), and a single task's interactive command
//! receiving Ctrl-C itself.

use std::process::Command;
use std::time::Duration;

use expectrl::session::OsSession as Session;
use expectrl::{Expect, Needle};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::env::{TestEnv, BIN};

const ROWS: u16 = 30;

/// Runs `script` in bash on a terminal of `cols` columns, in `repo/`. The script should wait
/// for a line on stdin first, so that the size is set before anything is drawn.
fn on_terminal(env: &TestEnv, script: &str, cols: u16) -> Session {
    let mut cmd = Command::new("bash");
    env.configure(&mut cmd);
    cmd.env("TERM", "xterm")
        .current_dir(env.repo())
        .args(["--norc", "--noprofile", "-c", script]);
    let mut session = Session::spawn(cmd).expect("spawn on a pty");
    session
        .get_process_mut()
        .set_window_size(cols, ROWS)
        .expect("window size");
    session.set_expect_timeout(Some(Duration::from_secs(30)));
    session
}

/// Reads up to and including `needle`, appending every byte read to `all`.
fn read_to(session: &mut Session, needle: impl Needle, all: &mut Vec<u8>) {
    let found = session.expect(needle).expect("expected output");
    all.extend_from_slice(found.before());
    for m in found.matches() {
        all.extend_from_slice(m);
    }
}

/// Screen rows that are a task's line of the live view: a mark, then the task's name.
fn task_rows(screen: &vt100::Screen, cols: u16, task: &str) -> Vec<String> {
    screen
        .rows(0, cols)
        .filter(|row| {
            let mut words = row.split_whitespace();
            words.next().is_some_and(|w| w.chars().count() == 1) && words.next() == Some(task)
        })
        .collect()
}

#[test]
fn live_view_shows_each_task_once_redraws_after_a_resize_and_stays_as_the_summary() {
    let env = TestEnv::new();
    env.write(
        "job.sh",
        "echo step-1-$1; sleep 1.5; echo last-$1; sleep 0.2; [ \"$1\" != b ] || exit 3\n",
    );
    let job = env.root().join("job.sh");
    // In the background (of a shell without job control: same terminal, same process group)
    // only so that its pid is known.
    let script = format!(
        "read -r go; '{BIN}' run a b c --start -j 2 -- sh '{}' {{task}} & echo PID=$!; \
         wait $!; echo EXIT=$?",
        job.display()
    );
    let mut s = on_terminal(&env, &script, 100);
    s.send_line("go").expect("go");
    let mut all = Vec::new();
    // Both first lines are out (in either order: a and b start together), so every frame
    // drawn from here on shows them.
    read_to(&mut s, "step-1-b", &mut all);
    read_to(&mut s, "step-1-a", &mut all);
    // Let a few redraws happen, then look at the screen while a and b run and c waits: up
    // to c's line, the last of a frame.
    std::thread::sleep(Duration::from_millis(400));
    read_to(&mut s, "step-1-b", &mut all);
    read_to(&mut s, "queued", &mut all);
    let mut screen = vt100::Parser::new(ROWS, 100, 0);
    screen.process(&all);
    let screen_len = all.len();
    let rows = task_rows(screen.screen(), 100, "a");
    assert_eq!(rows.len(), 1, "{}", screen.screen().contents());
    assert!(rows[0].contains("step-1-a"), "{rows:?}");
    assert!(rows[0].contains("1s") || rows[0].contains("0s"), "{rows:?}");
    let rows = task_rows(screen.screen(), 100, "c");
    assert_eq!(rows.len(), 1, "{}", screen.screen().contents());
    assert!(rows[0].contains("queued"), "{rows:?}");

    // Narrower: every line is redrawn to fit, none is left behind twice. git-par is held
    // still meanwhile, so that the screen here takes each byte at the width it was drawn for.
    let text = String::from_utf8_lossy(&all).into_owned();
    let pid: i32 = text
        .split("PID=")
        .nth(1)
        .and_then(|t| t.split_whitespace().next())
        .and_then(|p| p.parse().ok())
        .expect("pid");
    let pid = Pid::from_raw(pid);
    read_to(&mut s, "queued", &mut all);
    kill(pid, Signal::SIGSTOP).expect("stop");
    std::thread::sleep(Duration::from_millis(100));
    let mut buf = [0u8; 4096];
    while let Ok(n) = s.try_read(&mut buf) {
        if n == 0 {
            break;
        }
        all.extend_from_slice(&buf[..n]);
    }
    screen.process(&all[screen_len..]);
    s.get_process_mut()
        .set_window_size(60, ROWS)
        .expect("resize");
    screen.set_size(ROWS, 60);
    kill(pid, Signal::SIGCONT).expect("continue");
    let mut rest = Vec::new();
    read_to(&mut s, "EXIT=", &mut rest);
    read_to(&mut s, "\n", &mut rest);
    screen.process(&rest);
    let text = screen.screen().contents();
    for (task, how) in [("a", "exited 0"), ("b", "exited 3"), ("c", "exited 0")] {
        let rows = task_rows(screen.screen(), 60, task);
        assert_eq!(rows.len(), 1, "{task}:\n{text}");
        assert!(rows[0].contains(how), "{rows:?}\n{text}");
        assert!(rows[0].chars().count() <= 60, "{rows:?}");
    }
    assert!(text.contains("EXIT=1"), "{text}");
    assert!(text.contains("Kept tasks:"), "{text}");
}

#[test]
fn one_task_command_gets_ctrl_c_itself_and_git_par_exits_with_its_status() {
    let env = TestEnv::new();
    env.par(["start", "t1"]).ok();
    env.write(
        "ask.sh",
        "trap 'echo got-int; exit 7' INT\necho READY\nread x\necho never\n",
    );
    let script = format!(
        "read -r go; '{BIN}' run t1 -- bash '{}'; echo EXIT=$?",
        env.root().join("ask.sh").display()
    );
    let mut s = on_terminal(&env, &script, 100);
    s.send_line("go").expect("go");
    let mut all = Vec::new();
    read_to(&mut s, "READY", &mut all);
    s.send("\x03").expect("ctrl-c");
    read_to(&mut s, "EXIT=", &mut all);
    read_to(&mut s, "\n", &mut all);
    let text = String::from_utf8_lossy(&all);
    assert!(text.contains("got-int"), "{text}");
    assert!(text.contains("task 't1': exited 7 after "), "{text}");
    assert!(text.contains("EXIT=7"), "{text}");
    assert!(
        !text.contains("never") && !text.contains("error:"),
        "{text}"
    );
}

/// 40 tasks on a 30-row terminal: the tasks in hand have a line above a line of counts, each
/// task's last line stays above them, and the summary lists every task that did not merge,
/// the ones past the terminal's height included.
#[test]
fn live_view_holds_more_tasks_than_rows_and_the_summary_lists_every_unmerged_task() {
    let env = TestEnv::new();
    let names: Vec<String> = (1..=40).map(|n| format!("task-{n:02}")).collect();
    let script = format!(
        "read -r go; '{BIN}' run {} --start --finish -j 4 -- sh -c \
         'sleep 0.1; case $GIT_PAR_TASK in task-07|task-33) echo x > x && git add x && git commit -qm x; exit 3;; esac'; \
         echo EXIT=$?",
        names.join(" ")
    );
    let mut s = on_terminal(&env, &script, 100);
    s.send_line("go").expect("go");
    let mut all = Vec::new();
    read_to(&mut s, "queued", &mut all);
    read_to(&mut s, "EXIT=", &mut all);
    read_to(&mut s, "\n", &mut all);
    let text = String::from_utf8_lossy(&all).into_owned();
    // Every task's last line was printed, past the terminal's height too.
    for name in &names {
        let line = match name.as_str() {
            "task-07" | "task-33" => format!("{name} exited 3 after "),
            _ => format!("{name} exited 0 after "),
        };
        assert!(text.contains(&line), "{name}: {text}");
    }
    assert!(text.contains(" in hand, "), "{text}");
    let mut screen = vt100::Parser::new(ROWS, 100, 0);
    screen.process(&all);
    let shown = screen.screen().contents();
    assert!(shown.contains("EXIT=1"), "{shown}");
    let kept = shown
        .split("Kept tasks:")
        .nth(1)
        .unwrap_or_else(|| panic!("{shown}"));
    assert!(
        kept.contains("task-07 (command-failed): 1 commit"),
        "{shown}"
    );
    assert!(
        kept.contains("task-33 (command-failed): 1 commit"),
        "{shown}"
    );
    assert_eq!(env.branches(), vec!["main", "par/task-07", "par/task-33"]);
}
