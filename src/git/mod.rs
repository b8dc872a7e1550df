//! Repository access: git2 for discovery and reads, [`run`] for the git command.

pub mod fsmonitor;
pub mod index;
pub mod repo;
pub mod run;
pub mod scan;
pub mod snapshot;
pub mod status;
pub mod untracked_cache;
pub mod version;
pub mod watchman;
pub mod worktrees;

pub use repo::Repo;
pub use run::git;
pub use version::MINIMUM_GIT_VERSION;
