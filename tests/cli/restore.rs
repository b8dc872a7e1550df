//! Saved work comes back as it was saved (`git par start <task> --from <ref>`): the task's
//! branch at its commits, its base as it was (so finish and sync work), and its uncommitted
//! changes as uncommitted changes, staged apart from unstaged. Saved work is deleted only by
//! `git par rescued --drop` and `--prune`.

use crate::env::TestEnv;

const SIGINT: i32 = 2;
const SIGKILL: i32 = 9;

/// A task `t` from `base` with one commit, a staged new file, an unstaged edit and an
/// untracked file, dropped: returns the rescue ref.
fn dropped_with_work(env: &TestEnv, base: &str) -> String {
    env.par(["start", "t", "--base", base]).ok();
    let wt = "repo.par/t";
    env.write(&format!("{wt}/committed"), "c\n");
    env.commit_all(wt, "work");
    env.write(&format!("{wt}/staged"), "s\n");
    env.git_in(wt, ["add", "staged"]).ok();
    env.write(&format!("{wt}/README"), "edited\n");
    env.write(&format!("{wt}/untracked"), "u\n");
    env.par(["drop", "--force", "t"]).ok();
    let refs = env.par_refs();
    assert_eq!(refs.len(), 1, "{refs:?}");
    refs[0].clone()
}

fn status(env: &TestEnv, wt: &str) -> String {
    env.git_in(wt, ["status", "--porcelain", "--untracked-files=all"])
        .ok()
        .stdout
}

#[test]
fn restore_brings_back_the_base_and_uncommitted_changes_as_uncommitted() {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "develop"]).ok();
    let develop = env.git_out(["rev-parse", "develop"]);
    let saved = dropped_with_work(&env, "develop");
    // The listing prints the command that restores it.
    let listed: serde_json::Value =
        serde_json::from_str(&env.par(["rescued", "--json"]).ok().stdout).expect("json");
    let restore = listed[0]["restore"].as_str().expect("restore");
    assert_eq!(restore, format!("git par start t --from {saved}"));
    assert_eq!(listed[0]["base"]["branch"], "develop");
    assert_eq!(listed[0]["base"]["commit"], develop.as_str());
    let args: Vec<&str> = restore.split(' ').skip(2).collect();
    let run = env.par(&args).ok();
    assert!(
        run.stderr.contains(&format!(
            "Restored task 't' on branch 'par/t' from {saved} (base develop,"
        )),
        "{}",
        run.stderr
    );
    // The commits are the branch's, the changes are not a commit.
    assert_eq!(
        env.git_out(["log", "--format=%s", "par/t"]),
        "work\ninitial"
    );
    assert_eq!(
        status(&env, "repo.par/t"),
        " M README\nA  staged\n?? untracked\n"
    );
    assert_eq!(env.read("repo.par/t/README"), "edited\n");
    // The base is the one it had, so the task finishes into develop, not main.
    let record: serde_json::Value =
        serde_json::from_str(&env.read("repo/.git/par/tasks/t.json")).expect("record");
    assert_eq!(record["base"], "develop");
    assert_eq!(record["base_commit"], develop.as_str());
    // The saved work stays until it is deleted on purpose.
    assert_eq!(env.par_refs(), vec![saved.clone()]);
    env.par(["finish", "t", "--changes", "commit", "-m", "rest"])
        .ok();
    assert_eq!(
        env.git_out(["show", "develop:untracked"]),
        "u",
        "finished into its own base"
    );
    assert_eq!(env.git_out(["rev-parse", "main"]), develop);
    assert_eq!(env.par_refs(), vec![saved]);
}

#[test]
fn a_restored_task_syncs_with_its_base() {
    let env = TestEnv::new();
    let saved = dropped_with_work(&env, "main");
    env.write("repo/later", "on main\n");
    env.commit_all("repo", "main moves on");
    env.par(["start", "t", "--from", &saved]).ok();
    env.commit_all("repo.par/t", "the rest");
    env.par(["sync", "t"]).ok();
    assert_eq!(env.read("repo.par/t/later"), "on main\n");
    assert_eq!(env.read("repo.par/t/committed"), "c\n");
}

/// Saved work from before the base was kept (the ref points at the task's commit): the
/// restore starts from the branch checked out here, says so, and `--base` chooses another.
#[test]
fn restoring_an_old_rescue_without_a_base_says_what_it_assumed() {
    let env = TestEnv::new();
    env.git_in("repo", ["branch", "develop"]).ok();
    env.git_in("repo", ["checkout", "-q", "-b", "side"]).ok();
    env.write("repo/side", "side\n");
    env.commit_all("repo", "side work");
    let side = env.git_out(["rev-parse", "HEAD"]);
    env.git_in("repo", ["checkout", "-q", "main"]).ok();
    let saved = "refs/par/rescued/old/20250101-120000";
    env.git_in("repo", ["update-ref", saved, &side]).ok();
    env.git_in("repo", ["branch", "-D", "-q", "side"]).ok();
    let run = env.par(["start", "old", "--from", saved]).ok();
    assert!(
        run.stderr.contains(
            "it does not say which branch it came from: the task starts from 'main' again (pass --base to choose another)"
        ),
        "{}",
        run.stderr
    );
    let record: serde_json::Value =
        serde_json::from_str(&env.read("repo/.git/par/tasks/old.json")).expect("record");
    assert_eq!(record["base"], "main");
    assert_eq!(
        record["base_commit"].as_str(),
        Some(env.git_out(["rev-parse", "main"]).as_str()),
        "the base commit is where it forked from main"
    );
    assert_eq!(env.git_out(["rev-parse", "par/old"]), side);
    assert_eq!(status(&env, "repo.par/old"), "");

    let run = env
        .par(["start", "old2", "--from", saved, "--base", "develop"])
        .ok();
    assert!(!run.stderr.contains("again"), "{}", run.stderr);
    let record: serde_json::Value =
        serde_json::from_str(&env.read("repo/.git/par/tasks/old2.json")).expect("record");
    assert_eq!(record["base"], "develop");
}

#[test]
fn restore_refuses_what_is_no_saved_work() {
    let env = TestEnv::new();
    let run = env.par(["start", "t", "--from", "main"]).code(2);
    assert!(
        run.stderr.contains("'main' is no saved work"),
        "{}",
        run.stderr
    );
    let run = env
        .par(["start", "t", "--from", "refs/par/rescued/t/20250101-000000"])
        .code(1);
    assert!(
        run.stderr
            .contains("no saved work named refs/par/rescued/t/20250101-000000"),
        "{}",
        run.stderr
    );
    let run = env
        .par(["start", "t", "--from", "t/x", "--changes", "move"])
        .code(2);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    assert_eq!(env.branches(), vec!["main"]);
}

/// The restore is a start: interrupted while the changes are being carried, everything it
/// made is rolled back; killed there, `recover` rolls it back. The saved work stays either way.
#[test]
fn an_interrupted_restore_is_rolled_back_and_keeps_the_saved_work() {
    let env = TestEnv::new();
    let saved = dropped_with_work(&env, "main");
    let before = env.state();
    env.par_failing("start:carry=SIGINT", ["start", "t", "--from", &saved])
        .killed_by(SIGINT);
    assert_eq!(env.state(), before);

    env.par_failing("start:carry", ["start", "t", "--from", &saved])
        .killed_by(SIGKILL);
    env.par(["recover"]).ok();
    assert_eq!(env.state(), before);
    env.par(["start", "t", "--from", &saved]).ok();
    assert_eq!(
        status(&env, "repo.par/t"),
        " M README\nA  staged\n?? untracked\n"
    );
}

#[test]
fn rescued_lists_by_task_and_age_and_deletes_only_what_it_is_told() {
    let env = TestEnv::new();
    let recent = dropped_with_work(&env, "main");
    let head = env.git_out(["rev-parse", "main"]);
    let old = "refs/par/rescued/old/20200101-000000";
    env.git_in("repo", ["update-ref", old, &head]).ok();
    let shown = env.par(["rescued"]).ok().stdout;
    assert!(
        shown.contains("2020-01-01T00:00:00Z  "),
        "the date is the save's, from its name: {shown}"
    );
    assert!(
        shown.contains("years ago  refs/par/rescued/old/"),
        "{shown}"
    );
    assert!(
        shown.contains("second ago  refs/par/rescued/t/")
            || shown.contains("seconds ago  refs/par/rescued/t/"),
        "{shown}"
    );
    let only_t = env.par(["rescued", "t"]).ok().stdout;
    assert!(!only_t.contains("task 'old'"), "{only_t}");
    assert!(only_t.contains("task 't'"), "{only_t}");

    // --prune deletes only what is older than asked; --dry-run nothing.
    let run = env
        .par(["rescued", "--prune", "--older-than", "30d", "--dry-run"])
        .ok();
    assert_eq!(
        run.stdout,
        format!("Would delete {old} (was {})\n", &head[..7])
    );
    assert_eq!(env.par_refs().len(), 2);
    env.par(["rescued", "--prune", "--older-than", "2.weeks.ago"])
        .ok();
    assert_eq!(env.par_refs(), vec![recent.clone()]);
    let run = env
        .par(["rescued", "--prune", "--older-than", "soon"])
        .code(2);
    assert!(run.stderr.contains("'soon' is no age"), "{}", run.stderr);
    env.par(["rescued", "--prune"]).code(2);

    // --drop takes the ref with or without its prefix, and nothing else.
    env.par(["rescued", "--drop", "t/nope"]).code(1);
    env.par(["rescued", "--drop", "main"]).code(2);
    assert_eq!(env.par_refs(), vec![recent.clone()]);
    let short = recent.trim_start_matches("refs/par/rescued/");
    let run = env.par(["rescued", "--drop", short]).ok();
    assert!(
        run.stdout.starts_with(&format!("Deleted {recent} (was ")),
        "{}",
        run.stdout
    );
    assert_eq!(env.par_refs(), Vec::<String>::new());
}

/// Nothing but `rescued --drop`/`--prune` deletes saved work: not finishing or dropping a
/// restored task, not recover, not git's gc.
#[test]
fn saved_work_survives_everything_else() {
    let env = TestEnv::new();
    let saved = dropped_with_work(&env, "main");
    let commit = env.git_out(["rev-parse", &saved]);
    env.par(["start", "t", "--from", &saved]).ok();
    env.par(["drop", "--force", "t"]).ok();
    env.par(["start", "t", "--from", &saved]).ok();
    env.par(["finish", "t", "--changes", "commit", "-m", "m"])
        .ok();
    env.par(["recover"]).ok();
    env.git_in("repo", ["gc", "-q", "--prune=now"]).ok();
    assert!(env.par_refs().contains(&saved), "{:?}", env.par_refs());
    assert_eq!(env.git_out(["rev-parse", &saved]), commit);
}

/// Ignored files `par.keepIgnored` names are saved as work, and come back with the rest.
#[test]
fn restore_brings_back_kept_ignored_files() {
    let env = TestEnv::new();
    env.write("repo/.gitignore", ".env\ntarget/\n");
    env.commit_all("repo", "ignore");
    env.git_in("repo", ["config", "par.keepIgnored", ".env"])
        .ok();
    env.par(["start", "t"]).ok();
    env.write("repo.par/t/.env", "SECRET=1\n");
    env.write("repo.par/t/target/out", "build output\n");
    env.write("repo.par/t/new", "n\n");
    env.par(["drop", "--force", "t"]).ok();
    let saved = env.par_refs()[0].clone();
    env.par(["start", "t", "--from", &saved]).ok();
    assert_eq!(env.read("repo.par/t/.env"), "SECRET=1\n");
    assert!(
        !env.task_path("t").join("target").exists(),
        "build output is not work"
    );
    assert_eq!(status(&env, "repo.par/t"), "?? new\n");
}
