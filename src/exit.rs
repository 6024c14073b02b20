//! Exit codes: part of the interface, documented in the README and tested.

/// The gate passed (warnings allowed), or a command succeeded.
pub const PASS: i32 = 0;
/// The gate failed: the service got worse by more than allowed.
pub const GATE_FAILED: i32 = 1;
/// Invalid usage, profile, thresholds or input file.
pub const INVALID_INPUT: i32 = 2;
/// The run could not be carried out (target never ready, target died, baseline missing).
pub const RUN_FAILED: i32 = 3;
/// Publishing failed under `--require-publish`.
pub const PUBLISH_FAILED: i32 = 4;
/// Interrupted by SIGINT or SIGTERM.
pub const INTERRUPTED: i32 = 130;
