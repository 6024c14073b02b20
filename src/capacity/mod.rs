//! The capacity search as data, with no I/O: `search` decides which load level to run next
//! (step up until one breaks, then bisect), `judge` decides whether a level that ran met the SLO.
//! `commands::capacity` runs the levels and prints; the result holds `result::CapacityResult`.

mod judge;
mod search;

pub use judge::{judge, slo_of};
pub use search::Search;
