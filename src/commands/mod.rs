//! One module per subcommand: its `run(args, ui)`.

pub mod diff;
pub mod drop;
pub mod finish;
pub mod list;
pub mod path;
pub mod recover;
pub mod rescued;
pub mod start;
pub mod sync;
