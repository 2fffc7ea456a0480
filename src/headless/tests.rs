#![allow(clippy::unwrap_used)]

use unicode_width::UnicodeWidthStr;

use super::*;

/// A row as a real run prints it, with the widest values a table meets: a TTFT with its
/// text split, a long request id, and token counts the provider did not report.
fn row(target: &str, estimate: bool) -> ResultRow {
    serde_json::from_value(serde_json::json!({
        "target": target,
        "provider": "openai",
        "model": "gpt-4o-mini",
        "status": "ok",
        "text": "Hello",
        "finish_reason": "stop",
        "finish_reason_raw": "stop",
        "usage": {
            "input_tokens": 1234,
            "output_tokens": 567,
            "cached_input_tokens": null,
            "cache_write_tokens": null,
            "reasoning_tokens": null,
            "source": if estimate { "estimate" } else { "provider" },
        },
        "ttft_ms": 1234.5,
        "ttfb_ms": 1200.25,
        "total_ms": 12345.6,
        "itl_ms": {"mean": 10.0, "p50": 9.5, "p95": 30.25},
        "tokens_per_s": 45.6,
        "cost_usd": 0.001234,
        "http_status": 200,
        "request_id": "chatcmpl-AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "retries": 2,
        "tool_calls": null,
        "error": null,
    }))
    .map(|mut r: ResultRow| {
        r.ttft_text_ms = Some(1400.0);
        r
    })
    .unwrap()
}

fn table(rows: &[ResultRow], width: Option<u16>) -> String {
    let mut out = Vec::new();
    print_table(rows, width, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn the_table_fits_80_columns_by_dropping_the_least_important_columns() {
    let rows = [row("gpt-4o-mini", false), row("claude-sonnet", true)];
    let wide = table(&rows, None);
    assert!(
        wide.lines().any(|l| l.width() > 80),
        "unlimited, every column:\n{wide}"
    );
    assert!(wide.contains("request id") && wide.contains("retries"), "{wide}");
    let narrow = table(&rows, Some(80));
    for line in narrow.lines() {
        assert!(line.width() <= 80, "{} columns: {line}\n{narrow}", line.width());
    }
    for kept in ["target", "status", "TTFT ms", "tok/s", "claude-sonnet"] {
        assert!(narrow.contains(kept), "{kept} is kept:\n{narrow}");
    }
    let header = narrow.lines().nth(1).unwrap();
    assert!(
        header.contains("target") && !header.contains("request id"),
        "{narrow}"
    );
    assert!(!narrow.contains("chatcmpl"), "{narrow}");
    assert!(
        narrow
            .replace('\n', " ")
            .contains("not shown, to fit the terminal: "),
        "{narrow}"
    );
}

#[test]
fn the_estimate_footnote_shows_only_with_a_tilde() {
    let footnote = "~ local o200k estimate";
    assert!(table(&[row("a", true)], None).contains(footnote));
    assert!(!table(&[row("a", false)], None).contains(footnote));
    // So narrow that in, out and cost are all gone: no `~` on screen, no footnote.
    let tiny = table(&[row("a", true)], Some(40));
    assert!(!tiny.contains('~'), "{tiny}");
}

#[test]
fn the_scoreboard_prints_tool_choices_cache_savings_and_their_diffs_only_when_present() {
    let rows = crate::workflows::experiment::scoreboard::tests::tool_and_cache_rows();
    let mut printed = Vec::new();
    print_scoreboard(&rows, None, &mut printed).unwrap();
    let printed = String::from_utf8(printed).unwrap();
    assert!(printed.contains("get_weather 2/2 ref"), "{printed}");
    assert!(printed.contains("r 1500 w 0 +$0.000500"), "{printed}");
    assert!(
        printed.contains(r#"a/y vs x: get_weather {"city": [-"Paris"}-]{+"Lyon"}+}"#),
        "{printed}"
    );
    let plain: Vec<ScoreRow> = rows
        .into_iter()
        .map(|mut r| {
            r.tools = None;
            r.cache_read_tokens_mean = None;
            r.cache_write_tokens_mean = None;
            r.cache_saved_usd_mean = None;
            r
        })
        .collect();
    let mut printed = Vec::new();
    print_scoreboard(&plain, None, &mut printed).unwrap();
    let printed = String::from_utf8(printed).unwrap();
    assert!(
        !printed.contains("tools") && !printed.contains("cache"),
        "{printed}"
    );
}
