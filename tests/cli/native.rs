//! git par as a native git command: the generated man page and completions are current, the
//! page renders cleanly and is what `git par --help` and `git help par` open, task names
//! complete fast and quietly, and `git par cd` without the shell integration.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::CommandFactory;
use git_par::cli::Cli;

use crate::env::{TestEnv, BIN};

const REGENERATE: &str = "cargo run -- generate";

fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a program can be run; outside CI a missing one skips the test with a note, on CI
/// (CI=true, where .ci/run installs everything in .ci/apt-packages) it fails the test.
pub fn have(program: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "{program} is not installed; .ci/run installs it from .ci/apt-packages"
        );
        eprintln!("SKIPPED: {program} is not installed (add it, or run .ci/run)");
    }
    found
}

#[test]
fn cli_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn generated_files_are_up_to_date() {
    let env = TestEnv::empty();
    let out = env.root().join("generated");
    let mut cmd = env.command(BIN, &env.root());
    cmd.arg("generate").arg(&out);
    crate::env::Run::from(cmd.output().expect("run generate")).ok();
    let mut stale = Vec::new();
    for rel in [
        "man/git-par.1",
        "completions/git-par.bash",
        "completions/_git-par",
        "completions/git-par.fish",
    ] {
        let fresh = fs::read_to_string(out.join(rel)).expect("generated file");
        let committed = fs::read_to_string(source_dir().join(rel)).unwrap_or_default();
        if fresh != committed {
            stale.push(rel);
        }
    }
    assert!(
        stale.is_empty(),
        "out of date: {}\nrun '{REGENERATE}' and commit the result",
        stale.join(", ")
    );
}

#[test]
fn every_command_and_argument_has_help_text() {
    let missing = git_par::manpage::undocumented(Cli::command());
    assert!(
        missing.is_empty(),
        "add a doc comment in src/cli.rs for: {}",
        missing.join(", ")
    );
}

#[test]
fn man_page_documents_every_option_config_key_and_section() {
    let page = fs::read_to_string(source_dir().join("man/git-par.1")).expect("man page");
    let mut cmd = Cli::command();
    cmd.build();
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        assert!(
            page.contains(&format!(".SS {}\n", sub.get_name())),
            "{}",
            sub.get_name()
        );
        for arg in sub.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(page.contains(&roff), "git par {} --{long}", sub.get_name());
            }
        }
    }
    for needle in [
        "par.branchPrefix",
        "par.worktreeDir",
        "par.minFreeSpace",
        "par.finishStrategy",
        "par.maxWorkers",
        "par.killTimeout",
        "GIT_PAR_TASK",
        "GIT_PAR_MAIN_WORKTREE",
        "GIT_PAR_CD_FILE",
        "NO_COLOR",
        ".SH \"EXIT STATUS\"",
        ".SH FILES",
        ".SH EXAMPLES",
        "refs/par/rescued/",
        "last_commit",
        "status\\-failed",
        "git\\-worktree(1)",
    ] {
        assert!(page.contains(needle), "the man page lacks {needle}");
    }
}

#[test]
fn man_page_renders_without_warnings() {
    if !have("groff") {
        return;
    }
    let out = std::process::Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(source_dir().join("man/git-par.1"))
        .output()
        .expect("run groff");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// A MANPATH holding only our page, so git's `man git-par` finds exactly it.
fn man_path(env: &TestEnv) -> PathBuf {
    let dir = env.root().join("man");
    fs::create_dir_all(dir.join("man1")).expect("man dir");
    fs::copy(
        source_dir().join("man/git-par.1"),
        dir.join("man1/git-par.1"),
    )
    .expect("copy page");
    dir
}

fn git_with_man(env: &TestEnv, args: &[&str]) -> crate::env::Run {
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = env.command("git", &env.repo());
    cmd.env("PATH", path)
        .env("MANPATH", man_path(env))
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .env("MANWIDTH", "80")
        .args(args);
    cmd.output().expect("run git").into()
}

#[test]
fn git_par_help_and_git_help_par_open_the_man_page() {
    if !have("man") {
        return;
    }
    let env = TestEnv::new();
    for args in [&["par", "--help"][..], &["help", "par"]] {
        let run = git_with_man(&env, args).ok();
        assert!(
            run.stdout
                .contains("git-par - One branch and worktree per task"),
            "{args:?}: {}",
            run.stdout
        );
        assert!(run.stdout.contains("EXIT STATUS"), "{args:?}");
    }
}

#[test]
fn command_help_is_clap_help() {
    let env = TestEnv::new();
    for flag in ["-h", "--help"] {
        let run = env.git_par(["finish", flag]).ok();
        assert!(
            run.stdout.contains("Usage: git par finish"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("--strategy <strategy>"),
            "{}",
            run.stdout
        );
    }
}

#[test]
fn complete_tasks_lists_records_and_task_branches() {
    let env = TestEnv::new();
    env.par(["start", "--no-cd", "one"]).ok();
    env.par(["start", "--no-cd", "fix/two"]).ok();
    // A branch under the prefix without a record is a task too ('list' shows it).
    env.git_in("repo", ["branch", "par/orphan"]).ok();
    env.git_in("repo", ["branch", "other"]).ok();
    let run = env.git_par(["__complete-tasks"]).ok();
    assert_eq!(run.stdout, "fix/two\none\norphan\n");
    assert_eq!(run.stderr, "");
    // From inside a task's worktree, the same list.
    let run = env.par_in("repo.par/one", ["__complete-tasks"]).ok();
    assert_eq!(run.stdout, "fix/two\none\norphan\n");
}

#[test]
fn complete_tasks_follows_the_branch_prefix() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.branchPrefix", "work/"])
        .ok();
    env.git_in("repo", ["branch", "work/a"]).ok();
    env.git_in("repo", ["branch", "par/b"]).ok();
    assert_eq!(env.par(["__complete-tasks"]).ok().stdout, "a\n");
}

#[test]
fn complete_tasks_is_silent_outside_a_repository_and_on_bad_records() {
    let env = TestEnv::empty();
    let run = env.par_in("home", ["__complete-tasks"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));

    let env = TestEnv::new();
    env.par(["start", "--no-cd", "good"]).ok();
    env.write("repo/.git/par/tasks/broken.json", "{ not json");
    let run = env.par(["__complete-tasks"]).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("good\n", ""));
}

#[test]
fn complete_tasks_takes_under_50ms_with_50_tasks() {
    let env = TestEnv::new();
    for i in 0..50 {
        env.par(["start", "--no-cd", &format!("task-{i:02}")]).ok();
    }
    let mut times = Vec::new();
    for _ in 0..15 {
        let started = Instant::now();
        let run = env.git_par(["__complete-tasks"]).ok();
        times.push(started.elapsed());
        assert_eq!(run.stdout.lines().count(), 50);
    }
    times.sort();
    let median = times[times.len() / 2];
    eprintln!(
        "git par __complete-tasks, 50 tasks: median {median:?}, fastest {:?}",
        times[0]
    );
    assert!(median.as_millis() < 50, "median {median:?}");
}

#[test]
fn cd_without_the_integration_prints_the_line_to_add_and_the_path() {
    let env = TestEnv::new();
    env.par(["start", "--no-cd", "t1"]).ok();
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("SHELL", "/bin/zsh").args(["cd", "t1"]);
    let run = crate::env::Run::from(cmd.output().expect("run")).ok();
    assert_eq!(run.stdout, format!("{}\n", env.task_path("t1").display()));
    assert!(
        run.stderr
            .contains("add this line to ~/.zshrc:\nhint:   eval \"$(git par shell-init zsh)\""),
        "{}",
        run.stderr
    );
    // No task: the main worktree, from inside a task.
    let run = env.par_in("repo.par/t1", ["cd"]).ok();
    assert_eq!(run.stdout, format!("{}\n", env.repo().display()));
}

#[test]
fn cd_with_the_integration_writes_the_path_for_the_shell() {
    let env = TestEnv::new();
    env.par(["start", "--no-cd", "t1"]).ok();
    let file = env.root().join("cd-file");
    fs::write(&file, "").expect("cd file");
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("GIT_PAR_CD_FILE", &file).args(["cd", "t1"]);
    let run = crate::env::Run::from(cmd.output().expect("run")).ok();
    assert_eq!((run.stdout.as_str(), run.stderr.as_str()), ("", ""));
    assert_eq!(
        fs::read_to_string(&file).expect("read"),
        env.task_path("t1").to_string_lossy()
    );
}

#[test]
fn cd_to_an_unknown_task_fails_and_writes_nothing() {
    let env = TestEnv::new();
    let file = env.root().join("cd-file");
    fs::write(&file, "").expect("cd file");
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("GIT_PAR_CD_FILE", &file).args(["cd", "nope"]);
    let run = crate::env::Run::from(cmd.output().expect("run")).code(1);
    assert!(
        run.stderr.starts_with("error: no task named 'nope'"),
        "{}",
        run.stderr
    );
    assert_eq!(fs::read_to_string(&file).expect("read"), "");
}
