//! `prism replay`: a saved session played back in the workbench, turn by turn, with the
//! timing it was recorded with.

use std::path::Path;
use std::sync::Arc;

use clap::Args;

use super::AppError;
use crate::config::{self, Config};
use crate::pricing::PriceTable;
use crate::session::{self, Session, store};
use crate::tui::effects::executor::Executor;
use crate::tui::model::app::App;
use crate::tui::model::msg::Msg;
use crate::tui::workbench::{drive, look};

/// Options of `prism replay`.
#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// Session id, unique id prefix, name, or path to a session directory.
    pub id: String,
    /// Playback speed: 1, 2, 4 (times real time) or max.
    #[arg(long, default_value = "1", value_parser = parse_speed)]
    pub speed: crate::session::replay::Speed,
    /// Theme name or path.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
}

fn parse_speed(s: &str) -> Result<crate::session::replay::Speed, String> {
    s.parse()
}

/// Run the command.
pub async fn run(args: ReplayArgs, sessions_dir: Option<&Path>) -> Result<u8, AppError> {
    let cfg = default_config();
    let session = open(&args.id, sessions_dir, cfg.as_ref())?;
    if session.turns.is_empty() {
        return Err(AppError::Usage(format!(
            "session {} has no sends: nothing to replay",
            session.meta.id
        )));
    }
    let (theme, keymap) = look(args.theme.as_deref(), cfg.as_ref())?;
    let mut app = App::new(Vec::new(), keymap, theme, String::new()).with_prices(prices(cfg.as_ref()));
    let (_, first_run) = app.begin_replay(&session, args.speed).map_err(AppError::Usage)?;
    if let Some(notice) = crate::session::replay::experiment_notice(&session) {
        app.update(Msg::Notice(notice));
    }
    if session.cut_short {
        app.update(Msg::Notice(
            "the log's last record was cut short by a crash and is left out".into(),
        ));
    }
    // Panes count tokens as text arrives and skip what came before the tables loaded; at
    // full speed that would be everything, so load them first.
    let _ = tokio::task::spawn_blocking(crate::tokens::warm_up).await;
    let executor = Executor::new(app.prices().clone());
    let session = Arc::new(session);
    let status = drive(&mut app, executor, |tx| {
        Some(crate::tui::effects::recording::play(
            session,
            args.speed,
            first_run,
            tx.clone(),
        ))
    })
    .await?;
    Ok(status)
}

/// Find and load session `id` (an id, a unique prefix, a name or a path) in the sessions
/// directory: `--sessions-dir`, `$PRISM_SESSIONS_DIR`, the config's, or the default.
pub fn open(id: &str, flag: Option<&Path>, cfg: Option<&Config>) -> Result<Session, AppError> {
    let root = store::sessions_dir(flag, cfg.and_then(|c| c.sessions_dir.as_deref()));
    let dir = store::resolve(&root, id)?;
    Ok(session::load(&dir)?)
}

/// The config in the usual places, for the sessions directory, theme, keys and prices.
/// A replay needs none of it, so a config that does not load is reported and skipped.
pub fn default_config() -> Option<Config> {
    let path = match config::locate(None) {
        Ok(p) => p?,
        Err(e) => {
            eprintln!("warning: {e}; continuing without the config");
            return None;
        }
    };
    match config::load(&path) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("warning: {e}; continuing without the config");
            None
        }
    }
}

/// The config's prices, else the built-in table.
pub fn prices(cfg: Option<&Config>) -> PriceTable {
    // The built-in table is compiled in and tested; failing to read it would only leave
    // every cost unknown.
    cfg.map_or_else(|| PriceTable::builtin().unwrap_or_default(), |c| c.prices.clone())
}
