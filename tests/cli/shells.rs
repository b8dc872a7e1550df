//! The real shells: what Tab offers in bash (through git's completion), zsh (compinit) and
//! fish; the `shell-init` functions in each; and the README's install into a fresh HOME,
//! checked from a login shell.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::env::{Run, TestEnv, BIN};
use crate::native::have;

mod init;
mod install;

pub const CAPTURE_BASH: &str = include_str!("shells/capture.bash");
pub const CAPTURE_ZSH: &str = include_str!("shells/capture.zsh");

pub fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// PATH with the built binary's folder first, as after an install.
pub fn path_with_bin() -> String {
    let bin_dir = Path::new(BIN).parent().expect("bin dir");
    format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `program args…` in `repo/<sub>` with the hermetic environment, the binary on PATH, and a
/// TMPDIR of its own (`tmp/`, so tests can see what is left in it).
pub fn shell(env: &TestEnv, sub: &str, program: &str, args: &[&str]) -> Run {
    let tmp = env.root().join("tmp");
    fs::create_dir_all(&tmp).expect("tmp");
    let mut cmd = env.command(program, &env.root().join(sub));
    cmd.env("PATH", path_with_bin())
        .env("TMPDIR", &tmp)
        .env("XDG_DATA_HOME", env.root().join("data"))
        .args(args);
    cmd.output().expect("run shell").into()
}

/// Parses the `== <line>` blocks the capture scripts print: line → offered words, sorted.
pub fn offers(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut map = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(query) = line.strip_prefix("== ") {
            current = Some(query.to_string());
            map.insert(query.to_string(), Vec::new());
        } else if let Some(query) = &current {
            if line.starts_with("took ") {
                continue;
            }
            // bash candidates carry git's trailing space; fish's a tab and a description.
            let word = line.split('\t').next().unwrap_or_default().trim_end();
            if word.is_empty() {
                continue;
            }
            if let Some(words) = map.get_mut(query) {
                words.push(word.to_string());
            }
        }
    }
    for words in map.values_mut() {
        words.sort();
    }
    map
}

/// A repository with tasks `fix/two` and `one`, and branches `feature` and `main`.
pub fn repo_with_tasks() -> TestEnv {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "feature"]).ok();
    env.par(["start", "--no-cd", "one"]).ok();
    env.par(["start", "--no-cd", "fix/two"]).ok();
    env
}

pub fn words(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

/// What Tab should offer, for both `git par …` and `git-par …`. Every shell must agree.
fn expectations() -> Vec<(&'static str, Vec<String>)> {
    let branches = words(&["feature", "main", "par/fix/two", "par/one"]);
    vec![
        ("par fi", words(&["finish"])),
        ("par finish ", words(&["fix/two", "one"])),
        ("par drop o", words(&["one"])),
        ("par run one ", words(&["fix/two", "one"])),
        ("par finish --into ", branches.clone()),
        (
            "par finish --strategy ",
            words(&["merge", "rebase", "squash"]),
        ),
        ("par start --changes ", words(&["copy", "leave", "move"])),
        ("par finish --changes ", words(&["commit", "discard"])),
        ("par start --base fe", words(&["feature"])),
        ("par shell-init ", words(&["bash", "fish", "zsh"])),
    ]
}

fn check(shell_name: &str, got: &BTreeMap<String, Vec<String>>, lines: &[(String, Vec<String>)]) {
    for (line, want) in lines {
        let have = got.get(line).cloned().unwrap_or_default();
        // bash includes HEAD among revisions; only --base offers it.
        let have: Vec<String> = have.into_iter().filter(|w| w != "HEAD").collect();
        assert_eq!(&have, want, "{shell_name}: Tab after '{line}'");
    }
}

fn both_spellings() -> Vec<(String, Vec<String>)> {
    let mut lines = Vec::new();
    for (rest, want) in expectations() {
        lines.push((format!("git {rest}"), want.clone()));
        lines.push((format!("git-{rest}"), want));
    }
    lines
}

fn install_bash_completion(env: &TestEnv) {
    let dir = env.root().join("data/bash-completion/completions");
    fs::create_dir_all(&dir).expect("dir");
    fs::copy(
        source_dir().join("completions/git-par.bash"),
        dir.join("git-par"),
    )
    .expect("copy");
}

fn bash_capture(env: &TestEnv, sub: &str, lines: &[String], extra: &[(&str, &str)]) -> Run {
    let script = env.root().join("capture.bash");
    fs::write(&script, CAPTURE_BASH).expect("script");
    let mut args = vec![script.to_str().expect("utf-8 path").to_string()];
    args.extend(lines.iter().cloned());
    let tmp = env.root().join("tmp");
    fs::create_dir_all(&tmp).expect("tmp");
    let mut cmd = env.command("bash", &env.root().join(sub));
    cmd.env("PATH", path_with_bin())
        .env("XDG_DATA_HOME", env.root().join("data"))
        .env("TMPDIR", tmp)
        .args(&args);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().expect("bash").into()
}

pub fn have_bash_completion() -> bool {
    let found = Path::new("/usr/share/bash-completion/bash_completion").exists()
        && Path::new("/usr/share/bash-completion/completions/git").exists();
    if !found {
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "bash-completion or git's bash completion is missing; see .ci/apt-packages"
        );
        eprintln!("SKIPPED: bash-completion or git's completion script is not installed");
    }
    found
}

#[test]
fn bash_tab_completes_git_par_and_git_dash_par() {
    if !have("bash") || !have_bash_completion() {
        return;
    }
    let env = repo_with_tasks();
    install_bash_completion(&env);
    let mut lines = both_spellings();
    lines.push(("git par ".into(), Vec::new()));
    lines.push(("git par finish --strategy=s".into(), words(&["squash"])));
    lines.push(("git -C . par drop f".into(), words(&["fix/two"])));
    let queries: Vec<String> = lines.iter().map(|(l, _)| l.clone()).collect();
    let run = bash_capture(&env, "repo", &queries, &[]).ok();
    assert_eq!(run.stderr, "");
    let got = offers(&run.stdout);
    let commands = &got["git par "];
    for name in ["start", "finish", "drop", "list", "cd", "shell-init", "run"] {
        assert!(commands.contains(&name.to_string()), "{commands:?}");
    }
    assert!(!commands
        .iter()
        .any(|c| c.starts_with("__") || c == "generate"));
    lines.retain(|(l, _)| l != "git par ");
    check("bash", &got, &lines);
}

#[test]
fn bash_task_completion_is_fast_with_50_tasks_and_quiet_outside_a_repository() {
    if !have("bash") || !have_bash_completion() {
        return;
    }
    let env = TestEnv::new();
    for i in 0..50 {
        env.par(["start", "--no-cd", &format!("task-{i:02}")]).ok();
    }
    install_bash_completion(&env);
    let run = bash_capture(&env, "repo", &["git par finish ".into()], &[]).ok();
    assert_eq!(offers(&run.stdout)["git par finish "].len(), 50);
    // The same line eleven times in one shell; the first loads git's completion.
    let lines: Vec<String> = std::iter::repeat("git par finish ".to_string())
        .take(11)
        .collect();
    let run = bash_capture(&env, "repo", &lines, &[("GIT_PAR_TIMING", "1")]).ok();
    let mut micros: Vec<u64> = run
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("took "))
        .filter_map(|l| {
            let (a, b) = l.split_once(' ')?;
            Some(b.parse::<u64>().ok()? - a.parse::<u64>().ok()?)
        })
        .skip(1)
        .collect();
    micros.sort();
    let median = micros[micros.len() / 2];
    eprintln!(
        "bash Tab on 'git par finish ' with 50 tasks: median {} µs",
        median
    );
    assert!(median < 50_000, "median {median} µs");

    let outside = TestEnv::empty();
    install_bash_completion(&outside);
    let run = bash_capture(&outside, "home", &["git par finish ".into()], &[]).ok();
    assert_eq!(run.stderr, "");
    assert_eq!(offers(&run.stdout)["git par finish "], Vec::<String>::new());
}

fn zsh_capture(env: &TestEnv, sub: &str, fpath_dir: &Path, lines: &[String]) -> Run {
    let script = env.root().join("capture.zsh");
    fs::write(&script, CAPTURE_ZSH).expect("script");
    let mut args = vec![
        "-f".to_string(),
        script.to_str().expect("utf-8").to_string(),
        fpath_dir.to_str().expect("utf-8").to_string(),
    ];
    args.extend(lines.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    shell(env, sub, "zsh", &args)
}

#[test]
fn zsh_tab_completes_git_par_and_git_dash_par() {
    if !have("zsh") {
        return;
    }
    let env = repo_with_tasks();
    let mut lines = both_spellings();
    lines.push((
        "git par finish --strategy=".into(),
        words(&["merge", "rebase", "squash"]),
    ));
    let queries: Vec<String> = lines.iter().map(|(l, _)| l.clone()).collect();
    let run = zsh_capture(&env, "repo", &source_dir().join("completions"), &queries).ok();
    let got = offers(&run.stdout);
    check("zsh", &got, &lines);

    let outside = TestEnv::empty();
    let run = zsh_capture(
        &outside,
        "home",
        &source_dir().join("completions"),
        &["git par finish ".into()],
    )
    .ok();
    assert_eq!(offers(&run.stdout)["git par finish "], Vec::<String>::new());
    assert!(!run.stdout.contains("error"), "{}", run.stdout);
    // Regression: `compinit -d /dev/null` made zsh write its dump beside /dev/null and move
    // it over it, leaving the whole machine a regular file there.
    let null = fs::metadata("/dev/null").expect("/dev/null");
    assert!(
        std::os::unix::fs::FileTypeExt::is_char_device(&null.file_type()),
        "/dev/null is no longer a device"
    );
}

fn fish_capture(env: &TestEnv, sub: &str, lines: &[String]) -> Run {
    let mut args = vec![
        "-c".to_string(),
        "for line in $argv; echo \"== $line\"; complete -C \"$line\"; end".to_string(),
        "--".to_string(),
    ];
    args.extend(lines.iter().cloned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    shell(env, sub, "fish", &args)
}

fn install_fish_completion(env: &TestEnv) {
    // Where install.sh puts it: fish reads vendor_conf.d at startup.
    let dir = env.root().join("data/fish/vendor_conf.d");
    fs::create_dir_all(&dir).expect("dir");
    fs::copy(
        source_dir().join("completions/git-par.fish"),
        dir.join("git-par.fish"),
    )
    .expect("copy");
}

#[test]
fn fish_tab_completes_git_par_and_git_dash_par() {
    if !have("fish") {
        return;
    }
    let env = repo_with_tasks();
    install_fish_completion(&env);
    let mut lines = both_spellings();
    lines.push(("git -C . par drop f".into(), words(&["fix/two"])));
    let queries: Vec<String> = lines.iter().map(|(l, _)| l.clone()).collect();
    let run = fish_capture(&env, "repo", &queries).ok();
    assert_eq!(run.stderr, "");
    check("fish", &offers(&run.stdout), &lines);

    // Plain git completion is still git's own.
    let run = fish_capture(&env, "repo", &["git chec".into(), "git log --onel".into()]).ok();
    let got = offers(&run.stdout);
    assert_eq!(got["git chec"], words(&["checkout"]));
    assert_eq!(got["git log --onel"], words(&["--oneline"]));

    let outside = TestEnv::empty();
    install_fish_completion(&outside);
    let run = fish_capture(&outside, "home", &["git par finish ".into()]).ok();
    assert_eq!(run.stderr, "");
    assert_eq!(offers(&run.stdout)["git par finish "], Vec::<String>::new());
}
