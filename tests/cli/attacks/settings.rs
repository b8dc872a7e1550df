//! Settings that would make git-par build bad branch names: refused as bad input, before
//! anything is made.

use crate::env::TestEnv;

use super::{assert_names, each};

#[test]
fn start_accepts_a_branch_prefix_that_makes_invalid_branch_names() {
    each(
        &["/", "a..b/", "x~/", "a/.b/", "a.lock/", "@{/"],
        |prefix| {
            let env = TestEnv::new();
            env.git_in("repo", ["config", "par.branchPrefix", prefix])
                .ok();
            let before = env.state();
            let run = env.par(["start", "x"]);
            assert_eq!(run.code, 2, "par.branchPrefix={prefix}\n{}", run.stderr);
            assert_names(&run, "par.branchPrefix");
            assert_eq!(env.state(), before, "par.branchPrefix={prefix}");
            assert!(!env.task_path("x").exists(), "par.branchPrefix={prefix}");
            // Every command refuses the setting; once it is fixed nothing is left to recover.
            env.git_in("repo", ["config", "--unset", "par.branchPrefix"])
                .ok();
            env.assert_nothing_to_recover();
        },
    );
}
