//! COMMAND and its subcommands (COUNT, INFO, DOCS, LIST, GETKEYS), generated
//! from the command table.

use super::CommandSpec;

pub static COMMANDS: &[CommandSpec] = &[];
