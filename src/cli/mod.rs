//! The command line: arguments, the headless verbs and their output.

pub mod args;
pub mod commands;
pub mod init;
mod render;
mod suspend;
pub mod text;
