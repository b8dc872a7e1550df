//! Repository access: git2 for discovery and reads, [`run`] for the git command.

pub mod fsmonitor;
pub mod index;
pub mod repo;
pub mod run;
pub mod scan;
pub mod snapshot;
pub mod status;
pub mod worktrees;

pub use repo::Repo;
pub use run::git;

/// `git merge-tree --write-tree --merge-base` on trees needs git 2.40;
/// `git replay` (the rebase strategy) needs 2.44.
pub const MINIMUM_GIT_VERSION: (u32, u32) = (2, 44);
