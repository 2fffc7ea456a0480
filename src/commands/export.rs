//! `prism export`.

use std::path::Path;

use crate::cli::UsageError;

/// Run the command.
pub fn run(_args: impl std::fmt::Debug, _sessions_dir: Option<&Path>) -> Result<u8, UsageError> {
    Err(UsageError("`prism export` is not built yet".into()))
}
