//! Rendering results for people.

pub mod summary;
