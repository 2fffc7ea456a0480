//! The CSV export: one row per turn and target (per run in an experiment).

use super::*;

/// CSV header, in column order.
pub const CSV_COLUMNS: [&str; 44] = [
    "session",
    "turn",
    "target",
    "provider",
    "model",
    "status",
    "finish_reason",
    "ttft_ms",
    "ttfb_ms",
    "total_ms",
    "itl_mean_ms",
    "itl_p50_ms",
    "itl_p95_ms",
    "tokens_per_s",
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "usage_source",
    "cost_usd",
    "retries",
    "http_status",
    "request_id",
    "interrupted",
    "prompt",
    "answer",
    "refusal",
    "variant",
    "case",
    "run",
    "warmup",
    "schema_valid",
    "schema_errors",
    "cache_write_tokens",
    "cache_saved_usd",
    "tool_calls",
    "tool_arguments",
    "timestamp",
    "system",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "parameters",
    "reasoning_tokens",
];

/// CSV into `out`: [`CSV_COLUMNS`], one row per turn and target, empty cells for unknown
/// numbers, times in `zone` (RFC 3339 with its offset).
pub fn write_csv(session: &Session, prices: &PriceTable, zone: &TimeZone, out: impl Write) -> io::Result<()> {
    write_csv_of(std::iter::once(Ok(session)), prices, zone, out)
}

/// CSV of several sessions into `out`: one header, then each session's rows in turn
/// (the `session` column tells them apart). Sessions come one at a time, so only one is
/// in memory; the first error stops the export.
pub fn write_csv_of<'a>(
    sessions: impl IntoIterator<Item = io::Result<&'a Session>>,
    prices: &PriceTable,
    zone: &TimeZone,
    out: impl Write,
) -> io::Result<()> {
    // The header is written by hand so that a session with no answers still has one.
    let mut w = csv::WriterBuilder::new().has_headers(false).from_writer(out);
    w.write_record(CSV_COLUMNS).map_err(csv_io)?;
    for session in sessions {
        let session = session?;
        for turn in &session.turns {
            for (&i, recorded) in &turn.answers {
                let row = result_row(session, turn, i, prices);
                let label = cell_label(session, recorded);
                let record = CsvRow::of(session, turn, i, recorded, row.as_ref(), label.as_ref(), zone);
                w.serialize(record).map_err(csv_io)?;
            }
        }
    }
    w.flush()
}

/// One line of the CSV export. Field names are the column names, in [`CSV_COLUMNS`]
/// order; `None` is an empty cell.
#[derive(Debug, Serialize)]
pub(super) struct CsvRow<'a> {
    session: &'a str,
    turn: u32,
    target: &'a str,
    provider: &'a str,
    model: &'a str,
    status: Option<Status>,
    finish_reason: Option<FinishReason>,
    #[serde(serialize_with = "decimal")]
    ttft_ms: Option<f64>,
    #[serde(serialize_with = "decimal")]
    ttfb_ms: Option<f64>,
    #[serde(serialize_with = "decimal")]
    total_ms: Option<f64>,
    #[serde(serialize_with = "decimal")]
    itl_mean_ms: Option<f64>,
    #[serde(serialize_with = "decimal")]
    itl_p50_ms: Option<f64>,
    #[serde(serialize_with = "decimal")]
    itl_p95_ms: Option<f64>,
    #[serde(serialize_with = "decimal")]
    tokens_per_s: Option<f64>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    cached_input_tokens: Option<u64>,
    usage_source: Option<UsageSource>,
    #[serde(serialize_with = "decimal")]
    cost_usd: Option<f64>,
    retries: Option<u32>,
    http_status: Option<u16>,
    request_id: Option<&'a str>,
    interrupted: bool,
    prompt: &'a str,
    answer: String,
    /// The refusal message sent apart from the answer; empty when there was none.
    refusal: Option<&'a str>,
    variant: Option<&'a str>,
    case: Option<&'a str>,
    run: Option<u32>,
    warmup: Option<bool>,
    /// Empty when no schema was sent.
    schema_valid: Option<bool>,
    /// `path: reason` per violation, joined by `; ` (a bare reason for the whole answer).
    schema_errors: Option<String>,
    cache_write_tokens: Option<u64>,
    /// What caching saved against no caching (negative: writes cost more).
    #[serde(serialize_with = "decimal")]
    cache_saved_usd: Option<f64>,
    /// The tools called, in order, joined by `; `; empty when none.
    tool_calls: Option<String>,
    /// A JSON array of each call's arguments, parsed (a string when not JSON).
    tool_arguments: Option<String>,
    /// When the turn was sent, RFC 3339 in the export's time zone, with its offset.
    timestamp: String,
    /// The turn's system prompt; empty when there was none.
    system: Option<&'a str>,
    #[serde(serialize_with = "decimal")]
    temperature: Option<f64>,
    #[serde(serialize_with = "decimal")]
    top_p: Option<f64>,
    max_tokens: Option<u32>,
    seed: Option<i64>,
    /// Every parameter that was set, as `temperature 0.2, max_tokens 512, streaming`.
    parameters: Option<String>,
    reasoning_tokens: Option<u64>,
}

impl<'a> CsvRow<'a> {
    /// The line of `target` (session index) in `turn`. Without a row (a cut-off stream
    /// this build cannot recompute) only the target's identity and text are known.
    pub(super) fn of(
        session: &'a Session,
        turn: &'a Turn,
        target: usize,
        recorded: &Recorded,
        row: Option<&'a ResultRow>,
        cell: Option<&'a CellLabel>,
        zone: &TimeZone,
    ) -> Self {
        let settings = session.targets.get(target);
        // The row's own names, else the settings' (a row is missing, or recorded blank).
        let name = |of_row: fn(&ResultRow) -> &str, of_settings: fn(&TargetSettings) -> &str| {
            row.map(of_row)
                .filter(|s| !s.is_empty())
                .or_else(|| settings.map(of_settings))
                .unwrap_or_default()
        };
        let tool_calls = row
            .and_then(|r| r.tool_calls.as_deref())
            .filter(|c| !c.is_empty());
        Self {
            session: &session.meta.id,
            turn: turn.number,
            target: name(|r| &r.target, |t| &t.name),
            provider: name(|r| &r.provider, |t| &t.provider),
            model: name(|r| &r.model, |t| &t.model),
            status: row.map(|r| r.status),
            finish_reason: row.and_then(|r| r.finish_reason),
            ttft_ms: row.and_then(|r| r.ttft_ms),
            ttfb_ms: row.and_then(|r| r.ttfb_ms),
            total_ms: row.and_then(|r| r.total_ms),
            itl_mean_ms: row.and_then(|r| r.itl_ms.mean),
            itl_p50_ms: row.and_then(|r| r.itl_ms.p50),
            itl_p95_ms: row.and_then(|r| r.itl_ms.p95),
            tokens_per_s: row.and_then(|r| r.tokens_per_s),
            input_tokens: row.and_then(|r| r.usage.input_tokens),
            output_tokens: row.and_then(|r| r.usage.output_tokens),
            cached_input_tokens: row.and_then(|r| r.usage.cached_input_tokens),
            usage_source: row.map(|r| r.usage.source),
            cost_usd: row.and_then(|r| r.cost_usd),
            retries: row.map(|r| r.retries),
            http_status: row.and_then(|r| r.http_status),
            request_id: row.and_then(|r| r.request_id.as_deref()),
            interrupted: recorded.interrupted,
            prompt: &turn.prompt,
            answer: recorded.text(),
            refusal: row.and_then(|r| r.refusal.as_deref()),
            variant: cell.and_then(|c| c.variant.as_deref()),
            case: cell.and_then(|c| c.case.as_deref()),
            run: cell.map(|c| c.run),
            warmup: cell.map(|c| c.warmup),
            schema_valid: row.and_then(|r| r.schema_valid),
            schema_errors: row.and_then(|r| r.schema_errors.as_deref()).map(schema_errors),
            cache_write_tokens: row.and_then(|r| r.usage.cache_write_tokens),
            cache_saved_usd: row.and_then(|r| r.cache).and_then(|c| c.saved_usd),
            tool_calls: tool_calls.map(|calls| {
                calls
                    .iter()
                    .map(|c| c.name.as_deref().unwrap_or("?"))
                    .collect::<Vec<_>>()
                    .join("; ")
            }),
            tool_arguments: tool_calls.map(|calls| {
                let args: Vec<serde_json::Value> = calls
                    .iter()
                    .map(|c| {
                        serde_json::from_str(&c.arguments)
                            .unwrap_or_else(|_| serde_json::Value::String(c.arguments.clone()))
                    })
                    .collect();
                serde_json::Value::Array(args).to_string()
            }),
            timestamp: local_time::rfc3339_in(&turn.wall, zone),
            system: turn.system.as_deref().filter(|s| !s.is_empty()),
            temperature: settings.and_then(|t| t.temperature),
            top_p: settings.and_then(|t| t.top_p),
            max_tokens: settings.and_then(|t| t.max_tokens),
            seed: settings.and_then(|t| t.seed),
            parameters: settings.map(params_summary),
            reasoning_tokens: row.and_then(|r| r.usage.reasoning_tokens),
        }
    }
}

/// Violations in one cell: `/items/0/price: "2" is not of type "number"; …`.
fn schema_errors(errors: &[crate::schema::SchemaError]) -> String {
    errors
        .iter()
        .map(|e| {
            if e.path.is_empty() {
                e.reason.clone()
            } else {
                format!("{}: {}", e.path, e.reason)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A number as the shortest exact decimal with no exponent (`0.000006525`, `20`), which
/// every spreadsheet reads as a number; the CSV writer's own float format would write
/// `6.525e-6` and `20.0`. Unknown is an empty cell.
pub(super) fn decimal<S: Serializer>(v: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.serialize_str(&v.to_string()),
        None => s.serialize_none(),
    }
}

/// The error of a CSV write, keeping an I/O error's kind (a closed pipe stays
/// recognisable to the caller).
fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        // Every record has the header's length, so only the writer underneath can fail.
        other => io::Error::other(format!("{other:?}")),
    }
}
