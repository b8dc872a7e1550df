//! One module per subcommand: its `run(args, ui)`.

pub mod list;
pub mod path;
pub mod start;
