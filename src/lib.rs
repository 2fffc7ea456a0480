//! Prism: send one prompt to several LLM providers at once and measure every stream.
//!
//! The crate is a library so that tests and benchmarks reach the same code the binary runs.
//! Data flows one way: `config` resolves [`target::Target`]s, `engine` fans a request out
//! to one `provider` adapter per target, adapters turn wire bytes into normalized
//! `StreamEvent`s stamped with their arrival time, and the faces (`headless`, `tui`) fold
//! them with `engine::metrics`; `session` records them.
//!
//! Modules are layered: each names only modules below it, from plain data at the bottom
//! (`target`, `keys`) to the faces on top (`headless`, `tui`, `commands`, `cli`), which
//! nothing below names. The order is written once, in `tests/layers.rs`, which fails on
//! any reference against it.

pub mod cli;
pub mod commands;
pub mod config;
pub mod contain;
pub mod demo;
pub mod engine;
pub mod headless;
pub mod keys;
pub mod logging;
pub mod masking;
pub mod mock_server;
pub mod preflight;
pub mod pricing;
pub mod provider;
pub mod report;
pub mod schema;
pub mod session;
pub mod stats;
pub mod target;
pub mod tokens;
pub mod tools;
pub mod tui;
pub mod workflows;
