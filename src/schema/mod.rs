//! JSON Schemas for structured output: loaded from a file and checked to be a schema,
//! and answers checked against them.
//!
//! A leaf: plain data in, verdicts out. The wire mapping is `provider::schema`.

mod check;
mod load;

pub use check::{MAX_ERRORS, SchemaError, Verdict, check};
pub use load::{from_file, from_text, name_from_path};
