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
        .find_map(|l| {
            l.strip_prefix("note:   ")
                .filter(|l| l.starts_with("fpath+=("))
        })
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

/// The line after `note:   ` that follows the note containing `after`.
fn line_after(stdout: &str, after: &str) -> String {
    let mut lines = stdout.lines().skip_while(|l| !l.contains(after));
    lines
        .next()
        .unwrap_or_else(|| panic!("no note '{after}' in:\n{stdout}"));
    lines
        .find_map(|l| l.strip_prefix("note:   "))
        .unwrap_or_else(|| panic!("no line after '{after}' in:\n{stdout}"))
        .to_string()
}

/// A HOME whose bash startup files load nothing (as on a system without bash-completion, or
/// where the user's ~/.bashrc does not load it).
fn bare_home(env: &TestEnv) -> PathBuf {
    fs::create_dir_all(env.root().join("tmp")).expect("tmp");
    let home = env.root().join("user");
    fs::create_dir_all(&home).expect("home");
    fs::write(home.join(".bashrc"), "# nothing\n").expect(".bashrc");
    home
}

/// What Tab offers in an interactive bash that reads only `home`'s ~/.bashrc (and the
/// system's), without loading bash-completion itself: `loaded` says whether it was loaded.
fn bash_tab(
    env: &TestEnv,
    home: &Path,
    lines: &[&str],
) -> (bool, std::collections::BTreeMap<String, Vec<String>>) {
    let capture = r#"
echo "loaded=${BASH_COMPLETION_VERSINFO:+yes}"
for line in "$@"; do
  read -ra COMP_WORDS <<<"$line"
  case $line in *' ') COMP_WORDS+=("") ;; esac
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE=$line; COMP_POINT=${#line}; COMPREPLY=()
  if ! complete -p "${COMP_WORDS[0]}" >/dev/null 2>&1; then
    type _completion_loader >/dev/null 2>&1 && _completion_loader "${COMP_WORDS[0]}"
  fi
  echo "== $line"
  spec=$(complete -p "${COMP_WORDS[0]}" 2>/dev/null) || continue
  func=${spec##*-F }; func=${func%% *}
  "$func" "${COMP_WORDS[0]}" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  printf '%s\n' "${COMPREPLY[@]}"
done
"#;
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        home.join(".local/bin").display()
    );
    let mut cmd = login_command("bash", home, &env.repo());
    cmd.env("PATH", path)
        .args(["-i", "-c", capture, "capture"])
        .args(lines);
    let run = Run::from(cmd.output().expect("bash -i")).ok();
    let loaded = run.stdout.lines().next() == Some("loaded=yes");
    (loaded, offers(&run.stdout))
}

/// On a machine without the bash-completion package, `git par <Tab>` offered file names.
/// install.sh says which package to install, and the one line that works without it.
#[test]
fn without_bash_completion_install_prints_the_package_and_a_line_that_makes_tab_work() {
    if !have("bash") || !have_bash_completion() {
        return;
    }
    let env = repo_with_tasks();
    let home = bare_home(&env);
    let run = install(&home, &["--bash-completion", "none"]).ok();
    assert!(
        run.stdout.contains("note: bash: Tab completes 'git par' through the bash-completion package, which is not installed:"),
        "{}",
        run.stdout
    );
    if have("apt-get") {
        assert!(
            run.stdout
                .contains("note:   sudo apt-get install bash-completion\n"),
            "{}",
            run.stdout
        );
    }
    let line = line_after(&run.stdout, "or, without it, add this line to ~/.bashrc:");
    // Before the line: no completion for git at all, so bash would offer file names.
    let (loaded, got) = bash_tab(&env, &home, &["git par finish "]);
    assert!(!loaded);
    assert_eq!(got["git par finish "], Vec::<String>::new());
    fs::write(home.join(".bashrc"), format!("{line}\n")).expect(".bashrc");
    let (loaded, got) = bash_tab(
        &env,
        &home,
        &["git par finish ", "git par sta", "git-par drop "],
    );
    assert!(!loaded, "the line works without bash-completion");
    assert_eq!(got["git par finish "], words(&["fix/two", "one"]));
    assert_eq!(got["git par sta"], words(&["start"]));
    assert_eq!(got["git-par drop "], words(&["fix/two", "one"]));
}

/// bash-completion installed, but the user's ~/.bashrc does not load it: install.sh prints
/// the line that does, and with it Tab completes.
#[test]
fn bash_completion_not_loaded_gets_the_line_that_loads_it() {
    if !have("bash") || !have_bash_completion() {
        return;
    }
    let env = repo_with_tasks();
    let home = bare_home(&env);
    let run = install(&home, &[]).ok();
    let line = line_after(
        &run.stdout,
        "bash-completion is installed, but your bash does not load it",
    );
    assert_eq!(
        line,
        "[ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion"
    );
    fs::write(home.join(".bashrc"), format!("{line}\n")).expect(".bashrc");
    let (loaded, got) = bash_tab(&env, &home, &["git par finish ", "git-par drop "]);
    assert!(loaded);
    assert_eq!(got["git par finish "], words(&["fix/two", "one"]));
    assert_eq!(got["git-par drop "], words(&["fix/two", "one"]));

    // With a ~/.bashrc that loads it (Debian's skeleton does), there is nothing to say.
    let run = install(&home, &[]).ok();
    assert!(!run.stdout.contains("note: bash:"), "{}", run.stdout);
}
