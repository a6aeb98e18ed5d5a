//! gitops-tui: the engine behind the terminal UI and the headless commands.

// No unwrap on anything that came from users, files or the network.
#![cfg_attr(not(test), deny(clippy::unwrap_used))]

pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod config_edit;
pub mod demo;
pub mod drift;
pub mod engine;
pub mod git;
pub mod health;
pub mod manifest;
pub mod model;
pub mod runtime;
pub mod source;
pub mod sync;
pub mod ui;
