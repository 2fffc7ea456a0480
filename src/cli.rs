//! Command line: `prism run`, `prism mock`, and the default demo.

use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::commands::AppError;
use crate::commands::export::ExportArgs;
use crate::commands::replay::ReplayArgs;
use crate::commands::rerun::RerunArgs;
use crate::commands::sessions::SessionsCommand;
use crate::config;
use crate::engine::RunOptions;
use crate::headless::{self, Format};
use crate::preflight::Counter;
use crate::pricing::PriceTable;
use crate::provider::count::Counted;
use crate::provider::request::ChatRequest;
use crate::target::Target;

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
    /// Workbench: use the built-in demo targets even when a config exists.
    #[arg(long, conflicts_with = "config")]
    pub demo: bool,
    /// Where sessions are saved and looked up (default: $PRISM_SESSIONS_DIR, then the
    /// config's `sessions_dir`, then $XDG_DATA_HOME/prism/sessions).
    #[arg(long, value_name = "DIR", global = true)]
    pub sessions_dir: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Send a prompt to the configured targets and print the results.
    Run(RunArgs),
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
    /// diff) unless --format is given or standard output is not a terminal.
    Rerun(RerunArgs),
    /// Write a saved session as Markdown, JSON or CSV.
    Export(ExportArgs),
    /// Votes across saved sessions: win rates per target and per prompt variant, with
    /// 95 % intervals, and pairwise wins.
    Stats(crate::commands::stats::StatsArgs),
    /// Serve the mock provider endpoints (OpenAI, Anthropic, Gemini) on loopback.
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
    /// Use the built-in demo targets against an in-process mock server (no keys, no network).
    #[arg(long, conflicts_with = "config")]
    pub demo: bool,
    /// Only these targets (repeatable); default all.
    #[arg(long = "target", value_name = "NAME")]
    pub targets: Vec<String>,
    /// System prompt.
    #[arg(long, value_name = "TEXT")]
    pub system: Option<String>,
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
}

/// Run the parsed command line; returns the process exit status.
pub async fn dispatch(cli: Cli) -> u8 {
    let result = match cli.command {
        Some(Command::Mock { addr }) => match crate::mock_server::serve_until_signal(addr).await {
            Ok(()) => Ok(0),
            Err(e) => Err(AppError::io(format!("cannot serve on {addr}"), e)),
        },
        Some(Command::Run(args)) => run(args, cli.sessions_dir.as_deref()).await,
        Some(Command::Sessions(cmd)) => crate::commands::sessions::run(cmd, cli.sessions_dir.as_deref()),
        Some(Command::Replay(args)) => crate::commands::replay::run(args, cli.sessions_dir.as_deref()).await,
        Some(Command::Rerun(args)) => crate::commands::rerun::run(args, cli.sessions_dir.as_deref()).await,
        Some(Command::Export(args)) => crate::commands::export::run(args, cli.sessions_dir.as_deref()),
        Some(Command::Stats(args)) => crate::commands::stats::run(args, cli.sessions_dir.as_deref()),
        Some(Command::Count { model, file }) => count(model.as_deref(), file.as_deref()),
        None => {
            let opts = crate::tui::workbench::TuiOptions {
                config: cli.config,
                theme: cli.theme,
                demo: cli.demo,
                sessions_dir: cli.sessions_dir,
            };
            crate::tui::workbench::run(opts).await.map_err(AppError::from)
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("prism: {e}");
            e.exit_code()
        }
    }
}

async fn run(args: RunArgs, sessions_dir: Option<&std::path::Path>) -> Result<u8, AppError> {
    // Scripts get a log file only when they ask for one.
    let _log = std::env::var_os("PRISM_LOG")
        .is_some()
        .then(|| crate::logging::init("PRISM_LOG").ok())
        .flatten();
    let prompt = read_prompt(&args)?;
    let demo = if args.demo {
        Some(
            crate::demo::Demo::start()
                .await
                .map_err(|e| AppError::io("cannot start the demo mock server", e))?,
        )
    } else {
        None
    };
    let (all_targets, prices, budget, configured_dir) = match &demo {
        // The built-in table is compiled in and tested; failing to read it would only
        // leave every cost unknown.
        Some(d) => (d.targets(), PriceTable::builtin().unwrap_or_default(), None, None),
        None => load_targets(args.config.as_deref())?,
    };
    let targets = select(all_targets, &args.targets)?;
    let request = ChatRequest::single(args.system.clone(), prompt);
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    // Pre-flight loads tokenizer tables: off the async workers.
    let checks = {
        let (targets, request, prices) = (targets.clone(), request.clone(), prices.clone());
        tokio::task::spawn_blocking(move || {
            targets
                .iter()
                .map(|t| crate::preflight::check(t, &request, &prices))
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| AppError::Usage(format!("pre-flight failed: {e}")))?
    };
    let mut checks = checks;
    // Provider counts (targets with count_tokens), all at once; Ctrl-C stops them.
    let counting = tokio_util::sync::CancellationToken::new();
    let asked: Vec<_> = targets.iter().map(|t| (t, &request)).collect();
    let tokens = vec![counting.clone(); targets.len()];
    let counts = {
        let count = crate::provider::count::count_all(&asked, &tokens);
        tokio::pin!(count);
        tokio::select! {
            counts = &mut count => counts,
            _ = tokio::signal::ctrl_c() => {
                counting.cancel();
                count.await
            }
        }
    };
    for (i, (t, counted)) in targets.iter().zip(counts).enumerate() {
        match counted {
            Counted::Exact(n) => {
                checks[i] = crate::preflight::check_counted(t, &prices, n, Counter::Provider)
            }
            Counted::Failed(e) => {
                eprintln!("warning: {}", crate::provider::count::counter_failed(&t.name, &e))
            }
            Counted::Cancelled => {
                eprintln!("interrupted while the providers counted the prompt's tokens; nothing was sent");
                return Ok(130);
            }
            Counted::NotCounted => {}
        }
    }
    if let Some(budget) = budget {
        let worst: Vec<_> = checks
            .iter()
            .filter(|c| c.too_long.is_none())
            .map(|c| c.worst_case)
            .collect();
        if let Some(why) = crate::preflight::over_budget(&worst, 0, budget) {
            return Err(AppError::Usage(why));
        }
    }
    let blocked: Vec<Option<String>> = checks.into_iter().map(|c| c.too_long).collect();
    let session = if args.no_save {
        None
    } else {
        let root = crate::session::store::sessions_dir(sessions_dir, configured_dir.as_deref());
        match crate::session::SessionWriter::create(&root, &targets, prices.clone()) {
            Ok(w) => {
                // First, so a script (or a person after Ctrl-C) knows where the run went.
                eprintln!("session: {} ({})", w.id(), w.dir().display());
                Some(w)
            }
            Err(e) => {
                eprintln!(
                    "warning: cannot save this run in {}: {e} (pass --sessions-dir DIR, or --no-save)",
                    root.display()
                );
                None
            }
        }
    };
    let opts = RunOptions {
        run: crate::engine::RunId(1),
    };
    let collected =
        headless::collect_saved(&targets, &request, opts, &prices, &blocked, session.as_ref()).await;
    if collected.interrupted {
        eprintln!("prism: interrupted by Ctrl-C: printing what arrived (exit status 130)");
    }
    if let Some(w) = &session {
        w.close();
        if let Some(e) = w.error() {
            eprintln!("warning: session {} was not saved completely: {e}", w.id());
        }
    }
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = headless::print(&collected.rows, format, &mut stdout) {
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(AppError::io("cannot write results", e));
        }
    }
    if let Some(d) = demo {
        d.stop().await;
    }
    Ok(headless::exit_code(&collected))
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

type Loaded = (Vec<Target>, PriceTable, Option<f64>, Option<PathBuf>);

fn load_targets(explicit: Option<&std::path::Path>) -> Result<Loaded, AppError> {
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
    Ok((cfg.targets, cfg.prices, cfg.budget_usd, cfg.sessions_dir))
}

fn select(all: Vec<Target>, wanted: &[String]) -> Result<Vec<Target>, AppError> {
    if wanted.is_empty() {
        return Ok(all);
    }
    if let Some(missing) = wanted.iter().find(|w| !all.iter().any(|t| &t.name == *w)) {
        let names: Vec<_> = all.iter().map(|t| t.name.as_str()).collect();
        return Err(AppError::Usage(format!(
            "no target named `{missing}`; known: {}",
            names.join(", ")
        )));
    }
    Ok(all.into_iter().filter(|t| wanted.contains(&t.name)).collect())
}

fn read_prompt(args: &RunArgs) -> Result<String, AppError> {
    if let Some(p) = &args.prompt {
        return Ok(p.clone());
    }
    if let Some(path) = &args.prompt_file {
        return std::fs::read_to_string(path)
            .map_err(|e| AppError::io(format!("{}: cannot read prompt", path.display()), e));
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        if args.demo {
            return Ok(crate::demo::PROMPT.to_string());
        }
        return Err(AppError::Usage(
            "no prompt: pass --prompt TEXT, --prompt-file FILE, or pipe it on standard input".into(),
        ));
    }
    let mut text = String::new();
    stdin
        .lock()
        .read_to_string(&mut text)
        .map_err(|e| AppError::io("cannot read the prompt from standard input", e))?;
    if text.trim().is_empty() {
        if args.demo {
            return Ok(crate::demo::PROMPT.to_string());
        }
        return Err(AppError::Usage("the prompt on standard input is empty".into()));
    }
    Ok(text)
}
