//! A target's configured headers, attached when its request is built. A value from the
//! environment is read then (like the key: a variable set after start-up is picked up),
//! remembered for masking, and marked sensitive so HTTP-level debug output hides it.

use reqwest::header::{HeaderName, HeaderValue};

use super::event::{ErrorKind, ProviderError};
use super::secret;
use crate::target::{Header, HeaderSource};

/// Put `headers` on `request`, replacing any header of the same name the adapter set.
pub fn apply(request: &mut reqwest::Request, headers: &[Header]) -> Result<(), ProviderError> {
    apply_with(request, headers, &|var| std::env::var(var).ok())
}

/// [`apply`], reading variables through `env`.
fn apply_with(
    request: &mut reqwest::Request,
    headers: &[Header],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(), ProviderError> {
    for h in headers {
        let name = HeaderName::from_bytes(h.name.as_bytes()).map_err(|_| {
            ProviderError::new(
                ErrorKind::Config,
                format!("header name `{}` is not a valid HTTP header name", h.name),
            )
        })?;
        let value = match &h.value {
            HeaderSource::Literal(v) => HeaderValue::from_str(v).map_err(|_| {
                ProviderError::new(
                    ErrorKind::Config,
                    format!("header `{}` has characters an HTTP header cannot carry", h.name),
                )
            })?,
            HeaderSource::Env(var) => secret_value(&h.name, var, env(var))?,
        };
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

/// The value of `$var`, now, as a secret header value.
fn secret_value(name: &str, var: &str, read: Option<String>) -> Result<HeaderValue, ProviderError> {
    let value = read
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ProviderError::new(
                ErrorKind::MissingKey,
                format!("no value for header `{name}`: set ${var}"),
            )
        })?;
    secret::remember(&value);
    let mut v = HeaderValue::from_str(&value).map_err(|_| {
        ProviderError::new(
            ErrorKind::Config,
            format!("${var} (for header `{name}`) has characters an HTTP header cannot carry"),
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> reqwest::Request {
        let url = reqwest::Url::parse("http://127.0.0.1:9/v1/chat/completions").unwrap();
        let mut r = reqwest::Request::new(reqwest::Method::POST, url);
        r.headers_mut()
            .insert("user-agent", HeaderValue::from_static("prism"));
        r
    }

    #[test]
    fn literal_and_environment_values_replace_same_named_headers() {
        let env = |var: &str| (var == "GW_TOKEN").then(|| "tok-Zx81.qq-secret".to_string());
        let mut r = request();
        apply_with(
            &mut r,
            &[
                Header {
                    name: "User-Agent".into(),
                    value: HeaderSource::Literal("bench/1".into()),
                },
                Header {
                    name: "X-Gateway-Token".into(),
                    value: HeaderSource::Env("GW_TOKEN".into()),
                },
            ],
            &env,
        )
        .unwrap();
        assert_eq!(r.headers()["user-agent"], "bench/1");
        let token = &r.headers()["x-gateway-token"];
        assert!(token.is_sensitive());
        assert_eq!(token, "tok-Zx81.qq-secret");
        assert_eq!(
            secret::mask("gateway said tok-Zx81.qq-secret is bad"),
            "gateway said [redacted] is bad"
        );
    }

    #[test]
    fn a_missing_variable_is_one_line_naming_it() {
        let mut r = request();
        let e = apply(
            &mut r,
            &[Header {
                name: "X-Gateway-Token".into(),
                value: HeaderSource::Env("PRISM_TEST_HEADER_UNSET".into()),
            }],
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingKey);
        assert_eq!(
            e.message,
            "no value for header `X-Gateway-Token`: set $PRISM_TEST_HEADER_UNSET"
        );
    }
}
