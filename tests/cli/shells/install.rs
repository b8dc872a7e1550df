//! The README's install command into a fresh HOME: from a login shell the binary is on PATH,
//! `man` and `git help par` find the page, and Tab completes in bash, zsh and fish; the
//! uninstaller removes exactly what was installed.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{
    have_bash_completion, offers, repo_with_tasks, source_dir, words, CAPTURE_BASH, CAPTURE_ZSH,
};
use crate::env::{Run, TestEnv, BIN};
use crate::native::have;

/// Every path under `dir`, relative to it.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    let mut paths = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            paths.insert(path.strip_prefix(dir).expect("under dir").to_path_buf());
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            }
        }
    }
    paths
}

/// A new user's HOME: the distribution's skeleton files (their ~/.profile puts ~/.local/bin
/// on PATH at login), or, where there is none, the same two lines Debian's has.
fn fresh_home(env: &TestEnv) -> PathBuf {
    let home = env.root().join("user");
    fs::create_dir_all(&home).expect("home");
    for name in [".profile", ".bashrc"] {
        let skel = Path::new("/etc/skel").join(name);
        if skel.exists() {
            fs::copy(&skel, home.join(name)).expect("copy skel");
        }
    }
    if !home.join(".profile").exists() {
        fs::write(
            home.join(".profile"),
            "if [ -d \"$HOME/.local/bin\" ] ; then\n    PATH=\"$HOME/.local/bin:$PATH\"\nfi\n",
        )
        .expect(".profile");
    }
    home
}

/// A command with nothing inherited but what a login would have.
fn login_command(program: &str, home: &Path, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.env_clear()
        .env("HOME", home)
        .env("USER", "tester")
        .env("TERM", "dumb")
        .env("LC_ALL", "C")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("TMPDIR", home.parent().expect("root").join("tmp"))
        .current_dir(dir);
    cmd
}

fn install(home: &Path, args: &[&str]) -> Run {
    let mut cmd = login_command("sh", home, &source_dir());
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .arg(source_dir().join("install.sh"))
        .args(["--bin", BIN])
        .args(args);
    cmd.output().expect("run install.sh").into()
}

fn uninstall(home: &Path) -> Run {
    let mut cmd = login_command("sh", home, home);
    cmd.env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .arg(home.join(".local/share/git-par/uninstall.sh"));
    cmd.output().expect("run uninstall.sh").into()
}

fn manifest(home: &Path) -> BTreeSet<PathBuf> {
    fs::read_to_string(home.join(".local/share/git-par/manifest"))
        .expect("manifest")
        .lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(_, p)| {
            Path::new(p)
                .strip_prefix(home)
                .expect("under home")
                .to_path_buf()
        })
        .collect()
}

#[test]
fn install_then_uninstall_leaves_home_as_it_was() {
    let env = TestEnv::empty();
    fs::create_dir_all(env.root().join("tmp")).expect("tmp");
    let home = fresh_home(&env);
    let before = tree(&home);
    let run = install(&home, &[]).ok();
    assert!(run.stdout.contains("fpath+=("), "{}", run.stdout);
    let installed = tree(&home);
    let added: BTreeSet<PathBuf> = installed.difference(&before).cloned().collect();
    let mut listed = manifest(&home);
    listed.insert(".local/share/git-par/manifest".into());
    assert_eq!(added, listed, "the manifest lists exactly what was added");
    uninstall(&home).ok();
    assert_eq!(tree(&home), before);
}

#[test]
fn installed_from_a_login_shell_path_man_and_tab_work_everywhere() {
    for shell in ["bash", "man", "zsh", "fish"] {
        if !have(shell) {
            return;
        }
    }
    if !have_bash_completion() {
        return;
    }
    let env = repo_with_tasks();
    fs::create_dir_all(env.root().join("tmp")).expect("tmp");
    let home = fresh_home(&env);
    let run = install(&home, &[]).ok();
    let fpath_line = run
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("note:   "))
        .expect("install.sh names the zsh fpath line")
        .to_string();

    // bash, as a login shell, with bash-completion loaded the way the system loads it.
    let capture = env.root().join("capture.bash");
    fs::write(&capture, CAPTURE_BASH).expect("capture script");
    let script = format!(
        "echo \"PATH=$PATH\"; command -v git-par; man -w git-par; \
         MANPAGER=cat MANWIDTH=80 git help par | grep -m1 'git-par - '; \
         MANPAGER=cat MANWIDTH=80 git par --help | grep -m1 'git-par - '; \
         git par start -h | head -n 1; \
         source {} 'git par finish ' 'git-par drop ' 'git par finish --strategy '",
        capture.display()
    );
    let mut cmd = login_command("bash", &home, &env.repo());
    cmd.args(["-l", "-i", "-c", &script]);
    let run = Run::from(cmd.output().expect("bash -l")).ok();
    let mut lines = run.stdout.lines();
    let path = lines
        .next()
        .and_then(|l| l.strip_prefix("PATH="))
        .expect("PATH")
        .to_string();
    assert_eq!(
        lines.next(),
        Some(home.join(".local/bin/git-par").to_str().expect("utf-8"))
    );
    assert_eq!(
        lines.next(),
        Some(
            home.join(".local/share/man/man1/git-par.1")
                .to_str()
                .expect("utf-8")
        )
    );
    let page_name = "git-par - One branch and worktree per task: start, run, finish, list";
    assert_eq!(lines.next().map(str::trim), Some(page_name), "git help par");
    assert_eq!(
        lines.next().map(str::trim),
        Some(page_name),
        "git par --help"
    );
    assert_eq!(
        lines.next(),
        Some("Create a task: its branch and its worktree")
    );
    let got = offers(&run.stdout);
    assert_eq!(got["git par finish "], words(&["fix/two", "one"]));
    assert_eq!(got["git-par drop "], words(&["fix/two", "one"]));
    assert_eq!(
        got["git par finish --strategy "],
        words(&["merge", "rebase", "squash"])
    );

    // zsh, with the ~/.zshrc line install.sh printed, and compinit as any zsh user has it.
    fs::write(
        home.join(".zshrc"),
        format!("{fpath_line}\nautoload -Uz compinit && compinit\n"),
    )
    .expect(".zshrc");
    let capture = env.root().join("capture.zsh");
    fs::write(&capture, CAPTURE_ZSH).expect("capture script");
    let mut cmd = login_command("zsh", &home, &env.repo());
    cmd.env("PATH", &path)
        .arg("-f")
        .arg(&capture)
        .args(["", "git par finish ", "git-par drop "]);
    let run = Run::from(cmd.output().expect("zsh")).ok();
    let got = offers(&run.stdout);
    assert_eq!(
        got["git par finish "],
        words(&["fix/two", "one"]),
        "{}",
        run.stdout
    );
    assert_eq!(got["git-par drop "], words(&["fix/two", "one"]));

    // fish, which reads the installed file at startup with no configuration at all.
    let mut cmd = login_command("fish", &home, &env.repo());
    cmd.env("PATH", &path).args([
        "-l",
        "-c",
        "for line in $argv; echo \"== $line\"; complete -C \"$line\"; end",
        "--",
        "git par finish ",
        "git-par drop ",
    ]);
    let run = Run::from(cmd.output().expect("fish")).ok();
    let got = offers(&run.stdout);
    assert_eq!(
        got["git par finish "],
        words(&["fix/two", "one"]),
        "{}",
        run.stdout
    );
    assert_eq!(got["git-par drop "], words(&["fix/two", "one"]));

    // The shells left files of their own (histories, caches); the uninstaller takes only ours.
    let before = tree(&home);
    let listed = manifest(&home);
    uninstall(&home).ok();
    let after = tree(&home);
    assert!(after.is_subset(&before));
    for gone in before.difference(&after) {
        assert!(
            listed.contains(gone) || gone.ends_with("manifest"),
            "removed {} which it did not install",
            gone.display()
        );
    }
    for path in &listed {
        let full = home.join(path);
        assert!(!full.is_file(), "left {}", full.display());
    }
}
