use super::*;
use crate::provider::event::FinishReason;
use crate::report::Status;

fn run(status: Status, ttft: f64, tps: f64, cost: Option<f64>) -> RunResult {
    RunResult {
        status,
        ttft_ms: Some(ttft),
        total_ms: Some(ttft * 2.0),
        tokens_per_s: Some(tps),
        output_tokens: Some(10),
        cost_usd: cost,
        finish_reason: Some(if status == Status::Ok {
            FinishReason::Stop
        } else {
            FinishReason::Error
        }),
        cache_saved_usd: None,
        schema_valid: None,
        cache_read_tokens: None,
        cache_write_tokens: None,
        tool_calls: Vec::new(),
    }
}

fn scored(variant: usize, target: usize, r: RunResult) -> Scored {
    Scored {
        variant: Some((variant, ["a", "b"][variant].to_string())),
        target: (target, ["x", "y"][target].to_string()),
        run: r,
    }
}

#[test]
fn rows_aggregate_over_successful_runs_and_count_failures_apart() {
    let rows = scoreboard([
        scored(1, 0, run(Status::Ok, 100.0, 50.0, Some(0.002))),
        scored(0, 1, run(Status::Ok, 300.0, 10.0, None)),
        scored(0, 0, run(Status::Ok, 100.0, 40.0, Some(0.001))),
        scored(0, 0, run(Status::Ok, 300.0, 20.0, Some(0.003))),
        scored(0, 0, run(Status::Error, 5.0, 999.0, Some(1.0))),
    ]);
    let names: Vec<_> = rows
        .iter()
        .map(|r| format!("{}/{}", r.variant.as_deref().unwrap(), r.target))
        .collect();
    assert_eq!(names, ["a/x", "a/y", "b/x"], "variant, then target order");
    let ax = &rows[0];
    assert_eq!((ax.n, ax.failures, ax.refusals), (2, 1, 0));
    // The failed run's 5 ms is not a latency sample.
    assert_eq!(ax.ttft_ms_mean, Some(200.0));
    // Nearest rank: ceil(0.95 * 2) = rank 2 of [100, 300].
    assert_eq!(ax.ttft_ms_p95, Some(300.0));
    assert_eq!(ax.tokens_per_s_mean, Some(30.0));
    assert_eq!(ax.cost_usd_mean, Some(0.002));
    assert_eq!(ax.output_tokens_mean, Some(10.0));
    assert_eq!(
        ax.finish_reasons,
        BTreeMap::from([("error".to_string(), 1), ("stop".to_string(), 2)])
    );
    assert_eq!(rows[1].cost_usd_mean, None, "no known price, no mean");
}

#[test]
fn refused_runs_count_as_refusals_among_the_successful_ones() {
    let refused = RunResult {
        finish_reason: Some(FinishReason::Refusal),
        ..run(Status::Ok, 100.0, 50.0, None)
    };
    let rows = scoreboard([
        scored(0, 0, refused.clone()),
        scored(0, 0, run(Status::Ok, 100.0, 50.0, None)),
        scored(0, 0, run(Status::Error, 5.0, 1.0, None)),
        scored(0, 1, run(Status::Ok, 100.0, 50.0, None)),
    ]);
    assert_eq!((rows[0].n, rows[0].failures, rows[0].refusals), (2, 1, 1));
    assert_eq!(rows[0].finish_reasons.get("refusal"), Some(&1));
    assert_eq!(rows[1].refusals, 0);
    assert_eq!(best(&rows, Column::Refusals), [1], "fewest refusals is best");
    assert_eq!("refusals".parse::<Column>(), Ok(Column::Refusals));
}

#[test]
fn best_values_are_the_lowest_latency_and_cost_and_the_highest_speed() {
    let rows = scoreboard([
        scored(0, 0, run(Status::Ok, 100.0, 50.0, Some(0.002))),
        scored(0, 1, run(Status::Ok, 300.0, 10.0, Some(0.001))),
        scored(1, 0, run(Status::Ok, 100.0, 20.0, None)),
    ]);
    assert_eq!(best(&rows, Column::TtftMean), [0, 2], "ties are all best");
    assert_eq!(best(&rows, Column::TokensPerS), [0]);
    assert_eq!(best(&rows, Column::Cost), [1]);
    assert!(best(&rows, Column::OutputTokens).is_empty());
    assert!(
        best(&rows[..1], Column::TtftMean).is_empty(),
        "one row is best at nothing"
    );
    assert!(
        best(&rows, Column::Failures).is_empty(),
        "all 0: nothing stands out"
    );
    let mut sorted = rows.clone();
    sort(&mut sorted, Column::TokensPerS);
    let tps: Vec<_> = sorted.iter().map(|r| r.tokens_per_s_mean.unwrap()).collect();
    assert_eq!(tps, [50.0, 20.0, 10.0]);
    sort(&mut sorted, Column::Cost);
    let cost: Vec<_> = sorted.iter().map(|r| r.cost_usd_mean).collect();
    assert_eq!(cost, [Some(0.001), Some(0.002), None], "unknown last");
    assert_eq!("p95".parse::<Column>(), Ok(Column::TtftP95));
    assert!(
        "speed"
            .parse::<Column>()
            .unwrap_err()
            .contains("tokens_per_s_mean")
    );
}

#[test]
fn votes_count_per_row_and_sort_most_first() {
    let mut rows = scoreboard([
        scored(0, 0, run(Status::Ok, 100.0, 50.0, None)),
        scored(0, 1, run(Status::Ok, 300.0, 10.0, None)),
        scored(1, 1, run(Status::Ok, 300.0, 10.0, None)),
    ]);
    assert!(rows.iter().all(|r| r.votes.is_none()), "not counted yet");
    assert!(
        !serde_json::to_string(&rows[0]).unwrap().contains("votes"),
        "uncounted votes stay out of the JSON"
    );
    let pick = |v: &str, t: &str| (Some(v.to_string()), t.to_string());
    count_votes(
        &mut rows,
        [pick("a", "y"), pick("a", "y"), pick("b", "y"), pick("z", "x")],
    );
    let votes: Vec<_> = rows.iter().map(|r| r.votes).collect();
    assert_eq!(
        votes,
        [Some(0), Some(2), Some(1)],
        "a/x, a/y, b/y; z/x names no row"
    );
    assert_eq!(best(&rows, Column::Votes), [1]);
    sort(&mut rows, Column::Votes);
    assert_eq!(rows[0].votes, Some(2));
    assert_eq!("votes".parse::<Column>(), Ok(Column::Votes));
}

#[test]
fn valid_answers_are_counted_only_where_a_schema_was_sent() {
    let with = |valid: Option<bool>, status| RunResult {
        schema_valid: valid,
        ..run(status, 100.0, 50.0, None)
    };
    let rows = scoreboard([
        scored(0, 0, with(Some(true), Status::Ok)),
        scored(0, 0, with(Some(false), Status::Ok)),
        scored(0, 0, with(Some(false), Status::Error)),
        scored(0, 1, with(None, Status::Ok)),
    ]);
    assert_eq!(rows[0].valid, Some(1));
    assert_eq!(rows[0].valid_cell().as_deref(), Some("1/3"));
    assert_eq!(rows[1].valid, None);
    assert!(!serde_json::to_string(&rows[1]).unwrap().contains("valid"));
}

/// Rows of one variant where two targets called a tool with different arguments
/// and one read the prompt cache; the headless table's tests print them too.
pub(crate) fn tool_and_cache_rows() -> Vec<ScoreRow> {
    use crate::report::ToolCallRow;
    let calling = |args: &str, read: Option<u64>| RunResult {
        tool_calls: vec![ToolCallRow {
            id: Some("call_1".into()),
            name: Some("get_weather".into()),
            arguments: args.into(),
        }],
        cache_read_tokens: read,
        cache_write_tokens: Some(0),
        cache_saved_usd: read.map(|_| 0.0005),
        ..run(Status::Ok, 100.0, 50.0, None)
    };
    let failed = RunResult {
        tool_calls: vec![ToolCallRow {
            id: None,
            name: Some("other".into()),
            arguments: "{}".into(),
        }],
        ..run(Status::Error, 5.0, 1.0, None)
    };
    scoreboard([
        scored(0, 0, calling(r#"{"city":"Paris"}"#, Some(1000))),
        scored(0, 0, calling(r#"{"city":"Paris"}"#, Some(2000))),
        scored(0, 0, failed),
        scored(0, 1, calling(r#"{ "city" : "Lyon" }"#, None)),
    ])
}

#[test]
fn tool_choices_and_cache_means_reach_the_rows() {
    let rows = tool_and_cache_rows();
    let x = rows[0].tools.as_ref().unwrap();
    assert_eq!(x.cell(), "get_weather 2/2 ref", "the failed run is no choice");
    let y = rows[1].tools.as_ref().unwrap();
    assert_eq!(y.cell(), "get_weather 1/1 different");
    assert_eq!(
        y.diff.as_deref(),
        Some(r#"get_weather {"city": [-"Paris"}-]{+"Lyon"}+}"#)
    );
    assert_eq!(rows[0].cache_read_tokens_mean, Some(1500.0));
    assert_eq!(rows[0].cache_cell().as_deref(), Some("r 1500 w 0 +$0.000500"));
    assert_eq!(rows[1].cache_cell().as_deref(), Some("r - w 0 -"));
    let json = serde_json::to_value(&rows[1]).unwrap();
    assert_eq!(json["tools"]["verdict"], "different");
    assert_eq!(json["tools"]["reference"], "x");
    assert_eq!(json["tools"]["arguments"][0]["city"], "Lyon");
    let plain = scoreboard([scored(0, 0, run(Status::Ok, 1.0, 1.0, None))]);
    let json = serde_json::to_string(&plain[0]).unwrap();
    assert!(!json.contains("tools") && !json.contains("cache"), "{json}");
}
