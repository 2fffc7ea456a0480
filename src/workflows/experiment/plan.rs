//! The matrix of an experiment: every (case, variant, target) cell with its expanded
//! request, the targets the session records, and every run in the order it is sent.
//!
//! Building a plan does everything that can fail before anything is sent: templates are
//! parsed and filled (a variable with no value names itself and its case), variant
//! parameters are checked against each target's provider. Nothing here touches the
//! network, so a plan is a value a face can show, count and budget before sending.
//!
//! Cells are in a stable order: case, then variant, then target in config order. Runs are
//! sent warmups first (`warmup` per target, on its first cell), then in the chosen
//! [`Order`]. Each run has its own run id (1, 2, ... in sending order) and a conversation
//! turn shared by the runs that got the same request: warmup `w` is turn `w + 1`, then
//! one turn per (case, variant, repeat), so a saved experiment replays and re-runs turn
//! by turn with every target side by side.

use std::fmt;
use std::str::FromStr;

use serde_json::{Map, Value};

use super::cases::{Case, CaseTable};
use super::template::Template;
use crate::config::{ParamOverrides, Variant};
use crate::provider::request::ChatRequest;
use crate::session::schema::{CaseRecord, ExperimentRecord, RunCell, VariantRecord};
use crate::target::Target;

/// The order counted runs are sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Round-robin across cells: run 1 of every cell, then run 2, ... (the default: a
    /// slow minute at the provider spreads over every cell instead of hitting one).
    #[default]
    Interleaved,
    /// Shuffled with a seed (given, or drawn and recorded), reproducibly.
    Random,
    /// Every run of the first cell, then of the second, ...
    Sequential,
}

impl Order {
    /// The name used on the command line and in sessions.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Interleaved => "interleaved",
            Self::Random => "random",
            Self::Sequential => "sequential",
        }
    }
}

impl FromStr for Order {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "interleaved" => Ok(Self::Interleaved),
            "random" => Ok(Self::Random),
            "sequential" => Ok(Self::Sequential),
            other => Err(format!(
                "unknown order `{other}`: use interleaved, random or sequential"
            )),
        }
    }
}

impl fmt::Display for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to run: the face's choices, unchecked.
#[derive(Debug, Clone, Default)]
pub struct Design {
    /// Targets, in config order.
    pub targets: Vec<Target>,
    /// Variants, in order; empty runs the prompts as given.
    pub variants: Vec<Variant>,
    /// Cases filling the templates; `None` sends prompts verbatim (no template syntax).
    pub cases: Option<CaseTable>,
    /// The run's system prompt (what a variant without its own gets).
    pub system: Option<String>,
    /// The run's prompt (what a variant without its own gets).
    pub prompt: Option<String>,
    /// Counted runs per cell (at least 1).
    pub repeat: u32,
    /// Uncounted runs per target, sent before the others.
    pub warmup: u32,
    /// Order of the counted runs.
    pub order: Order,
    /// Seed of a random order; drawn when `None`.
    pub seed: Option<u64>,
}

impl Design {
    /// The design a session recorded, run on `targets` (the recorded experiment's
    /// targets, or some of them, resolved to where they go now): the same variants with
    /// their texts and parameters, cases, repeats, warmups, order and seed, so the plan
    /// built from it sends the same requests in the same order.
    pub fn from_record(record: &ExperimentRecord, targets: Vec<Target>) -> Result<Self, String> {
        let order = record
            .order
            .parse()
            .map_err(|e| format!("the recorded experiment: {e}"))?;
        let variants = record
            .variants
            .iter()
            .map(|v| Variant {
                name: v.name.clone(),
                system: v.system.clone(),
                prompt: v.prompt.clone(),
                params: ParamOverrides {
                    temperature: v.temperature,
                    top_p: v.top_p,
                    max_tokens: v.max_tokens,
                    seed: v.seed,
                    schema: v.schema.clone(),
                    tools: v.tools.clone(),
                    tool_choice: v.tool_choice.clone(),
                    tool_results: v.tool_results.clone(),
                },
                origin: "the recorded experiment".into(),
            })
            .collect();
        // A case table is never empty, so no recorded cases means none was given.
        let cases = (!record.cases.is_empty()).then(|| CaseTable {
            cases: record
                .cases
                .iter()
                .map(|c| Case {
                    id: c.id.clone(),
                    vars: c
                        .vars
                        .iter()
                        .filter_map(|(k, v)| {
                            let text = match v {
                                Value::String(s) => s.clone(),
                                Value::Null => return None,
                                other => other.to_string(),
                            };
                            Some((k.clone(), text))
                        })
                        .collect(),
                })
                .collect(),
        });
        Ok(Self {
            targets,
            variants,
            cases,
            system: record.system.clone(),
            prompt: record.prompt.clone(),
            repeat: record.repeat,
            warmup: record.warmup,
            order,
            seed: record.seed,
        })
    }
}

/// One (case, variant, target) cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Index into the cases; `None` without a case table.
    pub case: Option<usize>,
    /// Index into the variants; `None` without variants.
    pub variant: Option<usize>,
    /// Index into the design's targets.
    pub target: usize,
    /// Index into [`Plan::session_targets`]: the target with the variant's overrides.
    pub session_target: usize,
    /// The request every run of the cell sends.
    pub request: ChatRequest,
}

/// One run to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Run {
    /// Index into [`Plan::cells`].
    pub cell: usize,
    /// Which run of the cell, from 0 (of the warmups, for a warmup).
    pub repeat: u32,
    /// A warmup: sent and recorded, never counted.
    pub warmup: bool,
    /// Its run id in the session (1, 2, ... in sending order).
    pub run_id: u64,
    /// The conversation turn it is recorded under.
    pub turn: u32,
}

/// A checked experiment, ready to send.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The design it was built from (with the seed of a random order filled in).
    pub design: Design,
    /// Every cell, in case, variant, target order.
    pub cells: Vec<Cell>,
    /// The targets the session records: each design target as configured, and a copy
    /// named `target@variant` for each variant that sets parameters, carrying them.
    pub session_targets: Vec<Target>,
    /// Every run, in sending order (warmups first).
    pub runs: Vec<Run>,
    /// Things worth telling before sending (a template with no case table...).
    pub warnings: Vec<String>,
}

impl Plan {
    /// Check `design` and lay out its cells and runs.
    pub fn build(mut design: Design) -> Result<Self, String> {
        if design.targets.is_empty() {
            return Err("no targets to run".into());
        }
        design.repeat = design.repeat.max(1);
        if design.order == Order::Random && design.seed.is_none() {
            design.seed = Some(fastrand::u64(..));
        }
        let mut warnings = Vec::new();
        let prompts = prompts(&design, &mut warnings)?;
        check_overrides(&design, &mut warnings)?;
        let (session_targets, session_index) = session_targets(&design);
        let case_count = design.cases.as_ref().map(|c| c.cases.len());
        let mut cells = Vec::new();
        for case in indices(case_count) {
            for variant in indices(non_zero(design.variants.len())) {
                let (system, prompt) = prompts.render(&design, case, variant)?;
                for target in 0..design.targets.len() {
                    cells.push(Cell {
                        case,
                        variant,
                        target,
                        session_target: session_index(target, variant),
                        request: ChatRequest::single(system.clone(), prompt.clone()),
                    });
                }
            }
        }
        let runs = schedule(&design, &cells);
        Ok(Self {
            design,
            cells,
            session_targets,
            runs,
            warnings,
        })
    }

    /// A plain run: one prompt, no variants, no cases, one run per target, no warmup.
    /// Saved exactly as a send always was (one send to every target), with no
    /// experiment record.
    pub fn is_plain(&self) -> bool {
        self.design.variants.is_empty()
            && self.design.cases.is_none()
            && self.design.repeat == 1
            && self.design.warmup == 0
    }

    /// The cell of run `run`'s record in the session; `None` for a plain run.
    pub fn run_cell(&self, run: &Run) -> Option<RunCell> {
        if self.is_plain() {
            return None;
        }
        let cell = self.cells.get(run.cell)?;
        Some(RunCell {
            variant: cell.variant,
            case: cell.case,
            target: cell.target,
            repeat: run.repeat,
            warmup: run.warmup,
        })
    }

    /// The record of the design the session keeps; `None` for a plain run.
    pub fn record(&self) -> Option<ExperimentRecord> {
        if self.is_plain() {
            return None;
        }
        let d = &self.design;
        Some(ExperimentRecord {
            system: d.system.clone(),
            prompt: d.prompt.clone(),
            variants: d
                .variants
                .iter()
                .map(|v| VariantRecord {
                    name: v.name.clone(),
                    system: v.system.clone(),
                    prompt: v.prompt.clone(),
                    temperature: v.params.temperature,
                    top_p: v.params.top_p,
                    max_tokens: v.params.max_tokens,
                    seed: v.params.seed,
                    schema: v.params.schema.clone(),
                    tools: v.params.tools.clone(),
                    tool_choice: v.params.tool_choice.clone(),
                    tool_results: v.params.tool_results.clone(),
                })
                .collect(),
            cases: d
                .cases
                .iter()
                .flat_map(|t| &t.cases)
                .map(|c| CaseRecord {
                    id: c.id.clone(),
                    vars: c
                        .vars
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                        .collect::<Map<_, _>>(),
                })
                .collect(),
            targets: d.targets.iter().map(|t| t.name.clone()).collect(),
            repeat: d.repeat,
            warmup: d.warmup,
            order: d.order.as_str().to_string(),
            seed: (d.order == Order::Random).then_some(d.seed).flatten(),
        })
    }

    /// The case of `cell`, if the design has cases.
    pub fn case(&self, cell: &Cell) -> Option<&Case> {
        self.design.cases.as_ref()?.cases.get(cell.case?)
    }

    /// The variant of `cell`, if the design has variants.
    pub fn variant(&self, cell: &Cell) -> Option<&Variant> {
        self.design.variants.get(cell.variant?)
    }

    /// How many runs are counted (warmups left out).
    pub fn counted_runs(&self) -> usize {
        self.runs.iter().filter(|r| !r.warmup).count()
    }
}

/// `0..n` as indices, or a single `None` when there is nothing to index.
fn indices(n: Option<usize>) -> Vec<Option<usize>> {
    match n {
        Some(n) => (0..n).map(Some).collect(),
        None => vec![None],
    }
}

fn non_zero(n: usize) -> Option<usize> {
    (n > 0).then_some(n)
}

/// Each variant's system prompt and prompt, parsed as templates when there are cases.
struct Prompts {
    /// Per variant (or the one implicit variant): system, prompt, and ` of variant `a``
    /// (empty without variants) for messages.
    each: Vec<(Option<Template>, Template, String)>,
}

impl Prompts {
    fn render(
        &self,
        design: &Design,
        case: Option<usize>,
        variant: Option<usize>,
    ) -> Result<(Option<String>, String), String> {
        let Some((system, prompt, of)) = self.each.get(variant.unwrap_or(0)) else {
            return Err("internal: a variant without prompts".into());
        };
        let case = case.and_then(|i| Some((i, design.cases.as_ref()?.cases.get(i)?)));
        let fill = |t: &Template, part: &str| {
            match case {
            None => Ok(t.as_written()),
            Some((i, c)) => t.render(|name| c.get(name)).map_err(|missing| {
                format!(
                    "no value for `{{{{{missing}}}}}` in {} (the {part}{of}): add a `{missing}` column to the case table, or remove the variable",
                    c.label(i)
                )
            }),
        }
        };
        let system = match system {
            Some(t) => Some(fill(t, "system prompt")?),
            None => None,
        };
        Ok((system, fill(prompt, "prompt")?))
    }
}

/// Parse every prompt. Without cases a prompt is sent exactly as written, so it is kept
/// as one literal piece (a warning says so when it looks like a template).
fn prompts(design: &Design, warnings: &mut Vec<String>) -> Result<Prompts, String> {
    let templated = design.cases.is_some();
    let mut parse = |text: &str, whose: String| -> Result<Template, String> {
        let parsed = Template::parse(text);
        if templated {
            return parsed.map_err(|e| format!("{whose}: {e}"));
        }
        if parsed.as_ref().is_ok_and(Template::has_variables) {
            warnings.push(format!(
                "{whose} uses `{{{{…}}}}` variables but no --cases table was given: it is sent as written"
            ));
        }
        Ok(Template::literal(text))
    };
    let mut variants: Vec<Option<&Variant>> = design.variants.iter().map(Some).collect();
    if variants.is_empty() {
        variants.push(None);
    }
    let mut each = Vec::new();
    for v in variants {
        let (of, whose) = match v {
            Some(v) => (
                format!(" of variant `{}`", v.name),
                format!("variant `{}` ({}): ", v.name, v.origin),
            ),
            None => (String::new(), String::new()),
        };
        let system = v.and_then(|v| v.system.as_deref()).or(design.system.as_deref());
        let prompt = v.and_then(|v| v.prompt.as_deref()).or(design.prompt.as_deref());
        let Some(prompt) = prompt else {
            return Err(match v {
                Some(v) => format!(
                    "variant `{}` ({}) has no prompt: give it `prompt`, or pass --prompt for every variant without one",
                    v.name, v.origin
                ),
                None => {
                    "no prompt: pass --prompt TEXT, --prompt-file FILE, or pipe it on standard input".into()
                }
            });
        };
        let system = match system {
            Some(s) => Some(parse(s, format!("{whose}the system prompt"))?),
            None => None,
        };
        let prompt = parse(prompt, format!("{whose}the prompt"))?;
        each.push((system, prompt, of));
    }
    Ok(Prompts { each })
}

/// A variant's parameters must be ones every target's provider accepts.
fn check_overrides(design: &Design, warnings: &mut Vec<String>) -> Result<(), String> {
    for v in &design.variants {
        for t in &design.targets {
            let spec = t.provider.spec();
            if let Some(temp) = v.params.temperature
                && temp > spec.max_temperature
            {
                return Err(format!(
                    "variant `{}` ({}): temperature {temp} is over the 0 to {} range {} accepts (target `{}`); run it with --target on other targets",
                    v.name, v.origin, spec.max_temperature, t.provider, t.name
                ));
            }
            if v.params.seed.is_some() && !spec.accepts_seed {
                warnings.push(format!(
                    "variant `{}`: {} has no `seed` parameter; it is not sent to target `{}`",
                    v.name, spec.display_name, t.name
                ));
            }
        }
    }
    Ok(())
}

/// The session's targets and, for (target, variant), the index of the one it sends to.
#[allow(clippy::type_complexity)]
fn session_targets(design: &Design) -> (Vec<Target>, Box<dyn Fn(usize, Option<usize>) -> usize>) {
    let overriding: Vec<usize> = design
        .variants
        .iter()
        .enumerate()
        .filter(|(_, v)| !v.params.is_empty())
        .map(|(i, _)| i)
        .collect();
    let plain_used = design.variants.is_empty() || overriding.len() < design.variants.len();
    let mut targets = Vec::new();
    // (design target, variant or None for the plain one) → session index.
    let mut index: Vec<((usize, Option<usize>), usize)> = Vec::new();
    for (ti, t) in design.targets.iter().enumerate() {
        if plain_used {
            index.push(((ti, None), targets.len()));
            targets.push(t.clone());
        }
        for &vi in &overriding {
            let v = &design.variants[vi];
            let mut copy = t.clone();
            copy.name = format!("{}@{}", t.name, v.name);
            v.params.apply(&mut copy.params);
            index.push(((ti, Some(vi)), targets.len()));
            targets.push(copy);
        }
    }
    let lookup = move |target: usize, variant: Option<usize>| {
        let own = variant.filter(|v| overriding.contains(v));
        index
            .iter()
            .find(|(k, _)| *k == (target, own))
            .map_or(0, |(_, i)| *i)
    };
    (targets, Box::new(lookup))
}

/// Every run in sending order, with run ids and turns.
fn schedule(design: &Design, cells: &[Cell]) -> Vec<Run> {
    let targets = design.targets.len();
    let variants = design.variants.len().max(1);
    let mut runs = Vec::new();
    for w in 0..design.warmup {
        // A target's first cell: the first case and variant.
        for (cell, _) in cells.iter().enumerate().take(targets) {
            runs.push(Run {
                cell,
                repeat: w,
                warmup: true,
                run_id: 0,
                turn: w + 1,
            });
        }
    }
    let first_turn = design.warmup + 1;
    let turn_of = |cell: &Cell, repeat: u32| {
        let combo = (cell.case.unwrap_or(0) * variants + cell.variant.unwrap_or(0)) as u64
            * u64::from(design.repeat)
            + u64::from(repeat);
        u32::try_from(u64::from(first_turn) + combo).unwrap_or(u32::MAX)
    };
    let counted = |cell: usize, repeat: u32| Run {
        cell,
        repeat,
        warmup: false,
        run_id: 0,
        turn: turn_of(&cells[cell], repeat),
    };
    let mut counted_runs = Vec::new();
    match design.order {
        Order::Sequential => {
            for cell in 0..cells.len() {
                for r in 0..design.repeat {
                    counted_runs.push(counted(cell, r));
                }
            }
        }
        Order::Interleaved | Order::Random => {
            for r in 0..design.repeat {
                for cell in 0..cells.len() {
                    counted_runs.push(counted(cell, r));
                }
            }
        }
    }
    if design.order == Order::Random {
        shuffle(&mut counted_runs, design.seed.unwrap_or(0));
    }
    runs.extend(counted_runs);
    for (i, r) in runs.iter_mut().enumerate() {
        r.run_id = i as u64 + 1;
    }
    runs
}

/// Fisher-Yates with SplitMix64: written out here so that a seed gives the same order in
/// every build, whatever a random-number crate does in its next version.
pub fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    for i in (1..items.len()).rev() {
        // Multiply-shift keeps the pick uniform enough for ordering runs, with no bias
        // from a modulo on small ranges that would matter here.
        let j = ((u128::from(next()) * (i as u128 + 1)) >> 64) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests;
