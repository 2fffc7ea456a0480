//! The details lines beyond the measured numbers: what the server says about its own
//! time, the endpoint and where it came from, the price that applied, the content
//! filter's verdicts and how the answer arrived. Each returns no line when the fact is
//! unknown.

use std::time::Duration;

use crate::engine::metrics::{Outcome, TargetRun};
use crate::pricing::{Breakdown, ModelPrice, Picodollars, Rates, usd};
use crate::provider::azure::{ContentFilter, FilterVerdict};
use crate::provider::event::Usage;
use crate::provider::server::ServerReport;
use crate::target::{BaseUrlSource, Target};

/// A details line: its label and its value.
pub type Line = (&'static str, String);

/// Milliseconds as a server reports them: whole above 10, one decimal below.
fn server_ms(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

/// A measured duration: ms below a second, seconds with two decimals above.
fn span(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.2} s", d.as_secs_f64())
    }
}

/// `endpoint   https://… (from $OPENAI_BASE_URL)`, credentials in the URL masked.
pub fn endpoint(t: &Target) -> Line {
    let from = match &t.params.base_url_source {
        BaseUrlSource::Config => "from the config".to_string(),
        BaseUrlSource::Env(var) => format!("from ${var}"),
        BaseUrlSource::Default => "the provider's default".to_string(),
    };
    (
        "endpoint",
        format!("{} ({from})", crate::masking::url(&t.base_url)),
    )
}

/// What the server says about its own time: one line per report source, then what the
/// measured time leaves once the server's part is taken out.
pub fn server(m: &TargetRun) -> Vec<Line> {
    let Some(r) = m.server_report() else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    if !r.header_timings.is_empty() {
        let parts: Vec<String> = r
            .header_timings
            .iter()
            .map(|t| {
                let from = if t.header == "server-timing" {
                    format!("server-timing {}", t.name)
                } else {
                    t.header.clone()
                };
                format!("{} {} ({from})", t.name, server_ms(t.ms))
            })
            .collect();
        lines.push(("server", parts.join(" · ")));
    }
    let mut body = Vec::new();
    let mut add = |what: &str, v: Option<f64>| {
        if let Some(ms) = v {
            body.push(format!("{what} {}", server_ms(ms)));
        }
    };
    add("queue", r.queue_ms);
    add("prompt", r.prompt_ms);
    add("generation", r.generation_ms);
    add("total", r.total_ms);
    if let Some(tps) = r.tokens_per_s {
        body.push(format!("{tps:.1} tokens/s"));
    }
    if !body.is_empty() {
        let source = body_source(r);
        lines.push(("server", format!("{} ({source})", body.join(" · "))));
    }
    if let Some(cost) = r.cost_usd {
        lines.push(("server", format!("cost ${cost:.6} (the provider's own figure)")));
    }
    if let Some(id) = &r.generation_id {
        lines.push(("server", format!("generation id {id}")));
    }
    if let Some(model) = &r.model {
        lines.push(("served by", model.clone()));
    }
    lines.extend(unaccounted(m, r));
    lines
}

/// The report's sources other than the headers (shown on the header line itself).
fn body_source(r: &ServerReport) -> String {
    let s: Vec<&str> = r
        .source
        .split(", ")
        .filter(|s| !s.is_empty() && *s != "response headers" && *s != "x-generation-id")
        .collect();
    if s.is_empty() {
        "reported".into()
    } else {
        s.join(", ")
    }
}

/// The measured time left once the server's own time before the first token is taken
/// out: network and queueing in front of it, if the server's claim is true. Body timings
/// (queue + prompt) are compared with TTFT; a header's time can only cover what came
/// before the headers, so it is compared with TTFB.
fn unaccounted(m: &TargetRun, r: &ServerReport) -> Option<Line> {
    let (measured_what, measured, server, what) = if let Some(prompt) = r.prompt_ms {
        let queue = r.queue_ms.unwrap_or(0.0);
        let what = if r.queue_ms.is_some() {
            "queue + prompt"
        } else {
            "prompt"
        };
        ("TTFT", m.ttft()?, queue + prompt, what.to_string())
    } else {
        let t = r
            .header_timings
            .iter()
            .find(|t| t.name == "processing")
            .or_else(|| r.header_timings.iter().find(|t| t.name == "upstream"))
            .or_else(|| r.header_timings.iter().find(|t| t.header == "server-timing"))?;
        ("TTFB", m.ttfb()?, t.ms, t.name.clone())
    };
    let measured_ms = measured.as_secs_f64() * 1e3;
    let left = measured_ms - server;
    let text = if left >= 0.0 {
        format!(
            "{measured_what} {} − server {} ({what}) leaves {} for network and queueing (the server's claim)",
            span(measured),
            server_ms(server),
            server_ms(left)
        )
    } else {
        format!(
            "the server claims {} ({what}), more than the {measured_what} of {} measured here: its claim does not add up",
            server_ms(server),
            span(measured)
        )
    };
    Some(("net+queue", text))
}

/// `arrival    longest gap 2.31 s · 62% of output within 1 ms of the previous chunk (bursty) · ITL per token 4.1 ms`
pub fn arrival(m: &TargetRun, output_tokens: Option<u64>) -> Option<Line> {
    let share = m.burst_share()?;
    let gap = m.longest_gap()?;
    let pct = (share * 100.0).round();
    let kind = if share >= 0.5 {
        " (bursty)"
    } else if share <= 0.1 {
        " (steady)"
    } else {
        ""
    };
    let mut text = format!(
        "longest gap {} · {pct:.0}% of output within 1 ms of the previous chunk{kind}",
        span(gap)
    );
    if let Some(per) = m.itl_per_token(output_tokens) {
        text.push_str(&format!(" · ITL per token {:.1} ms", per.as_secs_f64() * 1e3));
    }
    Some(("arrival", text))
}

/// One verdict: `hate safe`, `violence filtered (medium)`, `jailbreak not detected`.
fn verdict(v: &FilterVerdict) -> String {
    let grade = match (&v.severity, v.detected) {
        (Some(s), _) => s.clone(),
        (None, Some(true)) => "detected".into(),
        (None, Some(false)) => "not detected".into(),
        (None, None) => String::new(),
    };
    match (v.filtered, grade.is_empty()) {
        (true, true) => format!("{} filtered", v.category),
        (true, false) => format!("{} filtered ({grade})", v.category),
        (false, _) => format!("{} {grade}", v.category).trim_end().to_string(),
    }
}

/// Azure's content filter: the prompt's and the answer's verdicts, or which categories
/// blocked the prompt (the 400 a refused prompt gets never starts a stream).
pub fn content_filter(m: &TargetRun) -> Vec<Line> {
    let mut lines = Vec::new();
    if let Some(Outcome::Failed(e)) = &m.outcome
        && let Some(categories) = e
            .raw_body
            .as_deref()
            .and_then(crate::provider::azure::filter::refused_prompt)
    {
        let named = if categories.is_empty() {
            "no category named".to_string()
        } else {
            categories.join(", ")
        };
        lines.push(("filter", format!("prompt blocked: {named}")));
    }
    let Some(f) = m.content_filter() else {
        return lines;
    };
    let all = |vs: &[FilterVerdict]| vs.iter().map(verdict).collect::<Vec<_>>().join(" · ");
    let blocked: Vec<&str> = f
        .prompt
        .iter()
        .filter(|v| v.filtered)
        .map(|v| v.category.as_str())
        .collect();
    if !blocked.is_empty() && lines.is_empty() {
        lines.push(("filter", format!("prompt blocked: {}", blocked.join(", "))));
    }
    if !f.prompt.is_empty() {
        lines.push(("filter", format!("prompt: {}", all(&f.prompt))));
    }
    if !f.completion.is_empty() {
        lines.push(("filter", format!("answer: {}", all(&f.completion))));
    }
    lines.extend(filter_error(f));
    lines
}

fn filter_error(f: &ContentFilter) -> Option<Line> {
    f.error
        .as_ref()
        .map(|e| ("filter", format!("could not judge everything: {e}")))
}

/// Dollars per million tokens, exactly, from picodollars per token: `0.15`, `3.00`,
/// `0.075`.
fn per_million(pd: u64) -> String {
    let whole = pd / 1_000_000;
    let frac = format!("{:06}", pd % 1_000_000);
    let frac = frac.trim_end_matches('0');
    format!("${whole}.{frac:0<2}")
}

fn dollars(pd: Picodollars) -> String {
    format!("${:.6}", usd(pd))
}

/// The price that applied: its entry and data, the rates of the tier that applied, and
/// the cost split by what it paid for. `usage` carries the output count the pane shows
/// (`estimated` when it is the local count).
pub fn price(
    t: &Target,
    p: &ModelPrice,
    usage: &Usage,
    estimated: bool,
    server: Option<&ServerReport>,
) -> Vec<Line> {
    let mut lines = Vec::new();
    let mut which = format!("{} in {}", p.entry, p.source);
    if let Some(r) = &p.retired {
        which.push_str(&format!(
            " · retired ({r} no longer lists it; its last price applies)"
        ));
    }
    if let Some(as_) = &t.params.price_as {
        which.push_str(&format!(" · price_as \"{as_}\""));
    }
    lines.push(("price", which));
    let breakdown = p.breakdown(usage);
    let tier = breakdown.and_then(|b| b.tier);
    let rates = breakdown.map_or_else(|| p.rates(None), |b| b.rates);
    lines.push(("rates", rates_text(p, &rates, tier)));
    if let Some(b) = breakdown {
        lines.push(("cost", cost_text(&b, estimated, server)));
    }
    lines
}

fn rates_text(p: &ModelPrice, r: &Rates, tier: Option<u64>) -> String {
    let cached = if p.cached_input.is_some() {
        per_million(r.cached_input)
    } else {
        "as input".into()
    };
    let write = if p.cache_write.is_some() {
        per_million(r.cache_write)
    } else {
        "as input".into()
    };
    let tier = match tier {
        Some(above) => format!(", the tier above {above} input tokens"),
        None => String::new(),
    };
    format!(
        "per 1M tokens{tier}: input {} · output {} · cached {cached} · cache write {write}",
        per_million(r.input),
        per_million(r.output)
    )
}

fn cost_text(b: &Breakdown, estimated: bool, server: Option<&ServerReport>) -> String {
    let mut text = format!(
        "input {} + output {}{} + cache {} = {}",
        dollars(b.input),
        if estimated { "~" } else { "" },
        dollars(b.output),
        dollars(b.cache),
        dollars(b.total())
    );
    if estimated {
        text.push_str(" (output from the local count)");
    }
    if let Some(theirs) = server.and_then(|s| s.cost_usd) {
        text.push_str(&format!(" · the server says ${theirs:.6}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_per_million_are_exact() {
        assert_eq!(per_million(150_000), "$0.15");
        assert_eq!(per_million(3_000_000), "$3.00");
        assert_eq!(per_million(75_000), "$0.075");
        assert_eq!(per_million(1_250_001), "$1.250001");
    }

    #[test]
    fn verdicts_read_as_words() {
        let v = |c: &str, filtered, severity: Option<&str>, detected| FilterVerdict {
            category: c.into(),
            filtered,
            severity: severity.map(str::to_string),
            detected,
        };
        assert_eq!(verdict(&v("hate", false, Some("safe"), None)), "hate safe");
        assert_eq!(
            verdict(&v("violence", true, Some("medium"), None)),
            "violence filtered (medium)"
        );
        assert_eq!(
            verdict(&v("jailbreak", false, None, Some(false))),
            "jailbreak not detected"
        );
    }

    #[test]
    fn a_refused_prompt_names_its_categories_and_a_plain_failure_says_nothing() {
        use crate::provider::event::{ErrorKind, ProviderError};
        let body = r#"{"error":{"message":"filtered","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":false,"severity":"safe"},"violence":{"filtered":true,"severity":"medium"}}}}}"#;
        let mut e = ProviderError::new(ErrorKind::InvalidRequest, "HTTP 400: prompt blocked");
        e.raw_body = Some(body.into());
        let run = TargetRun {
            outcome: Some(Outcome::Failed(e.clone())),
            ..TargetRun::default()
        };
        assert_eq!(
            content_filter(&run),
            [("filter", "prompt blocked: violence".to_string())]
        );
        e.raw_body = Some(r#"{"error":{"code":"invalid_request"}}"#.into());
        let plain = TargetRun {
            outcome: Some(Outcome::Failed(e)),
            ..TargetRun::default()
        };
        assert!(content_filter(&plain).is_empty());
    }
}
