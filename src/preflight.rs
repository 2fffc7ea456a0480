//! Before any request: how many input tokens the prompt is, whether it fits the model's
//! context window with the requested output, and what the call costs at most.
//!
//! Counts use the model's own encoding where it is public (OpenAI families) and o200k as
//! an estimate elsewhere; an estimate only blocks a send when it is clearly over (by 10%),
//! so a tokenizer difference can never stop a prompt that would have fitted.

use crate::pricing::{Picodollars, PriceTable};
use crate::provider::request::ChatRequest;
use crate::target::Target;
use crate::tokens::{self, Encoding};

/// Which counter produced a pre-flight count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counter {
    /// The model's own encoding, locally (OpenAI families).
    LocalExact,
    /// o200k standing in for a tokenizer that is not public.
    LocalEstimate,
    /// The provider's count_tokens / countTokens endpoint.
    Provider,
    /// An upper bound that needs no tokenizer tables (see [`tokens::upper_bound`]), used
    /// while they load: shown as `≤ N`, never as a count.
    Bound,
}

impl Counter {
    /// A short label for a pane header.
    pub fn short(self) -> &'static str {
        match self {
            Self::LocalExact => "local",
            Self::LocalEstimate => "est",
            Self::Provider => "provider",
            Self::Bound => "bound",
        }
    }

    /// How the count is labelled for users.
    pub fn label(self) -> &'static str {
        match self {
            Self::LocalExact => "local tokenizer",
            Self::LocalEstimate => "estimate",
            Self::Provider => "provider counter",
            Self::Bound => "upper bound",
        }
    }

    /// What goes before a count from this counter: nothing when exact, `~` for an
    /// estimate, `≤ ` for an upper bound.
    pub fn mark(self) -> &'static str {
        match self {
            Self::LocalExact | Self::Provider => "",
            Self::LocalEstimate => "~",
            Self::Bound => "≤ ",
        }
    }
}

/// The verdict for one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preflight {
    /// Input tokens of the whole request (messages, system prompt, per-message overhead).
    pub input_tokens: u64,
    /// Whether `input_tokens` is exact for this model.
    pub exact: bool,
    /// Which counter produced `input_tokens`.
    pub counter: Counter,
    /// Output tokens the request may produce (max_tokens, else the model's maximum).
    pub max_output: Option<u64>,
    /// The model's context window, when known.
    pub context_window: Option<u64>,
    /// Why the request cannot fit, when it cannot.
    pub too_long: Option<String>,
    /// Set when the model's context window is unknown, so the prompt goes unchecked: says
    /// so, rather than sending in silence.
    pub unchecked: Option<String>,
    /// Input plus `max_output` at the model's prices, when both are known.
    pub worst_case: Option<Picodollars>,
}

/// Check `request` for `target` with the local tokenizer. While its tables still load,
/// an upper bound that needs none serves when it settles the verdict (the request surely
/// fits); only a request the bound cannot clear waits for the tables and an exact count.
/// A worst-case cost from the bound is never below the true one.
pub fn check(target: &Target, request: &ChatRequest, prices: &PriceTable) -> Preflight {
    let request = as_sent(target, request);
    let (encoding, exact) = tokens::encoding_for(&target.model);
    if !tokens::ready_for(encoding) {
        let bound = prompt_tokens_bound(&request);
        let verdict = check_counted(target, prices, bound, Counter::Bound);
        if bound_fits(target, &verdict) {
            return verdict;
        }
    }
    let counter = if exact {
        Counter::LocalExact
    } else {
        Counter::LocalEstimate
    };
    check_counted(target, prices, prompt_tokens(encoding, &request), counter)
}

/// Whether a verdict from an upper bound settles that the request fits: the window is
/// unknown (nothing to check), or the bound plus the output requested is within it.
pub fn bound_fits(target: &Target, verdict: &Preflight) -> bool {
    verdict.context_window.is_none_or(|window| {
        verdict
            .input_tokens
            .saturating_add(requested_output(target).unwrap_or(0))
            <= window
    })
}

/// The output tokens a request for `target` asks for (`max_tokens`, else the provider's
/// default), when it asks.
fn requested_output(target: &Target) -> Option<u64> {
    target
        .params
        .max_tokens
        .or(target.provider.spec().default_max_tokens)
        .map(u64::from)
}

/// `request` as `target` sends it: with the target's configured system prompt when the
/// request carries none (the provider adapters do the same).
pub fn as_sent<'a>(target: &Target, request: &'a ChatRequest) -> std::borrow::Cow<'a, ChatRequest> {
    match (&request.system, &target.params.system) {
        (None, Some(system)) => std::borrow::Cow::Owned(ChatRequest {
            system: Some(system.clone()),
            ..request.clone()
        }),
        _ => std::borrow::Cow::Borrowed(request),
    }
}

/// Check a request whose input tokens were counted by `counter`.
pub fn check_counted(target: &Target, prices: &PriceTable, input_tokens: u64, counter: Counter) -> Preflight {
    let exact = matches!(counter, Counter::LocalExact | Counter::Provider);
    let price = prices.for_target(target);
    let context_window = price.and_then(|p| p.window_with(&anthropic_betas(target)));
    let requested = requested_output(target);
    let max_output = requested.or_else(|| price.and_then(|p| p.max_output));
    let mark = counter.mark();
    let too_long = context_window.and_then(|window| {
        if counter == Counter::Bound {
            // A bound over the window proves nothing: the exact count decides (see `check`).
            None
        } else if exact {
            let total = input_tokens.saturating_add(requested.unwrap_or(0));
            (total > window).then(|| match requested {
                Some(out) => format!(
                    "not sent: the prompt is {input_tokens} tokens ({}) + max_tokens {out} = {total}, over the {window}-token context window of {}",
                    counter.label(),
                    target.model
                ),
                None => format!(
                    "not sent: the prompt is {input_tokens} tokens ({}), over the {window}-token context window of {}",
                    counter.label(),
                    target.model
                ),
            })
        } else {
            (u128::from(input_tokens) * 10 > u128::from(window) * 11).then(|| {
                format!(
                    "not sent: the prompt is {mark}{input_tokens} tokens (an o200k estimate), well over the {window}-token context window of {}",
                    target.model
                )
            })
        }
    });
    let unchecked = context_window.is_none().then(|| {
        format!(
            "the context window of {} is not known: the prompt ({mark}{input_tokens} tokens) is sent without a length check",
            target.model
        )
    });
    let worst_case = price.and_then(|p| {
        let usage = crate::provider::event::Usage {
            input: Some(input_tokens),
            output: max_output,
            ..Default::default()
        };
        p.cost(&usage)
    });
    Preflight {
        input_tokens,
        exact,
        counter,
        max_output,
        context_window,
        too_long,
        unchecked,
        worst_case,
    }
}

/// The `anthropic-beta` flags a target sends (a comma-separated header value), which
/// can open a larger context window (`context-1m-2025-08-07`). A value from the
/// environment is a secret and not read here.
fn anthropic_betas(target: &Target) -> Vec<&str> {
    target
        .params
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("anthropic-beta"))
        .filter_map(|h| h.literal())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect()
}

/// Tokens of a chat request with OpenAI's documented overhead (3 per message, 3 to prime
/// the reply); exact for OpenAI chat models, an estimate elsewhere.
pub fn prompt_tokens(encoding: Encoding, request: &ChatRequest) -> u64 {
    let system = request.system.iter().map(|s| ("system", s.as_str()));
    let turns = request.messages.iter().map(|m| {
        let role = m.role.as_str();
        (role, m.content.as_str())
    });
    let body: u64 = system
        .chain(turns)
        .map(|(role, text)| message_tokens(encoding, role, text))
        .sum();
    body + REPLY_PRIMING
}

/// Tokens one message adds to a request: 3 of overhead, its role and its text. A request
/// counts the sum over its messages plus [`REPLY_PRIMING`], so its parts can be counted
/// apart and added up.
pub fn message_tokens(encoding: Encoding, role: &str, text: &str) -> u64 {
    (3 + tokens::count(encoding, role) + tokens::count(encoding, text)) as u64
}

/// Tokens that prime the reply, once per request.
pub const REPLY_PRIMING: u64 = 3;

/// An upper bound on [`prompt_tokens`] for either encoding that needs no tokenizer
/// tables: each message's role and text counted as their bytes (see
/// [`tokens::upper_bound`]), with the same overhead.
pub fn prompt_tokens_bound(request: &ChatRequest) -> u64 {
    let system = request.system.iter().map(|s| ("system", s.as_str()));
    let turns = request
        .messages
        .iter()
        .map(|m| (m.role.as_str(), m.content.as_str()));
    let body: u64 = system
        .chain(turns)
        .map(|(role, text)| message_bound(role, text))
        .sum();
    body + REPLY_PRIMING
}

/// An upper bound on [`message_tokens`] for either encoding, without tables.
pub fn message_bound(role: &str, text: &str) -> u64 {
    (3 + tokens::upper_bound(role) + tokens::upper_bound(text)) as u64
}

/// A configured dollar limit (`budget_usd`, `confirm_above_usd`) exactly as the user wrote
/// it, for every message that names one: the shortest decimal that reads back as the same
/// number, with at least two decimals so it still looks like money (`0.005` → `$0.005`,
/// `1` → `$1.00`, `0.5` → `$0.50`). Rounding a limit would show a different limit than the
/// one enforced (`0.005` as `$0.01`).
pub fn limit_usd(limit: f64) -> String {
    // `Display` for f64 is the shortest round-trip form and never uses an exponent.
    let exact = limit.to_string();
    let decimals = exact.split_once('.').map_or(0, |(_, d)| d.len());
    match decimals {
        _ if !limit.is_finite() => format!("${exact}"),
        0 => format!("${exact}.00"),
        1 => format!("${exact}0"),
        _ => format!("${exact}"),
    }
}

/// `Some(message)` when the worst cases of a send would take what is `spent` past
/// `budget_usd`.
pub fn over_budget(worst: &[Option<Picodollars>], spent: Picodollars, budget_usd: f64) -> Option<String> {
    let worst_total: Picodollars = worst.iter().flatten().sum();
    let budget = (budget_usd * 1e12).round() as Picodollars;
    (spent + worst_total > budget).then(|| {
        format!(
            "not sent: the worst case of this send is ${:.6} and ${:.6} is spent, over budget_usd {}; raise budget_usd or lower max_tokens",
            crate::pricing::usd(worst_total),
            crate::pricing::usd(spent),
            limit_usd(budget_usd)
        )
    })
}

/// The notice for a send whose worst case `worst_usd` is above `confirm_above_usd`.
pub fn confirm_message(worst_usd: f64, confirm_above_usd: f64) -> String {
    format!(
        "this send may cost up to ${worst_usd:.6} (over confirm_above_usd {}): send again to confirm",
        limit_usd(confirm_above_usd)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{KeySource, Params, ProviderKind};

    fn target(model: &str, max_tokens: Option<u32>) -> Target {
        Target {
            name: "t".into(),
            provider: ProviderKind::OpenAi,
            model: model.into(),
            base_url: "http://x".into(),
            key: KeySource::None,
            params: Params {
                max_tokens,
                stream: true,
                ..Params::default()
            },
        }
    }

    #[test]
    fn fits_counts_and_worst_case() {
        tokens::warm_up();
        let prices = PriceTable::builtin().unwrap();
        let req = ChatRequest::single(Some("Be brief.".into()), "hello world");
        let p = check(&target("gpt-4o-mini-2024-07-18", Some(100)), &req, &prices);
        // system: 3 + 1 + 3 ("Be brief."); user: 3 + 1 + 2; priming: 3
        assert_eq!((p.input_tokens, p.exact, p.max_output), (16, true, Some(100)));
        assert_eq!(p.too_long, None);
        // 16 × $0.15 + 100 × $0.60 per million
        assert_eq!(p.worst_case, Some(16 * 150_000 + 100 * 600_000));
        let unknown = check(&target("house-model", None), &req, &prices);
        assert_eq!(
            (unknown.worst_case, unknown.exact, unknown.too_long),
            (None, false, None)
        );
        assert_eq!(p.unchecked, None);
        assert_eq!(
            unknown.unchecked.as_deref(),
            Some(
                "the context window of house-model is not known: the prompt (~16 tokens) is sent without a length check"
            )
        );
    }

    #[test]
    fn price_as_and_the_host_choose_the_price_and_window() {
        tokens::warm_up();
        let prices = PriceTable::builtin().unwrap();
        let req = ChatRequest::single(None, "hello world");
        let mut t = target("llama-3.3-70b-versatile", Some(100));
        t.provider = ProviderKind::OpenAiCompatible;
        assert_eq!(
            check(&t, &req, &prices).context_window,
            None,
            "a local server: unknown"
        );
        t.base_url = "https://api.groq.com/openai/v1".into();
        let p = check(&t, &req, &prices);
        assert_eq!((p.context_window, p.unchecked), (Some(128_000), None));
        // 9 prompt tokens × $0.59 + 100 × $0.79 per million (Groq's last known prices).
        assert_eq!(p.worst_case, Some(9 * 590_000 + 100 * 790_000));
        t.params.price_as = Some("gpt-4o-mini".into());
        assert_eq!(
            check(&t, &req, &prices).worst_case,
            Some(9 * 150_000 + 100 * 600_000)
        );
    }

    #[test]
    fn too_long_is_refused_with_the_numbers() {
        tokens::warm_up();
        let prices = PriceTable::builtin().unwrap();
        let big = ChatRequest::single(None, "word ".repeat(130_000));
        let p = check(&target("gpt-4o-mini-2024-07-18", Some(1000)), &big, &prices);
        let msg = p.too_long.unwrap();
        assert!(
            msg.contains("over the 128000-token context window of gpt-4o-mini-2024-07-18"),
            "{msg}"
        );
        assert!(msg.contains("+ max_tokens 1000"), "{msg}");
    }

    #[test]
    fn budget_counts_what_is_spent_and_the_worst_case() {
        let m = over_budget(&[Some(400_000_000_000), None], 700_000_000_000, 1.0).unwrap();
        assert!(
            m.contains("worst case of this send is $0.400000 and $0.700000 is spent, over budget_usd $1.00"),
            "{m}"
        );
        assert_eq!(over_budget(&[Some(200_000_000_000)], 700_000_000_000, 1.0), None);
        // A limit below a cent reads as configured, not rounded to another limit.
        let m = over_budget(&[Some(6_000_000_000)], 0, 0.005).unwrap();
        assert!(m.contains("over budget_usd $0.005;"), "{m}");
    }

    #[test]
    fn limits_read_exactly_as_configured() {
        for (limit, shown) in [
            (0.005, "$0.005"),
            (1.0, "$1.00"),
            (0.5, "$0.50"),
            (0.25, "$0.25"),
            (0.0, "$0.00"),
            (12.0, "$12.00"),
            (0.123456789, "$0.123456789"),
            (0.000001, "$0.000001"),
            (1e-9, "$0.000000001"),
            (2500.5, "$2500.50"),
            (1e21, "$1000000000000000000000.00"),
        ] {
            assert_eq!(limit_usd(limit), shown, "{limit}");
        }
    }

    #[test]
    fn the_confirm_message_names_the_limit_as_configured() {
        let m = confirm_message(0.009832, 0.005);
        assert_eq!(
            m,
            "this send may cost up to $0.009832 (over confirm_above_usd $0.005): send again to confirm"
        );
    }

    #[test]
    fn the_beta_header_opens_the_1m_window_and_long_prices_apply() {
        tokens::warm_up();
        let prices = PriceTable::builtin().unwrap();
        let mut t = target("claude-sonnet-4-5-20250929", Some(1000));
        t.provider = ProviderKind::Anthropic;
        let p = check_counted(&t, &prices, 300_000, Counter::Provider);
        assert!(
            p.too_long
                .as_deref()
                .is_some_and(|m| m.contains("200000-token context window")),
            "{p:?}"
        );
        t.params.headers = vec![crate::target::Header {
            name: "anthropic-beta".into(),
            value: crate::target::HeaderSource::Literal(
                "interleaved-thinking-2025-05-14, context-1m-2025-08-07".into(),
            ),
        }];
        let p = check_counted(&t, &prices, 300_000, Counter::Provider);
        assert_eq!((p.context_window, p.too_long.as_deref()), (Some(1_000_000), None));
        // Above 200K the whole request is priced at the long-context tier.
        assert_eq!(p.worst_case, Some(300_000 * 6_000_000 + 1000 * 22_500_000));
    }

    #[test]
    fn a_configured_system_prompt_is_counted_when_the_request_has_none() {
        tokens::warm_up();
        let prices = PriceTable::builtin().unwrap();
        let mut t = target("gpt-4o-mini-2024-07-18", Some(100));
        let bare = ChatRequest::single(None, "hello world");
        let without = check(&t, &bare, &prices).input_tokens;
        t.params.system = Some("Be brief.".into());
        assert_eq!(
            check(&t, &bare, &prices).input_tokens,
            without + 7,
            "3 + system + `Be brief.`"
        );
        let own = ChatRequest::single(Some("Be brief.".into()), "hello world");
        t.params.system = Some("A much longer configured prompt that is not sent.".into());
        assert_eq!(
            check(&t, &own, &prices).input_tokens,
            without + 7,
            "the request's own wins"
        );
    }
}
