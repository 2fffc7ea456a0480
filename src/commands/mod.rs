//! The session subcommands: `sessions`, `replay`, `rerun`, `export`, `stats`.
//!
//! Each defines its own arguments, which `cli` parses and hands over; nothing here
//! names `cli`. A failure comes back as an [`AppError`].

pub mod completions;
pub mod export;
pub mod replay;
pub mod rerun;
pub mod sessions;
pub mod stats;

use std::path::{Path, PathBuf};

use crate::session::SessionError;

/// Why a command stopped without a result: bad usage, a config or session that cannot be
/// used, or input and output that failed. The `Display` is the one line people see after
/// `prism: `; [`AppError::exit_code`] is the one place that maps kinds to exit statuses.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Bad usage (an unknown target, no prompt, a budget exceeded...); the message says
    /// what to do.
    #[error("{0}")]
    Usage(String),
    /// The config file cannot be found, read or used.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A session cannot be found, opened or changed.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// A session was found but cannot be opened; it was not touched.
    #[error("{0} (the file was left as it is)")]
    SessionLeftAsIs(SessionError),
    /// Reading input or writing output failed.
    #[error("{doing}: {source}")]
    Io {
        /// What was being done, e.g. `cannot write results` or `FILE: cannot read`.
        doing: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The workbench could not start or stopped with an error.
    #[error(transparent)]
    Workbench(#[from] crate::tui::workbench::WorkbenchError),
    /// The async runtime could not start (nothing else ran).
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

impl AppError {
    /// `doing` failed with `source`.
    pub fn io(doing: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            doing: doing.into(),
            source,
        }
    }

    /// The process exit status for this failure (see the README's exit codes): 2 for
    /// anything the user can fix by changing the command, config or session; 1 when
    /// Prism could not even start its runtime.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_)
            | Self::Config(_)
            | Self::Session(_)
            | Self::SessionLeftAsIs(_)
            | Self::Io { .. }
            | Self::Workbench(_) => 2,
            Self::Runtime(_) => 1,
        }
    }
}

/// The sessions directory for commands that take no `--config`: the flag, the
/// environment, then the `sessions_dir` of the config found the usual way (a config that
/// does not load is reported and skipped, so a typo in it never silently moves the
/// sessions elsewhere).
pub fn sessions_root(flag: Option<&Path>) -> PathBuf {
    let configured = crate::config::locate(None)
        .ok()
        .flatten()
        .and_then(|p| match crate::config::load(&p) {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("warning: {e}; continuing without the config");
                None
            }
        })
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use crate::commands::sessions::{SessionsCommand, run_in};

    #[test]
    fn each_kind_of_failure_keeps_its_kind_its_message_and_the_documented_exit_status() {
        let root = tempfile::tempdir().unwrap();
        let show = |id: &str| {
            let cmd = SessionsCommand::Show { id: id.into() };
            run_in(cmd, root.path(), &mut Vec::new()).unwrap_err()
        };
        let e = show("nope");
        assert!(
            matches!(e, AppError::Session(SessionError::NotFound { .. })),
            "{e:?}"
        );
        assert!(e.to_string().starts_with("no session `nope` in "), "{e}");
        assert_eq!(e.exit_code(), 2);

        let dir = root.path().join("20250101-000000-0001");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("events.jsonl"), "{oops\n").unwrap();
        let e = show("20250101-000000-0001");
        assert!(
            matches!(
                e,
                AppError::SessionLeftAsIs(SessionError::Corrupt { line: 1, .. })
            ),
            "{e:?}"
        );
        assert!(e.to_string().ends_with(" (the file was left as it is)"), "{e}");
        assert_eq!(e.exit_code(), 2);

        let missing = root.path().join("absent.toml");
        let e = AppError::from(crate::config::locate(Some(&missing)).unwrap_err());
        assert!(matches!(e, AppError::Config(_)), "{e:?}");
        assert_eq!(e.exit_code(), 2);

        let io = || std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        let e = AppError::io("cannot write results", io());
        assert_eq!(e.to_string(), format!("cannot write results: {}", io()));
        assert_eq!(e.exit_code(), 2);
        assert_eq!(AppError::Usage("no prompt".into()).exit_code(), 2);
        assert_eq!(AppError::Runtime(io()).exit_code(), 1);
    }
}
