//! The one integration test binary: every test drives the real `git-par` against real
//! repositories in temporary folders.

mod aside;
mod attacks;
mod background;
mod checkout;
mod concurrency;
mod conflicts;
mod copy_ignored;
mod copy_pty;
mod deletion;
mod drop;
mod env;
mod finish;
mod hooks;
mod interrupt;
mod lifecycle;
mod list;
mod list_fsmonitor;
mod list_live;
mod list_watchman;
mod model;
mod native;
mod newcomer;
mod prompts;
mod prune;
mod recover;
mod relative;
mod requirements;
mod rescue;
mod restore;
mod run;
mod run_engine;
mod run_pty;
mod shells;
