//! Where a target sends its requests: `base_url` from the file, else the variable the
//! provider's official SDK reads (`OPENAI_BASE_URL`, `ANTHROPIC_BASE_URL`,
//! `GOOGLE_GEMINI_BASE_URL`), else the provider's public endpoint. The source is kept on
//! the target so a run can say which endpoint it measured.

use toml::Spanned;

use super::Located;
use crate::target::{BaseUrlSource, ProviderKind};

/// Reads an environment variable (the real environment, or a test's).
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The base URL of a target named `name` and where it came from.
pub fn base_url(
    configured: Option<Spanned<String>>,
    provider: ProviderKind,
    name: &str,
    table_at: usize,
    env: EnvLookup<'_>,
) -> Result<(String, BaseUrlSource), Located> {
    if let Some(u) = configured {
        if !is_http_url(u.get_ref()) {
            return Err((
                u.span().start,
                format!("`base_url` `{}` is not an http(s) URL", u.get_ref()),
            ));
        }
        return Ok((u.into_inner(), BaseUrlSource::Config));
    }
    let spec = provider.spec();
    // Set but empty counts as unset, as a shell `export VAR=` usually means.
    if let Some(var) = spec.base_url_env
        && let Some(url) = env(var).filter(|v| !v.trim().is_empty())
    {
        let url = url.trim().to_string();
        if !is_http_url(&url) {
            return Err((
                table_at,
                format!(
                    "target `{name}` has no `base_url`, and ${var} (`{url}`) is not an http(s) URL: fix or unset ${var}, or set `base_url`"
                ),
            ));
        }
        return Ok((url, BaseUrlSource::Env(var.to_string())));
    }
    match spec.default_base_url {
        Some(default) => Ok((default.to_string(), BaseUrlSource::Default)),
        None => Err((
            table_at,
            format!(
                "target `{name}`: provider `{provider}` needs `base_url` (e.g. http://localhost:11434/v1)"
            ),
        )),
    }
}

pub(super) fn is_http_url(text: &str) -> bool {
    reqwest::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}
