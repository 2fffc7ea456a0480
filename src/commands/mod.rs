//! The session subcommands: `sessions`, `replay`, `rerun`, `export`.
//!
//! Each defines its own arguments, which `cli` parses and hands over; nothing here
//! names `cli`. A failure the user can fix comes back as a [`UsageError`].

pub mod export;
pub mod replay;
pub mod rerun;
pub mod sessions;

use std::path::{Path, PathBuf};

/// A failure that means "bad usage or bad config": exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl From<crate::tui::run::WorkbenchError> for UsageError {
    fn from(e: crate::tui::run::WorkbenchError) -> Self {
        Self(e.0)
    }
}

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

/// Remember the keys the session's targets would read now, so masking knows them.
pub fn remember_session_keys(session: &crate::session::Session) {
    for t in &session.targets {
        if let crate::session::schema::KeyRef::Env(vars) = &t.key {
            for v in vars {
                if let Ok(value) = std::env::var(v) {
                    crate::provider::secret::remember(&value);
                }
            }
        }
    }
}
