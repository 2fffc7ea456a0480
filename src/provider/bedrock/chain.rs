//! Where a Bedrock target's credentials come from, in the order AWS users expect:
//!
//! 1. a Bedrock API key (`$AWS_BEARER_TOKEN_BEDROCK`, or the target's `api_key_env`), sent
//!    as `Authorization: Bearer`, as the AWS SDKs do when the variable is set;
//! 2. the target's `profile`, when it names one (an explicit choice beats the environment);
//! 3. `$AWS_ACCESS_KEY_ID` + `$AWS_SECRET_ACCESS_KEY` (+ `$AWS_SESSION_TOKEN`);
//! 4. the profile `$AWS_PROFILE` names, else `default`, from the shared files: static keys,
//!    else its `credential_process`.
//!
//! SSO and assume-role profiles need calls to AWS's own services; they are refused with
//! the one-line way around it (`aws configure export-credentials` as a `credential_process`).
//! Every secret read is wrapped in [`ApiKey`], which registers it for masking.

use std::process::{Command, Stdio};

use serde_json::Value;

use super::profile::{Env, Profile, SharedFiles};
use crate::provider::errors::one_line;
use crate::provider::event::{ErrorKind, ProviderError};
use crate::provider::secret::ApiKey;
use crate::target::KeySource;

/// An access key pair (and the session token of temporary credentials).
#[derive(Debug, Clone)]
pub struct AccessKeys {
    /// `AKIA…`/`ASIA…`: an identifier, sent in the clear in every signature.
    pub access_key_id: String,
    /// The secret that signs.
    pub secret_access_key: ApiKey,
    /// Sent as `x-amz-security-token` with temporary credentials.
    pub session_token: Option<ApiKey>,
    /// Where they came from (`environment`, `profile work (~/.aws/credentials)`), for logs.
    pub source: String,
}

/// What a Bedrock request is authorised with.
#[derive(Debug, Clone)]
pub enum Found {
    /// A Bedrock API key.
    Bearer(ApiKey),
    /// Keys that sign the request (SigV4).
    Keys(AccessKeys),
}

/// Resolve a Bedrock target's credentials now. `key` is the target's key source (the
/// bearer variables), `profile` its configured profile.
pub fn resolve(key: &KeySource, profile: Option<&str>, env: Env<'_>) -> Result<Found, ProviderError> {
    let bearer_vars: &[String] = match key {
        KeySource::Demo => return Ok(Found::Bearer(ApiKey::new("prism-demo-placeholder"))),
        KeySource::Env(vars) => vars,
        KeySource::None => &[],
    };
    if let Some(token) = bearer_vars.iter().find_map(|v| non_blank(env(v))) {
        return Ok(Found::Bearer(ApiKey::new(token)));
    }
    let files = SharedFiles::locate(env);
    if let Some(name) = profile {
        return from_profile(&files, name, "the target's `profile`").map(Found::Keys);
    }
    if let Some(keys) = from_env(env)? {
        return Ok(Found::Keys(keys));
    }
    let (name, why) = match non_blank(env("AWS_PROFILE")) {
        Some(p) => (p, "$AWS_PROFILE"),
        None => ("default".to_string(), "the default profile"),
    };
    match from_profile(&files, &name, why) {
        Ok(keys) => Ok(Found::Keys(keys)),
        Err(e) if e.kind == ErrorKind::MissingKey && why == "the default profile" => {
            let bearer = match bearer_vars {
                [] => String::new(),
                vars => format!(
                    "{} (a Bedrock API key), or ",
                    vars.iter()
                        .map(|v| format!("${v}"))
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            };
            Err(ProviderError::new(
                ErrorKind::MissingKey,
                format!(
                    "no AWS credentials: set {bearer}$AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, or add a [default] profile to {} (or name one with $AWS_PROFILE or the target's `profile`)",
                    files.described()
                ),
            ))
        }
        Err(e) => Err(e),
    }
}

fn non_blank(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// `$AWS_ACCESS_KEY_ID` and `$AWS_SECRET_ACCESS_KEY`; one without the other is an error.
fn from_env(env: Env<'_>) -> Result<Option<AccessKeys>, ProviderError> {
    let id = non_blank(env("AWS_ACCESS_KEY_ID"));
    let secret = non_blank(env("AWS_SECRET_ACCESS_KEY"));
    match (id, secret) {
        (Some(id), Some(secret)) => Ok(Some(AccessKeys {
            access_key_id: id,
            secret_access_key: ApiKey::new(secret),
            session_token: non_blank(env("AWS_SESSION_TOKEN")).map(ApiKey::new),
            source: "environment".into(),
        })),
        (None, None) => Ok(None),
        (Some(_), None) => Err(missing(
            "$AWS_ACCESS_KEY_ID is set but $AWS_SECRET_ACCESS_KEY is not: set both, or neither to use a profile",
        )),
        (None, Some(_)) => Err(missing(
            "$AWS_SECRET_ACCESS_KEY is set but $AWS_ACCESS_KEY_ID is not: set both, or neither to use a profile",
        )),
    }
}

fn missing(message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::MissingKey, message)
}

fn from_profile(files: &SharedFiles, name: &str, why: &str) -> Result<AccessKeys, ProviderError> {
    let Some(p) = files.profile(name) else {
        return Err(missing(format!(
            "no AWS profile `{name}` ({why}) in {}",
            files.described()
        )));
    };
    let shown = p
        .found_in
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let source = format!("profile {name} ({shown})");
    if let (Some(id), Some(secret)) = (p.get("aws_access_key_id"), p.get("aws_secret_access_key")) {
        return Ok(AccessKeys {
            access_key_id: id.to_string(),
            secret_access_key: ApiKey::new(secret),
            session_token: p.get("aws_session_token").map(ApiKey::new),
            source,
        });
    }
    if let Some(command) = p.get("credential_process") {
        return credential_process(name, command, source);
    }
    Err(missing(unsupported(name, &p)))
}

/// Why profile `name` gives no keys, and what to do.
fn unsupported(name: &str, p: &Profile) -> String {
    let export = format!(
        "set `credential_process = aws configure export-credentials --profile {name} --format process` in another profile and use that one"
    );
    if p.get("sso_session").is_some() || p.get("sso_start_url").is_some() {
        format!(
            "AWS profile `{name}` signs in with SSO, which Prism does not do itself: run `aws sso login --profile {name}`, then {export}"
        )
    } else if p.get("role_arn").is_some() {
        format!("AWS profile `{name}` assumes a role, which Prism does not do itself: {export}")
    } else if p.get("aws_access_key_id").is_some() {
        format!("AWS profile `{name}` has aws_access_key_id but no aws_secret_access_key")
    } else {
        format!(
            "AWS profile `{name}` has no aws_access_key_id/aws_secret_access_key and no credential_process"
        )
    }
}

/// Run a profile's `credential_process` and read its JSON (`Version` 1).
fn credential_process(name: &str, command: &str, source: String) -> Result<AccessKeys, ProviderError> {
    let failed = |what: String| {
        ProviderError::new(
            ErrorKind::MissingKey,
            one_line(&format!("credential_process of AWS profile `{name}` {what}")),
        )
    };
    let output = shell(command)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(format!("could not start (`{command}`): {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(failed(format!(
            "exited with {}: {}",
            output.status,
            stderr.trim()
        )));
    }
    let v: Value = serde_json::from_slice(&output.stdout)
        .map_err(|_| failed("did not print JSON (expected {\"Version\": 1, \"AccessKeyId\": …})".into()))?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    if v.get("Version").and_then(Value::as_u64) != Some(1) {
        return Err(failed("printed JSON without `\"Version\": 1`".into()));
    }
    match (text("AccessKeyId"), text("SecretAccessKey")) {
        (Some(id), Some(secret)) => Ok(AccessKeys {
            access_key_id: id.to_string(),
            secret_access_key: ApiKey::new(secret),
            session_token: text("SessionToken").map(ApiKey::new),
            source: format!("{source} credential_process"),
        }),
        _ => Err(failed("printed no AccessKeyId/SecretAccessKey".into())),
    }
}

#[cfg(unix)]
fn shell(command: &str) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c").arg(command);
    c
}

#[cfg(not(unix))]
fn shell(command: &str) -> Command {
    let mut c = Command::new("cmd.exe");
    c.arg("/C").arg(command);
    c
}
