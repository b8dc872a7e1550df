//! Many `git par` commands at once on one repository: the lock makes them take turns in the
//! short sections that change shared state, and every one of them succeeds.

use std::process::Child;

use crate::env::{Run, TestEnv, BIN};

fn spawn_all(env: &TestEnv, commands: Vec<Vec<String>>) -> Vec<Run> {
    let children: Vec<Child> = commands
        .into_iter()
        .map(|args| {
            let mut cmd = env.command(BIN, &env.repo());
            cmd.args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().expect("spawn")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait").into())
        .collect()
}

#[test]
fn eight_starts_then_eight_finishes_at_once_all_succeed() {
    let env = TestEnv::new();
    let names: Vec<String> = (1..=8).map(|i| format!("agent-{i}")).collect();
    let starts = names
        .iter()
        .map(|n| vec!["start".to_string(), n.clone()])
        .collect();
    for run in spawn_all(&env, starts) {
        run.ok();
    }
    assert_eq!(env.worktrees().len(), 9);
    for name in &names {
        env.write(&format!("repo.par/{name}/{name}.txt"), &format!("{name}\n"));
        env.commit_all(&format!("repo.par/{name}"), name);
    }
    let finishes = names
        .iter()
        .map(|n| vec!["finish".to_string(), n.clone()])
        .collect();
    for run in spawn_all(&env, finishes) {
        run.ok();
    }
    assert_eq!(env.worktrees(), vec![env.repo()]);
    assert_eq!(env.branches(), vec!["main"]);
    for name in &names {
        assert_eq!(env.read(&format!("repo/{name}.txt")), format!("{name}\n"));
    }
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    env.git_in("repo", ["fsck", "--no-progress"]).ok();
}

#[test]
fn a_command_waits_for_the_lock_and_says_so() {
    let env = TestEnv::new();
    env.par(["list"]).ok();
    let lock = env.repo().join(".git/par/lock");
    std::fs::create_dir_all(lock.parent().expect("dir")).expect("mkdir");
    let mut holder = env
        .command("flock", &env.repo())
        .args([lock.to_str().expect("utf8"), "sleep", "2"])
        .spawn()
        .expect("flock");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let run = env.par(["start", "waiter"]).ok();
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(1200),
        "did not wait"
    );
    assert!(
        run.stderr.contains("waiting for the repository lock"),
        "{}",
        run.stderr
    );
    holder.wait().expect("holder");
    assert!(env.task_path("waiter").exists());
}

#[test]
fn ctrl_c_to_the_process_group_during_a_checkout_rolls_back() {
    let env = TestEnv::new();
    for dir in 0..40 {
        for file in 0..100 {
            env.write(
                &format!("repo/d{dir}/f{file}.txt"),
                &format!("{dir} {file}\n").repeat(20),
            );
        }
    }
    env.commit_all("repo", "many files");
    let before = env.state();
    let mut interrupted = 0;
    for delay_ms in [5u64, 40, 120] {
        let mut cmd = env.command(BIN, &env.repo());
        cmd.args(["start", "t"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let child = cmd.spawn().expect("spawn");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
        let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGINT);
        let run: Run = child.wait_with_output().expect("wait").into();
        if run.code == 0 {
            assert!(env.task_path("t").exists());
            env.par(["drop", "t"]).ok();
        } else {
            assert_eq!(run.signal, Some(2), "{}", run.stderr);
            interrupted += 1;
        }
        assert_eq!(env.state(), before, "delay {delay_ms} ms: {}", run.stderr);
    }
    assert!(
        interrupted > 0,
        "no run was interrupted: the test proves nothing"
    );
}

/// Holds `<par>/worktrees.lock` as another git-par process would while it adds or forgets a
/// worktree, runs `git par <args>`, and checks that the command waits for it before it
/// touches git's list of worktrees (`ready` says whether it has), then lets it go on.
fn waits_for_the_worktree_list(env: &TestEnv, args: &[&str], ready: impl Fn() -> bool) -> Run {
    use nix::fcntl::{Flock, FlockArg};
    let path = env.repo().join(".git/par/worktrees.lock");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(&path).unwrap();
    let held = Flock::lock(file, FlockArg::LockExclusive)
        .map_err(|(_, e)| e)
        .unwrap();
    let mut cmd = env.command(BIN, &env.repo());
    cmd.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("spawn");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert!(
        !ready(),
        "git par {args:?} changed the worktree list while another held it"
    );
    drop(held);
    child.wait_with_output().expect("wait").into()
}

#[test]
fn start_and_finish_take_turns_with_other_processes_over_the_worktree_list() {
    let env = TestEnv::new();
    let admin = env.repo().join(".git/worktrees/t");
    waits_for_the_worktree_list(&env, &["start", "t"], || admin.exists()).ok();
    assert!(admin.is_dir());
    env.write("repo.par/t/t.txt", "t\n");
    env.commit_all("repo.par/t", "t");
    waits_for_the_worktree_list(&env, &["finish", "t"], || !admin.exists()).ok();
    assert!(!admin.exists());
    assert_eq!(env.worktrees().len(), 1);
}
