//! The sessions directory: where it is, what it holds, and finding one session in it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::reader::{SessionError, parse_meta, read_text};
use super::schema::Meta;
use super::writer::{EVENTS_FILE, META_FILE, write_meta};

/// Environment variable naming the sessions directory.
pub const ENV: &str = "PRISM_SESSIONS_DIR";

/// The sessions directory: `--sessions-dir`, then `$PRISM_SESSIONS_DIR`, then the
/// config's `sessions_dir`, then `$XDG_DATA_HOME/prism/sessions`
/// (`~/.local/share/prism/sessions`).
pub fn sessions_dir(flag: Option<&Path>, configured: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(ENV).filter(|v| !v.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = configured {
        return p.to_path_buf();
    }
    use etcetera::BaseStrategy;
    match etcetera::choose_base_strategy() {
        Ok(dirs) => dirs.data_dir().join("prism").join("sessions"),
        Err(_) => PathBuf::from("sessions"),
    }
}

/// One entry of the sessions list: its summary, or why it cannot be read.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The session directory.
    pub dir: PathBuf,
    /// Its summary, or the error reading it.
    pub meta: Result<Meta, SessionError>,
}

impl Listed {
    /// The directory name (the session id).
    pub fn id(&self) -> String {
        self.dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// Every session under `root`, newest first, the unreadable ones included with the reason.
/// A missing directory is an empty list.
pub fn list(root: &Path) -> std::io::Result<Vec<Listed>> {
    let entries = match std::fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let dir = entry.path();
        if !looks_like_a_session(&dir) {
            continue;
        }
        out.push(Listed {
            meta: log_opens(&dir).and_then(|()| summary(&dir)),
            dir,
        });
    }
    out.sort_by(|a, b| {
        let created = |l: &Listed| l.meta.as_ref().map(|m| m.created.clone()).unwrap_or_default();
        created(b).cmp(&created(a)).then_with(|| b.id().cmp(&a.id()))
    });
    Ok(out)
}

/// Whether `dir` is a directory holding (or meant to hold) a session: its log or summary
/// is there in some form, or cannot even be looked at. An unreadable session is still
/// listed, with the reason, rather than silently left out.
pub fn looks_like_a_session(dir: &Path) -> bool {
    if !dir.is_dir() {
        return false;
    }
    [EVENTS_FILE, META_FILE]
        .iter()
        .any(|f| match std::fs::symlink_metadata(dir.join(f)) {
            Ok(_) => true,
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        })
}

/// Whether the session's log can be opened, without reading it (a listing reads only
/// summaries): a session that cannot be opened is not listed as if it could.
fn log_opens(dir: &Path) -> Result<(), SessionError> {
    let path = dir.join(EVENTS_FILE);
    let opened = std::fs::File::open(&path).and_then(|f| f.metadata());
    match opened {
        Ok(m) if m.is_file() => Ok(()),
        // Opening a directory succeeds on Linux; reading it is what fails.
        Ok(_) => Err(SessionError::unreadable(
            &path,
            std::io::Error::from(std::io::ErrorKind::IsADirectory),
        )),
        Err(e) => Err(SessionError::unreadable(&path, e)),
    }
}

/// The summary of the session in `dir`: `meta.json`, or the full log when that is
/// missing (a crash before the first summary was written) or behind the log (a crash
/// after it): turns and cost are then the ones `sessions show` gives, from every row,
/// streams cut off by the crash recomputed. A log that cannot be read leaves the
/// summary as written (`sessions show` says what is wrong with it).
pub fn summary(dir: &Path) -> Result<Meta, SessionError> {
    let path = dir.join(META_FILE);
    // Only cut-off streams are priced here; the built-in table is the one every build
    // has, as for `sessions show`.
    let caught_up = |s: super::reader::Session| {
        super::total::caught_up(&s, &crate::pricing::PriceTable::builtin().unwrap_or_default())
    };
    match read_text(&path)? {
        Some(text) => {
            let meta = parse_meta(&path, &text)?;
            if super::total::summary_is_behind(dir)
                && let Ok(session) = super::reader::load(dir)
            {
                return Ok(caught_up(session));
            }
            Ok(meta)
        }
        None => super::reader::load(dir).map(caught_up),
    }
}

/// Find a session: a path to a session directory, an id, a unique id prefix, or a name.
pub fn resolve(root: &Path, wanted: &str) -> Result<PathBuf, SessionError> {
    let as_path = Path::new(wanted);
    if looks_like_a_session(as_path) {
        return Ok(as_path.to_path_buf());
    }
    let all = list(root).map_err(|e| SessionError::List {
        root: root.to_path_buf(),
        source: Arc::new(e),
    })?;
    if let Some(l) = all.iter().find(|l| l.id() == wanted) {
        return Ok(l.dir.clone());
    }
    let matches: Vec<&Listed> = all
        .iter()
        .filter(|l| {
            l.id().starts_with(wanted) || l.meta.as_ref().is_ok_and(|m| m.name.as_deref() == Some(wanted))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(one.dir.clone()),
        [] => Err(SessionError::NotFound {
            wanted: wanted.to_string(),
            root: root.to_path_buf(),
        }),
        many => Err(SessionError::Ambiguous {
            wanted: wanted.to_string(),
            candidates: many.iter().map(|l| l.id()).collect(),
        }),
    }
}

/// Name the session in `dir` (an empty name clears it).
pub fn rename(dir: &Path, name: &str) -> Result<(), SessionError> {
    let mut meta = summary(dir)?;
    meta.name = (!name.trim().is_empty()).then(|| name.trim().to_string());
    write_meta(dir, &meta).map_err(|e| SessionError::SaveName {
        dir: dir.to_path_buf(),
        source: Arc::new(e),
    })
}

/// Delete the session in `dir`. Refuses anything that is not a session directory: it
/// must hold the log or the summary (a session whose log was lost can still be deleted)
/// and nothing but the files Prism writes there, so a mistyped path never takes anything
/// else with it.
pub fn delete(dir: &Path) -> Result<(), SessionError> {
    let not_a_session = || SessionError::NotASession {
        dir: dir.to_path_buf(),
    };
    let ours = |name: &str| name == EVENTS_FILE || name == META_FILE || name.starts_with(".tmp-");
    let entries = std::fs::read_dir(dir).map_err(|_| not_a_session())?;
    let mut holds_a_session = false;
    for entry in entries {
        let entry = entry.map_err(|_| not_a_session())?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        if !is_file || !ours(&name) {
            return Err(not_a_session());
        }
        holds_a_session |= name == EVENTS_FILE || name == META_FILE;
    }
    if !holds_a_session {
        return Err(not_a_session());
    }
    std::fs::remove_dir_all(dir).map_err(|e| SessionError::Delete {
        dir: dir.to_path_buf(),
        source: Arc::new(e),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn delete_takes_a_session_whose_log_was_lost_but_never_a_directory_holding_anything_else() {
        let root = tempfile::tempdir().unwrap();
        let lost_log = root.path().join("20261130-000000-aaaa");
        std::fs::create_dir(&lost_log).unwrap();
        std::fs::write(lost_log.join(META_FILE), "{}").unwrap();
        delete(&lost_log).unwrap();
        assert!(!lost_log.exists());

        let busy = root.path().join("home");
        std::fs::create_dir(&busy).unwrap();
        std::fs::write(busy.join(EVENTS_FILE), "").unwrap();
        std::fs::write(busy.join("notes.txt"), "keep me").unwrap();
        assert!(matches!(delete(&busy), Err(SessionError::NotASession { .. })));
        assert!(busy.join("notes.txt").exists());

        let empty = root.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert!(matches!(delete(&empty), Err(SessionError::NotASession { .. })));
        assert!(matches!(
            delete(&root.path().join("missing")),
            Err(SessionError::NotASession { .. })
        ));
    }
}
