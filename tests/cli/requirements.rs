//! git-par refuses a git older than the one it needs, in one line naming both versions, and
//! asks git again when the `git` on PATH is another file.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::env::{Run, TestEnv, BIN};

/// The real git, for the fake one to hand everything but `version` to.
fn real_git() -> PathBuf {
    let path = std::env::var_os("PATH").expect("PATH");
    std::env::split_paths(&path)
        .map(|d| d.join("git"))
        .find(|f| f.is_file())
        .expect("git on PATH")
}

/// A `git` in `fake/` that says it is `version` and runs the real one for anything else.
fn fake_git(env: &TestEnv, version: &str) {
    let script = format!(
        "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = version ] && {{ echo 'git version {version}'; exit 0; }}; done\nexec {} \"$@\"\n",
        real_git().display()
    );
    let file = env.root().join("fake/git");
    // A new file each time, as an upgrade would leave it.
    let _ = std::fs::remove_file(&file);
    env.write("fake/git", &script);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

fn par_with_fake_git(env: &TestEnv, args: &[&str]) -> Run {
    let path = format!(
        "{}:{}",
        env.root().join("fake").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = env.command(BIN, &env.repo());
    cmd.env("PATH", path).args(args);
    cmd.output().expect("run git-par").into()
}

#[test]
fn a_git_older_than_needed_is_refused_in_one_line() {
    let env = TestEnv::new();
    fake_git(&env, "2.39.5");
    let run = par_with_fake_git(&env, &["list"]).code(1);
    assert_eq!(
        run.stderr,
        "error: git par needs git 2.44.0 or later, but this git is 2.39.5\n"
    );
    assert_eq!(run.stdout, "");
    par_with_fake_git(&env, &["start", "t"]).code(1);
    assert_eq!(env.branches(), vec!["main"]);

    // Upgraded: the answer kept for the old binary is not believed for the new one.
    fake_git(&env, "2.44.0 (upgraded)");
    par_with_fake_git(&env, &["start", "t"]).ok();
    fake_git(&env, "2.43.7");
    par_with_fake_git(&env, &["list"]).code(1);
}
