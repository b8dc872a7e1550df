//! Removal by identity, never by path: a task's folder goes only when it is provably the
//! worktree git-par created; anything else found at (or reached through) its path stays.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{assert_names, assert_tree, each, said, tree};
use crate::env::TestEnv;

const SIGKILL: i32 = 9;

/// Deletes task `task`'s worktree by hand (unless a crashed drop already moved it into the
/// trash) and clones a different repository, with its own commit and an untracked file, to
/// the same path.
fn replace_with_foreign_clone(env: &TestEnv, task: &str) -> PathBuf {
    env.git(["init", "-q", "-b", "main", "other"]).ok();
    env.write("other/theirs.txt", "someone else's work\n");
    env.commit_all("other", "theirs");
    let path = env.task_path(task);
    if path.exists() {
        fs::remove_dir_all(&path).expect("delete the worktree by hand");
    }
    env.git([
        "clone",
        "-q",
        "other",
        path.to_str().expect("utf-8 temp path"),
    ])
    .ok();
    fs::write(path.join("untracked.txt"), "not committed anywhere\n").expect("untracked");
    path
}

/// `recover` twice; the folder at `path` is as `before` after each, and recover succeeds.
#[track_caller]
fn recover_leaves_alone(env: &TestEnv, path: &Path, before: &BTreeMap<PathBuf, String>) {
    each(&["recover", "a second recover"], |round| {
        let run = env.par(["recover"]);
        assert_tree(path, before, &format!("{round}\n{}", run.stderr));
        run.code(0);
    });
}

#[test]
fn drop_force_deletes_a_foreign_clone_put_at_the_task_path() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let path = replace_with_foreign_clone(&env, "x");
    let before = tree(&path);
    let run = env.par(["drop", "--force", "x"]);
    assert_tree(&path, &before, &run.stderr);
    let run = run.code(1);
    assert_names(&run, "repo.par/x");
    recover_leaves_alone(&env, &path, &before);
}

#[test]
fn finish_deletes_a_foreign_clone_put_at_the_task_path() {
    each(
        &[&[][..], &["--changes", "discard"], &["--changes", "commit"]],
        |extra| {
            let env = TestEnv::new();
            env.task_with_commit("x", "work.txt", "task work\n");
            let path = replace_with_foreign_clone(&env, "x");
            let before = tree(&path);
            let mut args = vec!["finish", "x"];
            args.extend_from_slice(extra);
            let run = env.par(&args);
            assert_tree(&path, &before, &format!("{args:?}\n{}", run.stderr));
            let run = run.code(1);
            recover_leaves_alone(&env, &path, &before);
            assert_names(&run, "repo.par/x");
        },
    );
}

#[test]
fn recover_deletes_a_foreign_clone_put_at_the_task_path() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let path = replace_with_foreign_clone(&env, "x");
    let before = tree(&path);
    recover_leaves_alone(&env, &path, &before);
}

#[test]
fn recover_after_a_crashed_drop_deletes_a_foreign_clone_put_at_the_task_path() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    env.par_failing("drop:saved", ["drop", "--force", "x"])
        .killed_by(SIGKILL);
    let path = replace_with_foreign_clone(&env, "x");
    let before = tree(&path);
    recover_leaves_alone(&env, &path, &before);
}

/// Replaces the worktree dir `repo.par` by a symlink to `<tmp>/elsewhere`, which holds a
/// folder `x` made by `fill`.
fn symlink_worktree_dir(env: &TestEnv, fill: impl FnOnce(&Path)) -> PathBuf {
    let elsewhere = env.root().join("elsewhere");
    fs::create_dir_all(&elsewhere).expect("elsewhere");
    fill(&elsewhere.join("x"));
    fs::remove_dir_all(env.root().join("repo.par")).expect("delete the worktree dir");
    std::os::unix::fs::symlink(&elsewhere, env.root().join("repo.par")).expect("symlink");
    elsewhere.join("x")
}

#[test]
fn drop_force_follows_a_symlinked_worktree_dir_to_a_folder_of_files() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let victim = symlink_worktree_dir(&env, |x| {
        fs::create_dir_all(x.join("sub")).expect("victim");
        fs::write(x.join("precious.txt"), "precious\n").expect("victim file");
        fs::write(x.join("sub/deep.txt"), "deep\n").expect("victim file");
    });
    let before = tree(&victim);
    let run = env.par(["drop", "--force", "x"]);
    assert_tree(&victim, &before, &run.stderr);
    let run = run.code(1);
    assert!(
        said(&run).contains("repo.par") || said(&run).contains("elsewhere"),
        "{}",
        run.stderr
    );
    recover_leaves_alone(&env, &victim, &before);
}

#[test]
fn drop_force_follows_a_symlinked_worktree_dir_to_a_copy_of_the_worktree() {
    // The copy's `.git` file and git's admin dir point at each other through the symlink;
    // only its device and inode tell it from the worktree git-par made.
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let original = env.task_path("x");
    let victim = symlink_worktree_dir(&env, |x| {
        let status = std::process::Command::new("cp")
            .arg("-a")
            .arg(&original)
            .arg(x)
            .status()
            .expect("cp");
        assert!(status.success());
        fs::write(x.join("precious.txt"), "precious\n").expect("victim file");
    });
    let before = tree(&victim);
    let run = env.par(["drop", "--force", "x"]);
    assert_tree(&victim, &before, &run.stderr);
    run.code(1);
    recover_leaves_alone(&env, &victim, &before);
}

#[test]
fn drop_force_follows_a_symlink_at_the_task_path() {
    let env = TestEnv::new();
    env.task_with_commit("x", "work.txt", "task work\n");
    let victim = env.root().join("victim");
    fs::create_dir_all(&victim).expect("victim");
    fs::write(victim.join("precious.txt"), "precious\n").expect("victim file");
    fs::remove_dir_all(env.task_path("x")).expect("delete the worktree by hand");
    std::os::unix::fs::symlink(&victim, env.task_path("x")).expect("symlink");
    let before = tree(&victim);
    let run = env.par(["drop", "--force", "x"]).code(1);
    assert_names(&run, "repo.par/x");
    assert_tree(&victim, &before, "");
    assert!(
        fs::symlink_metadata(env.task_path("x")).is_ok(),
        "the symlink went"
    );
    recover_leaves_alone(&env, &victim, &before);
}

/// Crashes `drop --force x` at `point`, then sets `key` of the journal entry it left to
/// `value`.
fn crash_drop_and_edit_journal(env: &TestEnv, point: &str, key: &str, value: &Path) {
    crash_drop_and_edit(env, point, |entry| {
        assert!(entry.get(key).is_some(), "no {key} in {entry}");
        entry[key] = Value::String(value.to_str().expect("utf-8").into());
    });
}

/// Crashes `drop --force x` at `point`, then lets `edit` change the journal entry it left.
fn crash_drop_and_edit(env: &TestEnv, point: &str, edit: impl FnOnce(&mut Value)) {
    env.par_failing(point, ["drop", "--force", "x"])
        .killed_by(SIGKILL);
    let dir = env.repo().join(".git/par/journal");
    let entries: Vec<PathBuf> = fs::read_dir(&dir)
        .expect("journal dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    let mut entry: Value =
        serde_json::from_slice(&fs::read(&entries[0]).expect("read journal")).expect("json");
    edit(&mut entry);
    fs::write(
        &entries[0],
        serde_json::to_vec_pretty(&entry).expect("json"),
    )
    .expect("write");
}

fn victim(env: &TestEnv) -> PathBuf {
    let victim = env.root().join("victim");
    fs::create_dir_all(victim.join("sub")).expect("victim");
    fs::write(victim.join("precious.txt"), "precious\n").expect("victim file");
    fs::write(victim.join("sub/deep.txt"), "deep\n").expect("victim file");
    victim
}

/// Where a crash leaves a drop's journal entry: before anything is removed, and with the
/// worktree already moved into the trash.
const DROP_CRASHES: [&str; 2] = ["drop:saved", "teardown:trashed"];

/// The trash slot is never read from the journal: it is `.par-trash.<id>` beside the task's
/// folder. A journal whose `worktree_dir` and `path` name a victim folder holding such a slot
/// (with the recorded identity, and with the identity wiped) must not get that slot deleted.
#[test]
fn recover_deletes_whatever_a_journal_trash_path_names() {
    each(&DROP_CRASHES, |point| {
        for wipe_identity in [false, true] {
            let env = TestEnv::new();
            env.task_with_commit("x", "work.txt", "task work\n");
            let victim = victim(&env);
            crash_drop_and_edit(&env, point, |entry| {
                let id = entry["id"].as_str().expect("id").to_string();
                let slot = victim.join(format!(".par-trash.{id}"));
                fs::create_dir_all(&slot).expect("slot");
                fs::write(slot.join("precious.txt"), "in the slot\n").expect("slot file");
                entry["worktree_dir"] = Value::String(victim.to_str().expect("utf-8").into());
                let path = victim.join("x");
                entry["path"] = Value::String(path.to_str().expect("utf-8").into());
                if wipe_identity {
                    entry["identity"] = Value::Null;
                }
            });
            let before = tree(&victim);
            let run = env.par(["recover"]);
            let what = format!("{point}, identity wiped: {wipe_identity}");
            assert_tree(&victim, &before, &format!("{what}\n{}", run.stderr));
            env.par(["recover"]);
            assert_tree(&victim, &before, &format!("{what}, second recover"));
        }
    });
}

#[test]
fn recover_deletes_whatever_a_journal_task_path_names() {
    each(&DROP_CRASHES, |point| {
        let env = TestEnv::new();
        env.task_with_commit("x", "work.txt", "task work\n");
        let victim = victim(&env);
        let before = tree(&victim);
        crash_drop_and_edit_journal(&env, point, "path", &victim);
        let run = env.par(["recover"]);
        assert_tree(&victim, &before, &format!("{point}\n{}", run.stderr));
        env.par(["recover"]);
        assert_tree(&victim, &before, &format!("{point}, second recover"));
    });
}

/// Task `y`, a bystander with committed and uncommitted work.
fn bystander(env: &TestEnv) -> PathBuf {
    env.task_with_commit("y", "mine.txt", "y's work\n");
    env.write("repo.par/y/uncommitted.txt", "y's uncommitted work\n");
    env.task_path("y")
}

/// A journal whose `worktree_dir` and `path` are edited to name another task's worktree.
#[test]
fn recover_deletes_another_tasks_worktree_named_as_a_journal_trash_path() {
    each(&DROP_CRASHES, |point| {
        let env = TestEnv::new();
        env.task_with_commit("x", "work.txt", "task work\n");
        let y = bystander(&env);
        let before = tree(&y);
        crash_drop_and_edit(&env, point, |entry| {
            entry["path"] = Value::String(y.to_str().expect("utf-8").into());
            entry["identity"] = Value::Null;
            entry["task"] = Value::String("y".into());
            entry["branch"] = Value::String("par/y".into());
        });
        let run = env.par(["recover"]);
        assert_tree(&y, &before, &format!("{point}\n{}", run.stderr));
        assert!(env.worktrees().contains(&y), "{point}");
    });
}

#[test]
fn recover_deletes_another_tasks_worktree_named_as_a_journal_task_path() {
    each(&DROP_CRASHES, |point| {
        let env = TestEnv::new();
        env.task_with_commit("x", "work.txt", "task work\n");
        let y = bystander(&env);
        let before = tree(&y);
        crash_drop_and_edit_journal(&env, point, "path", &y);
        let run = env.par(["recover"]);
        assert_tree(&y, &before, &format!("{point}\n{}", run.stderr));
        assert!(env.worktrees().contains(&y), "{point}");
    });
}

/// Everything `start` must leave as it was when it refuses a setting.
fn untouched(env: &TestEnv) -> String {
    let listing = |dir: &Path| crate::env::names_in(dir).join(",");
    format!(
        "{}\nroot: {}\nrepo: {}\ngit dir: {}\ntasks: {}\nobjects: {:?}\ninfo: {:?}",
        env.state(),
        listing(&env.root()),
        listing(&env.repo()),
        // git-par's own folder (its lock) may appear; what it holds of tasks is compared.
        listing(&env.repo().join(".git")).replace("par,", ""),
        listing(&env.repo().join(".git/par/tasks")),
        tree(&env.repo().join(".git/objects")),
        tree(&env.repo().join(".git/info")),
    )
}

#[test]
fn start_accepts_a_worktree_dir_inside_dot_git_or_dot_or_dot_dot() {
    each(&[".git/wt", ".git", ".", "..", "./", "../"], |value| {
        let env = TestEnv::new();
        env.git_in("repo", ["config", "par.worktreeDir", value])
            .ok();
        let before = untouched(&env);
        let run = env.par(["start", "x"]);
        assert_eq!(run.code, 2, "par.worktreeDir={value}\n{}", run.stderr);
        assert_names(&run, "par.worktreeDir");
        assert_eq!(untouched(&env), before, "par.worktreeDir={value}");
        assert!(!env.repo().join(".git/wt").exists(), "{value}");
        assert!(!env.repo().join("x").exists(), "{value}");
        assert!(!env.root().join("x").exists(), "{value}");
        env.git_in("repo", ["fsck", "--no-progress"]).ok();
    });
}

#[test]
fn recover_drop_and_finish_remove_the_users_empty_folder_in_the_worktree_dir() {
    let env = TestEnv::new();
    env.task_with_commit("a", "a.txt", "a\n");
    env.task_with_commit("b", "b.txt", "b\n");
    env.task_with_commit("c", "c.txt", "c\n");
    let mine = env.root().join("repo.par/mine");
    fs::create_dir(&mine).expect("mine");
    env.par(["recover"]).ok();
    assert!(mine.is_dir(), "recover removed it");
    env.par(["drop", "--force", "a"]).ok();
    assert!(mine.is_dir(), "drop removed it");
    env.par(["finish", "b"]).ok();
    assert!(mine.is_dir(), "finish removed it");
    env.par_failing("drop:saved", ["drop", "--force", "c"])
        .killed_by(SIGKILL);
    env.par(["recover"]).ok();
    assert!(mine.is_dir(), "recover of a crashed drop removed it");
    env.par(["recover"]).ok();
    assert!(mine.is_dir(), "a second recover removed it");
}

#[test]
fn drop_of_a_nested_task_removes_the_users_empty_parent_folder() {
    // `grp/` was the user's before `grp/t` started; git-par did not make it, so it stays.
    let env = TestEnv::new();
    let grp = env.root().join("repo.par/grp");
    fs::create_dir_all(&grp).expect("grp");
    env.task_with_commit("grp/t", "t.txt", "t\n");
    env.par(["drop", "--force", "grp/t"]).ok();
    assert!(grp.is_dir(), "drop removed the user's folder");
    env.task_with_commit("grp/u", "u.txt", "u\n");
    env.par(["finish", "grp/u"]).ok();
    assert!(grp.is_dir(), "finish removed the user's folder");
}
