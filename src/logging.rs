//! Diagnostics go to a log file, never to the screen.
//!
//! The workbench owns the terminal while it runs, so a log line written to stdout or stderr
//! would tear through the panes. This module installs the process's one `tracing` subscriber,
//! writing plain text (no ANSI colours) through a non-blocking writer to
//! `$XDG_STATE_HOME/prism/prism.log`, appending across runs. The filter comes from an
//! environment variable (`PRISM_LOG` in the app) with `EnvFilter` syntax.
//!
//! The log names targets, hosts and errors, so on Unix it is private like the sessions: the
//! file is 0600 (an existing one with a wider mode is narrowed) and a directory Prism creates
//! for it is 0700. An existing directory is left as it is: `PRISM_LOG_DIR` may point at a
//! shared one.
//!
//! Nothing secret is ever passed to `tracing`: API keys are `provider::secret::ApiKey`, whose
//! `Debug` and `Display` print a placeholder, and log statements name targets, not credentials.
//! Every line is still masked on its way to the file, for keys echoed back by a server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tracing::{Event, Level, Subscriber};
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

/// Filter used when the environment variable is unset or invalid: our own information, and
/// only warnings from dependencies (hyper and rustls are chatty at info).
pub const DEFAULT_FILTER: &str = "warn,prism=info";

/// Environment variable that overrides the log directory (tests, sandboxes, read-only homes).
pub const LOG_DIR_ENV: &str = "PRISM_LOG_DIR";

/// Name of the log file inside the log directory.
pub const LOG_FILE: &str = "prism.log";

/// Why logging could not be set up. The app can run without a log, so callers usually report
/// this once and carry on.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// No home directory, so no state directory to put the log in.
    #[error("no directory for the log file: {0}")]
    NoDirectory(String),
    /// The log directory or file could not be created.
    #[error("cannot create the log file in {}: {source}", dir.display())]
    Create {
        /// The directory tried.
        dir: PathBuf,
        /// The underlying error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A global `tracing` subscriber was already installed.
    #[error("logging was already initialised: {0}")]
    AlreadyInitialised(String),
}

/// Keeps the log writer alive: dropping it flushes buffered lines, so hold it until exit.
#[must_use = "dropping the guard stops logging"]
pub struct LogGuard {
    path: PathBuf,
    errors: Arc<AtomicBool>,
    _worker: WorkerGuard,
}

impl LogGuard {
    /// The log file, to tell the user where to look.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True once an ERROR-level event has been logged, so the app can print the log location on
    /// exit only when there is something in it worth reading.
    pub fn errors_logged(&self) -> bool {
        self.errors.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogGuard")
            .field("path", &self.path)
            .field("errors_logged", &self.errors_logged())
            .finish()
    }
}

/// The directory the log goes in: `$PRISM_LOG_DIR` if set and non-empty, otherwise
/// `$XDG_STATE_HOME/prism` (`~/.local/state/prism`).
pub fn log_dir() -> Result<PathBuf, LogError> {
    if let Some(dir) = std::env::var_os(LOG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    use etcetera::BaseStrategy;
    let dirs = etcetera::choose_base_strategy().map_err(|e| LogError::NoDirectory(e.to_string()))?;
    // Only the Windows strategy lacks a state directory; the data directory is the next best.
    Ok(dirs.state_dir().unwrap_or_else(|| dirs.data_dir()).join("prism"))
}

/// Installs the global subscriber writing to `prism.log` in [`log_dir`], filtered by the
/// environment variable named `verbose_env` (the app passes `"PRISM_LOG"`).
pub fn init(verbose_env: &str) -> Result<LogGuard, LogError> {
    init_in(&log_dir()?, verbose_env)
}

/// Lines the background log writer may queue.
const LOG_QUEUE_LINES: usize = 1024;

/// [`init`] with the log directory given explicitly (created if missing).
pub fn init_in(dir: &Path, verbose_env: &str) -> Result<LogGuard, LogError> {
    let create_error = |source: Box<dyn std::error::Error + Send + Sync>| LogError::Create {
        dir: dir.to_path_buf(),
        source,
    };
    let file = open_private(dir).map_err(|e| create_error(Box::new(e)))?;
    // A key can reach a log line inside something a server sent; mask every line.
    // The default queue holds 128,000 lines, allocated and touched up front: ~5 MB of page
    // faults on every start, before the first frame. Prism logs a few lines a minute, so a
    // small queue never fills; if a flood ever did fill it, lines are dropped, never the UI
    // held up.
    let (writer, worker) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .buffered_lines_limit(LOG_QUEUE_LINES)
        .finish(crate::masking::MaskLines::new(file));

    let (filter, bad_filter) = match std::env::var(verbose_env) {
        Ok(spec) if !spec.trim().is_empty() => match EnvFilter::try_new(&spec) {
            Ok(filter) => (filter, None),
            // A typo in a debugging aid must not stop the app; say so in the log instead.
            Err(e) => (EnvFilter::new(DEFAULT_FILTER), Some(format!("{spec:?}: {e}"))),
        },
        _ => (EnvFilter::new(DEFAULT_FILTER), None),
    };
    let errors = Arc::new(AtomicBool::new(false));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(writer)
                .with_ansi(false),
        )
        .with(ErrorFlag(Arc::clone(&errors)))
        .try_init()
        .map_err(|e| LogError::AlreadyInitialised(e.to_string()))?;
    if let Some(problem) = bad_filter {
        tracing::warn!("ignoring invalid {verbose_env} filter {problem}; using {DEFAULT_FILTER}");
    }
    Ok(LogGuard {
        path: dir.join(LOG_FILE),
        errors,
        _worker: worker,
    })
}

/// Creates `dir` (0700 for each level created) and opens `dir/prism.log` for appending,
/// created 0600 or narrowed to 0600.
fn open_private(dir: &Path) -> std::io::Result<std::fs::File> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let file = options.open(dir.join(LOG_FILE))?;
    // `mode` applies only when the file is created; a log from an older build may be 0644.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if file.metadata()?.permissions().mode() & 0o077 != 0 {
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
    }
    Ok(file)
}

/// Notes that an ERROR event got past the filter.
struct ErrorFlag(Arc<AtomicBool>);

impl<S: Subscriber> Layer<S> for ErrorFlag {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        if *event.metadata().level() == Level::ERROR {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_to_the_file_and_notes_errors() {
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("nested").join("state");
        // A variable nobody sets, so the default filter applies.
        let guard = init_in(&log_dir, "PRISM_LOG_TEST_UNSET_VARIABLE").unwrap();
        assert_eq!(guard.path(), log_dir.join("prism.log"));
        #[cfg(unix)]
        assert_eq!(mode(guard.path()), 0o600);
        tracing::info!(target: "prism::logging_test", "hello from the log test");
        tracing::debug!(target: "prism::logging_test", "below the default filter");
        assert!(!guard.errors_logged());
        tracing::error!(target: "prism::logging_test", "an error line");
        assert!(guard.errors_logged());
        let path = guard.path().to_path_buf();
        // Dropping the guard flushes the non-blocking writer.
        drop(guard);
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains("hello from the log test"), "log was: {text}");
        assert!(text.contains("an error line"), "log was: {text}");
        assert!(!text.contains("below the default filter"), "log was: {text}");
        assert!(!text.contains('\u{1b}'), "ANSI escapes in the log file: {text}");
        // Only one global subscriber per process.
        assert!(matches!(
            init_in(dir.path(), "PRISM_LOG_TEST_UNSET_VARIABLE"),
            Err(LogError::AlreadyInitialised(_))
        ));
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn the_log_is_private_and_an_old_wide_one_is_narrowed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let fresh = dir.path().join("state").join("prism");
        drop(open_private(&fresh).unwrap());
        assert_eq!(mode(&fresh.join(LOG_FILE)), 0o600);
        assert_eq!(mode(&fresh), 0o700);
        assert_eq!(mode(&dir.path().join("state")), 0o700, "every level created");

        // An existing log directory is someone's choice; an existing log file is ours.
        let shared = dir.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(shared.join(LOG_FILE), "old line\n").unwrap();
        std::fs::set_permissions(shared.join(LOG_FILE), std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut file = open_private(&shared).unwrap();
        std::io::Write::write_all(&mut file, b"new line\n").unwrap();
        assert_eq!(mode(&shared.join(LOG_FILE)), 0o600);
        assert_eq!(mode(&shared), 0o755);
        assert_eq!(
            std::fs::read_to_string(shared.join(LOG_FILE)).unwrap(),
            "old line\nnew line\n"
        );
    }
}
