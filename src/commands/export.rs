//! `prism export`: a saved session as Markdown, JSON or CSV, on standard output or in a
//! file replaced atomically.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use clap::Args;

use super::AppError;
use crate::masking::MaskLines;
use crate::pricing::PriceTable;
use crate::session::export;
use crate::session::writer::write_atomically_with;

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
    /// Session id, unique id prefix, name, or path to a session directory.
    pub id: String,
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

/// Export the session `args.id` under `root`; without `-o` the bytes go to `out`.
pub fn run_in(args: &ExportArgs, root: &Path, out: &mut dyn Write) -> Result<u8, AppError> {
    let session = super::sessions::open(root, &args.id)?;
    match &args.output {
        Some(path) => {
            let path = with_dir(path);
            write_atomically_with(&path, |w| write(&session, args.format, w))
                .map_err(|e| AppError::io(format!("{}: cannot write", path.display()), e))?;
        }
        None => {
            let mut w = BufWriter::new(out);
            match write(&session, args.format, &mut w).and_then(|()| w.flush()) {
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
    // Sessions are saved masked, but an answer streamed in pieces can hold a key split
    // across events; the export joins them, so it is masked again as a whole, against
    // the keys this session's targets read (by variable name, from this environment).
    super::remember_session_keys(session);
    match format {
        ExportFormat::Md => {
            let mut masked = MaskLines::new(out);
            export::write_markdown(session, &prices, &mut masked)?;
            masked.flush()
        }
        ExportFormat::Json => export::write_json(session, out),
        ExportFormat::Csv => {
            let mut masked = MaskLines::new(out);
            export::write_csv(session, &prices, &mut masked)?;
            masked.flush()
        }
    }
}

/// A bare file name gets `./` so the atomic write has a directory to place its temp
/// file in and to sync.
fn with_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new(".").join(path),
        _ => path.to_path_buf(),
    }
}
