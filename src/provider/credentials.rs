//! A target's credentials: its API key, read from where its [`KeySource`] says at the
//! moment a request is built (never earlier, so a key set after start-up is picked up),
//! and attached the way its provider's row in the table says ([`AuthStyle`]).
//!
//! Credentials are applied to a request whose body is final, so a signing scheme (AWS
//! SigV4, which hashes the body) fits the same hook as a plain header.
//!
//! An Azure target may prove itself with a Microsoft Entra ID token instead of its key
//! (`Target::params.entra`): read from its variable like a key, or asked of the Azure CLI
//! ([`Credentials::obtain`]) and cached until it expires.

use std::fmt;
use std::sync::Arc;

use super::azure::cli::CliTokens;
use super::event::{ErrorKind, ProviderError};
use super::secret::ApiKey;
use crate::target::{AuthStyle, EntraToken, KeySource, Target};

/// How a request proves who sends it.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// Nothing is sent (local servers without auth).
    None,
    /// `Authorization: Bearer <key>`.
    Bearer(ApiKey),
    /// The key as the whole value of a header (`x-api-key`, `x-goog-api-key`).
    Header {
        /// Lowercase header name, from the provider table.
        name: &'static str,
        /// The key.
        key: ApiKey,
    },
    /// A signer that sees the finished request (method, URL, headers, body).
    Signed(Arc<dyn Signer>),
}

/// Signs a finished request in place (AWS SigV4 and the like).
pub trait Signer: fmt::Debug + Send + Sync {
    /// Add the signature headers to `request`, whose body is final.
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), ProviderError>;
}

impl Credentials {
    /// `target`'s credentials: its key, read now, in the form its provider expects; or
    /// its Microsoft Entra ID token (Azure), which from the Azure CLI must already be at
    /// hand (see [`Credentials::obtain`]).
    pub fn for_target(target: &Target) -> Result<Self, ProviderError> {
        if target.provider.spec().auth == AuthStyle::Signed {
            // A Bedrock API key, or keys from the AWS chain that sign each attempt.
            return super::bedrock::credentials(target);
        }
        match target.params.entra {
            None => Self::from_key(target.provider.spec().auth, resolve(&target.key).map_err(|e| key_hint(target, e))?),
            Some(EntraToken::Env) => match resolve(&target.key) {
                Ok(Some(token)) => Ok(Self::Bearer(token)),
                Ok(None) | Err(_) => Err(ProviderError::new(
                    ErrorKind::MissingKey,
                    format!(
                        "no Microsoft Entra ID token: set ${}, or use azure_auth = \"cli\" to get one from `az`",
                        target.key.env_name().unwrap_or("AZURE_OPENAI_AD_TOKEN")
                    ),
                )),
            },
            Some(EntraToken::AzureCli) => CliTokens::shared()
                .cached()
                .map(Self::Bearer)
                .ok_or_else(|| {
                    ProviderError::new(
                        ErrorKind::MissingKey,
                        "no Microsoft Entra ID token at hand: it is asked of the Azure CLI when the request is prepared",
                    )
                }),
        }
    }

    /// [`Credentials::for_target`], first asking the Azure CLI for a token when the target
    /// takes one from it and none is cached. The CLI runs as a child process with a time
    /// limit; the runtime is never blocked.
    pub async fn obtain(target: &Target) -> Result<Self, ProviderError> {
        if target.params.entra == Some(EntraToken::AzureCli) {
            return Ok(Self::Bearer(CliTokens::shared().token().await?));
        }
        Self::for_target(target)
    }

    /// `key` attached the way `auth` says; no key means no credentials.
    pub fn from_key(auth: AuthStyle, key: Option<ApiKey>) -> Result<Self, ProviderError> {
        let Some(key) = key else { return Ok(Self::None) };
        match auth {
            AuthStyle::Bearer => Ok(Self::Bearer(key)),
            AuthStyle::Header(name) => Ok(Self::Header { name, key }),
            AuthStyle::Signed => Err(ProviderError::new(
                ErrorKind::Config,
                "this provider signs its requests, and an API key cannot sign; configure its signing credentials instead",
            )),
        }
    }

    /// Whether attaching these again changes the request (a signature covers the time):
    /// a retry re-applies them.
    pub fn signs(&self) -> bool {
        matches!(self, Self::Signed(_))
    }

    /// Attach the credentials to `request`, whose body is final. Called once per attempt
    /// for a signer (a retry is signed again), once per request otherwise.
    pub fn apply(&self, request: &mut reqwest::Request) -> Result<(), ProviderError> {
        let (name, value) = match self {
            Self::None => return Ok(()),
            Self::Signed(signer) => return signer.sign(request),
            Self::Bearer(key) => (
                AuthStyle::Bearer.header_name(),
                key.header_value(AuthStyle::Bearer.value_prefix()),
            ),
            Self::Header { name, key } => (*name, key.header_value("")),
        };
        let value = value.map_err(|_| bad_key())?;
        let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ProviderError::new(
                ErrorKind::Config,
                format!("`{name}` is not a valid HTTP header name for the API key"),
            )
        })?;
        request.headers_mut().insert(name, value);
        Ok(())
    }
}

/// A missing Azure key also names the keyless ways in.
fn key_hint(target: &Target, mut e: ProviderError) -> ProviderError {
    if e.kind == ErrorKind::MissingKey && target.provider.model_is_deployment() {
        e.message.push_str(
            ", or use Microsoft Entra ID: azure_auth = \"token-env\" ($AZURE_OPENAI_AD_TOKEN) or \"cli\" (`az login`)",
        );
    }
    e
}

fn bad_key() -> ProviderError {
    ProviderError::new(
        ErrorKind::Config,
        "the API key contains characters not allowed in an HTTP header",
    )
}

/// Read the key now. A missing variable fails this target only.
pub fn resolve(source: &KeySource) -> Result<Option<ApiKey>, ProviderError> {
    match source {
        KeySource::None => Ok(None),
        KeySource::Demo => Ok(Some(ApiKey::new("prism-demo-placeholder"))),
        KeySource::Env(vars) => vars
            .iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.trim().is_empty()))
            .map(|k| Some(ApiKey::new(k.trim())))
            .ok_or_else(|| {
                let names = vars
                    .iter()
                    .map(|v| format!("${v}"))
                    .collect::<Vec<_>>()
                    .join(" or ");
                ProviderError::new(ErrorKind::MissingKey, format!("no API key: set {names}"))
            }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_key_names_every_variable_tried() {
        let src = KeySource::Env(vec!["PRISM_TEST_UNSET_A".into(), "PRISM_TEST_UNSET_B".into()]);
        let e = resolve(&src).unwrap_err();
        assert_eq!(e.kind, ErrorKind::MissingKey);
        assert_eq!(
            e.message,
            "no API key: set $PRISM_TEST_UNSET_A or $PRISM_TEST_UNSET_B"
        );
    }
}
