//! The command line: arguments, the headless verbs and their output.

mod agent;
pub mod args;
pub mod commands;
mod metrics;
pub mod logs;
mod render;
