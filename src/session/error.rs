//! Why a session cannot be found, opened, renamed or deleted.
//!
//! Each kind is its own variant so code can tell "no such session" from "ambiguous id"
//! from "damaged file"; the text people see is the `Display` of each, one line that says
//! what happened and what to do.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::store::ENV;

/// Why a session cannot be found, opened or changed.
///
/// Clone (listings keep one per unreadable session), so I/O causes are shared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SessionError {
    /// A session file exists (or should) but cannot be read.
    #[error("{}: {}", path.display(), unreadable(source))]
    Io {
        /// The file (or directory) at fault.
        path: PathBuf,
        /// What the system said.
        source: Arc<io::Error>,
    },
    /// A session file is damaged at a known place.
    #[error("{}:{line}:{col}: {why}", file.display())]
    Corrupt {
        /// The damaged file.
        file: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        col: usize,
        /// What is wrong and what to do.
        why: String,
    },
    /// A session file written by a newer Prism than this one.
    #[error("{}:{line}:{col}: {}", file.display(), newer(*found, *supported))]
    FutureVersion {
        /// The file carrying the version.
        file: PathBuf,
        /// 1-based line of the version.
        line: usize,
        /// 1-based column of the version.
        col: usize,
        /// The version it says.
        found: u64,
        /// The newest version this build reads.
        supported: u32,
    },
    /// No session matches what was asked for.
    #[error(
        "no session `{wanted}` in {} (`prism sessions list` shows them; --sessions-dir or ${ENV} picks another directory)",
        root.display()
    )]
    NotFound {
        /// The id, prefix, name or path asked for.
        wanted: String,
        /// The sessions directory searched.
        root: PathBuf,
    },
    /// Several sessions match what was asked for.
    #[error("`{wanted}` matches {} sessions ({}): give more of the id", candidates.len(), candidates.join(", "))]
    Ambiguous {
        /// The id prefix or name asked for.
        wanted: String,
        /// The ids of every match.
        candidates: Vec<String>,
    },
    /// The sessions directory cannot be listed.
    #[error("{}: cannot list sessions: {source}", root.display())]
    List {
        /// The sessions directory.
        root: PathBuf,
        /// What the system said.
        source: Arc<io::Error>,
    },
    /// A new name could not be saved.
    #[error("{}: cannot save the name: {source}", dir.display())]
    SaveName {
        /// The session directory.
        dir: PathBuf,
        /// What the system said.
        source: Arc<io::Error>,
    },
    /// Deleting was refused: the directory holds no session log.
    #[error("{}: not a session directory; nothing deleted", dir.display())]
    NotASession {
        /// The directory asked for.
        dir: PathBuf,
    },
    /// Deleting failed part way or not at all.
    #[error("{}: cannot delete: {source}", dir.display())]
    Delete {
        /// The session directory.
        dir: PathBuf,
        /// What the system said.
        source: Arc<io::Error>,
    },
}

impl SessionError {
    /// `path` exists (or should) but could not be read.
    pub fn unreadable(path: &Path, e: io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source: Arc::new(e),
        }
    }

    /// `file` is damaged at `line`:`col`.
    pub fn corrupt(file: &Path, (line, col): (usize, usize), why: impl Into<String>) -> Self {
        Self::Corrupt {
            file: file.to_path_buf(),
            line,
            col,
            why: why.into(),
        }
    }

    /// The session file at fault, for the errors about one file.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Self::Io { path, .. } => Some(path),
            Self::Corrupt { file, .. } | Self::FutureVersion { file, .. } => Some(file),
            _ => None,
        }
    }

    /// The 1-based line and column of the fault, when it has one.
    pub fn position(&self) -> Option<(usize, usize)> {
        match self {
            Self::Corrupt { line, col, .. } | Self::FutureVersion { line, col, .. } => Some((*line, *col)),
            _ => None,
        }
    }

    /// The message without the file and position in front (for a row that already
    /// names the session). Errors not about one file say all of it.
    pub fn detail(&self) -> String {
        match self {
            Self::Io { source, .. } => unreadable(source),
            Self::Corrupt { why, .. } => why.clone(),
            Self::FutureVersion { found, supported, .. } => newer(*found, *supported),
            other => other.to_string(),
        }
    }
}

fn newer(found: u64, supported: u32) -> String {
    format!(
        "written by a newer Prism (session schema version {found}; this build reads up to {supported}): upgrade Prism to open it"
    )
}

/// Which of the usual reasons a session file could not be read, so "permission denied"
/// is never mistaken for "no such session".
fn unreadable(e: &io::Error) -> String {
    use io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such session file (is this a Prism session directory?)".to_string(),
        ErrorKind::PermissionDenied => {
            "permission denied: the session belongs to another user or its permissions were changed (`ls -l` shows them)".to_string()
        }
        ErrorKind::IsADirectory => "is a directory where a session file should be: the session is damaged".to_string(),
        ErrorKind::NotADirectory => "not a directory: not a Prism session".to_string(),
        _ => format!("cannot read: {e}"),
    }
}
