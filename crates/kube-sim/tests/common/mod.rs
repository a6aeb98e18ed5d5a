//! Helpers shared by the integration tests: `kube_rs` for the kube-rs client
//! tests, `kubectl` for the real-kubectl acceptance tests.

#![allow(dead_code)]

pub mod gitops;
pub mod kube_rs;
pub mod kubectl;
