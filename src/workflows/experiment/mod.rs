//! A/B experiments: is prompt B better than prompt A, on which model, at what latency and
//! cost?
//!
//! Prompt [`template`]s are filled from a [`cases`] table, one case per row.

pub mod cases;
pub mod template;
