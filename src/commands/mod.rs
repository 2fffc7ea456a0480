//! The session subcommands: `sessions`, `replay`, `rerun`, `export`.

pub mod export;
pub mod replay;
pub mod rerun;
pub mod sessions;

use std::path::{Path, PathBuf};

/// The sessions directory for commands that take no `--config`: the flag, the
/// environment, then the `sessions_dir` of the config found the usual way (a config that
/// does not load is skipped here; commands that need its targets report it).
pub fn sessions_root(flag: Option<&Path>) -> PathBuf {
    let configured = crate::config::locate(None)
        .ok()
        .flatten()
        .and_then(|p| crate::config::load(&p).ok())
        .and_then(|c| c.sessions_dir);
    crate::session::store::sessions_dir(flag, configured.as_deref())
}
