//! Re-running an experiment session: the recorded design rebuilt on the session's
//! targets (resolved to where they go now, as any re-run's are), and each cell's recorded
//! runs set against the new ones.
//!
//! The plan built from the rebuilt design sends exactly the requests the experiment sent,
//! in the same order when the seed is the same; the face sends it through the runner like
//! any experiment, so the new session records the experiment too.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::{needs_demo, recorded_target, send_to};
use crate::config::Config;
use crate::pricing::PriceTable;
use crate::report::{ErrorRow, ResultRow, Status};
use crate::session::Session;
use crate::session::compare::{Chunk, similarity, word_diff};
use crate::session::export::result_row;
use crate::session::schema::{ExperimentRecord, TargetSettings};
use crate::target::Target;
use crate::workflows::experiment::Design;
use crate::workflows::experiment::plan::Plan;
use crate::workflows::experiment::results::{CaseKey, CellResult, Dists, RunResult};

/// The recorded experiment of `session`, or why it has none.
pub fn record(session: &Session) -> Result<&ExperimentRecord, String> {
    session.experiment.as_ref().ok_or_else(|| {
        format!(
            "session {} is not an experiment: nothing to run again as one",
            session.meta.id
        )
    })
}

/// The experiment's targets to run again: every one, or the `wanted` ones (by the names
/// the experiment gave them), in the recorded order.
pub fn chosen<'a>(record: &'a ExperimentRecord, wanted: &[String], id: &str) -> Result<Vec<&'a str>, String> {
    if let Some(missing) = wanted.iter().find(|w| !record.targets.contains(w)) {
        return Err(format!(
            "no target named `{missing}` in experiment {id}; it has: {}",
            record.targets.join(", ")
        ));
    }
    Ok(record
        .targets
        .iter()
        .filter(|t| wanted.is_empty() || wanted.contains(t))
        .map(String::as_str)
        .collect())
}

/// Whether any of the `chosen` targets still goes to the demo mock server.
pub fn uses_demo(
    session: &Session,
    record: &ExperimentRecord,
    chosen: &[&str],
    overrides: Option<&Config>,
) -> bool {
    chosen.iter().any(|name| {
        recorded_settings(session, record, name)
            .first()
            .is_some_and(|(_, s)| needs_demo(s, name, overrides))
    })
}

/// The design `session` recorded, on the `chosen` targets: each as recorded, with the
/// key, base URL and limits of the `overrides` config target of the same name, a demo
/// target moved to the running demo server (`demo` lists its targets).
pub fn design(
    session: &Session,
    chosen: &[&str],
    overrides: Option<&Config>,
    demo: Option<&[Target]>,
) -> Result<Design, String> {
    let record = record(session)?;
    let mut targets = Vec::new();
    for name in chosen {
        let recorded = base_target(session, record, name)?;
        targets.push(send_to(&recorded, name, overrides, demo)?);
    }
    Design::from_record(record, targets)
}

/// The session targets recorded for experiment target `name`: itself when some variant
/// sends to it as configured, and its `name@variant` copy for each variant that set
/// parameters (with that variant's index).
fn recorded_settings<'a>(
    session: &'a Session,
    record: &ExperimentRecord,
    name: &str,
) -> Vec<(Option<usize>, &'a TargetSettings)> {
    let find = |wanted: &str| session.targets.iter().find(|t| t.name == wanted);
    let mut out: Vec<(Option<usize>, &TargetSettings)> = find(name).map(|s| (None, s)).into_iter().collect();
    for (i, v) in record.variants.iter().enumerate() {
        if let Some(s) = find(&format!("{name}@{}", v.name)) {
            out.push((Some(i), s));
        }
    }
    out
}

/// Experiment target `name` as configured when it was run. When every variant set
/// parameters only its `name@variant` copies were recorded: each parameter is taken from
/// a copy whose variant did not set it (when every variant set it, it was never sent as
/// configured, and any value gives the same requests).
fn base_target(session: &Session, record: &ExperimentRecord, name: &str) -> Result<Target, String> {
    let settings = recorded_settings(session, record, name);
    let Some((first_variant, first)) = settings.first() else {
        return Err(format!(
            "experiment target `{name}` is not among the targets of session {}: the file is corrupt",
            session.meta.id
        ));
    };
    let mut target = recorded_target(first)?;
    target.name = name.to_string();
    if first_variant.is_none() {
        return Ok(target);
    }
    let copies: Vec<(&crate::session::schema::VariantRecord, Target)> = settings
        .iter()
        .filter_map(|(v, s)| Some((record.variants.get((*v)?)?, s.to_target()?)))
        .collect();
    if let Some((_, t)) = copies.iter().find(|(v, _)| v.temperature.is_none()) {
        target.params.temperature = t.params.temperature;
    }
    if let Some((_, t)) = copies.iter().find(|(v, _)| v.top_p.is_none()) {
        target.params.top_p = t.params.top_p;
    }
    if let Some((_, t)) = copies.iter().find(|(v, _)| v.max_tokens.is_none()) {
        target.params.max_tokens = t.params.max_tokens;
    }
    if let Some((_, t)) = copies.iter().find(|(v, _)| v.seed.is_none()) {
        target.params.seed = t.params.seed;
    }
    // Tools as the target had them: from a copy whose variant left them alone.
    if let Some((_, t)) = copies
        .iter()
        .find(|(v, _)| v.tools.is_none() && v.tool_choice.is_none() && v.tool_results.is_none())
    {
        target.params.tools.clone_from(&t.params.tools);
    }
    Ok(target)
}

/// A cell as both sides name it: case index, variant index, target name.
pub type CellKey = (Option<usize>, Option<usize>, String);

/// Every counted run the session recorded, per cell, in repeat order; warmups left out.
/// Rows of streams cut off by a crash are rebuilt from their events (priced with
/// `prices`), so this may load tokenizer tables: call it off the async workers.
pub fn recorded_cells(session: &Session, prices: &PriceTable) -> BTreeMap<CellKey, Vec<ResultRow>> {
    let Some(record) = session.experiment.as_ref() else {
        return BTreeMap::new();
    };
    let mut runs: BTreeMap<CellKey, Vec<(u32, ResultRow)>> = BTreeMap::new();
    for turn in &session.turns {
        for (&target, recorded) in &turn.answers {
            let Some(cell) = session.cells.get(&recorded.run) else {
                continue;
            };
            let (false, Some(name)) = (cell.warmup, record.targets.get(cell.target)) else {
                continue;
            };
            if let Some(row) = result_row(session, turn, target, prices) {
                runs.entry((cell.case, cell.variant, name.clone()))
                    .or_default()
                    .push((cell.repeat, row));
            }
        }
    }
    runs.into_iter()
        .map(|(key, mut rows)| {
            rows.sort_by_key(|(repeat, _)| *repeat);
            (key, rows.into_iter().map(|(_, row)| row).collect())
        })
        .collect()
}

/// One side of a cell: how many counted runs there were and succeeded, the last one's
/// status and answer, and the distributions over the successful runs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellSide {
    /// Counted runs (sent, recorded).
    pub runs: usize,
    /// Of them, the successful ones: the samples of the distributions.
    pub ok: usize,
    /// The last run's status; `null` when there was none.
    pub status: Option<Status>,
    /// The last run's answer.
    pub text: String,
    /// Why the last run failed, when it did.
    pub error: Option<ErrorRow>,
    #[serde(flatten)]
    pub dists: Dists,
}

impl CellSide {
    /// A side of `rows`, in repeat order.
    pub fn of_rows(rows: &[ResultRow]) -> Self {
        let runs: Vec<RunResult> = rows.iter().map(RunResult::of).collect();
        Self::of(&runs, rows.last())
    }

    /// A side of a live run's cell.
    pub fn of_cell(cell: &CellResult) -> Self {
        Self::of(&cell.runs, (!cell.runs.is_empty()).then_some(&cell.row))
    }

    fn of(runs: &[RunResult], last: Option<&ResultRow>) -> Self {
        Self {
            runs: runs.len(),
            ok: runs.iter().filter(|r| r.succeeded()).count(),
            status: last.map(|r| r.status),
            text: last.map(|r| r.text.clone()).unwrap_or_default(),
            error: last.and_then(|r| r.error.clone()),
            dists: Dists::of(runs),
        }
    }
}

/// One cell recorded against new: the JSON object `prism rerun --format json` prints
/// for an experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CellComparison {
    /// The case's id, else its 1-based row number; `null` without cases.
    pub case: Option<CaseKey>,
    /// The variant's name; `null` without variants.
    pub variant: Option<String>,
    /// The experiment target's name.
    pub target: String,
    /// The case's values; empty without cases.
    pub vars: Map<String, Value>,
    /// The recorded runs.
    pub old: CellSide,
    /// Today's runs.
    pub new: CellSide,
    /// Word similarity of the last answers, 0 to 1.
    pub similarity: f32,
    /// Word diff of the last answers.
    pub diff: Vec<Chunk>,
}

/// Every cell of the new run against its recording, in the plan's cell order (case,
/// variant, target).
pub fn compare_cells(
    plan: &Plan,
    new: &[CellResult],
    recorded: &BTreeMap<CellKey, Vec<ResultRow>>,
) -> Vec<CellComparison> {
    new.iter()
        .filter_map(|c| {
            let cell = plan.cells.get(c.cell)?;
            let target = plan.design.targets.get(cell.target)?.name.clone();
            let old = recorded
                .get(&(cell.case, cell.variant, target.clone()))
                .map_or_else(|| CellSide::of_rows(&[]), |rows| CellSide::of_rows(rows));
            let new = CellSide::of_cell(c);
            Some(CellComparison {
                case: c.case.clone(),
                variant: c.variant.clone(),
                target,
                vars: c.vars.clone(),
                similarity: similarity(&old.text, &new.text),
                diff: word_diff(&old.text, &new.text),
                old,
                new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is the failure report

    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::config::{ParamOverrides, Variant};
    use crate::session::schema::Meta;
    use crate::target::{KeySource, Params, ProviderKind};

    fn target() -> Target {
        Target {
            name: "x".into(),
            provider: ProviderKind::OpenAi,
            model: "m".into(),
            base_url: "http://127.0.0.1:9/v1".into(),
            key: KeySource::Env(vec!["K".into()]),
            params: Params {
                temperature: Some(0.2),
                max_tokens: Some(100),
                ..Params::default()
            },
        }
    }

    fn variant(name: &str, params: ParamOverrides) -> Variant {
        Variant {
            name: name.into(),
            prompt: Some(format!("{name} prompt")),
            params,
            origin: "--variant".into(),
            ..Variant::default()
        }
    }

    /// A session holding `plan`'s targets and experiment record (no sends needed here).
    fn session_of(plan: &Plan) -> Session {
        Session {
            dir: PathBuf::from("s"),
            meta: Meta {
                version: 1,
                id: "s1".into(),
                name: None,
                created: String::new(),
                updated: String::new(),
                first_prompt: String::new(),
                targets: Vec::new(),
                turns: 0,
                cost_usd: 0.0,
                cost_incomplete: false,
                tags: Vec::new(),
            },
            targets: plan.session_targets.iter().map(TargetSettings::of).collect(),
            turns: Vec::new(),
            last_run: 0,
            cut_short: false,
            votes: Vec::new(),
            experiment: plan.record(),
            cells: BTreeMap::new(),
        }
    }

    #[test]
    fn a_target_only_recorded_as_its_variants_copies_is_rebuilt_as_configured() {
        let hot = ParamOverrides {
            temperature: Some(0.9),
            ..ParamOverrides::default()
        };
        let long = ParamOverrides {
            max_tokens: Some(500),
            ..ParamOverrides::default()
        };
        let original = Design {
            targets: vec![target()],
            variants: vec![variant("hot", hot), variant("long", long)],
            repeat: 2,
            ..Design::default()
        };
        let plan = Plan::build(original).unwrap();
        let session = session_of(&plan);
        let names: Vec<_> = session.targets.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["x@hot", "x@long"], "no plain `x` was recorded");
        let rebuilt = design(&session, &["x"], None, None).unwrap();
        assert_eq!(
            rebuilt.targets,
            vec![target()],
            "each parameter from a copy that kept it"
        );
        let again = Plan::build(rebuilt).unwrap();
        assert_eq!(again.session_targets, plan.session_targets);
        assert_eq!(again.cells, plan.cells);
        assert_eq!(again.record(), plan.record());
    }

    #[test]
    fn unknown_targets_and_a_missing_demo_server_are_named() {
        let mut t = target();
        t.key = KeySource::Demo;
        let plan = Plan::build(Design {
            targets: vec![t],
            variants: vec![variant("a", ParamOverrides::default())],
            repeat: 2,
            ..Design::default()
        })
        .unwrap();
        let session = session_of(&plan);
        let record = record(&session).unwrap();
        let e = chosen(record, &["y".into()], "s1").unwrap_err();
        assert_eq!(e, "no target named `y` in experiment s1; it has: x");
        assert_eq!(chosen(record, &[], "s1").unwrap(), ["x"]);
        assert!(uses_demo(&session, record, &["x"], None));
        let e = design(&session, &["x"], None, None).unwrap_err();
        assert!(e.contains("needs the demo server"), "{e}");
        let mut plain = session.clone();
        plain.experiment = None;
        assert!(super::record(&plain).is_err_and(|e| e.contains("is not an experiment")));
    }

    #[test]
    fn a_cell_with_no_recorded_runs_compares_as_empty() {
        let side = CellSide::of_rows(&[]);
        assert_eq!(
            (side.runs, side.ok, side.status, side.text.as_str()),
            (0, 0, None, "")
        );
        assert_eq!(side.dists.ttft_ms_dist.n, 0);
    }
}
