//! `git par list` counts what `git status` counts, though it runs git only on the paths its
//! own stat pass could not vouch for: every kind of change below is checked against git.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};

use crate::env::TestEnv;

type Counts = (u64, u64, u64);

/// Every kind of entry git tracks: nested folders, an executable, a symlink, an empty file,
/// a tracked file inside an ignored folder.
fn rich_repo() -> TestEnv {
    let env = TestEnv::new();
    for (path, content) in [
        ("a.txt", "alpha\n"),
        ("b.txt", "bravo\n"),
        ("run.sh", "#!/bin/sh\n"),
        ("empty.txt", ""),
        ("dir/c.txt", "charlie\n"),
        ("dir/sub/d.txt", "delta\n"),
        (".gitignore", "*.log\nbuild/\n"),
        ("build/keep.txt", "kept\n"),
    ] {
        env.write(&format!("repo/{path}"), content);
    }
    chmod(&env, "repo/run.sh", 0o755);
    symlink("a.txt", env.repo().join("link")).expect("symlink");
    env.git_in("repo", ["add", "-A"]).ok();
    env.git_in("repo", ["add", "-f", "build/keep.txt"]).ok();
    env.git_in("repo", ["commit", "-q", "-m", "rich"]).ok();
    env
}

fn chmod(env: &TestEnv, rel: &str, mode: u32) {
    let path = env.root().join(rel);
    fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Puts a fresh worktree in the state any git command leaves it in a second or more after a
/// checkout: every file dated ten seconds back and the index refreshed, so that no entry is
/// racily clean.
fn settle(env: &TestEnv, wt: &str) {
    sh(
        env,
        wt,
        "find . -path ./.git -prune -o -exec touch -h -d @$(( $(date +%s) - 10 )) {} +",
    );
    env.git_in(wt, ["update-index", "-q", "--refresh"]).ok();
}

/// Dates what changed since the index was written five seconds back: no changed file is then
/// racily clean, so only its stat data can tell list that it changed.
fn backdate_changes(env: &TestEnv, wt: &str) {
    let index = env
        .git_in(wt, ["rev-parse", "--git-path", "index"])
        .ok()
        .stdout;
    let script = format!(
        "find . -path ./.git -prune -o -newer '{}' -exec touch -h -d @$(( $(date +%s) - 5 )) {{}} +",
        index.trim()
    );
    sh(env, wt, &script);
}

fn sh(env: &TestEnv, wt: &str, script: &str) {
    let mut cmd = env.command("sh", &env.root().join(wt));
    cmd.args(["-c", script]);
    assert!(cmd.status().expect("sh").success(), "{script}");
}

/// What `git status` counts in `wt` (conflicts among the unstaged, as list shows them).
fn git_counts(env: &TestEnv, wt: &str) -> Counts {
    let out = env
        .git_in(
            wt,
            [
                "--no-optional-locks",
                "status",
                "--porcelain",
                "-z",
                "--no-renames",
            ],
        )
        .ok()
        .stdout;
    let mut counts = (0, 0, 0);
    for entry in out.split('\0').filter(|e| e.len() > 3) {
        match &entry[..2] {
            "??" => counts.2 += 1,
            code => {
                counts.0 += u64::from(!code.starts_with(' '));
                counts.1 += u64::from(!code.ends_with(' '));
            }
        }
    }
    counts
}

/// Each task's counts from `git par list --json`, and the pathspecs of every `git status`
/// that list ran (sorted; empty for a status of the whole worktree).
fn list_counts(env: &TestEnv) -> (BTreeMap<String, Counts>, Vec<String>) {
    let trace = env.root().join("trace");
    let _ = fs::remove_file(&trace);
    let mut cmd = env.command(crate::env::BIN, &env.repo());
    cmd.env("GIT_TRACE", &trace).args(["list", "--json"]);
    let out = cmd.output().expect("run git-par");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let counts = json
        .as_array()
        .expect("array")
        .iter()
        .map(|t| {
            let n = |key: &str| t[key].as_u64().expect("count");
            let task = t["task"].as_str().expect("task").to_string();
            (task, (n("staged"), n("unstaged"), n("untracked")))
        })
        .collect();
    let statuses = fs::read_to_string(&trace)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once("built-in: git status ").map(|(_, args)| args))
        // Not the ones git runs inside submodules.
        .filter(|args| args.starts_with("--porcelain -z --no-renames"))
        .map(|args| {
            let words: Vec<&str> = args.split(' ').collect();
            let start = words
                .iter()
                .position(|w| *w == "--")
                .map_or(words.len(), |i| i + 1);
            // In the order of the file system's folder listings: sorted to compare.
            let mut paths = words[start..].to_vec();
            paths.sort();
            paths.join(" ")
        })
        .collect();
    (counts, statuses)
}

#[test]
fn list_counts_what_git_status_counts_for_every_kind_of_change() {
    let env = rich_repo();
    let outside = env.root().join("outside");
    fs::create_dir(&outside).expect("mkdir");
    type Change = Box<dyn Fn(&TestEnv, &str)>;
    let write = |rel: &'static str, content: &'static str| -> Change {
        Box::new(move |env: &TestEnv, wt: &str| env.write(&format!("{wt}/{rel}"), content))
    };
    let scenarios: Vec<(&str, Change)> = vec![
        ("clean", Box::new(|_: &TestEnv, _: &str| {})),
        ("same-size", write("a.txt", "ALPHA\n")),
        ("longer", write("b.txt", "bravo, longer\n")),
        ("emptied", write("a.txt", "")),
        ("filled", write("empty.txt", "now something\n")),
        (
            "deleted",
            Box::new(|env: &TestEnv, wt: &str| {
                fs::remove_file(env.root().join(wt).join("dir/c.txt")).expect("rm")
            }),
        ),
        (
            "deleted-dir",
            Box::new(|env: &TestEnv, wt: &str| {
                fs::remove_dir_all(env.root().join(wt).join("dir/sub")).expect("rm")
            }),
        ),
        (
            "typechange",
            Box::new(|env: &TestEnv, wt: &str| {
                let b = env.root().join(wt).join("b.txt");
                fs::remove_file(&b).expect("rm");
                symlink("a.txt", b).expect("symlink");
            }),
        ),
        (
            "link-retargeted",
            Box::new(|env: &TestEnv, wt: &str| {
                let link = env.root().join(wt).join("link");
                fs::remove_file(&link).expect("rm");
                symlink("b.txt", link).expect("symlink");
            }),
        ),
        (
            "exec-on",
            Box::new(|env: &TestEnv, wt: &str| chmod(env, &format!("{wt}/a.txt"), 0o755)),
        ),
        (
            "exec-off",
            Box::new(|env: &TestEnv, wt: &str| chmod(env, &format!("{wt}/run.sh"), 0o644)),
        ),
        (
            "untracked",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/new.txt"), "new\n");
                env.write(&format!("{wt}/dir/sub/new2.txt"), "new\n");
                env.write(&format!("{wt}/newdir/deep/x"), "new\n");
            }),
        ),
        (
            "ignored",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/x.log"), "log\n");
                env.write(&format!("{wt}/dir/y.log"), "log\n");
                env.write(&format!("{wt}/build/new.txt"), "ignored\n");
                env.write(&format!("{wt}/build2/z.log"), "log\n");
            }),
        ),
        // New files alone, no folder: git check-ignore, not git status, says which count.
        (
            "new-files",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/new.txt"), "new\n");
                env.write(&format!("{wt}/dir/sub/new2.txt"), "new\n");
                for odd in ["*star", "sp ace", "back\\slash", "[x]", "dir/:inside"] {
                    env.write(&format!("{wt}/{odd}"), "odd\n");
                }
            }),
        ),
        // A name that check-ignore would take for pathspec magic: git status is asked.
        ("colon", write(":colon", "odd\n")),
        (
            "ignored-files",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/x.log"), "log\n");
                env.write(&format!("{wt}/dir/y.log"), "log\n");
                // In a folder the index has (build/keep.txt) that the rules ignore.
                env.write(&format!("{wt}/build/new.txt"), "ignored\n");
            }),
        ),
        (
            "negated",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/dir/sub/.gitignore"), "*.tmp\n!keep.tmp\n");
                env.write(&format!("{wt}/dir/sub/a.tmp"), "ignored\n");
                env.write(&format!("{wt}/dir/sub/keep.tmp"), "not ignored\n");
                env.write(&format!("{wt}/dir/keep.tmp"), "not ignored either\n");
            }),
        ),
        (
            "empty-dir",
            Box::new(|env: &TestEnv, wt: &str| {
                fs::create_dir(env.root().join(wt).join("emptydir")).expect("mkdir")
            }),
        ),
        (
            "nested-repo",
            Box::new(|env: &TestEnv, wt: &str| {
                env.git_in(wt, ["init", "-q", "inner"]).ok();
            }),
        ),
        (
            "dir-now-symlink",
            // The folder moved away and a symlink to it put in its place: every file is still
            // there behind the link, with the same inode and stat data. git counts them gone;
            // so must list, which means never entering the link.
            Box::new(move |env: &TestEnv, wt: &str| {
                let dir = env.root().join(wt).join("dir");
                let moved = outside.join(wt.replace('/', "-"));
                fs::rename(&dir, &moved).expect("mv");
                symlink(&moved, &dir).expect("symlink");
            }),
        ),
        (
            "staged",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/a.txt"), "staged\n");
                env.git_in(wt, ["add", "a.txt"]).ok();
                env.write(&format!("{wt}/b.txt"), "unstaged\n");
            }),
        ),
        (
            "intent-to-add",
            Box::new(|env: &TestEnv, wt: &str| {
                env.write(&format!("{wt}/ita.txt"), "later\n");
                env.git_in(wt, ["add", "-N", "ita.txt"]).ok();
            }),
        ),
        (
            "assume-unchanged",
            Box::new(|env: &TestEnv, wt: &str| {
                env.git_in(wt, ["update-index", "--assume-unchanged", "a.txt"])
                    .ok();
                env.write(&format!("{wt}/a.txt"), "hidden from git\n");
            }),
        ),
        (
            "index-v4",
            Box::new(|env: &TestEnv, wt: &str| {
                env.git_in(wt, ["update-index", "--index-version", "4"])
                    .ok();
                env.write(&format!("{wt}/dir/sub/d.txt"), "changed in v4\n");
            }),
        ),
        (
            "split-index",
            // Split below: git writes a whole index again when most of it changes.
            write("dir/c.txt", "changed, split\n"),
        ),
        (
            "sparse",
            Box::new(|env: &TestEnv, wt: &str| {
                env.git_in(wt, ["sparse-checkout", "set", "dir"]).ok();
                env.write(&format!("{wt}/sparse-new.txt"), "new\n");
            }),
        ),
    ];
    for (task, change) in &scenarios {
        env.par(["start", task]).ok();
        let wt = format!("repo.par/{task}");
        settle(&env, &wt);
        change(&env, &wt);
        backdate_changes(&env, &wt);
    }
    env.git_in("repo.par/split-index", ["update-index", "--split-index"])
        .ok();
    backdate_changes(&env, "repo.par/split-index");
    let (counts, statuses) = list_counts(&env);
    for (task, _) in &scenarios {
        let want = git_counts(&env, &format!("repo.par/{task}"));
        assert_eq!(
            counts[*task], want,
            "{task}: list counts (staged, unstaged, untracked)"
        );
    }
    assert_eq!(counts["clean"], (0, 0, 0));
    assert_eq!(counts["dir-now-symlink"], (0, 2, 1));

    // No git at all for a clean worktree; the whole worktree where the index is not plainly
    // HEAD's tree (`update-index --assume-unchanged` invalidates the cache tree too) or is
    // split; else git is asked about the suspects alone.
    let whole = statuses.iter().filter(|s| s.is_empty()).count();
    assert_eq!(
        whole, 4,
        "staged, intent-to-add, assume-unchanged, split: {statuses:?}"
    );
    let check_ignores: Vec<String> = fs::read_to_string(env.root().join("trace"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("built-in: git check-ignore"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        check_ignores.len(),
        4,
        "new-files, ignored-files, negated, sparse: {check_ignores:?}"
    );
    assert_eq!(
        statuses.len(),
        scenarios.len() - 1 - 4,
        "{statuses:?} {check_ignores:?}"
    );
    for expected in [
        "a.txt",
        "dir/sub/new2.txt new.txt newdir",
        "dir",
        "emptydir",
    ] {
        assert!(
            statuses.iter().any(|s| s == expected),
            "{expected}: {statuses:?}"
        );
    }
}

#[test]
fn list_right_after_start_asks_git_about_the_racily_clean_files() {
    // A checkout and the index written in the same second: stat data cannot tell whether a
    // file changed after it was written, so git must look (and list shows git's answer).
    let env = rich_repo();
    env.par(["start", "fresh"]).ok();
    env.write("repo.par/fresh/b.txt", "BRAVO\n");
    let (counts, statuses) = list_counts(&env);
    assert_eq!(counts["fresh"], git_counts(&env, "repo.par/fresh"));
    assert_eq!(counts["fresh"], (0, 1, 0));
    assert_eq!(statuses.len(), 1);
}

#[test]
fn list_asks_git_about_a_submodule() {
    let env = TestEnv::new();
    env.git(["init", "-q", "-b", "main", "lib"]).ok();
    env.write("lib/f", "lib\n");
    env.commit_all("lib", "lib");
    let lib = env.root().join("lib");
    env.git_in(
        "repo",
        [
            "-c".as_ref(),
            "protocol.file.allow=always".as_ref(),
            "submodule".as_ref(),
            "add".as_ref(),
            "-q".as_ref(),
            lib.as_os_str(),
            "lib".as_ref(),
        ],
    )
    .ok();
    env.git_in("repo", ["commit", "-q", "-m", "submodule"]).ok();
    env.par(["start", "sub"]).ok();
    let wt = "repo.par/sub";
    env.git_in(
        wt,
        [
            "-c",
            "protocol.file.allow=always",
            "submodule",
            "update",
            "-q",
            "--init",
        ],
    )
    .ok();
    settle(&env, wt);
    env.write(&format!("{wt}/lib/f"), "changed inside the submodule\n");
    backdate_changes(&env, wt);
    let (counts, statuses) = list_counts(&env);
    assert_eq!(counts["sub"], git_counts(&env, wt));
    assert_eq!(counts["sub"], (0, 1, 0));
    assert_eq!(statuses, vec!["lib"]);
}

#[test]
fn index_reader_agrees_with_git_ls_files() {
    let env = rich_repo();
    env.par(["start", "t"]).ok();
    let wt = "repo.par/t";
    env.git_in(
        wt,
        ["sparse-checkout", "set", "--no-cone", "/*", "!/build/"],
    )
    .ok();
    env.git_in(wt, ["update-index", "--assume-unchanged", "b.txt"])
        .ok();
    env.write(&format!("{wt}/later.txt"), "x\n");
    env.git_in(wt, ["add", "-N", "later.txt"]).ok();
    // Enough entries that the index is several times the reader's 64 KiB window (entries
    // and paths cut at its edges), and a path longer than its first look for a NUL.
    for i in 0..2000 {
        env.write(
            &format!("{wt}/many/file-with-a-longish-name-{i:05}.txt"),
            "x\n",
        );
    }
    let long = format!("{}/{}/end.txt", "d".repeat(200), "e".repeat(200));
    env.write(&format!("{wt}/many/{long}"), "long\n");
    env.git_in(wt, ["add", "many"]).ok();
    let index_file = env.repo().join(".git/worktrees/t/index");
    assert!(std::fs::metadata(&index_file).expect("index").len() > 3 * 65536);
    for version in ["3", "4", "2"] {
        // Version 2 cannot hold the extended flags: git raises it to 3 while they are there.
        env.git_in(wt, ["update-index", "--index-version", version])
            .ok();
        let index = git_par::git::index::read(&index_file).expect("read index");
        let ours: Vec<String> = index
            .entries
            .iter()
            .map(|e| {
                let tag = match (e.skip_worktree, e.assume_valid) {
                    (true, true) => 's',
                    (true, false) => 'S',
                    (false, true) => 'h',
                    (false, false) => 'H',
                };
                let path = String::from_utf8_lossy(index.path(e)).into_owned();
                format!("{tag} {:o} {} {path}", e.mode, e.stage)
            })
            .collect();
        // `<tag> <mode> <object> <stage>\t<path>`
        let git: Vec<String> = env
            .git_in(wt, ["ls-files", "-s", "-v"])
            .ok()
            .stdout
            .lines()
            .map(|line| {
                let (fields, path) = line.split_once('\t').expect("tab");
                let f: Vec<&str> = fields.split(' ').collect();
                format!("{} {} {} {path}", f[0], f[1], f[3])
            })
            .collect();
        assert_eq!(ours.len(), git.len(), "version {version}");
        assert_eq!(ours, git, "version {version}");
        let ita: Vec<bool> = index.entries.iter().map(|e| e.intent_to_add).collect();
        assert_eq!(ita.iter().filter(|i| **i).count(), 1, "version {version}");
    }
}

/// New files counted by git check-ignore follow the same settings as git status: untracked
/// files shown or not (`status.showUntrackedFiles`), and the user's own ignore file.
#[test]
fn list_counts_new_files_by_the_settings_git_status_follows() {
    let env = rich_repo();
    env.par(["start", "t"]).ok();
    settle(&env, "repo.par/t");
    env.write("repo.par/t/new.txt", "new\n");
    env.write("repo.par/t/other.tmp", "mine\n");
    backdate_changes(&env, "repo.par/t");
    let check = |want: Counts| {
        let (counts, _) = list_counts(&env);
        assert_eq!(git_counts(&env, "repo.par/t"), want);
        assert_eq!(counts["t"], want);
    };
    check((0, 0, 2));
    env.git_in("repo", ["config", "status.showUntrackedFiles", "no"])
        .ok();
    check((0, 0, 0));
    env.git_in("repo", ["config", "--unset", "status.showUntrackedFiles"])
        .ok();
    env.write("home/excludes", "*.tmp\n");
    let excludes = env.root().join("home/excludes");
    env.git_in(
        "repo",
        ["config", "core.excludesFile", excludes.to_str().unwrap()],
    )
    .ok();
    check((0, 0, 1));
}
