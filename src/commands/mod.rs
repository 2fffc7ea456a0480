//! The session subcommands: `sessions`, `replay`, `rerun`, `export`.

pub mod export;
pub mod replay;
pub mod rerun;
pub mod sessions;
