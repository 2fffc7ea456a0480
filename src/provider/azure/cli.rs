//! Microsoft Entra ID tokens from the Azure CLI (`azure_auth = "cli"`).
//!
//! `az account get-access-token --resource https://cognitiveservices.azure.com --output
//! json` is run when a request is prepared and no token is at hand; its token is kept in
//! memory, never written anywhere, remembered for masking, and used until less than
//! [`REFRESH_MARGIN`] of it is left. The command runs as a child process of the async
//! runtime (it never blocks a worker), with a time limit; callers waiting at once share
//! one run.

use std::ffi::OsString;
use std::process::Stdio;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use serde_json::Value;

use crate::provider::errors::one_line;
use crate::provider::event::{ErrorKind, ProviderError};
use crate::provider::secret::ApiKey;

/// The audience Azure OpenAI accepts tokens for.
pub const RESOURCE: &str = "https://cognitiveservices.azure.com";

/// How long the CLI may take (it starts a Python interpreter, and may refresh its own
/// login over the network).
pub const TIMEOUT: Duration = Duration::from_secs(20);

/// A token with less than this left is replaced before use, so a long answer never starts
/// on one about to lapse (the Azure identity libraries use the same five minutes).
pub const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// The command's arguments after the program name.
pub const ARGS: [&str; 6] = [
    "account",
    "get-access-token",
    "--resource",
    RESOURCE,
    "--output",
    "json",
];

/// Tokens from one Azure CLI program, cached until they expire.
#[derive(Debug)]
pub struct CliTokens {
    program: OsString,
    timeout: Duration,
    cached: tokio::sync::Mutex<Option<Token>>,
}

/// One token and when it stops being accepted.
#[derive(Debug, Clone)]
pub struct Token {
    /// The bearer token.
    pub key: ApiKey,
    /// When it expires; `None` when the CLI did not say (then it is used once).
    pub expires_at: Option<SystemTime>,
}

impl Token {
    fn fresh(&self, now: SystemTime) -> bool {
        self.expires_at
            .is_some_and(|at| at.duration_since(now).is_ok_and(|left| left >= REFRESH_MARGIN))
    }
}

static SHARED: LazyLock<CliTokens> = LazyLock::new(|| {
    // On Windows the CLI is a batch file, which is not found by its bare name.
    let program = if cfg!(windows) { "az.cmd" } else { "az" };
    CliTokens::new(program, TIMEOUT)
});

impl CliTokens {
    /// Tokens from `program` (normally `az`, found on `PATH`), each run limited to `timeout`.
    pub fn new(program: impl Into<OsString>, timeout: Duration) -> Self {
        Self {
            program: program.into(),
            timeout,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// The process's own: `az` from `PATH`.
    pub fn shared() -> &'static CliTokens {
        &SHARED
    }

    /// A token good for at least [`REFRESH_MARGIN`]: the cached one, else a new one from
    /// the CLI. Concurrent callers wait for the same run.
    pub async fn token(&self) -> Result<ApiKey, ProviderError> {
        let mut slot = self.cached.lock().await;
        if let Some(t) = slot.as_ref().filter(|t| t.fresh(SystemTime::now())) {
            return Ok(t.key.clone());
        }
        let token = self.fetch().await?;
        let key = token.key.clone();
        *slot = Some(token);
        Ok(key)
    }

    /// The cached token while it is fresh, without running anything.
    pub fn cached(&self) -> Option<ApiKey> {
        let slot = self.cached.try_lock().ok()?;
        slot.as_ref()
            .filter(|t| t.fresh(SystemTime::now()))
            .map(|t| t.key.clone())
    }

    async fn fetch(&self) -> Result<Token, ProviderError> {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(ARGS)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // A run that outlives its time limit is killed, not left behind.
            .kill_on_drop(true);
        let shown = format!("`az {}`", ARGS[..2].join(" "));
        let output = match tokio::time::timeout(self.timeout, command.output()).await {
            Err(_) => {
                return Err(failure(format!(
                    "{shown} did not answer within {} s: run it in a terminal to see why (`az login` may be needed)",
                    self.timeout.as_secs_f64()
                )));
            }
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(failure(
                    "azure_auth = \"cli\" needs the Azure CLI, and `az` is not on PATH: install it and run `az login`, or use azure_auth = \"key\"".into(),
                ));
            }
            Ok(Err(e)) => return Err(failure(format!("cannot run the Azure CLI ({shown}): {e}"))),
            Ok(Ok(output)) => output,
        };
        if !output.status.success() {
            let said = said(&String::from_utf8_lossy(&output.stderr));
            let status = output
                .status
                .code()
                .map_or_else(|| "a signal".to_string(), |c| format!("status {c}"));
            return Err(failure(format!(
                "the Azure CLI gave no token ({shown} exited with {status}: {said}); run `az login`"
            )));
        }
        parse(&String::from_utf8_lossy(&output.stdout))
    }
}

/// The first line the CLI wrote to stderr that says something, without its `ERROR: `.
fn said(stderr: &str) -> String {
    let line = stderr
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map_or("no message", |l| l.strip_prefix("ERROR:").map_or(l, str::trim));
    one_line(line)
}

fn failure(message: String) -> ProviderError {
    ProviderError::new(ErrorKind::MissingKey, one_line(&message))
}

/// The token in the CLI's JSON answer, and its expiry: `expires_on` (POSIX seconds, CLI
/// 2.54 and later), else the token's own `exp` claim. (`expiresOn` is a local time without
/// a zone, so it is not used.) The answer itself is never shown: it holds the token.
pub fn parse(stdout: &str) -> Result<Token, ProviderError> {
    let bad = || {
        failure(format!(
            "the Azure CLI's answer to `az {}` has no accessToken: update the Azure CLI, or run the command to see what it prints",
            ARGS[..2].join(" ")
        ))
    };
    let v: Value = serde_json::from_str(stdout.trim()).map_err(|_| bad())?;
    let token = v
        .get("accessToken")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(bad)?;
    let seconds = v
        .get("expires_on")
        .and_then(|e| e.as_u64().or_else(|| e.as_str()?.trim().parse().ok()))
        .or_else(|| jwt_expiry(token));
    let expires_at = seconds.map(|s| UNIX_EPOCH + Duration::from_secs(s));
    Ok(Token {
        key: ApiKey::new(token),
        expires_at,
    })
}

/// The `exp` claim of a JWT, read without checking its signature (the server does that).
fn jwt_expiry(token: &str) -> Option<u64> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice::<Value>(&bytes).ok()?.get("exp")?.as_u64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_comes_from_expires_on_or_the_tokens_own_claim() {
        let now = SystemTime::now();
        let t = parse(
            r#"{"accessToken":"tok-Aa1.cli-test","expiresOn":"2030-01-01 10:00:00.000000","expires_on":1893492000,"subscription":"s","tenant":"t","tokenType":"Bearer"}"#,
        )
        .unwrap();
        assert_eq!(
            t.expires_at,
            Some(UNIX_EPOCH + Duration::from_secs(1_893_492_000))
        );
        assert_eq!(t.key.expose(), "tok-Aa1.cli-test");
        // An older CLI: only the zone-less `expiresOn`; the JWT says when.
        let claims =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"aud":"x","exp":1893492000}"#);
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2ln");
        let old = parse(&format!(
            r#"{{"accessToken":"{jwt}","expiresOn":"2030-01-01 10:00:00.000000"}}"#
        ))
        .unwrap();
        assert_eq!(old.expires_at, t.expires_at);
        let unknown = parse(r#"{"accessToken":"opaque-token-value"}"#).unwrap();
        assert_eq!(unknown.expires_at, None);
        assert!(!unknown.fresh(now), "a token of unknown expiry is used once");
    }

    #[test]
    fn an_answer_without_a_token_never_shows_what_it_held() {
        let e = parse(r#"{"token":"sekrit-value-123"}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingKey);
        assert!(!e.message.contains("sekrit"), "{}", e.message);
        assert!(parse("not json").is_err());
    }

    #[test]
    fn the_cli_says_its_first_line_without_error_prefix() {
        assert_eq!(
            said("\nERROR: Please run 'az login' to setup account.\nmore\n"),
            "Please run 'az login' to setup account."
        );
        assert_eq!(said(""), "no message");
    }
}
