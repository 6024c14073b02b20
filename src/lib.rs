//! perfgate: a CI performance-regression gate for HTTP services.
//!
//! The library is the whole tool; `main.rs` only parses arguments and maps outcomes to exit
//! codes. The flow is `config` (the profile) → `engine` (load, recorded by `metrics`) →
//! `result` (the versioned file), with `target` starting and stopping the service under test.

pub mod baseline;
pub mod capacity;
pub mod cli;
pub mod commands;
pub mod compare;
pub mod config;
pub mod diag;
pub mod engine;
pub mod exit;
pub mod fsutil;
pub mod import;
pub mod limits;
pub mod meta;
pub mod metrics;
pub mod publish;
pub mod redact;
pub mod report;
pub mod result;
pub mod scaffold;
pub mod target;
pub mod units;
