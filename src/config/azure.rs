//! Azure OpenAI targets (`provider = "azure"`): the resource endpoint, the deployment and
//! the API version become the target's base URL, and `azure_auth` says how it proves who
//! it is.
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `base_url` | `$AZURE_OPENAI_ENDPOINT` | the resource endpoint, `https://NAME.openai.azure.com` |
//! | `deployment` | (required) | the deployment's name: in the URL (classic), or sent as `model` (v1) |
//! | `api_version` | `$OPENAI_API_VERSION` | a dated version for the classic URLs, or `v1`; unset with an endpoint ending in `/openai/v1` means v1 |
//! | `azure_auth` | `key` | `key`: `api-key` header from `$AZURE_OPENAI_API_KEY`; `token-env`: a Microsoft Entra ID bearer token from `$AZURE_OPENAI_AD_TOKEN`; `cli`: a token from `az account get-access-token` |
//! | `price_as` | none | the model behind the deployment, for prices and context windows |
//!
//! The URLs are the official SDK's: classic Chat Completions
//! `{endpoint}/openai/deployments/{deployment}/chat/completions?api-version=V`, classic
//! Responses `{endpoint}/openai/responses?api-version=V` (the deployment goes in `model`),
//! and the v1 API `{endpoint}/openai/v1/chat/completions` and `/openai/v1/responses`.

use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use toml::Spanned;

use super::Located;
use super::endpoint::{EnvLookup, is_http_url};
use crate::target::{Api, BaseUrlSource, EntraToken, KeySource, ProviderKind};

/// The variable the official SDK reads for the API version.
pub const API_VERSION_ENV: &str = "OPENAI_API_VERSION";
/// The variable the official SDK reads for a Microsoft Entra ID token.
pub const AD_TOKEN_ENV: &str = "AZURE_OPENAI_AD_TOKEN";

/// What an Azure target resolves to.
#[derive(Debug, Clone, PartialEq)]
pub struct Azure {
    /// The deployment's name, the target's `model`.
    pub deployment: String,
    /// Where its requests go, API version included.
    pub base_url: String,
    /// Where the endpoint came from.
    pub source: BaseUrlSource,
    /// Where its key or token comes from.
    pub key: KeySource,
    /// A Microsoft Entra ID token in place of the key.
    pub entra: Option<EntraToken>,
}

/// Which Azure OpenAI API a target speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// The dated API: the deployment in the path, `?api-version=` on every request.
    Dated(String),
    /// The v1 API (`/openai/v1`): no `api-version`, the deployment sent as `model`.
    V1,
}

/// The keys of a `[[target]]` that an Azure target reads (after `[defaults]`).
pub struct Keys<'a> {
    pub model: Option<&'a Spanned<String>>,
    pub base_url: Option<&'a Spanned<String>>,
    pub api_key_env: Option<&'a Spanned<String>>,
    pub deployment: Option<&'a Spanned<String>>,
    pub api_version: Option<&'a Spanned<String>>,
    pub azure_auth: Option<&'a Spanned<String>>,
}

/// The Azure keys of a target of `provider`: `None` for other kinds (which may not set
/// them), the resolved endpoint, deployment and credentials for an Azure target.
pub fn resolve(
    t: &Keys<'_>,
    provider: ProviderKind,
    api: Api,
    name: &str,
    table_at: usize,
    env: EnvLookup<'_>,
    warnings: &mut Vec<String>,
) -> Result<Option<Azure>, Located> {
    if provider != ProviderKind::Azure {
        for (key, field) in [
            ("deployment", t.deployment),
            ("api_version", t.api_version),
            ("azure_auth", t.azure_auth),
        ] {
            if let Some(v) = field {
                return Err((
                    v.span().start,
                    format!("`{key}` is an Azure setting; {provider} targets do not take it"),
                ));
            }
        }
        return Ok(None);
    }
    if let Some(m) = t.model {
        return Err((
            m.span().start,
            format!(
                "azure targets name their `deployment`, not a `model`: set `deployment = \"{}\"` (and `price_as` to the model behind it); if `model` comes from [defaults], add `unset = [\"model\"]`",
                m.get_ref()
            ),
        ));
    }
    // The endpoint first: a deployment URL pasted there says what the other keys are.
    let (endpoint, source) = endpoint(t.base_url, name, table_at, env)?;
    let deployment = deployment(t.deployment, name, table_at)?;
    let version = version(t.api_version, &endpoint, name, table_at, env)?;
    if path_of(&endpoint).ends_with("/openai") {
        warnings.push(format!(
            "`base_url` {endpoint} ends in /openai, and Prism adds /openai/… itself: use the resource endpoint without it, unless a gateway really mounts the API twice"
        ));
    }
    let (key, entra) = credentials(t)?;
    Ok(Some(Azure {
        base_url: base_url(&endpoint, &deployment, &version, api),
        deployment,
        source,
        key,
        entra,
    }))
}

fn deployment(field: Option<&Spanned<String>>, name: &str, table_at: usize) -> Result<String, Located> {
    let Some(d) = field else {
        return Err((
            table_at,
            format!(
                "target `{name}`: azure targets need `deployment`, the name of the model deployment in your Azure OpenAI resource"
            ),
        ));
    };
    let value = d.get_ref().trim();
    if value.is_empty() || value.contains(|c: char| c.is_whitespace() || matches!(c, '/' | '?' | '#')) {
        return Err((
            d.span().start,
            format!(
                "`deployment` = \"{}\" is not a deployment name (no spaces, `/`, `?` or `#`)",
                d.get_ref()
            ),
        ));
    }
    Ok(value.to_string())
}

/// The resource endpoint, from the file or `$AZURE_OPENAI_ENDPOINT`.
fn endpoint(
    field: Option<&Spanned<String>>,
    name: &str,
    table_at: usize,
    env: EnvLookup<'_>,
) -> Result<(String, BaseUrlSource), Located> {
    let var = ProviderKind::Azure
        .spec()
        .base_url_env
        .unwrap_or("AZURE_OPENAI_ENDPOINT");
    let (url, source, at, key) = match field {
        Some(u) => (
            u.get_ref().trim().to_string(),
            BaseUrlSource::Config,
            u.span().start,
            "`base_url`".to_string(),
        ),
        None => match env(var).filter(|v| !v.trim().is_empty()) {
            Some(v) => (
                v.trim().to_string(),
                BaseUrlSource::Env(var.to_string()),
                table_at,
                format!("${var}"),
            ),
            None => {
                return Err((
                    table_at,
                    format!(
                        "target `{name}`: azure targets need the resource endpoint: set `base_url = \"https://NAME.openai.azure.com\"` or ${var}"
                    ),
                ));
            }
        },
    };
    if !is_http_url(&url) {
        return Err((at, format!("{key} `{url}` is not an http(s) URL")));
    }
    if let Some(fix) = pasted_deployment_url(&url) {
        return Err((
            at,
            format!("{key} is a deployment's URL, and Prism builds that itself: {fix}"),
        ));
    }
    Ok((url, source))
}

/// For a URL copied whole from the portal (`…/openai/deployments/NAME/chat/completions?api-version=V`),
/// the keys that say the same thing.
fn pasted_deployment_url(url: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let path = parsed.path();
    let at = path.find("/openai/deployments/")?;
    let rest = &path[at + "/openai/deployments/".len()..];
    let deployment = rest.split('/').next().filter(|d| !d.is_empty())?;
    let origin = format!("{}{}", parsed.origin().ascii_serialization(), &path[..at]);
    let version = parsed
        .query_pairs()
        .find(|(k, _)| k == "api-version")
        .map(|(_, v)| format!(", api_version = \"{v}\""))
        .unwrap_or_default();
    Some(format!(
        "set base_url = \"{origin}\", deployment = \"{deployment}\"{version}"
    ))
}

/// Which API the target speaks: `api_version`, else v1 when the endpoint is the v1 base,
/// else `$OPENAI_API_VERSION`.
fn version(
    field: Option<&Spanned<String>>,
    endpoint: &str,
    name: &str,
    table_at: usize,
    env: EnvLookup<'_>,
) -> Result<Version, Located> {
    let v1_endpoint = path_of(endpoint).ends_with("/openai/v1");
    if let Some(v) = field {
        let parsed = parse_version(v.get_ref()).ok_or_else(|| {
            (
                v.span().start,
                format!(
                    "`api_version` = \"{}\" is not an Azure OpenAI API version: use a dated one (\"2024-10-21\", \"2025-04-01-preview\") or \"v1\"",
                    v.get_ref()
                ),
            )
        })?;
        if v1_endpoint && parsed != Version::V1 {
            return Err((
                v.span().start,
                format!(
                    "`base_url` ends in /openai/v1, the v1 API, which takes no api-version, but `api_version` = \"{}\": remove `api_version`, or give the resource endpoint without /openai/v1",
                    v.get_ref()
                ),
            ));
        }
        return Ok(parsed);
    }
    if v1_endpoint {
        return Ok(Version::V1);
    }
    match env(API_VERSION_ENV).filter(|v| !v.trim().is_empty()) {
        Some(v) => parse_version(v.trim()).ok_or_else(|| {
            (
                table_at,
                format!(
                    "target `{name}` has no `api_version`, and ${API_VERSION_ENV} (`{v}`) is not an Azure OpenAI API version: set `api_version` (\"2024-10-21\", or \"v1\")"
                ),
            )
        }),
        None => Err((
            table_at,
            format!(
                "target `{name}`: set `api_version`: \"v1\" for the v1 API, or a dated version such as \"2024-10-21\" (or set ${API_VERSION_ENV})"
            ),
        )),
    }
}

/// `v1`, or a date with an optional `-preview`.
pub fn parse_version(text: &str) -> Option<Version> {
    if text == "v1" {
        return Some(Version::V1);
    }
    let date = text.strip_suffix("-preview").unwrap_or(text);
    let shape = date.len() == 10
        && date.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    shape.then(|| Version::Dated(text.to_string()))
}

/// The path of an http(s) URL, without a trailing `/`.
fn path_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// Characters escaped in the deployment's path segment.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// The target's base URL: what `/chat/completions` or `/responses` is appended to (the
/// query stays last, see `target::endpoint_url`). A query on the endpoint is kept, before
/// `api-version`.
pub fn base_url(endpoint: &str, deployment: &str, version: &Version, api: Api) -> String {
    let endpoint = endpoint.split_once('#').map_or(endpoint, |(e, _)| e);
    let (path, query) = match endpoint.split_once('?') {
        Some((p, q)) => (p, Some(q).filter(|q| !q.is_empty())),
        None => (endpoint, None),
    };
    let path = path.trim_end_matches('/');
    let resource = path.strip_suffix("/openai/v1").unwrap_or(path);
    let (base, version) = match (version, api) {
        (Version::V1, _) => (format!("{resource}/openai/v1"), None),
        (Version::Dated(v), Api::Chat) => (
            format!(
                "{resource}/openai/deployments/{}",
                utf8_percent_encode(deployment, SEGMENT)
            ),
            Some(v),
        ),
        // The classic Responses API is not per deployment: the deployment goes in `model`.
        (Version::Dated(v), Api::Responses) => (format!("{resource}/openai"), Some(v)),
    };
    let query = [
        query.map(str::to_string),
        version.map(|v| format!("api-version={v}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join("&");
    if query.is_empty() {
        base
    } else {
        format!("{base}?{query}")
    }
}

/// `azure_auth` and `api_key_env`: where the key or token comes from.
fn credentials(t: &Keys<'_>) -> Result<(KeySource, Option<EntraToken>), Located> {
    let named = match t.api_key_env {
        Some(v) => {
            if let Some(why) = super::key_env::problem(v.get_ref()) {
                return Err((v.span().start, why));
            }
            Some(v.get_ref().clone())
        }
        None => None,
    };
    let env = |default: &str| KeySource::Env(vec![named.clone().unwrap_or_else(|| default.to_string())]);
    let key_var = ProviderKind::Azure
        .spec()
        .key_envs
        .first()
        .copied()
        .unwrap_or("AZURE_OPENAI_API_KEY");
    let Some(auth) = t.azure_auth else {
        return Ok((env(key_var), None));
    };
    match auth.get_ref().as_str() {
        "key" => Ok((env(key_var), None)),
        "token-env" => Ok((env(AD_TOKEN_ENV), Some(EntraToken::Env))),
        "cli" => match t.api_key_env {
            Some(v) => Err((
                v.span().start,
                "`api_key_env` has no use with `azure_auth = \"cli\"`: the token comes from `az account get-access-token`; remove it, or use `azure_auth = \"token-env\"` to read a token from that variable".into(),
            )),
            None => Ok((KeySource::None, Some(EntraToken::AzureCli))),
        },
        other => Err((
            auth.span().start,
            format!(
                "`azure_auth` = \"{other}\": use \"key\" (the api-key header, ${key_var}), \"token-env\" (a Microsoft Entra ID token from ${AD_TOKEN_ENV}) or \"cli\" (a token from `az account get-access-token`)"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_v1_or_dated() {
        assert_eq!(parse_version("v1"), Some(Version::V1));
        assert_eq!(
            parse_version("2025-04-01-preview"),
            Some(Version::Dated("2025-04-01-preview".into()))
        );
        for bad in ["2024-1-01", "latest", "v2", "2024-10-21-beta", ""] {
            assert_eq!(parse_version(bad), None, "{bad}");
        }
    }

    #[test]
    fn base_urls_keep_the_endpoints_query_before_the_version() {
        let dated = Version::Dated("2024-10-21".into());
        assert_eq!(
            base_url("https://gw.example.com/team?sub=1", "my dep", &dated, Api::Chat),
            "https://gw.example.com/team/openai/deployments/my%20dep?sub=1&api-version=2024-10-21"
        );
        assert_eq!(
            base_url(
                "https://r.openai.azure.com/openai/v1/",
                "d",
                &Version::V1,
                Api::Responses
            ),
            "https://r.openai.azure.com/openai/v1"
        );
    }

    #[test]
    fn a_pasted_portal_url_names_the_keys_to_set() {
        assert_eq!(
            pasted_deployment_url(
                "https://r.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2025-01-01-preview"
            )
            .as_deref(),
            Some(
                "set base_url = \"https://r.openai.azure.com\", deployment = \"gpt4o\", api_version = \"2025-01-01-preview\""
            )
        );
        assert_eq!(pasted_deployment_url("https://r.openai.azure.com"), None);
    }
}
