//! `start --copy-ignored`: ignored build caches and local files copied into the new task,
//! selected by `.worktreeinclude` and `par.copyIgnoredExclude`, symlinks copied and never
//! followed, modes and times kept, other worktrees and repositories left out; an interrupt
//! or crash during the copy rolls the start back; reflinks on a loop-mounted XFS.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use crate::env::TestEnv;

const SIGINT: i32 = 2;

/// A repository that ignores `target/`, `.env` and `*.log`, with some of each.
fn with_ignored() -> TestEnv {
    let env = TestEnv::new();
    env.write("repo/.gitignore", "target/\n.env\n*.log\n");
    env.commit_all("repo", "ignore build output");
    env.write("repo/target/debug/app", "binary\n");
    env.write("repo/target/debug/deps/lib.rlib", "lib\n");
    env.write("repo/target/release/app", "release\n");
    env.write("repo/.env", "SECRET=1\n");
    env.write("repo/build.log", "log\n");
    env.write("repo/untracked.txt", "not ignored\n");
    env
}

fn exists(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok()
}

#[test]
fn copy_ignored_copies_ignored_files_with_modes_and_times() {
    let env = with_ignored();
    let app = env.repo().join("target/debug/app");
    fs::set_permissions(&app, fs::Permissions::from_mode(0o751)).unwrap();
    // Modes a usual umask (022) would change: set after the file is made.
    let lib = env.repo().join("target/debug/deps/lib.rlib");
    fs::set_permissions(&lib, fs::Permissions::from_mode(0o666)).unwrap();
    let release = env.repo().join("target/release/app");
    fs::set_permissions(&release, fs::Permissions::from_mode(0o444)).unwrap();
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    fs::File::options()
        .write(true)
        .open(&app)
        .unwrap()
        .set_modified(old)
        .unwrap();
    let run = env.par(["start", "--copy-ignored", "t"]).ok();
    assert_eq!(run.stdout.trim(), env.task_path("t").to_string_lossy());
    assert!(
        run.stderr.contains("Copied 5 ignored file(s)"),
        "{}",
        run.stderr
    );
    let t = env.task_path("t");
    assert_eq!(env.read("repo.par/t/target/debug/deps/lib.rlib"), "lib\n");
    assert_eq!(env.read("repo.par/t/.env"), "SECRET=1\n");
    assert_eq!(env.read("repo.par/t/build.log"), "log\n");
    assert!(
        !exists(&t.join("untracked.txt")),
        "untracked files are not ignored ones"
    );
    let meta = fs::metadata(t.join("target/debug/app")).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o751);
    let mode = |rel: &str| fs::metadata(t.join(rel)).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode("target/debug/deps/lib.rlib"), 0o666);
    assert_eq!(mode("target/release/app"), 0o444);
    assert_eq!(env.read("repo.par/t/target/release/app"), "release\n");
    assert_eq!(meta.modified().unwrap(), old);
    // The task is clean as git sees it: only ignored files arrived.
    let status = env.git_in("repo.par/t", ["status", "--porcelain"]).ok();
    assert_eq!(status.stdout, "");
}

#[test]
fn copy_ignored_follows_the_setting_and_the_flags() {
    let env = with_ignored();
    env.par(["start", "plain"]).ok();
    assert!(!exists(&env.task_path("plain").join("target")));
    env.git_in("repo", ["config", "par.copyIgnored", "true"])
        .ok();
    env.par(["start", "configured"]).ok();
    assert!(exists(
        &env.task_path("configured").join("target/debug/app")
    ));
    env.par(["start", "--no-copy-ignored", "refused"]).ok();
    assert!(!exists(&env.task_path("refused").join("target")));
}

#[test]
fn worktreeinclude_selects_and_the_exclude_setting_removes() {
    let env = with_ignored();
    env.write("repo/.worktreeinclude", "# caches\ntarget/debug/\n.env\n");
    env.git_in(
        "repo",
        ["config", "--add", "par.copyIgnoredExclude", "deps/"],
    )
    .ok();
    env.par(["start", "--copy-ignored", "t"]).ok();
    let t = env.task_path("t");
    assert!(exists(&t.join("target/debug/app")));
    assert!(exists(&t.join(".env")));
    assert!(!exists(&t.join("target/debug/deps")), "excluded");
    assert!(!exists(&t.join("target/release")), "not selected");
    assert!(!exists(&t.join("build.log")), "not selected");
}

#[test]
fn symlinks_inside_ignored_folders_are_copied_as_symlinks_never_followed() {
    let env = with_ignored();
    env.write("outside/secret", "outside\n");
    let outside = env.root().join("outside");
    let target = env.repo().join("target");
    std::os::unix::fs::symlink(outside.join("secret"), target.join("to-file")).unwrap();
    std::os::unix::fs::symlink(&outside, target.join("to-dir")).unwrap();
    std::os::unix::fs::symlink("../..", target.join("debug/up")).unwrap();
    // An ignored top-level entry that is itself a symlink to a folder outside.
    std::os::unix::fs::symlink(&outside, env.repo().join("cache.log")).unwrap();
    env.par(["start", "--copy-ignored", "t"]).ok();
    let t = env.task_path("t");
    for (link, to) in [
        ("target/to-file", outside.join("secret")),
        ("target/to-dir", outside.clone()),
        ("target/debug/up", "../..".into()),
        ("cache.log", outside.clone()),
    ] {
        let meta = fs::symlink_metadata(t.join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} is still a symlink");
        assert_eq!(fs::read_link(t.join(link)).unwrap(), to, "{link}");
    }
    // Nothing was written through them.
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
}

#[test]
fn other_worktrees_and_nested_repositories_are_never_copied() {
    let env = with_ignored();
    // Tasks inside the repository, kept out of git's view by .git/info/exclude.
    env.git_in("repo", ["config", "par.worktreeDir", ".tasks"])
        .ok();
    env.par(["start", "first"]).ok();
    env.git(["init", "-q", "repo/target/vendored"]).ok();
    env.write("repo/target/vendored/file", "theirs\n");
    // A worktree of its own, made by hand inside an ignored folder.
    env.git_in("repo", ["worktree", "add", "-q", "target/wt", "-b", "wt"])
        .ok();
    let run = env.par(["start", "--copy-ignored", "second"]).ok();
    let second = env.repo().join(".tasks/second");
    assert!(exists(&second.join("target/debug/app")));
    assert!(!exists(&second.join(".tasks")), "{}", run.stderr);
    assert!(!exists(&second.join("target/vendored")));
    assert!(!exists(&second.join("target/wt")));
    assert!(
        run.stderr.contains("left out repositories"),
        "{}",
        run.stderr
    );
}

/// Many files, so the copy is still going when the interrupt arrives.
fn with_many_ignored(env: &TestEnv, files: usize) {
    for i in 0..files {
        env.write(&format!("repo/target/d{}/f{i}", i % 20), &"x".repeat(4096));
    }
}

#[test]
fn ctrl_c_during_the_copy_rolls_the_start_back() {
    let env = with_ignored();
    with_many_ignored(&env, 2000);
    let before = env.state();
    let run = env
        .par_failing("start:copying=SIGINT", ["start", "--copy-ignored", "t"])
        .killed_by(SIGINT);
    assert!(run.stderr.contains("rolled back"), "{}", run.stderr);
    assert_eq!(run.stdout, "");
    assert_eq!(env.state(), before);
    assert!(!exists(&env.task_path("t")));
    // The source is untouched.
    assert_eq!(env.read("repo/target/d3/f3"), "x".repeat(4096));
}

#[test]
fn a_crash_during_the_copy_is_undone_by_recover() {
    let env = with_ignored();
    with_many_ignored(&env, 500);
    let before = env.state();
    env.par_failing("start:copying", ["start", "--copy-ignored", "t"])
        .killed_by(9);
    let run = env.par(["recover"]).ok();
    assert!(
        run.stderr.contains("removed the worktree") || run.stdout.contains("removed the worktree"),
        "{}{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(env.state(), before);
}

#[test]
fn run_start_copies_ignored_files_into_each_new_task() {
    let env = with_ignored();
    env.par([
        "run",
        "--start",
        "--copy-ignored",
        "a",
        "b",
        "--",
        "test",
        "-f",
        "target/debug/app",
    ])
    .ok();
    assert!(exists(&env.task_path("a").join("target/debug/app")));
    assert!(exists(&env.task_path("b").join(".env")));
}

/// Regression: the free-space check counted the checkout alone, so a copy of ignored files
/// that did not fit filled the disk and failed half-way. Now the start refuses before it
/// makes anything, says how to start without the copy, and without it the task fits.
#[test]
fn a_copy_that_would_fill_the_disk_is_refused_before_anything_is_made() {
    let env = with_ignored();
    env.write("repo/target/debug/big", &"x".repeat(3 << 20));
    let Some((_mounted, disk)) = env.small_disk("2m") else {
        return;
    };
    let before = env.state();
    let run = env.par(["start", "--copy-ignored", "t"]).code(1);
    assert!(
        run.stderr
            .contains("error: not enough disk space for task 't': its checkout needs about")
            && run
                .stderr
                .contains("and the copy of its ignored files about 3.0 MiB"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "hint: or start it without copying them: 'git par start --no-copy-ignored t'"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(env.state(), before);
    assert!(
        crate::env::names_in(&disk).is_empty(),
        "nothing made on the disk"
    );
    assert_eq!(env.branches(), ["main"]);
    env.par(["start", "--no-copy-ignored", "t"]).ok();
    assert!(exists(&disk.join("t/README")));
}

/// A loop-mounted XFS with reflink=1, unmounted when dropped.
struct Xfs {
    mount: std::path::PathBuf,
}

impl Xfs {
    fn mount(env: &TestEnv) -> Result<Xfs, String> {
        let image = env.root().join("xfs.img");
        let mount = env.root().join("xfs");
        fs::create_dir_all(&mount).map_err(|e| e.to_string())?;
        let ok = |cmd: &mut std::process::Command| -> Result<(), String> {
            let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
            match out.status.success() {
                true => Ok(()),
                false => Err(format!(
                    "{cmd:?}: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                )),
            }
        };
        fs::File::create(&image)
            .and_then(|f| f.set_len(512 << 20))
            .map_err(|e| e.to_string())?;
        ok(std::process::Command::new("mkfs.xfs")
            .args(["-q", "-m", "reflink=1"])
            .arg(&image))?;
        ok(std::process::Command::new("mount")
            .args(["-o", "loop"])
            .arg(&image)
            .arg(&mount))?;
        Ok(Xfs { mount })
    }
}

impl Drop for Xfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(&self.mount)
            .status();
    }
}

#[test]
fn reflink_copy_on_a_loop_mounted_xfs() {
    let env = TestEnv::empty();
    let xfs = match Xfs::mount(&env) {
        Ok(xfs) => xfs,
        Err(why) => {
            return crate::env::skipped(&format!(
                "cannot mount a loop XFS here (needs root and mkfs.xfs from xfsprogs): {why}"
            ));
        }
    };
    let repo = xfs.mount.join("repo");
    let git = |args: &[&str]| {
        let mut cmd = env.command("git", &xfs.mount);
        cmd.arg("-C").arg(&repo).args(args);
        assert!(cmd.status().unwrap().success(), "git {args:?}");
    };
    fs::create_dir_all(&repo).unwrap();
    git(&["init", "-q", "-b", "main"]);
    fs::write(repo.join(".gitignore"), "target/\n").unwrap();
    git(&["add", ".gitignore"]);
    git(&["commit", "-q", "-m", "initial"]);
    fs::create_dir_all(repo.join("target")).unwrap();
    let big: Vec<u8> = (0..(64u32 << 20)).map(|i| (i % 251) as u8).collect();
    fs::write(repo.join("target/big"), &big).unwrap();
    let free_before = free_bytes(&xfs.mount);
    // Room for the checkout, not for a 64 MiB copy: a clone takes only inodes, so the
    // free-space check lets it through.
    let margin = free_before.saturating_sub(32 << 20).to_string();
    git(&["config", "par.minFreeSpace", &margin]);
    let mut cmd = env.command(crate::env::BIN, &repo);
    cmd.args(["start", "--copy-ignored", "t"]);
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("cloned"), "{stderr}");
    let copy = xfs.mount.join("repo.par/t/target/big");
    assert_eq!(fs::read(&copy).unwrap(), big);
    // Shared extents: the 64 MiB did not take 64 MiB more.
    let used = free_before.saturating_sub(free_bytes(&xfs.mount));
    assert!(used < 16 << 20, "the copy used {used} bytes");
    assert_eq!(
        fs::metadata(&copy).unwrap().mtime(),
        fs::metadata(repo.join("target/big")).unwrap().mtime()
    );
}

fn free_bytes(path: &Path) -> u64 {
    // Delayed allocation: what was written counts once it is on disk.
    std::process::Command::new("sync").status().unwrap();
    let out = std::process::Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}
