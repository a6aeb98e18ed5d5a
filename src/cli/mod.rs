//! The command line: arguments, the headless verbs and their output.

pub mod args;
pub mod commands;
pub mod logs;
mod render;
