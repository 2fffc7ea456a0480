//! Command line: `prism run`, `prism mock`, and the default demo.

use std::io::{IsTerminal, Read};
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
    let loaded = if args.demo.is_some() {
        None
    } else {
        Some(load_config(args.config.as_deref())?)
    };
    let variants = pick_variants(
        &args.variants,
        loaded.as_ref().map_or(&[][..], |c| &c.variants[..]),
    )?;
    // The run's own prompt is read only when some variant (or the plain run) takes it.
    let needs_prompt = variants.is_empty() || variants.iter().any(|v| v.prompt.is_none());
    let prompt = if needs_prompt {
        Some(read_prompt(&args)?)
    } else {
        if args.prompt.is_some() || args.prompt_file.is_some() {
            eprintln!("warning: every variant has its own prompt, so the run's prompt is not sent");
        }
        None
    };
    let cases = match &args.cases {
        Some(path) => Some(cases::load(path).map_err(AppError::Usage)?),
        None => None,
    };
    let demo = if let Some(lineup) = args.demo {
        Some(
            crate::demo::Demo::start_with(lineup)
                .await
                .map_err(|e| AppError::io("cannot start the demo mock server", e))?,
        )
    } else {
        None
    };
    let (all_targets, prices, budget, configured_dir, per_target) = match (&demo, loaded) {
        // The built-in table is compiled in and tested; failing to read it would only
        // leave every cost unknown.
        (Some(d), _) => (
            d.targets(),
            PriceTable::builtin().unwrap_or_default(),
            None,
            None,
            Default::default(),
        ),
        (None, Some(c)) => (
            c.targets,
            c.prices,
            c.budget_usd,
            c.sessions_dir,
            c.max_concurrency,
        ),
        (None, None) => return Err(AppError::Usage("no targets: pass --config FILE or --demo".into())),
    };
    let all_targets = with_schema(all_targets, args.schema.as_deref())?;
    let all_targets = with_tools(all_targets, &args)?;
    let design = select(all_targets, &args.targets).map(|targets| Design {
        targets,
        variants,
        cases,
        system: args.system.clone(),
        prompt,
        repeat: args.repeat,
        warmup: args.warmup,
        order: args.order,
        seed: args.seed,
    });
    let limits = Limits {
        per_endpoint: args
            .max_concurrency
            .unwrap_or(crate::workflows::experiment::limits::DEFAULT_PER_ENDPOINT),
        per_target,
    };
    let root = crate::session::store::sessions_dir(sessions_dir, configured_dir.as_deref());
    let result = match design {
        Ok(design) => run_plan(&args, design, &prices, budget, limits, root).await,
        Err(e) => Err(e),
    };
    if let Some(d) = demo {
        d.stop().await;
    }
    result
}

/// Check, budget, save and send a design, then print what came back.
async fn run_plan(
    args: &RunArgs,
    design: Design,
    prices: &PriceTable,
    budget: Option<f64>,
    limits: Limits,
    sessions_root: PathBuf,
) -> Result<u8, AppError> {
    let plan = Plan::build(design).map_err(AppError::Usage)?;
    for w in &plan.warnings {
        eprintln!("warning: {w}");
    }
    if args.seed.is_some() && plan.design.order != Order::Random {
        eprintln!("warning: --seed only orders --order random runs; it is not used");
    }
    if let (Order::Random, Some(seed)) = (plan.design.order, plan.design.seed) {
        eprintln!("order: random, seed {seed} (pass --seed {seed} to send in this order again)");
    }
    let format = args.format.unwrap_or(if std::io::stdout().is_terminal() {
        Format::Table
    } else {
        Format::Jsonl
    });
    // Pre-flight every cell; provider counts (targets with count_tokens) all at once.
    let counting = tokio_util::sync::CancellationToken::new();
    let checks = {
        let checking = crate::workflows::experiment::checks(&plan, prices, &counting);
        tokio::pin!(checking);
        tokio::select! {
            checks = &mut checking => checks,
            _ = tokio::signal::ctrl_c() => {
                counting.cancel();
                checking.await;
                None
            }
        }
    };
    let Some(checks) = checks else {
        eprintln!("interrupted while the providers counted the prompt's tokens; nothing was sent");
        return Ok(130);
    };
    for note in &checks.notes {
        eprintln!("warning: {note}");
    }
    if let Some(budget) = budget
        && let Some(why) = crate::preflight::over_budget(&checks.run_worst_cases(&plan), 0, budget)
    {
        return Err(AppError::Usage(if plan.is_plain() {
            why
        } else {
            format!(
                "{why} (the worst case covers all {} runs, warmups included)",
                plan.runs.len()
            )
        }));
    }
    let session = if args.no_save {
        None
    } else {
        match crate::session::SessionWriter::create(&sessions_root, &plan.session_targets, prices.clone()) {
            Ok(w) => {
                // First, so a script (or a person after Ctrl-C) knows where the run went.
                eprintln!("session: {} ({})", w.id(), w.dir().display());
                // Named now, so even a run killed half-way keeps its name.
                if let Some(name) = args.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
                    w.rename(Some(name.to_string()));
                }
                Some(w)
            }
            Err(e) => {
                eprintln!(
                    "warning: cannot save this run in {}: {e} (pass --sessions-dir DIR, or --no-save)",
                    sessions_root.display()
                );
                None
            }
        }
    };
    let collected = headless::collect(&plan, &limits, &checks.blocked, session.as_ref(), prices).await;
    if collected.interrupted {
        eprintln!("prism: interrupted by Ctrl-C: printing what arrived (exit status 130)");
    }
    if let Some(w) = &session {
        w.close();
        if let Some(e) = w.error() {
            eprintln!("warning: session {} was not saved completely: {e}", w.id());
        }
        if let Err(e) = save_tags(w.dir(), &args.tags) {
            eprintln!("warning: session {}: cannot save its tags: {e}", w.id());
        }
    }
    let how = Printing {
        format,
        summary: args.summary,
        sort: args.sort,
        width: headless::fit::stdout_width(),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = headless::print(&plan, &collected.cells, how, &mut stdout) {
        // A closed pipe (`| head`) is the reader's choice, not our failure.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            return Err(AppError::io("cannot write results", e));
        }
    }
    Ok(headless::exit_code(&collected))
}

/// Add `tags` (trimmed, each once) to the summary of the closed session in `dir`.
fn save_tags(dir: &std::path::Path, tags: &[String]) -> Result<(), String> {
    let tags: Vec<&str> = tags.iter().map(|t| t.trim()).filter(|t| !t.is_empty()).collect();
    if tags.is_empty() {
        return Ok(());
    }
    let mut meta = crate::session::store::summary(dir).map_err(|e| e.to_string())?;
    for tag in tags {
        if !meta.tags.iter().any(|t| t == tag) {
            meta.tags.push(tag.to_string());
        }
    }
    crate::session::writer::write_meta(dir, &meta).map_err(|e| e.to_string())
}

/// The variants to run: `--variant NAME=FILE` adds one whose prompt is FILE's text,
/// `--variant NAME` picks the config's; none given runs every config variant.
fn pick_variants(wanted: &[String], configured: &[Variant]) -> Result<Vec<Variant>, AppError> {
    if wanted.is_empty() {
        return Ok(configured.to_vec());
    }
    let mut out: Vec<Variant> = Vec::new();
    for arg in wanted {
        let variant = match arg.split_once('=') {
            Some((name, file)) => {
                let name = name.trim();
                if name.is_empty() {
                    return Err(AppError::Usage(format!(
                        "--variant {arg}: give the variant a name, as NAME=FILE"
                    )));
                }
                let prompt = std::fs::read_to_string(file).map_err(|e| {
                    AppError::io(format!("--variant {name}: {file}: cannot read the prompt"), e)
                })?;
                Variant {
                    name: name.to_string(),
                    prompt: Some(prompt),
                    origin: format!("--variant {name}={file}"),
                    ..Variant::default()
                }
            }
            None => configured
                .iter()
                .find(|v| v.name == *arg)
                .cloned()
                .ok_or_else(|| {
                    let known: Vec<&str> = configured.iter().map(|v| v.name.as_str()).collect();
                    AppError::Usage(if known.is_empty() {
                        format!("no variant named `{arg}` in the config; add one with --variant {arg}=FILE")
                    } else {
                        format!("no variant named `{arg}`; known: {}", known.join(", "))
                    })
                })?,
        };
        if out.iter().any(|v| v.name == variant.name) {
            return Err(AppError::Usage(format!(
                "variant `{}` is given twice: variant names must be unique",
                variant.name
            )));
        }
        out.push(variant);
    }
    Ok(out)
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

/// `--schema FILE` over every target's configured schema.
fn with_schema(mut targets: Vec<Target>, file: Option<&std::path::Path>) -> Result<Vec<Target>, AppError> {
    if let Some(file) = file {
        let schema = crate::schema::from_file(file).map_err(AppError::Usage)?;
        for t in &mut targets {
            t.params.schema = Some(schema.clone());
        }
    }
    Ok(targets)
}

/// `--tools`, `--tool-choice` and `--tool-results` over every target's configured ones.
fn with_tools(mut targets: Vec<Target>, args: &RunArgs) -> Result<Vec<Target>, AppError> {
    if let Some(file) = &args.tools {
        let set = crate::tools::definitions_from_file(file).map_err(AppError::Usage)?;
        for t in &mut targets {
            let results = t.params.tools.take().and_then(|old| old.results);
            t.params.tools = Some(crate::target::Toolset {
                results,
                ..set.clone()
            });
        }
    }
    let results = match &args.tool_results {
        Some(file) => Some(crate::tools::results_from_file(file).map_err(AppError::Usage)?),
        None => None,
    };
    let wants_tools = args.tool_choice.is_some() || results.is_some();
    if wants_tools && targets.iter().all(|t| t.params.tools.is_none()) {
        return Err(AppError::Usage(
            "--tool-choice and --tool-results need tools: pass --tools FILE or set `tools` in the config"
                .into(),
        ));
    }
    for set in targets.iter_mut().filter_map(|t| t.params.tools.as_mut()) {
        if let Some(choice) = &args.tool_choice {
            set.choice = Some(crate::tools::choice(set, choice, "--tool-choice").map_err(AppError::Usage)?);
        }
        if let Some(r) = &results {
            set.results = Some(r.clone());
        }
    }
    Ok(targets)
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
        if p.trim().is_empty() {
            return Err(AppError::Usage(
                "the prompt given with --prompt is empty: pass the text to send".into(),
            ));
        }
        return Ok(p.clone());
    }
    if let Some(path) = &args.prompt_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AppError::io(format!("{}: cannot read prompt", path.display()), e))?;
        if text.trim().is_empty() {
            return Err(AppError::Usage(format!(
                "{}: the prompt file is empty: write the prompt in it, or pass --prompt TEXT",
                path.display()
            )));
        }
        return Ok(text);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        if args.demo.is_some() {
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
        if args.demo.is_some() {
            return Ok(crate::demo::PROMPT.to_string());
        }
        return Err(AppError::Usage("the prompt on standard input is empty".into()));
    }
    Ok(text)
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
