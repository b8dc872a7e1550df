//! The one integration test binary: every test drives the real `git-par` against real
//! repositories in temporary folders.

mod drop;
mod env;
mod finish;
mod interrupt;
mod lifecycle;
mod recover;
