//! AWS Signature Version 4 over the finished request, with `aws-sigv4`.
//!
//! Signed: the method, the path (each segment encoded twice, as SigV4 requires of every
//! service but S3), the query, every header the request carries when it is signed
//! (`content-type`, configured extras; `host` from the URL) and the SHA-256 of the final
//! body. The signature covers `x-amz-date`, so a retry is signed again ([`resign`]).

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use reqwest::header::{HeaderName, HeaderValue};

use super::chain::AccessKeys;
use crate::provider::credentials::Signer;
use crate::provider::event::{ErrorKind, ProviderError};

/// The signing name of Bedrock's runtime API.
pub const SERVICE: &str = "bedrock";

/// Headers a signature adds; removed before signing again.
const SIGNATURE_HEADERS: [&str; 4] = [
    "authorization",
    "x-amz-date",
    "x-amz-security-token",
    "x-amz-content-sha256",
];

/// Signs Bedrock requests with one set of keys for one region.
#[derive(Debug)]
pub struct SigV4 {
    /// The keys.
    pub keys: AccessKeys,
    /// The region in the credential scope.
    pub region: String,
}

impl Signer for SigV4 {
    fn sign(&self, request: &mut reqwest::Request) -> Result<(), ProviderError> {
        sign_at(request, &self.keys, &self.region, SERVICE, SystemTime::now())
    }
}

/// Sign `request` as of `time` (tests pin the clock; requests use now).
pub fn sign_at(
    request: &mut reqwest::Request,
    keys: &AccessKeys,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<(), ProviderError> {
    for name in SIGNATURE_HEADERS {
        request.headers_mut().remove(name);
    }
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect();
    let body: &[u8] = request.body().and_then(|b| b.as_bytes()).unwrap_or_default();
    let identity = aws_credential_types::Credentials::new(
        &keys.access_key_id,
        keys.secret_access_key.expose(),
        keys.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "prism",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| failed(&e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        request.method().as_str(),
        request.url().as_str(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| failed(&e.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| failed(&e.to_string()))?
        .into_parts();
    for (name, value) in instructions.headers() {
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| failed(&e.to_string()))?;
        let mut value = HeaderValue::from_str(value).map_err(|_| {
            ProviderError::new(
                ErrorKind::Config,
                "the AWS session token contains characters not allowed in an HTTP header",
            )
        })?;
        if name == "authorization" || name == "x-amz-security-token" {
            value.set_sensitive(true);
        }
        request.headers_mut().insert(name, value);
    }
    Ok(())
}

fn failed(why: &str) -> ProviderError {
    ProviderError::new(
        ErrorKind::Config,
        format!("the request could not be signed (AWS SigV4): {why}"),
    )
}
