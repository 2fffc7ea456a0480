//! Prism: send one prompt to several LLM providers at once and measure every stream.
//!
//! The crate is a library so that tests and benchmarks reach the same code the binary runs.
//! Data flows one way: `config` resolves targets, `engine` fans a request out to one
//! `provider` adapter per target, adapters turn wire bytes into normalized `StreamEvent`s
//! stamped with their arrival time, and consumers (`headless` today) fold them with
//! `engine::metrics`.

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
pub mod session;
pub mod target;
pub mod tokens;
pub mod tui;
pub mod workflows;
