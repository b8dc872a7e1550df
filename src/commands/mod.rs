//! One module per subcommand: its `run(args, ui)`.

pub mod drop;
pub mod finish;
pub mod list;
pub mod path;
pub mod start;
pub mod sync;
