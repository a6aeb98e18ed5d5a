//! The command line: arguments, the headless verbs and their output.

mod agent;
pub mod args;
pub mod commands;
pub mod init;
pub mod logs;
mod metrics;
mod refresh;
mod render;
mod suspend;
pub mod text;
