//! Where a target's requests go and what they carry besides the body: the origin of its
//! base URL, its extra headers, and how a request path joins a base URL that has a query.

use std::fmt;

/// Where a target's base URL came from, so a run can say which endpoint it measured.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum BaseUrlSource {
    /// `base_url` in the config file (or a target built in code).
    #[default]
    Config,
    /// The named environment variable, read at load because the config gave no
    /// `base_url` (as the provider's official SDK does).
    Env(String),
    /// The provider's public endpoint.
    Default,
}

impl BaseUrlSource {
    /// The variable the URL came from, when it came from one.
    pub fn env_var(&self) -> Option<&str> {
        match self {
            Self::Env(var) => Some(var),
            Self::Config | Self::Default => None,
        }
    }
}

impl fmt::Display for BaseUrlSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config => f.write_str("config"),
            Self::Env(var) => write!(f, "${var}"),
            Self::Default => f.write_str("default"),
        }
    }
}

/// One extra request header from the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The name as written (HTTP names are case-insensitive).
    pub name: String,
    /// Where the value comes from.
    pub value: HeaderSource,
}

/// The value of a configured header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderSource {
    /// Written in the config: not a secret.
    Literal(String),
    /// Read from this environment variable when the request is built, and treated as a
    /// secret (masked wherever text leaves the process, never saved).
    Env(String),
}

impl Header {
    /// The value written in the config, when it is not a secret from the environment.
    pub fn literal(&self) -> Option<&str> {
        match &self.value {
            HeaderSource::Literal(v) => Some(v),
            HeaderSource::Env(_) => None,
        }
    }
}

/// `base` joined with `path` (which may carry its own query): the path goes before the
/// base URL's query, and both queries are kept, the base URL's first. Gateways and
/// Azure-style deployments put `?api-version=...` on the base URL; appending the path
/// after it would send the request to the wrong place.
pub fn endpoint_url(base: &str, path: &str) -> String {
    // A fragment never reaches the server; drop it rather than send it inside the path.
    let base = base.split_once('#').map_or(base, |(b, _)| b);
    let (base_path, base_query) = match base.split_once('?') {
        Some((p, q)) => (p, Some(q).filter(|q| !q.is_empty())),
        None => (base, None),
    };
    let (path, path_query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q).filter(|q| !q.is_empty())),
        None => (path, None),
    };
    let joined = format!("{}{path}", base_path.trim_end_matches('/'));
    match (base_query, path_query) {
        (Some(b), Some(p)) => format!("{joined}?{b}&{p}"),
        (Some(q), None) | (None, Some(q)) => format!("{joined}?{q}"),
        (None, None) => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_path_goes_before_the_query_and_both_queries_are_kept() {
        for (base, path, url) in [
            (
                "https://api.openai.com/v1",
                "/chat/completions",
                "https://api.openai.com/v1/chat/completions",
            ),
            (
                "https://gw.example.com/v1/",
                "/chat/completions",
                "https://gw.example.com/v1/chat/completions",
            ),
            (
                "https://gw.example.com/openai/deployments/d1?api-version=2024-10-21",
                "/chat/completions",
                "https://gw.example.com/openai/deployments/d1/chat/completions?api-version=2024-10-21",
            ),
            (
                "https://gw.example.com/?team=a&x=1",
                "/v1beta/models/m:streamGenerateContent?alt=sse",
                "https://gw.example.com/v1beta/models/m:streamGenerateContent?team=a&x=1&alt=sse",
            ),
            (
                "http://127.0.0.1:8080?",
                "/v1/messages",
                "http://127.0.0.1:8080/v1/messages",
            ),
            (
                "http://127.0.0.1:8080/v1#frag",
                "/chat/completions",
                "http://127.0.0.1:8080/v1/chat/completions",
            ),
        ] {
            assert_eq!(endpoint_url(base, path), url, "{base} + {path}");
        }
    }

    #[test]
    fn a_source_names_its_variable() {
        assert_eq!(
            BaseUrlSource::Env("OPENAI_BASE_URL".into()).to_string(),
            "$OPENAI_BASE_URL"
        );
        assert_eq!(BaseUrlSource::Default.env_var(), None);
        assert_eq!(BaseUrlSource::default(), BaseUrlSource::Config);
    }
}
