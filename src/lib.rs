//! gitops-tui: the engine behind the terminal UI and the headless commands.

pub mod app;
pub mod cli;
pub mod cluster;
pub mod config;
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
