//! start, list, path: what they print and what they leave on disk.

use crate::env::TestEnv;

#[test]
fn start_makes_branch_and_worktree_and_prints_only_the_path() {
    let env = TestEnv::new();
    let run = env.par(["start", "task-1"]).ok();
    let path = env.task_path("task-1");
    assert_eq!(run.stdout, format!("{}\n", path.display()));
    assert!(env.branches().contains(&"par/task-1".to_string()));
    assert_eq!(env.worktrees(), vec![env.repo(), path.clone()]);
    assert_eq!(
        env.git_in("repo.par/task-1", ["status", "--porcelain"])
            .ok()
            .stdout,
        ""
    );
    assert_eq!(env.read("repo.par/task-1/README"), "hello\n");
}

#[test]
fn start_through_git_dispatch() {
    let env = TestEnv::new();
    env.git_par(["start", "via-git"]).ok();
    assert!(env.task_path("via-git").join("README").exists());
}

#[test]
fn start_refuses_bad_names_with_usage_code_and_changes_nothing() {
    let env = TestEnv::new();
    for name in ["a b", "../x", "-x", "x.lock", "a..b", "/abs"] {
        let run = env.par(["start", "--", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("error: invalid task name"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(env.branches(), vec!["main"]);
    assert!(!env.root().join("repo.par").exists());
}

#[test]
fn start_works_from_a_subdirectory_and_with_git_dash_c() {
    let env = TestEnv::new();
    env.write("repo/sub/dir/file", "x\n");
    env.commit_all("repo", "sub");
    env.par_in("repo/sub/dir", ["start", "from-sub"]).ok();
    assert!(env.task_path("from-sub").join("sub/dir/file").exists());
    let mut cmd = env.command("git", &env.root());
    let bin_dir = std::path::Path::new(crate::env::BIN)
        .parent()
        .expect("bin dir");
    cmd.env(
        "PATH",
        format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        ),
    );
    let run: crate::env::Run = cmd
        .args([
            "-C",
            "repo",
            "-c",
            "par.branchPrefix=x/",
            "par",
            "start",
            "dash-c",
        ])
        .output()
        .expect("git")
        .into();
    run.ok();
    assert!(env.branches().contains(&"x/dash-c".to_string()));
}

#[test]
fn start_refuses_taken_names_and_changes_nothing() {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "par/taken"]).ok();
    let run = env.par(["start", "taken"]).code(1);
    assert!(
        run.stderr
            .contains("a branch named 'par/taken' already exists"),
        "{}",
        run.stderr
    );
    env.write("repo.par/occupied/file", "mine\n");
    let run = env.par(["start", "occupied"]).code(1);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(env.read("repo.par/occupied/file"), "mine\n");
    assert_eq!(env.branches(), vec!["main", "par/taken"]);
    assert_eq!(env.worktrees(), vec![env.repo()]);
}

#[test]
fn start_refuses_a_repository_without_commits() {
    let env = TestEnv::empty();
    env.git(["init", "-q", "-b", "main", "repo"]).ok();
    let run = env.par(["start", "x"]).code(1);
    assert!(run.stderr.contains("no commits"), "{}", run.stderr);
    assert!(!env.root().join("repo.par").exists());
}

#[test]
fn start_refuses_a_bare_repository() {
    let env = TestEnv::new();
    env.git(["clone", "-q", "--bare", "repo", "bare.git"]).ok();
    let run = env.par_in("bare.git", ["start", "x"]).code(1);
    assert!(
        run.stderr.contains("bare") || run.stderr.contains("work tree"),
        "{}",
        run.stderr
    );
}

#[test]
fn start_records_base_and_stacks_on_a_task() {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "develop"]).ok();
    env.par(["start", "on-dev", "--base", "develop"]).ok();
    env.par_in("repo.par/on-dev", ["start", "stacked"]).ok();
    let list = env.par(["list", "--porcelain"]).ok().stdout;
    let bases: Vec<(String, String)> = list
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f[0].to_string(), f[2].to_string())
        })
        .collect();
    assert_eq!(
        bases,
        vec![
            ("on-dev".into(), "develop".into()),
            ("stacked".into(), "par/on-dev".into())
        ]
    );
}

#[test]
fn start_moves_staged_unstaged_and_untracked_changes_without_touching_the_stash() {
    let env = TestEnv::new();
    env.write("repo/tracked", "one\n");
    env.commit_all("repo", "tracked");
    env.write("repo/tracked", "two\n");
    env.write("repo/staged", "staged\n");
    env.git_in("repo", ["add", "staged"]).ok();
    env.write("repo/untracked", "new\n");
    env.write("repo/ignored.log", "ignored\n");
    env.write("repo/.git/info/exclude", "*.log\n");
    env.par(["start", "moved", "--changes", "move"]).ok();
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    assert_eq!(env.read("repo/ignored.log"), "ignored\n");
    let moved = env
        .git_in("repo.par/moved", ["status", "--porcelain"])
        .ok()
        .stdout;
    assert_eq!(moved, "A  staged\n M tracked\n?? untracked\n");
    assert_eq!(env.read("repo.par/moved/tracked"), "two\n");
    assert_eq!(env.git_out(["stash", "list"]), "");
}

/// A file that became a folder and a folder that became a file move too, and the main
/// worktree is left as HEAD has it (no empty folder behind).
#[test]
fn start_moves_files_that_became_folders_and_folders_that_became_files() {
    let env = TestEnv::new();
    env.write("repo/a", "file\n");
    env.write("repo/d/x", "in a folder\n");
    env.commit_all("repo", "a file and a folder");
    std::fs::remove_file(env.repo().join("a")).unwrap();
    env.write("repo/a/b", "now a folder\n");
    std::fs::remove_dir_all(env.repo().join("d")).unwrap();
    env.write("repo/d", "now a file\n");
    env.par(["start", "moved", "--changes", "move"]).ok();
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain", "--untracked-files=all"])
            .ok()
            .stdout,
        ""
    );
    assert_eq!(env.read("repo/a"), "file\n");
    assert_eq!(env.read("repo/d/x"), "in a folder\n");
    assert_eq!(env.read("repo.par/moved/a/b"), "now a folder\n");
    assert_eq!(env.read("repo.par/moved/d"), "now a file\n");
}

#[test]
fn start_copies_changes_and_keeps_them_here() {
    let env = TestEnv::new();
    env.write("repo/README", "changed\n");
    env.write("repo/new", "n\n");
    env.par(["start", "copied", "--changes", "copy"]).ok();
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        " M README\n?? new\n"
    );
    assert_eq!(
        env.git_in("repo.par/copied", ["status", "--porcelain"])
            .ok()
            .stdout,
        " M README\n?? new\n"
    );
}

#[test]
fn start_without_a_terminal_leaves_changes_and_says_so() {
    let env = TestEnv::new();
    env.write("repo/README", "changed\n");
    let run = env.par(["start", "left"]).ok();
    assert!(
        run.stderr.contains("Left 1 uncommitted change"),
        "{}",
        run.stderr
    );
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        " M README\n"
    );
    assert_eq!(
        env.git_in("repo.par/left", ["status", "--porcelain"])
            .ok()
            .stdout,
        ""
    );
}

#[test]
fn start_refuses_to_carry_changes_mid_merge() {
    let env = TestEnv::new();
    env.git_in("repo", ["checkout", "-q", "-b", "other"]).ok();
    env.write("repo/README", "other\n");
    env.commit_all("repo", "other");
    env.git_in("repo", ["checkout", "-q", "main"]).ok();
    env.write("repo/README", "main\n");
    env.commit_all("repo", "main");
    env.git_in("repo", ["merge", "other"]).code(1);
    let run = env.par(["start", "x", "--changes", "move"]).code(1);
    assert!(
        run.stderr.contains("has a merge in progress"),
        "{}",
        run.stderr
    );
    assert_eq!(env.branches(), vec!["main", "other"]);
}

#[test]
fn start_checks_out_like_git_symlinks_modes_eol_filters_and_submodules() {
    let env = TestEnv::new();
    env.git(["init", "-q", "-b", "main", "sub"]).ok();
    env.write("sub/s", "s\n");
    env.commit_all("sub", "sub");
    let sub_url = env.root().join("sub");
    env.git_in(
        "repo",
        [
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "add",
            "-q",
            sub_url.to_str().expect("utf8"),
            "sub",
        ],
    )
    .ok();
    env.write("repo/script.sh", "#!/bin/sh\necho hi\n");
    std::os::unix::fs::symlink("README", env.repo().join("link")).expect("symlink");
    env.write(
        "repo/.gitattributes",
        "*.txt text eol=crlf\n*.rot filter=rot\n",
    );
    env.write("repo/dos.txt", "a\nb\n");
    env.git_in("repo", ["config", "filter.rot.clean", "tr a-z n-za-m"])
        .ok();
    env.git_in("repo", ["config", "filter.rot.smudge", "tr a-z n-za-m"])
        .ok();
    env.write("repo/secret.rot", "hello\n");
    env.git_in("repo", ["add", "-A"]).ok();
    env.git_in("repo", ["update-index", "--chmod=+x", "script.sh"])
        .ok();
    env.git_in("repo", ["commit", "-q", "-m", "all kinds"]).ok();
    env.par(["start", "kinds"]).ok();
    let wt = env.task_path("kinds");
    assert_eq!(
        env.git_in("repo.par/kinds", ["status", "--porcelain"])
            .ok()
            .stdout,
        ""
    );
    assert_eq!(
        std::fs::read_link(wt.join("link")).expect("link"),
        std::path::Path::new("README")
    );
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(wt.join("script.sh"))
        .expect("meta")
        .permissions()
        .mode();
    assert!(mode & 0o111 != 0, "executable bit lost: {mode:o}");
    assert_eq!(
        std::fs::read(wt.join("dos.txt")).expect("dos"),
        b"a\r\nb\r\n"
    );
    assert_eq!(env.read("repo.par/kinds/secret.rot"), "hello\n");
    let blob = env.git_out(["cat-file", "-p", "HEAD:secret.rot"]);
    assert_eq!(blob, "uryyb");
    assert!(wt.join("sub").is_dir());
}

#[test]
fn worktree_dir_inside_the_repository_is_excluded_not_gitignored() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.worktreeDir", ".tasks"])
        .ok();
    let out = env.par(["start", "inside"]).ok().stdout;
    assert_eq!(
        out.trim(),
        env.repo().join(".tasks/inside").display().to_string()
    );
    assert_eq!(
        env.git_in("repo", ["status", "--porcelain"]).ok().stdout,
        ""
    );
    assert!(env.read("repo/.git/info/exclude").contains("/.tasks/"));
    assert!(!env.repo().join(".gitignore").exists());
}

#[test]
fn worktree_dir_setting_expands_repo_name() {
    let env = TestEnv::new();
    let abs = env.root().join("elsewhere/{repo}-tasks");
    env.git_in(
        "repo",
        ["config", "par.worktreeDir", abs.to_str().expect("utf8")],
    )
    .ok();
    let out = env.par(["start", "t"]).ok().stdout;
    assert_eq!(
        out.trim(),
        env.root()
            .join("elsewhere/repo-tasks/t")
            .display()
            .to_string()
    );
}

#[test]
fn start_refuses_when_disk_space_is_short_and_gives_both_numbers() {
    let env = TestEnv::new();
    env.git_in("repo", ["config", "par.minFreeSpace", "900000000g"])
        .ok();
    let run = env.par(["start", "big"]).code(1);
    assert!(
        run.stderr.contains("not enough disk space for task 'big'"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("needs about") && run.stderr.contains("is free"),
        "{}",
        run.stderr
    );
    assert_eq!(env.branches(), vec!["main"]);
    assert!(!env.task_path("big").exists());
}

#[test]
fn list_json_has_the_documented_keys_and_flags() {
    let env = TestEnv::new();
    env.par(["start", "a"]).ok();
    env.par(["start", "b"]).ok();
    env.write("repo.par/a/new", "x\n");
    env.write("repo.par/a/README", "changed\n");
    env.git_in("repo.par/a", ["add", "README"]).ok();
    std::fs::remove_dir_all(env.task_path("b")).expect("rm");
    let json: serde_json::Value =
        serde_json::from_str(&env.par(["list", "--json"]).ok().stdout).expect("json");
    let tasks = json.as_array().expect("array");
    assert_eq!(tasks.len(), 2);
    let a = &tasks[0];
    for key in [
        "task",
        "branch",
        "base",
        "path",
        "ahead",
        "behind",
        "staged",
        "unstaged",
        "untracked",
        "last_commit",
        "flags",
    ] {
        assert!(a.get(key).is_some(), "missing {key}");
    }
    assert_eq!(a["task"], "a");
    assert_eq!(
        (a["staged"].as_u64(), a["untracked"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(a["last_commit"], "2026-01-01T00:00:00Z");
    assert_eq!(
        tasks[1]["flags"],
        serde_json::json!(["missing", "prunable"])
    );
}

#[test]
fn list_counts_ahead_and_behind() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/f", "1\n");
    env.commit_all("repo.par/t", "one");
    env.write("repo.par/t/g", "2\n");
    env.commit_all("repo.par/t", "two");
    env.write("repo/m", "m\n");
    env.commit_all("repo", "main moves");
    let line = env.par(["ls", "--porcelain"]).ok().stdout;
    let fields: Vec<&str> = line.trim_end().split('\t').collect();
    assert_eq!(&fields[..5], &["t", "par/t", "main", "2", "1"]);
}

#[test]
fn path_prints_task_and_main_worktree() {
    let env = TestEnv::new();
    env.par(["start", "p"]).ok();
    assert_eq!(
        env.par(["path", "p"]).ok().stdout.trim(),
        env.task_path("p").display().to_string()
    );
    assert_eq!(
        env.par_in("repo.par/p", ["path"]).ok().stdout.trim(),
        env.repo().display().to_string()
    );
    env.par(["path", "nope"]).code(1);
}

#[test]
fn diff_shows_committed_uncommitted_and_untracked_changes_against_the_base() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/committed", "c\n");
    env.commit_all("repo.par/t", "c");
    env.write("repo.par/t/README", "edited\n");
    env.write("repo.par/t/untracked", "u\n");
    env.write("repo/main-only", "m\n");
    env.commit_all("repo", "main moves");
    let stat = env.par(["diff", "t", "--stat"]).ok().stdout;
    assert!(
        stat.contains("README") && stat.contains("committed") && stat.contains("untracked"),
        "{stat}"
    );
    assert!(!stat.contains("main-only"), "{stat}");
    let full = env.par_in("repo.par/t", ["diff"]).ok().stdout;
    assert!(full.contains("+edited") && full.contains("+u"), "{full}");
    assert_eq!(
        env.git_in("repo.par/t", ["status", "--porcelain"])
            .ok()
            .stdout,
        " M README\n?? untracked\n"
    );
}

#[test]
fn list_colours_follow_color_ui_and_no_color() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    assert!(!env.par(["list"]).ok().stdout.contains('\x1b'));
    let mut cmd = env.command(crate::env::BIN, &env.repo());
    cmd.env_remove("NO_COLOR").args(["list"]);
    let plain: crate::env::Run = cmd.output().expect("run").into();
    assert!(!plain.stdout.contains('\x1b'), "auto colour on a pipe");
    env.git_in("repo", ["config", "color.ui", "always"]).ok();
    let mut cmd = env.command(crate::env::BIN, &env.repo());
    cmd.env_remove("NO_COLOR").args(["list"]);
    let coloured: crate::env::Run = cmd.output().expect("run").into();
    assert!(
        coloured.stdout.contains("\x1b[32m"),
        "{:?}",
        coloured.stdout
    );
    assert!(
        !env.par(["list"]).ok().stdout.contains('\x1b'),
        "NO_COLOR wins"
    );
}

#[test]
fn start_runs_the_post_checkout_hook_as_git_worktree_add_does() {
    let env = TestEnv::new();
    let log = env.root().join("hook.log");
    env.write(
        "repo/.git/hooks/post-checkout",
        &format!(
            "#!/bin/sh\necho \"$1 $2 $3 $(pwd)\" >> '{}'\n",
            log.display()
        ),
    );
    use std::os::unix::fs::PermissionsExt;
    let hook = env.repo().join(".git/hooks/post-checkout");
    std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    env.git_in("repo", ["worktree", "add", "-q", "-b", "plain", "../plain"])
        .ok();
    env.par(["start", "t"]).ok();
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .expect("hook ran")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let plain = lines[0].replace(&env.root().join("plain").display().to_string(), "WT");
    let ours = lines[1].replace(&env.task_path("t").display().to_string(), "WT");
    assert_eq!(ours, plain);
}

#[test]
fn start_keeps_sparse_checkout_like_git_worktree_add() {
    let env = TestEnv::new();
    env.write("repo/keep/a", "a\n");
    env.write("repo/skip/b", "b\n");
    env.commit_all("repo", "two dirs");
    env.git_in("repo", ["sparse-checkout", "set", "keep"]).ok();
    env.par(["start", "t"]).ok();
    assert!(env.task_path("t").join("keep/a").exists());
    assert!(!env.task_path("t").join("skip/b").exists());
    assert_eq!(
        env.git_in("repo.par/t", ["status", "--porcelain"])
            .ok()
            .stdout,
        ""
    );
}

#[test]
fn start_of_a_task_that_exists_says_so_and_goes_there() {
    let env = TestEnv::new();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/wip", "mine\n");
    let before = env.state();
    let file = env.root().join("cd-file");
    std::fs::write(&file, "").expect("cd file");
    let mut cmd = env.command(crate::env::BIN, &env.repo());
    cmd.env("GIT_PAR_CD_FILE", &file).args(["start", "t"]);
    let run = crate::env::Run::from(cmd.output().expect("run")).ok();
    assert!(
        run.stderr
            .contains("Task 't' already exists on branch 'par/t'"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stdout.trim(), env.task_path("t").to_string_lossy());
    assert_eq!(
        std::fs::read_to_string(&file).expect("read"),
        env.task_path("t").to_string_lossy()
    );
    assert_eq!(env.state(), before);
    assert_eq!(env.read("repo.par/t/wip"), "mine\n");
    // Options for a new task would be dropped without a word: refused instead.
    let run = env.par(["start", "--base", "main", "t"]).code(1);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert!(run.stderr.contains("git par cd t"), "{}", run.stderr);
    assert_eq!(env.state(), before);
}
