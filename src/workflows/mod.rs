//! Multi-step work the faces share: each workflow drives the lower layers (sessions,
//! engine, demo server) and hands its events to a sink or returns plain values, so the
//! workbench and the subcommands can present it their own way.

pub mod blind;
pub mod experiment;
pub mod rerun;
pub mod send;
pub mod votes;
