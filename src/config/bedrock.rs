//! A Bedrock target's region, profile and endpoint, resolved at load the way the AWS CLI
//! and SDKs resolve them:
//!
//! - region: the target's `region`, else `$AWS_REGION`, else `$AWS_DEFAULT_REGION`, else
//!   the `region` of the profile in `~/.aws/config` (the target's `profile`, else
//!   `$AWS_PROFILE`, else `default`);
//! - endpoint: the target's `base_url`, else `$AWS_ENDPOINT_URL_BEDROCK_RUNTIME`, else
//!   `$AWS_ENDPOINT_URL`, else `https://bedrock-runtime.{region}.amazonaws.com`.
//!
//! `region` and `profile` mean nothing to other providers and are refused there.

use toml::Spanned;

use super::Located;
use super::endpoint::{self, EnvLookup};
use crate::provider::bedrock::profile::SharedFiles;
use crate::target::{Aws, BaseUrlSource, ProviderKind};

/// The endpoint variables, most specific first.
const ENDPOINT_ENVS: [&str; 2] = ["AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "AWS_ENDPOINT_URL"];

/// What a Bedrock target resolves to.
pub struct Resolved {
    pub base_url: String,
    pub source: BaseUrlSource,
    pub aws: Aws,
}

/// Refuse `region`/`profile` on a target that is not Bedrock.
pub fn refuse_elsewhere(
    provider: ProviderKind,
    region: Option<&Spanned<String>>,
    profile: Option<&Spanned<String>>,
) -> Result<(), Located> {
    if provider == ProviderKind::Bedrock {
        return Ok(());
    }
    for (key, v) in [("region", region), ("profile", profile)] {
        if let Some(v) = v {
            return Err((
                v.span().start,
                format!(
                    "`{key}` is an AWS setting for `provider = \"bedrock\"` targets; {provider} targets have none"
                ),
            ));
        }
    }
    Ok(())
}

/// Region, profile and endpoint of Bedrock target `name`.
pub fn resolve(
    name: &str,
    base_url: Option<Spanned<String>>,
    region: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    table_at: usize,
    env: EnvLookup<'_>,
) -> Result<Resolved, Located> {
    let set = |var: &str| env(var).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let profile = match profile {
        Some(p) if p.get_ref().trim().is_empty() => {
            return Err((p.span().start, "`profile` must not be empty".into()));
        }
        p => p.map(|p| p.into_inner().trim().to_string()),
    };
    let (region, at) = match region {
        Some(r) => {
            let at = r.span().start;
            (Some(r.into_inner().trim().to_string()), at)
        }
        None => {
            let from_profile = || {
                let which = profile
                    .clone()
                    .or_else(|| set("AWS_PROFILE"))
                    .unwrap_or_else(|| "default".into());
                SharedFiles::locate(env)
                    .profile(&which)
                    .and_then(|p| p.get("region").map(str::to_string))
            };
            let region = set("AWS_REGION")
                .or_else(|| set("AWS_DEFAULT_REGION"))
                .or_else(from_profile);
            (region, table_at)
        }
    };
    let Some(region) = region else {
        return Err((
            table_at,
            format!(
                "target `{name}`: Bedrock needs a region: set `region = \"us-east-1\"` on the target, $AWS_REGION, or `region` in the AWS profile"
            ),
        ));
    };
    if region.is_empty()
        || !region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return Err((
            at,
            format!("target `{name}`: `{region}` is not an AWS region (like `us-east-1`)"),
        ));
    }
    let (base_url, source) = match base_url {
        Some(u) => endpoint::base_url(Some(u), ProviderKind::Bedrock, name, table_at, env)?,
        None => match ENDPOINT_ENVS.iter().find_map(|v| set(v).map(|url| (*v, url))) {
            Some((var, url)) => {
                if !endpoint::is_http_url(&url) {
                    return Err((
                        table_at,
                        format!(
                            "target `{name}` has no `base_url`, and ${var} (`{url}`) is not an http(s) URL: fix or unset ${var}, or set `base_url`"
                        ),
                    ));
                }
                (url, BaseUrlSource::Env(var.to_string()))
            }
            None => (
                format!("https://bedrock-runtime.{region}.amazonaws.com"),
                BaseUrlSource::Default,
            ),
        },
    };
    Ok(Resolved {
        base_url,
        source,
        aws: Aws { region, profile },
    })
}
