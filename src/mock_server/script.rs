//! The per-request script: directives that say how the mock should answer.
//!
//! Directives arrive in the model name after a `+` (`gpt-4o-mini+ttft=200,tps=50`) and in the
//! `x-mock-script` header; header keys override model-name keys so a harness can steer a
//! client whose model string it cannot change. Parsing is strict: an unknown key or a bad
//! value is a client error naming the directive, because a typo silently ignored would make a
//! benchmark measure the wrong thing.

use std::time::Duration;

/// What the generated text is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corpus {
    /// Plain lorem-ipsum words.
    Lorem,
    /// A short markdown answer with a heading, a list and a fenced Rust block.
    Markdown,
    /// The last user message, repeated.
    Echo,
}

/// An injected failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    RateLimit,
    Server,
    Unavailable,
    Overloaded,
    Unauthorized,
    NotFound,
    ContextLength,
    StallFirst,
    StallMid,
    DropMid,
    Malformed,
    NoTerminator,
    Html200,
    ErrorEvent,
    BigLine,
}

impl Fault {
    fn parse(value: &str) -> Option<Fault> {
        Some(match value {
            "429" => Fault::RateLimit,
            "500" => Fault::Server,
            "503" => Fault::Unavailable,
            "529" => Fault::Overloaded,
            "401" => Fault::Unauthorized,
            "404" => Fault::NotFound,
            "400ctx" => Fault::ContextLength,
            "stall_first" => Fault::StallFirst,
            "stall_mid" => Fault::StallMid,
            "drop_mid" => Fault::DropMid,
            "malformed" => Fault::Malformed,
            "no_terminator" => Fault::NoTerminator,
            "html200" => Fault::Html200,
            "error_event" => Fault::ErrorEvent,
            "big_line" => Fault::BigLine,
            _ => return None,
        })
    }
}

/// Forced SSE line ending; `None` means the provider's own default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineEnding {
    Lf,
    Crlf,
}

/// The parsed directives, with defaults applied.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    pub ttft: Duration,
    pub itl: Duration,
    pub tokens: usize,
    pub chunk: usize,
    pub seed: Option<u64>,
    pub corpus: Corpus,
    pub reasoning: usize,
    pub tool: Option<String>,
    /// How many tool calls an answer that calls tools makes at once (`tools=N`).
    pub calls: usize,
    pub cached: usize,
    pub cache_write: usize,
    pub usage: bool,
    pub filter: bool,
    pub block: bool,
    /// The model declines: a refusal message where the provider has one (OpenAI Chat and
    /// Responses), else the provider's refusal stop (Anthropic), else a filtered answer.
    pub refuse: bool,
    pub keepalive: bool,
    /// Send the provider's wait hints with a 429 (`retry-after`, reset headers,
    /// `RetryInfo`); `hints=none` sends a bare 429, as some compatible servers do.
    pub hints: bool,
    /// Apply `fault` only to the first N requests with the same model string (0: all).
    pub fail_first: usize,
    /// Require the provider's auth header (`auth=none` emulates a keyless local server).
    pub auth: bool,
    pub line_ending: Option<LineEnding>,
    pub fault: Option<Fault>,
    pub retry_after: Option<u64>,
    pub stall: Duration,
    pub after: Option<usize>,
    /// Categories Azure's content filter refuses the prompt for (HTTP 400); elsewhere a
    /// blocked prompt, as `block`.
    pub prompt_filter: Vec<String>,
    /// The model an Azure response names (default: the deployment's name).
    pub served: Option<String>,
    /// Bedrock: the `:exception-type` of `fault=error_event` (`modelStreamErrorException`).
    pub exception: Option<&'static str>,
    /// A schema-shaped answer breaks its schema once (`badjson`).
    pub badjson: bool,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            ttft: Duration::from_millis(120),
            itl: Duration::from_millis(12),
            tokens: 40,
            chunk: 1,
            seed: None,
            corpus: Corpus::Markdown,
            reasoning: 0,
            tool: None,
            calls: 1,
            cached: 0,
            cache_write: 0,
            usage: true,
            filter: false,
            block: false,
            refuse: false,
            keepalive: false,
            auth: true,
            fail_first: 0,
            hints: true,
            line_ending: None,
            fault: None,
            retry_after: None,
            stall: Duration::from_secs(3600),
            after: None,
            prompt_filter: Vec::new(),
            served: None,
            exception: None,
            badjson: false,
        }
    }
}

/// The exception frames Bedrock's ConverseStream documents.
/// The most parallel tool calls `tools=N` asks for.
pub const MAX_CALLS: u64 = 8;

pub const EXCEPTIONS: [&str; 5] = [
    "modelStreamErrorException",
    "throttlingException",
    "validationException",
    "serviceUnavailableException",
    "internalServerException",
];

/// Splits `model+directives` into the bare model name and the directive text.
pub fn split_model(raw: &str) -> (&str, Option<&str>) {
    match raw.split_once('+') {
        Some((model, directives)) => (model, Some(directives)),
        None => (raw, None),
    }
}

/// The model id as a person reads it: `gpt-4o-mini-2024-07-18` for
/// `gpt-4o-mini-2024-07-18+ttft=180,tps=110`. The part after `+` goes only when it parses
/// as mock directives (the same split and parser the mock applies), so a model id that
/// merely contains a `+` is shown whole. Titles and headers use this; the model as sent
/// stays in results, sessions and the details view.
pub fn display_model(raw: &str) -> &str {
    match split_model(raw) {
        (model, Some(directives)) if !model.is_empty() && parse(Some(directives), None).is_ok() => model,
        _ => raw,
    }
}

/// Builds the script from the model-name directives and the header directives.
///
/// The error string names the offending directive and is shown to the client verbatim.
pub fn parse(from_model: Option<&str>, from_header: Option<&str>) -> Result<Script, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for source in [from_model, from_header].into_iter().flatten() {
        for item in source.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = item.split_once('=').unwrap_or((item, "1"));
            let key = key.trim().to_ascii_lowercase();
            // Later sources win, so drop an earlier occurrence of the same key.
            pairs.retain(|(k, _)| *k != key);
            pairs.push((key, value.trim().to_string()));
        }
    }
    let mut script = Script::default();
    let mut tps = None;
    let mut itl = None;
    for (key, value) in &pairs {
        apply(&mut script, key, value, &mut tps, &mut itl)?;
    }
    // An explicit itl beats tps; either beats the default.
    if let Some(ms) = itl {
        script.itl = Duration::from_millis(ms);
    } else if let Some(rate) = tps {
        script.itl = Duration::from_secs_f64(1.0 / rate as f64);
    }
    Ok(script)
}

fn apply(
    s: &mut Script,
    key: &str,
    value: &str,
    tps: &mut Option<u64>,
    itl: &mut Option<u64>,
) -> Result<(), String> {
    match key {
        "ttft" => s.ttft = Duration::from_millis(number(key, value)?),
        "itl" => *itl = Some(number(key, value)?),
        "tps" => *tps = Some(positive(key, value)?),
        "tokens" => s.tokens = number(key, value)? as usize,
        "chunk" => s.chunk = positive(key, value)? as usize,
        "seed" => s.seed = Some(number(key, value)?),
        "text" => {
            s.corpus = match value {
                "lorem" => Corpus::Lorem,
                "markdown" => Corpus::Markdown,
                "echo" => Corpus::Echo,
                _ => return Err(bad(key, value, "lorem, markdown or echo")),
            }
        }
        "reasoning" => s.reasoning = number(key, value)? as usize,
        "exception" => {
            s.exception = Some(
                EXCEPTIONS
                    .into_iter()
                    .find(|e| *e == value)
                    .ok_or_else(|| bad(key, value, &EXCEPTIONS.join(", ")))?,
            );
        }
        "tool" => {
            let valid = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if !valid {
                return Err(bad(key, value, "a function name of [A-Za-z0-9_-]"));
            }
            s.tool = Some(value.to_string());
        }
        "tools" => {
            s.calls = match number(key, value)? {
                n @ 1..=MAX_CALLS => n as usize,
                _ => {
                    return Err(bad(
                        key,
                        value,
                        &format!("a number of calls from 1 to {MAX_CALLS}"),
                    ));
                }
            };
        }
        "cached" => s.cached = number(key, value)? as usize,
        "cache_write" => s.cache_write = number(key, value)? as usize,
        "usage" => match value {
            "none" => s.usage = false,
            "full" => s.usage = true,
            _ => return Err(bad(key, value, "none or full")),
        },
        "filter" => s.filter = flag(key, value)?,
        "block" => s.block = flag(key, value)?,
        "refuse" => s.refuse = flag(key, value)?,
        "badjson" => s.badjson = flag(key, value)?,
        "keepalive" => s.keepalive = flag(key, value)?,
        "fail_first" => s.fail_first = number(key, value)? as usize,
        "hints" => match value {
            "none" => s.hints = false,
            "full" => s.hints = true,
            _ => return Err(format!("directive `hints` takes `none` or `full`, not `{value}`")),
        },
        "auth" => match value {
            "none" => s.auth = false,
            "required" => s.auth = true,
            _ => {
                return Err(format!(
                    "directive `auth` takes `none` or `required`, not `{value}`"
                ));
            }
        },
        "crlf" => {
            if flag(key, value)? {
                s.line_ending = Some(LineEnding::Crlf);
            }
        }
        "lf" => {
            if flag(key, value)? {
                s.line_ending = Some(LineEnding::Lf);
            }
        }
        "fault" => {
            s.fault = Some(Fault::parse(value).ok_or_else(|| {
                bad(
                    key,
                    value,
                    "429, 500, 503, 529, 401, 404, 400ctx, stall_first, stall_mid, drop_mid, \
                     malformed, no_terminator, html200, error_event or big_line",
                )
            })?)
        }
        "retry_after" => s.retry_after = Some(number(key, value)?),
        "stall_ms" => s.stall = Duration::from_millis(number(key, value)?),
        "after" => s.after = Some(number(key, value)? as usize),
        "prompt_filter" => {
            s.prompt_filter = value
                .split('+')
                .map(|c| {
                    FILTER_CATEGORIES
                        .contains(&c)
                        .then(|| c.to_string())
                        .ok_or_else(|| {
                            bad(
                                key,
                                value,
                                &format!("categories joined by `+`, of: {}", FILTER_CATEGORIES.join(", ")),
                            )
                        })
                })
                .collect::<Result<_, _>>()?;
            s.block = true;
        }
        "served" => {
            let valid = !value.is_empty()
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !valid {
                return Err(bad(key, value, "a model id of [A-Za-z0-9._-]"));
            }
            s.served = Some(value.to_string());
        }
        _ => return Err(format!("unknown mock directive `{key}`")),
    }
    Ok(())
}

/// The categories Azure's content filter reports on a prompt.
pub const FILTER_CATEGORIES: [&str; 6] = [
    "hate",
    "jailbreak",
    "profanity",
    "self_harm",
    "sexual",
    "violence",
];

fn bad(key: &str, value: &str, expected: &str) -> String {
    format!("invalid value `{value}` for mock directive `{key}`: expected {expected}")
}

fn number(key: &str, value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| bad(key, value, "a non-negative integer"))
}

fn positive(key: &str, value: &str) -> Result<u64, String> {
    match number(key, value) {
        Ok(0) | Err(_) => Err(bad(key, value, "a positive integer")),
        Ok(n) => Ok(n),
    }
}

fn flag(key: &str, value: &str) -> Result<bool, String> {
    match value {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(bad(key, value, "1 or 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_model_drops_only_what_the_mock_would_read_as_directives() {
        assert_eq!(
            display_model("gpt-4o-mini-2024-07-18+ttft=180,tps=110,tokens=160,seed=1"),
            "gpt-4o-mini-2024-07-18"
        );
        assert_eq!(
            display_model("claude-sonnet-4-20250514"),
            "claude-sonnet-4-20250514"
        );
        // Not directives: a model id with a `+` in it stays whole.
        assert_eq!(display_model("my+model"), "my+model");
        assert_eq!(display_model("+ttft=1"), "+ttft=1");
    }

    type TestResult = Result<(), String>;

    fn err_of(r: Result<Script, String>) -> String {
        r.err().unwrap_or_default()
    }

    #[test]
    fn defaults_without_directives() {
        assert_eq!(parse(None, None), Ok(Script::default()));
    }

    #[test]
    fn header_overrides_model_name() -> TestResult {
        let s = parse(Some("ttft=200,tps=50"), Some("ttft=5"))?;
        assert_eq!(s.ttft, Duration::from_millis(5));
        assert_eq!(s.itl, Duration::from_millis(20));
        Ok(())
    }

    #[test]
    fn itl_beats_tps_and_faults_parse() -> TestResult {
        let s = parse(Some("tps=10,itl=3,fault=drop_mid,after=4"), None)?;
        assert_eq!(s.itl, Duration::from_millis(3));
        assert_eq!(s.fault, Some(Fault::DropMid));
        assert_eq!(s.after, Some(4));
        Ok(())
    }

    #[test]
    fn errors_name_the_directive() {
        assert!(err_of(parse(Some("bogus=1"), None)).contains("`bogus`"));
        assert!(err_of(parse(Some("tps=0"), None)).contains("`tps`"));
        assert!(err_of(parse(None, Some("fault=nope"))).contains("`fault`"));
    }

    #[test]
    fn a_filtered_prompt_names_known_categories_and_blocks_elsewhere() -> TestResult {
        let s = parse(
            Some("prompt_filter=violence+jailbreak,served=gpt-4o-2024-08-06"),
            None,
        )?;
        assert_eq!(s.prompt_filter, ["violence", "jailbreak"]);
        assert!(s.block);
        assert_eq!(s.served.as_deref(), Some("gpt-4o-2024-08-06"));
        assert!(err_of(parse(Some("prompt_filter=violent"), None)).contains("`prompt_filter`"));
        Ok(())
    }

    #[test]
    fn tools_asks_for_parallel_calls_within_bounds() -> TestResult {
        assert_eq!(parse(Some("tools=2"), None)?.calls, 2);
        assert_eq!(Script::default().calls, 1);
        assert!(err_of(parse(Some("tools=0"), None)).contains("`tools`"));
        assert!(err_of(parse(Some("tools=9"), None)).contains("`tools`"));
        Ok(())
    }

    #[test]
    fn splits_model() {
        assert_eq!(split_model("m+ttft=1"), ("m", Some("ttft=1")));
        assert_eq!(split_model("m"), ("m", None));
    }
}
