//! What a server says about its own work, kept beside what Prism measured: llama.cpp's
//! `timings` (final chunk), Groq's `x_groq.usage` (or `usage` on a whole body) queue,
//! prompt and completion times, OpenRouter's `usage.cost` and its `x-generation-id`
//! header. Times are converted to milliseconds; nothing is derived or guessed, so a field
//! the server did not send stays `None`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Server-reported figures for one response. Fields that are `Some` in a newer report
/// replace older ones (servers send cumulative totals, once).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ServerReport {
    /// Who reported what: `llama.cpp timings`, `groq x_groq.usage`, `openrouter usage`,
    /// `x-generation-id`, comma-separated in arrival order.
    #[serde(default)]
    pub source: String,
    /// Time the request waited in the server's queue (Groq `queue_time`).
    #[serde(default)]
    pub queue_ms: Option<f64>,
    /// Prompt processing (llama.cpp `prompt_ms`, Groq `prompt_time`).
    #[serde(default)]
    pub prompt_ms: Option<f64>,
    /// Token generation (llama.cpp `predicted_ms`, Groq `completion_time`).
    #[serde(default)]
    pub generation_ms: Option<f64>,
    /// The server's whole time on the request (Groq `total_time`).
    #[serde(default)]
    pub total_ms: Option<f64>,
    /// Prompt tokens per second (llama.cpp `prompt_per_second`).
    #[serde(default)]
    pub prompt_tokens_per_s: Option<f64>,
    /// Generated tokens per second (llama.cpp `predicted_per_second`).
    #[serde(default)]
    pub tokens_per_s: Option<f64>,
    /// What the provider says the request cost, in USD (OpenRouter `usage.cost`, in
    /// credits of one dollar), beside Prism's own price.
    #[serde(default)]
    pub cost_usd: Option<f64>,
    /// The provider's id for the generation (OpenRouter `x-generation-id`), to look it
    /// up on their side.
    #[serde(default)]
    pub generation_id: Option<String>,
    /// The model the response says answered (an Azure deployment names the model behind
    /// it). Omitted when not reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Azure's content filter verdicts on the prompt and the answer. Omitted when none.
    /// Boxed: only Azure sends them, and every stream event is as large as this report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_filter: Option<Box<super::azure::ContentFilter>>,
    /// Timings the server (or a proxy in front of it) put in its response headers, in
    /// header order. Omitted when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header_timings: Vec<HeaderTiming>,
}

/// One timing from a response header: what it measures, as the header says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeaderTiming {
    /// What the time covers: `processing` (`openai-processing-ms`), `upstream`
    /// (`x-envoy-upstream-service-time`), `invocation`
    /// (`x-amzn-bedrock-invocation-latency`), or a `server-timing` metric's own name.
    pub name: String,
    /// The header it came from.
    pub header: String,
    pub ms: f64,
}

/// Headers that carry one number of milliseconds, and what each measures.
const TIMING_HEADERS: [(&str, &str); 3] = [
    ("openai-processing-ms", "processing"),
    ("x-envoy-upstream-service-time", "upstream"),
    ("x-amzn-bedrock-invocation-latency", "invocation"),
];

/// The timings in a response's headers (see [`HeaderTiming`]), or `None` when there are
/// none. `server-timing` entries without a `dur` carry no time and are skipped.
pub fn from_headers(headers: &reqwest::header::HeaderMap) -> Option<ServerReport> {
    let mut timings = Vec::new();
    for (header, name) in TIMING_HEADERS {
        let ms = headers
            .get(header)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x >= 0.0);
        if let Some(ms) = ms {
            timings.push(HeaderTiming {
                name: name.into(),
                header: header.into(),
                ms,
            });
        }
    }
    for value in headers.get_all("server-timing") {
        timings.extend(value.to_str().ok().into_iter().flat_map(server_timing));
    }
    (!timings.is_empty()).then(|| ServerReport {
        source: "response headers".into(),
        header_timings: timings,
        ..ServerReport::default()
    })
}

/// The entries of one `server-timing` value (`total;dur=412.3, db;desc="x";dur=3`) that
/// carry a duration.
fn server_timing(value: &str) -> impl Iterator<Item = HeaderTiming> + '_ {
    value.split(',').filter_map(|metric| {
        let mut parts = metric.split(';').map(str::trim);
        let name = parts.next().filter(|n| !n.is_empty())?;
        let ms = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("dur"))
            .and_then(|(_, v)| v.trim().trim_matches('"').parse::<f64>().ok())
            .filter(|x| x.is_finite() && *x >= 0.0)?;
        Some(HeaderTiming {
            name: name.to_string(),
            header: "server-timing".into(),
            ms,
        })
    })
}

impl ServerReport {
    /// Overlay a newer report: its known fields replace ours, its source is added.
    pub fn merge(&mut self, newer: &ServerReport) {
        fn take<T: Clone>(slot: &mut Option<T>, v: &Option<T>) {
            if v.is_some() {
                slot.clone_from(v);
            }
        }
        take(&mut self.queue_ms, &newer.queue_ms);
        take(&mut self.prompt_ms, &newer.prompt_ms);
        take(&mut self.generation_ms, &newer.generation_ms);
        take(&mut self.total_ms, &newer.total_ms);
        take(&mut self.prompt_tokens_per_s, &newer.prompt_tokens_per_s);
        take(&mut self.tokens_per_s, &newer.tokens_per_s);
        take(&mut self.cost_usd, &newer.cost_usd);
        take(&mut self.generation_id, &newer.generation_id);
        take(&mut self.model, &newer.model);
        if let Some(f) = &newer.content_filter {
            self.content_filter.get_or_insert_with(Default::default).merge(f);
        }
        for t in &newer.header_timings {
            if !self.header_timings.contains(t) {
                self.header_timings.push(t.clone());
            }
        }
        for s in newer.source.split(", ").filter(|s| !s.is_empty()) {
            if !self.source.split(", ").any(|have| have == s) {
                if !self.source.is_empty() {
                    self.source.push_str(", ");
                }
                self.source.push_str(s);
            }
        }
    }

    /// Whether the server reported nothing.
    pub fn is_empty(&self) -> bool {
        *self == ServerReport::default()
    }

    /// A report holding only the generation id from a response header.
    pub fn generation_id(id: &str) -> Self {
        Self {
            source: "x-generation-id".into(),
            generation_id: Some(id.to_string()),
            ..Self::default()
        }
    }
}

/// Everything a Chat Completions chunk or body says about the server's own work, or
/// `None` when it says nothing.
pub fn from_chat_chunk(v: &Value) -> Option<ServerReport> {
    let mut report = ServerReport::default();
    if let Some(t) = v.get("timings").filter(|t| t.is_object()) {
        report.merge(&ServerReport {
            source: "llama.cpp timings".into(),
            prompt_ms: number(t, "prompt_ms"),
            generation_ms: number(t, "predicted_ms"),
            prompt_tokens_per_s: number(t, "prompt_per_second"),
            tokens_per_s: number(t, "predicted_per_second"),
            ..ServerReport::default()
        });
    }
    // Groq puts its times under `x_groq.usage` on a stream, under `usage` on a body.
    for (path, source) in [("/x_groq/usage", "groq x_groq.usage"), ("/usage", "groq usage")] {
        if let Some(u) = v
            .pointer(path)
            .filter(|u| u.get("queue_time").is_some() || u.get("completion_time").is_some())
        {
            let ms = |k: &str| number(u, k).map(|s| s * 1e3);
            report.merge(&ServerReport {
                source: source.into(),
                queue_ms: ms("queue_time"),
                prompt_ms: ms("prompt_time"),
                generation_ms: ms("completion_time"),
                total_ms: ms("total_time"),
                ..ServerReport::default()
            });
        }
    }
    if let Some(cost) = v.pointer("/usage/cost").and_then(Value::as_f64) {
        report.merge(&ServerReport {
            source: "openrouter usage".into(),
            cost_usd: Some(cost),
            ..ServerReport::default()
        });
    }
    (!report.is_empty()).then_some(report)
}

/// A finite number field (JSON has no NaN, but a server may send a huge or negative one).
fn number(v: &Value, key: &str) -> Option<f64> {
    v.get(key)
        .and_then(Value::as_f64)
        .filter(|x| x.is_finite() && *x >= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn llama_cpp_timings_from_the_final_chunk() {
        // llama-server's last chunk (tools/server, `timings` beside `usage`).
        let chunk: Value = serde_json::from_str(r#"{"choices":[],"created":1757141666,"id":"chatcmpl-ecQ","model":"m","object":"chat.completion.chunk","usage":{"completion_tokens":35,"prompt_tokens":237,"total_tokens":272},"timings":{"cache_n":236,"prompt_n":1,"prompt_ms":30.958,"prompt_per_token_ms":30.958,"prompt_per_second":32.301828283480845,"predicted_n":35,"predicted_ms":661.064,"predicted_per_token_ms":18.887542857142858,"predicted_per_second":52.94494935437416}}"#).unwrap();
        let r = from_chat_chunk(&chunk).unwrap();
        assert_eq!(r.source, "llama.cpp timings");
        assert_eq!((r.prompt_ms, r.generation_ms), (Some(30.958), Some(661.064)));
        assert_eq!(r.tokens_per_s, Some(52.94494935437416));
        assert_eq!(r.cost_usd, None);
    }

    #[test]
    fn groq_times_in_seconds_become_milliseconds() {
        let chunk: Value = serde_json::from_str(r#"{"id":"chatcmpl-e7f","object":"chat.completion.chunk","model":"llama-3.1-8b-instant","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"x_groq":{"id":"req_01jadadp0f","usage":{"queue_time":0.061348671,"prompt_tokens":18,"prompt_time":0.000211569,"completion_tokens":439,"completion_time":0.798181818,"total_tokens":457,"total_time":0.798393387}}}"#).unwrap();
        let r = from_chat_chunk(&chunk).unwrap();
        assert_eq!(r.source, "groq x_groq.usage");
        assert!((r.queue_ms.unwrap() - 61.348671).abs() < 1e-9);
        assert!((r.generation_ms.unwrap() - 798.181818).abs() < 1e-9);
        assert!((r.total_ms.unwrap() - 798.393387).abs() < 1e-9);
    }

    #[test]
    fn openrouter_cost_and_nothing_from_a_plain_chunk() {
        let chunk: Value = serde_json::from_str(r#"{"object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":194,"completion_tokens":2,"total_tokens":196,"cost":0.00095,"cost_details":{"upstream_inference_cost":null}}}"#).unwrap();
        let r = from_chat_chunk(&chunk).unwrap();
        assert_eq!(
            (r.source.as_str(), r.cost_usd),
            ("openrouter usage", Some(0.00095))
        );
        let plain: Value =
            serde_json::from_str(r#"{"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1}}"#)
                .unwrap();
        assert_eq!(from_chat_chunk(&plain), None);
    }

    #[test]
    fn timings_from_headers_keep_their_header_and_skip_what_is_not_a_time() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("openai-processing-ms", "412".parse().unwrap());
        h.insert("x-envoy-upstream-service-time", "380".parse().unwrap());
        h.insert("x-amzn-bedrock-invocation-latency", "-5".parse().unwrap());
        h.append(
            "server-timing",
            r#"cdn-cache;desc=MISS, edge;dur=1.5"#.parse().unwrap(),
        );
        h.append("server-timing", r#"total;desc="all";dur="20""#.parse().unwrap());
        let r = from_headers(&h).unwrap();
        let got: Vec<(&str, &str, f64)> = r
            .header_timings
            .iter()
            .map(|t| (t.name.as_str(), t.header.as_str(), t.ms))
            .collect();
        assert_eq!(
            got,
            [
                ("processing", "openai-processing-ms", 412.0),
                ("upstream", "x-envoy-upstream-service-time", 380.0),
                ("edge", "server-timing", 1.5),
                ("total", "server-timing", 20.0),
            ]
        );
        assert_eq!(from_headers(&reqwest::header::HeaderMap::new()), None);
    }

    #[test]
    fn reports_merge_fields_and_sources() {
        let mut r = ServerReport::generation_id("gen-1");
        r.merge(&ServerReport {
            source: "openrouter usage".into(),
            cost_usd: Some(0.5),
            ..ServerReport::default()
        });
        r.merge(&ServerReport::generation_id("gen-1"));
        assert_eq!(r.source, "x-generation-id, openrouter usage");
        assert_eq!(
            (r.generation_id.as_deref(), r.cost_usd),
            (Some("gen-1"), Some(0.5))
        );
    }
}
