//! `headers = { "OpenAI-Organization" = "org-...", "X-Gateway-Token" = { env = "GW_TOKEN" } }`:
//! extra request headers per target (or in `[defaults]`, merged by name).
//!
//! A value written in the file is sent as written. A value `{ env = "VAR" }` is a secret:
//! it is read when the request is built, masked wherever text leaves the process, and
//! never saved. Headers Prism sets itself cannot be replaced silently: the ones that carry
//! the key or frame the body are refused at load, the others (`anthropic-version`,
//! `user-agent`) are replaced with a warning.

use std::collections::BTreeMap;

use reqwest::header::{HeaderName, HeaderValue};
use toml::Spanned;

use super::Located;
use crate::target::{Header, HeaderSource, KeySource, ProviderKind};

type HeadersFile = Spanned<BTreeMap<String, Spanned<toml::Value>>>;

/// Headers the HTTP layer owns: setting them would break the framing of the request or
/// the decoding of the answer (Prism decodes gzip only).
const FRAMING: [&str; 6] = [
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
    "accept-encoding",
];

/// `[defaults]` headers under the target's own, matched case-insensitively (the target's
/// value wins).
pub fn merged(base: Option<HeadersFile>, own: Option<HeadersFile>) -> Option<HeadersFile> {
    match (base, own) {
        (Some(base), Some(own)) => {
            let span = own.span();
            let mut map = own.into_inner();
            for (name, value) in base.into_inner() {
                if !map.keys().any(|k| k.eq_ignore_ascii_case(&name)) {
                    map.insert(name, value);
                }
            }
            Some(Spanned::new(span, map))
        }
        (base, own) => own.or(base),
    }
}

/// The validated headers of a target, in name order, with warnings for the ones that
/// replace a header Prism sets.
pub fn resolve(
    headers: Option<HeadersFile>,
    provider: ProviderKind,
    key: &KeySource,
    warnings: &mut Vec<String>,
) -> Result<Vec<Header>, Located> {
    let Some(headers) = headers else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Header> = Vec::new();
    for (name, value) in headers.into_inner() {
        let at = value.span().start;
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err((
                at,
                format!("header name `{name}` is not a valid HTTP header name (letters, digits and `-`)"),
            ));
        }
        if let Some(prev) = out.iter().find(|h| h.name.eq_ignore_ascii_case(&name)) {
            return Err((
                at,
                format!(
                    "header `{name}` is given twice (also as `{}`): header names ignore case",
                    prev.name
                ),
            ));
        }
        let lower = name.to_ascii_lowercase();
        if FRAMING.contains(&lower.as_str()) {
            return Err((
                at,
                format!("header `{name}` is set by Prism's HTTP client and cannot be configured"),
            ));
        }
        let auth = provider.spec().auth.header_name();
        if lower == auth && !matches!(key, KeySource::None) {
            return Err((
                at,
                format!(
                    "header `{name}` carries the API key, which Prism sets from the key's environment variable: name that variable in `api_key_env` instead"
                ),
            ));
        }
        let source = source(&name, value)?;
        if let Some(w) = replaces(provider, &lower) {
            warnings.push(format!("header `{name}` replaces {w}"));
        }
        out.push(Header { name, value: source });
    }
    Ok(out)
}

/// Which of Prism's own headers `lower` replaces, in words.
fn replaces(provider: ProviderKind, lower: &str) -> Option<String> {
    match lower {
        "user-agent" => Some(format!("Prism's own (`prism/{}`)", env!("CARGO_PKG_VERSION"))),
        "anthropic-version" if provider == ProviderKind::Anthropic => Some(format!(
            "the API version Prism speaks ({}); answers in another version's format may not decode",
            crate::provider::anthropic::API_VERSION
        )),
        _ => None,
    }
}

fn source(name: &str, value: Spanned<toml::Value>) -> Result<HeaderSource, Located> {
    let at = value.span().start;
    match value.into_inner() {
        toml::Value::String(s) => {
            if HeaderValue::from_str(&s).is_err() {
                return Err((
                    at,
                    format!(
                        "header `{name}`: the value has characters an HTTP header cannot carry (line breaks, control characters)"
                    ),
                ));
            }
            Ok(HeaderSource::Literal(s))
        }
        toml::Value::Table(t) => {
            let var = match (t.get("env"), t.len()) {
                (Some(toml::Value::String(var)), 1) => var.clone(),
                _ => {
                    return Err((
                        at,
                        format!("header `{name}`: a table value must be exactly `{{ env = \"VAR\" }}`"),
                    ));
                }
            };
            let valid = !var.is_empty() && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            if !valid {
                return Err((
                    at,
                    format!(
                        "header `{name}`: `env` takes an environment variable name (letters, digits and `_`), never the value ({})",
                        crate::provider::secret::preview(&var)
                    ),
                ));
            }
            Ok(HeaderSource::Env(var))
        }
        other => Err((
            at,
            format!(
                "header `{name}` is a {}: give a string, or `{{ env = \"VAR\" }}` for a secret",
                other.type_str()
            ),
        )),
    }
}
