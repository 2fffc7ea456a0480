//! `prism run`: the targets chosen, the prompt read, the plan sent and printed.

use super::*;

pub(super) async fn run(args: RunArgs, sessions_dir: Option<&std::path::Path>) -> Result<u8, AppError> {
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
pub(super) async fn run_plan(
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
    // What is about to be sent shows first: counting can take a while.
    let announced = headless::announce(&plan);
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
    // Gone before any other line: notes, the session, the verdict.
    drop(announced);
    let Some(checks) = checks else {
        eprintln!("interrupted while the providers counted the prompt's tokens; nothing was sent");
        return Ok(130);
    };
    for note in &checks.notes {
        eprintln!("warning: {note}");
    }
    // A refused cell's reason is in its row on stdout; say it on stderr too, where a
    // person running a script looks, once per target and reason.
    let mut refused: Vec<(&str, &str)> = Vec::new();
    for (cell, why) in plan.cells.iter().zip(&checks.blocked) {
        let Some(why) = why.as_deref() else { continue };
        let target = plan
            .design
            .targets
            .get(cell.target)
            .map_or("", |t| t.name.as_str());
        if !refused.contains(&(target, why)) {
            eprintln!("{target}: {why}");
            refused.push((target, why));
        }
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
pub(super) fn save_tags(dir: &std::path::Path, tags: &[String]) -> Result<(), String> {
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
pub(super) fn pick_variants(wanted: &[String], configured: &[Variant]) -> Result<Vec<Variant>, AppError> {
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

/// `--schema FILE` over every target's configured schema.
pub(super) fn with_schema(
    mut targets: Vec<Target>,
    file: Option<&std::path::Path>,
) -> Result<Vec<Target>, AppError> {
    if let Some(file) = file {
        let schema = crate::schema::from_file(file).map_err(AppError::Usage)?;
        for t in &mut targets {
            t.params.schema = Some(schema.clone());
        }
    }
    Ok(targets)
}

/// `--tools`, `--tool-choice` and `--tool-results` over every target's configured ones.
pub(super) fn with_tools(mut targets: Vec<Target>, args: &RunArgs) -> Result<Vec<Target>, AppError> {
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

pub(super) fn select(all: Vec<Target>, wanted: &[String]) -> Result<Vec<Target>, AppError> {
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

pub(super) fn read_prompt(args: &RunArgs) -> Result<String, AppError> {
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
