pub mod git;
pub mod manifest;
