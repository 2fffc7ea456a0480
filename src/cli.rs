//! Command line: `prism run`, `prism mock`, and the default demo.

use std::io::{IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::commands::AppError;
use crate::commands::export::ExportArgs;
use crate::commands::replay::ReplayArgs;
use crate::commands::rerun::RerunArgs;
use crate::commands::sessions::SessionsCommand;
use crate::config;
use crate::config::Variant;
use crate::headless::{self, Format, Printing};
use crate::pricing::PriceTable;
use crate::target::Target;
use crate::workflows::experiment::limits::Limits;
use crate::workflows::experiment::scoreboard::Column;
use crate::workflows::experiment::{Design, Order, Plan, cases};

/// Send one prompt to several LLM providers at once and measure every stream.
#[derive(Debug, Parser)]
#[command(name = "prism", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Workbench: config file (default: ./prism.toml, then $XDG_CONFIG_HOME/prism/config.toml; none: the demo).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Workbench: theme name (dark, light, high-contrast) or path to a theme .toml.
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Workbench: use the built-in demo targets even when a config exists (`--demo all`:
    /// one of every provider kind).
    #[arg(long, conflicts_with = "config", num_args = 0..=1, default_missing_value = "four", value_name = "LINEUP")]
    pub demo: Option<crate::demo::Lineup>,
    /// Workbench: start in blind mode (answers as A, B, C… in a shuffled order, names
    /// hidden until you vote).
    #[arg(long)]
    pub blind: bool,
    /// Where sessions are saved and looked up (default: $PRISM_SESSIONS_DIR, then the
    /// config's `sessions_dir`, then $XDG_DATA_HOME/prism/sessions).
    #[arg(long, value_name = "DIR", global = true)]
    pub sessions_dir: Option<PathBuf>,
}

impl Cli {
    /// Whether this is `prism run`: streams with no terminal UI. Its consumer then runs as
    /// a task of the runtime, not on the main thread: a stream task waking the main thread
    /// costs a futex call and two context switches, and a server that writes each event
    /// on its own (as model servers do) caused one per event (117k switches for 8 × 100k
    /// events, 5k as a task; BENCHMARKS.md). The workbench stays on the main thread, so
    /// drawing a frame never holds up a runtime thread reading a stream.
    pub fn is_headless_run(&self) -> bool {
        matches!(self.command, Some(Command::Run(_)))
    }
}

mod run;

use run::*;

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a prompt to the configured targets and print the results.
    Run(Box<RunArgs>),
    /// Count the tokens of a text (a file, or standard input) and print the number.
    Count {
        /// Model whose tokenizer to use (default: o200k, the GPT-4o/4.1/o/5 encoding).
        #[arg(long)]
        model: Option<String>,
        /// File to count; `-` or none reads standard input.
        file: Option<PathBuf>,
    },
    /// List, show, rename or delete saved sessions.
    #[command(subcommand)]
    Sessions(SessionsCommand),
    /// Play a saved session back into the workbench with its original timing.
    Replay(ReplayArgs),
    /// Send a saved conversation again and compare recorded and new answers.
    ///
    /// Each target gets exactly the request it was recorded with. In a conversation of
    /// several turns, the last turn is sent again with each target's own recorded history.
    /// Opens the workbench (recorded and new side by side; D on a pane shows the word
    /// diff) unless --format is given or standard output is not a terminal. An experiment
    /// session is sent again as the experiment it recorded (see --repeat, --seed, --summary).
    Rerun(RerunArgs),
    /// Write a saved session as Markdown, JSON or CSV.
    Export(ExportArgs),
    /// Votes across saved sessions: win rates per target and per prompt variant, with
    /// 95 % intervals, and pairwise wins.
    Stats(crate::commands::stats::StatsArgs),
    /// Print a shell completion script (bash, zsh or fish) to standard output.
    Completions {
        /// The shell to complete for.
        shell: crate::commands::completions::CompletionShell,
    },
    /// Print the man page (roff) to standard output: `prism man > prism.1`.
    Man,
    /// Serve the mock provider endpoints (OpenAI chat and Responses, Anthropic, Gemini, Azure OpenAI, Bedrock) on loopback.
    Mock {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:8089")]
        addr: SocketAddr,
    },
}

/// Options of `prism run`.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Config file (default: ./prism.toml, then $XDG_CONFIG_HOME/prism/config.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Use the built-in demo targets against an in-process mock server (no keys, no
    /// network; `--demo all`: one of every provider kind).
    #[arg(long, conflicts_with = "config", num_args = 0..=1, default_missing_value = "four", value_name = "LINEUP")]
    pub demo: Option<crate::demo::Lineup>,
    /// Only these targets (repeatable); default all.
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// System prompt.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
    /// A JSON Schema file every answer must follow: sent in each provider's own way and
    /// each answer checked against it (`schema_valid`, `schema_errors`).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    /// A tools file (JSON or TOML: a list of `{name, description, parameters}`) sent to
    /// every target in its own format, over any configured `tools`.
    #[arg(long, value_name = "FILE")]
    pub tools: Option<PathBuf>,
    /// `auto`, `required`, `none` or a tool's name.
    #[arg(long, value_name = "CHOICE")]
    pub tool_choice: Option<String>,
    /// Canned tool results (JSON or TOML: tool name or call id → result): a run that ends
    /// in tool calls sends them back in one follow-up round for a final answer.
    #[arg(long, value_name = "FILE")]
    pub tool_results: Option<PathBuf>,
    /// The prompt (default: --prompt-file, else standard input).
    #[arg(long, value_name = "TEXT", conflicts_with = "prompt_file")]
    pub prompt: Option<String>,
    /// Read the prompt from a file.
    #[arg(long, value_name = "FILE")]
    pub prompt_file: Option<PathBuf>,
    /// Output format (default: table on a terminal, jsonl otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Do not save this run as a session.
    #[arg(long)]
    pub no_save: bool,
    /// Name the saved session (`prism sessions rename` changes it later).
    #[arg(long, value_name = "NAME", conflicts_with = "no_save")]
    pub name: Option<String>,
    /// Tag the saved session (repeatable); `prism sessions list --filter TAG` finds it.
    #[arg(long = "tag", value_name = "TAG", conflicts_with = "no_save")]
    pub tags: Vec<String>,
    /// A variant: NAME=FILE adds one whose prompt is FILE's text; NAME picks a config
    /// `[[variant]]`. Repeatable; when given, only these variants run, in this order.
    #[arg(long = "variant", value_name = "NAME[=FILE]")]
    pub variants: Vec<String>,
    /// Case table (CSV with a header row, or JSONL) whose rows fill `{{name}}` variables.
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
    /// Counted runs per (case, variant, target) cell.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub repeat: u32,
    /// Order of the runs: interleaved (run 1 of every cell, then run 2...), random
    /// (shuffled; see --seed) or sequential (every run of a cell, then the next cell).
    #[arg(long, value_name = "ORDER", default_value = "interleaved", value_parser = parse_order)]
    pub order: Order,
    /// Seed of --order random (default: drawn, printed and saved with the session).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Uncounted runs per target, sent before the others.
    #[arg(long, value_name = "K", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=1_000))]
    pub warmup: u32,
    /// Runs in flight at once per provider endpoint (default 4).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1_000))]
    pub max_concurrency: Option<u32>,
    /// Print the scoreboard: one row per (variant, target) over every case and run (in
    /// JSON formats instead of the cells).
    #[arg(long)]
    pub summary: bool,
    /// Sort the scoreboard by COLUMN, best first: ttft, p95, tps, cost, failures, n,
    /// tokens, variant, target (or the JSON field names).
    #[arg(long, value_name = "COLUMN", requires = "summary", value_parser = parse_column)]
    pub sort: Option<Column>,
}

/// The workbench's options from the command line.
fn tui_options(cli: Cli) -> crate::tui::workbench::TuiOptions {
    crate::tui::workbench::TuiOptions {
        config: cli.config,
        theme: cli.theme,
        demo: cli.demo,
        sessions_dir: cli.sessions_dir,
        blind: cli.blind,
    }
}

fn parse_order(s: &str) -> Result<Order, String> {
    s.parse()
}

fn parse_column(s: &str) -> Result<Column, String> {
    s.parse()
}

/// Run the parsed command line; returns the process exit status.
pub async fn dispatch(cli: Cli) -> u8 {
    let result = match cli.command {
        Some(Command::Mock { addr }) => match crate::mock_server::serve_until_signal(addr).await {
            Ok(()) => Ok(0),
            Err(e) => Err(AppError::io(format!("cannot serve on {addr}"), e)),
        },
        Some(Command::Run(args)) => run(*args, cli.sessions_dir.as_deref()).await,
        Some(Command::Sessions(cmd)) => crate::commands::sessions::run(cmd, cli.sessions_dir.as_deref()),
        Some(Command::Replay(args)) => crate::commands::replay::run(args, cli.sessions_dir.as_deref()).await,
        Some(Command::Rerun(args)) => crate::commands::rerun::run(args, cli.sessions_dir.as_deref()).await,
        Some(Command::Export(args)) => crate::commands::export::run(args, cli.sessions_dir.as_deref()),
        Some(Command::Stats(args)) => crate::commands::stats::run(args, cli.sessions_dir.as_deref()),
        Some(Command::Count { model, file }) => count(model.as_deref(), file.as_deref()),
        Some(Command::Completions { shell }) => {
            crate::commands::completions::completions(shell, Cli::command())
        }
        Some(Command::Man) => crate::commands::completions::man(Cli::command()),
        None => crate::tui::workbench::run(tui_options(cli))
            .await
            .map_err(AppError::from),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // stderr may be a terminal that went away: failing to say it is not a panic.
            let _ = writeln!(std::io::stderr(), "prism: {e}");
            e.exit_code()
        }
    }
}

fn count(model: Option<&str>, file: Option<&std::path::Path>) -> Result<u8, AppError> {
    let text = match file.filter(|f| f.as_os_str() != "-") {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| AppError::io(format!("{}: cannot read", f.display()), e))?,
        None => {
            let mut t = String::new();
            std::io::stdin()
                .lock()
                .read_to_string(&mut t)
                .map_err(|e| AppError::io("cannot read standard input", e))?;
            t
        }
    };
    let (encoding, exact) = model.map_or(
        (crate::tokens::Encoding::O200k, true),
        crate::tokens::encoding_for,
    );
    println!("{}", crate::tokens::count(encoding, &text));
    if !exact {
        eprintln!(
            "note: an o200k estimate; `{}` uses its own tokenizer",
            model.unwrap_or_default()
        );
    }
    Ok(0)
}

fn load_config(explicit: Option<&std::path::Path>) -> Result<config::Config, AppError> {
    let path = config::locate(explicit)?.ok_or_else(|| {
        let searched: Vec<_> = config::search_paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        AppError::Usage(format!(
            "no config file found (looked for {}); pass --config FILE, or try `prism run --demo`",
            searched.join(", ")
        ))
    })?;
    let cfg = config::load(&path)?;
    for w in &cfg.warnings {
        eprintln!("warning: {}: {w}", cfg.path.display());
    }
    Ok(cfg)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::target::{KeySource, Params, ProviderKind};
    use crate::tui::input::keymap::Keymap;
    use crate::tui::model::app::App;

    #[test]
    fn blind_flag_starts_the_workbench_with_names_hidden() {
        let opts = tui_options(Cli::try_parse_from(["prism", "--blind", "--demo"]).unwrap());
        assert!(opts.blind && opts.demo.is_some());
        assert!(!tui_options(Cli::try_parse_from(["prism"]).unwrap()).blind);
        let target = |name: &str| Target {
            name: name.into(),
            provider: ProviderKind::OpenAi,
            model: "gpt-4o-mini".into(),
            base_url: "http://127.0.0.1:1".into(),
            key: KeySource::Demo,
            params: Params::default(),
        };
        let start = |blind| {
            let theme = crate::tui::theme::load("dark").unwrap();
            App::new(
                vec![target("a"), target("b")],
                Keymap::default(),
                theme,
                String::new(),
            )
            .with_blind(blind)
        };
        assert!(start(opts.blind).names_hidden(), "--blind starts blind");
        assert!(!start(false).names_hidden());
    }
}
