//! API keys: read from the environment only, never printed, logged or saved.

use std::fmt;

/// An API key. `Debug` and `Display` print a placeholder, so a key can't leak through
/// a log line or an error message by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wrap a key value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The key itself, for the one place that puts it into a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A header value marked sensitive, so HTTP-level debug output hides it too.
    pub fn header_value(
        &self,
        prefix: &str,
    ) -> Result<reqwest::header::HeaderValue, reqwest::header::InvalidHeaderValue> {
        let mut v = reqwest::header::HeaderValue::from_str(&format!("{prefix}{}", self.0))?;
        v.set_sensitive(true);
        Ok(v)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_key() {
        let k = ApiKey::new("sk-canary-123");
        assert!(!format!("{k:?}").contains("canary"));
        assert!(k.header_value("Bearer ").is_ok_and(|v| v.is_sensitive()));
    }
}
