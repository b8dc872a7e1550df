//! One module per subcommand: its `run(args, ui)`.

pub mod cd;
pub mod complete;
pub mod diff;
pub mod drop;
pub mod finish;
pub mod generate;
pub mod list;
pub mod path;
pub mod recover;
pub mod rescued;
pub mod run;
pub mod shell_init;
pub mod start;
pub mod sync;
