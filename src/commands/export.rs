//! `prism export`: a saved session as Markdown, JSON or CSV, on standard output or in a
//! file replaced atomically.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::cli::{ExportArgs, ExportFormat, UsageError};
use crate::pricing::PriceTable;
use crate::session::export;
use crate::session::writer::write_atomically;

/// Run the command against the sessions directory chosen by `sessions_dir` and the
/// environment.
pub fn run(args: ExportArgs, sessions_dir: Option<&Path>) -> Result<u8, UsageError> {
    let root = super::sessions_root(sessions_dir);
    let stdout = io::stdout();
    let mut out = stdout.lock();
    run_in(&args, &root, &mut out)
}

/// Export the session `args.id` under `root`; without `-o` the bytes go to `out`.
pub fn run_in(args: &ExportArgs, root: &Path, out: &mut dyn Write) -> Result<u8, UsageError> {
    let session = super::sessions::open(root, &args.id)?;
    let bytes = render(&session, args.format)?;
    match &args.output {
        Some(path) => {
            let path = with_dir(path);
            write_atomically(&path, &bytes)
                .map_err(|e| UsageError(format!("{}: cannot write: {e}", path.display())))?;
        }
        None => match out.write_all(&bytes).and_then(|()| out.flush()) {
            Ok(()) => {}
            // A closed pipe (`| head`) is the reader's choice, not our failure.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
            Err(e) => return Err(UsageError(format!("cannot write the export: {e}"))),
        },
    }
    Ok(0)
}

/// The session in `format`.
pub fn render(session: &crate::session::Session, format: ExportFormat) -> Result<Vec<u8>, UsageError> {
    // Only rows of interrupted streams are priced here (recorded rows keep their cost);
    // the built-in table is the one every build has.
    let prices = PriceTable::builtin().unwrap_or_default();
    Ok(match format {
        ExportFormat::Md => export::markdown(session, &prices).into_bytes(),
        ExportFormat::Json => {
            let mut b = serde_json::to_vec_pretty(&export::json(session))
                .map_err(|e| UsageError(format!("cannot encode the session as JSON: {e}")))?;
            b.push(b'\n');
            b
        }
        ExportFormat::Csv => export::csv(session, &prices)
            .map_err(|e| UsageError(format!("cannot encode the session as CSV: {e}")))?,
    })
}

/// A bare file name gets `./` so the atomic write has a directory to place its temp
/// file in and to sync.
fn with_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new(".").join(path),
        _ => path.to_path_buf(),
    }
}
