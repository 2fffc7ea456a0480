//! `prism export`: a saved session as Markdown, JSON or CSV, on standard output or in a
//! file replaced atomically.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::AppError;
use crate::masking::MaskLines;
use crate::pricing::PriceTable;
use crate::session::writer::write_atomically_with;
use crate::session::{export, local_time, store};

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// For people: prompts, answers, a metrics table.
    Md,
    /// Everything: the conversation, settings, events and numbers.
    Json,
    /// One row per target and turn with the metric columns.
    Csv,
}

/// Options of `prism export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Session id, unique id prefix, name, or path to a session directory; several go
    /// into one CSV.
    #[arg(value_name = "ID", required_unless_present = "filter")]
    pub ids: Vec<String>,
    /// Also every session whose id, name, prompt, targets or tags contain this text (as
    /// `prism sessions list --filter`), oldest first; only with --format csv when more
    /// than one matches.
    #[arg(long, value_name = "TEXT")]
    pub filter: Option<String>,
    /// Output format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Run the command against the sessions directory chosen by `sessions_dir` and the
/// environment.
pub fn run(args: ExportArgs, sessions_dir: Option<&Path>) -> Result<u8, AppError> {
    let root = super::sessions_root(sessions_dir);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    run_in(&args, &root, &mut out)
}

/// Export the sessions `args` names under `root`; without `-o` the bytes go to `out`.
pub fn run_in(args: &ExportArgs, root: &Path, out: &mut dyn Write) -> Result<u8, AppError> {
    let dirs = chosen(args, root)?;
    if dirs.len() > 1 && args.format != ExportFormat::Csv {
        return Err(AppError::Usage(format!(
            "{} sessions chosen, and only CSV holds several: pass --format csv, or name one session",
            dirs.len()
        )));
    }
    let sessions = dirs
        .iter()
        .map(|dir| crate::session::load(dir).map_err(AppError::SessionLeftAsIs))
        .collect::<Result<Vec<_>, _>>()?;
    let write_all = |w: &mut dyn Write| match sessions.as_slice() {
        [one] => write(one, args.format, w),
        many => write_csv_of(many, w),
    };
    match &args.output {
        Some(path) => {
            let path = with_dir(path);
            write_atomically_with(&path, |w| write_all(w))
                .map_err(|e| AppError::io(format!("{}: cannot write", path.display()), e))?;
        }
        None => {
            let mut w = BufWriter::new(out);
            match write_all(&mut w).and_then(|()| w.flush()) {
                Ok(()) => {}
                // A closed pipe (`| head`) is the reader's choice, not our failure.
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                Err(e) => return Err(AppError::io("cannot write the export", e)),
            }
        }
    }
    Ok(0)
}

/// The session in `format`, written to `out` as it is produced.
pub fn write(session: &crate::session::Session, format: ExportFormat, out: &mut dyn Write) -> io::Result<()> {
    // Only rows of interrupted streams are priced here (recorded rows keep their cost);
    // the built-in table is the one every build has.
    let prices = PriceTable::builtin().unwrap_or_default();
    let zone = local_time::system_zone();
    // Sessions are saved masked, but an answer streamed in pieces can hold a key split
    // across events; the export joins them, so it is masked again as a whole, against
    // the keys this session's targets read (by variable name, from this environment).
    super::remember_session_keys(session);
    match format {
        ExportFormat::Md => {
            let mut masked = MaskLines::new(out);
            export::write_markdown_in(session, &prices, &zone, &mut masked)?;
            masked.flush()
        }
        ExportFormat::Json => export::write_json(session, out),
        ExportFormat::Csv => {
            let mut masked = MaskLines::new(out);
            export::write_csv(session, &prices, &zone, &mut masked)?;
            masked.flush()
        }
    }
}

/// The session directories to export: those named, then those `--filter` finds (oldest
/// first), each once.
fn chosen(args: &ExportArgs, root: &Path) -> Result<Vec<PathBuf>, AppError> {
    let mut dirs: Vec<PathBuf> = Vec::new();
    for id in &args.ids {
        let dir = store::resolve(root, id)?;
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    if let Some(filter) = &args.filter {
        let all = store::list(root).map_err(|e| {
            AppError::io(
                format!(
                    "{}: cannot list sessions (--sessions-dir picks another directory)",
                    root.display()
                ),
                e,
            )
        })?;
        let found: Vec<PathBuf> = all
            .iter()
            .rev()
            .filter(|l| super::sessions::matches(l, filter))
            .map(|l| l.dir.clone())
            .collect();
        if found.is_empty() {
            return Err(AppError::Usage(format!(
                "no session in {} matches --filter {filter:?}; `prism sessions list` shows them all",
                root.display()
            )));
        }
        for dir in found {
            if !dirs.contains(&dir) {
                dirs.push(dir);
            }
        }
    }
    Ok(dirs)
}

/// Several sessions as one CSV: one header, then each session's rows.
fn write_csv_of(sessions: &[crate::session::Session], out: &mut dyn Write) -> io::Result<()> {
    let prices = PriceTable::builtin().unwrap_or_default();
    for s in sessions {
        super::remember_session_keys(s);
    }
    let mut masked = MaskLines::new(out);
    export::write_csv_of(
        sessions.iter().map(Ok),
        &prices,
        &local_time::system_zone(),
        &mut masked,
    )?;
    masked.flush()
}

/// A bare file name gets `./` so the atomic write has a directory to place its temp
/// file in and to sync.
fn with_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new(".").join(path),
        _ => path.to_path_buf(),
    }
}
