//! The command line: arguments, the headless verbs and their output.

mod agent;
pub mod args;
pub mod commands;
pub mod logs;
mod metrics;
mod render;
