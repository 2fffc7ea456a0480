//! Failures of the HTTP exchange itself, told as what happened and what to change:
//! connections that could not be made (and whether another try can help), TLS handshakes,
//! redirects (never followed), and encodings Prism cannot decode.

use super::errors::{self, ErrorContext};
use super::event::{ErrorKind, ProviderError};
use super::wire::SendError;
use super::wire::connect::{ConnectTimedOut, UnusableProxy};

/// A request that got no response from the streaming client, told as what to change.
pub(super) fn send_error(e: &SendError, cx: ErrorContext<'_>) -> ProviderError {
    match e {
        SendError::Request(why) => ProviderError::new(
            ErrorKind::Config,
            errors::one_line(&format!("cannot send the request to {}: {why}", cx.base_url)),
        ),
        // hyper-util marks every failure to get a connection as a connect error.
        SendError::Http(e) => exchange_error(e, is_connect_timeout(e), e.is_connect(), cx),
    }
}

/// Whether the connect timeout ran out (ours around the whole set-up, or the OS's).
fn is_connect_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    any_in_chain(e, &mut |err| {
        err.is::<ConnectTimedOut>()
            || err
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
    })
}

fn exchange_error(
    e: &(dyn std::error::Error + 'static),
    timed_out: bool,
    connecting: bool,
    cx: ErrorContext<'_>,
) -> ProviderError {
    let chain = error_chain(e);
    let host = host_of(cx.base_url);
    // Retry what may heal (refused, reset, timed out); a name that does not resolve,
    // a TLS handshake the server cannot pass, or a proxy Prism cannot use fails the same
    // way every time.
    let (kind, retryable, what) = match setup_failure(e) {
        Some(SetupFailure::NameNotFound) => (
            ErrorKind::Connect,
            false,
            format!("cannot resolve host {host}; check base_url {}", cx.base_url),
        ),
        Some(SetupFailure::Tls(detail)) => (ErrorKind::Connect, false, tls_advice(&detail, &host, cx)),
        Some(SetupFailure::Proxy) => (
            ErrorKind::Connect,
            false,
            format!("cannot reach {} through the configured proxy", cx.base_url),
        ),
        None if timed_out => (
            ErrorKind::ConnectTimeout,
            true,
            format!("timed out connecting to {} (connect_timeout)", cx.base_url),
        ),
        None if connecting => (
            ErrorKind::Connect,
            true,
            format!("cannot connect to {}", cx.base_url),
        ),
        None => (
            ErrorKind::Connect,
            true,
            format!("request to {} failed before a response", cx.base_url),
        ),
    };
    let mut err = ProviderError::new(kind, errors::one_line(&format!("{what}: {chain}")));
    err.retryable = retryable;
    err
}

/// A connection set-up failure that no retry can heal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SetupFailure {
    /// The resolver answered that the name does not exist.
    NameNotFound,
    /// rustls refused the handshake: the certificate, or a server not speaking TLS.
    Tls(TlsProblem),
    /// The proxy from the environment is of a kind Prism cannot use.
    Proxy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum TlsProblem {
    /// The server's certificate was rejected (unknown issuer, expired, wrong name...).
    Certificate,
    /// The peer's bytes were not TLS at all (often plain HTTP on an https:// URL).
    NotTls,
    /// Any other handshake refusal (no shared version or cipher, an alert...).
    Other,
}

/// Walk the source chain for a resolver or rustls error.
fn setup_failure(e: &(dyn std::error::Error + 'static)) -> Option<SetupFailure> {
    let mut found = None;
    any_in_chain(e, &mut |err| {
        found = classify_one(err);
        found.is_some()
    });
    found
}

/// Whether `test` holds for `e` or any error under it. `io::Error` hides its inner error
/// from `source()` (it returns the inner error's source), so look inside it too.
fn any_in_chain(
    e: &(dyn std::error::Error + 'static),
    test: &mut dyn FnMut(&(dyn std::error::Error + 'static)) -> bool,
) -> bool {
    let mut next = Some(e);
    while let Some(err) = next {
        if test(err) {
            return true;
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            && any_in_chain(inner, test)
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// A body error from decompression itself: one that does not carry hyper's own (the
/// connection failed under the decoder).
pub(super) fn is_decompression_failure(e: &(dyn std::error::Error + 'static)) -> bool {
    !any_in_chain(e, &mut |err| err.is::<hyper::Error>())
}

fn classify_one(err: &(dyn std::error::Error + 'static)) -> Option<SetupFailure> {
    if err.is::<UnusableProxy>() {
        return Some(SetupFailure::Proxy);
    }
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        let problem = match tls {
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                TlsProblem::Certificate
            }
            rustls::Error::InvalidMessage(_) | rustls::Error::InappropriateHandshakeMessage { .. } => {
                TlsProblem::NotTls
            }
            _ => TlsProblem::Other,
        };
        return Some(SetupFailure::Tls(problem));
    }
    // hyper-util's connector says "dns error" around the resolver's io::Error, whose
    // text is getaddrinfo's. Only a definite "no such name" is final: a temporary
    // resolver failure ("try again") may pass.
    if err.to_string() == "dns error" {
        let detail = error_chain(err).to_ascii_lowercase();
        let temporary = ["temporary", "try again", "timed out"]
            .iter()
            .any(|w| detail.contains(w));
        return (!temporary).then_some(SetupFailure::NameNotFound);
    }
    None
}

fn tls_advice(problem: &TlsProblem, host: &str, cx: ErrorContext<'_>) -> String {
    match problem {
        TlsProblem::Certificate => format!(
            "the TLS certificate of {host} was rejected; check base_url {} (a proxy that intercepts TLS needs its CA installed in the system store)",
            cx.base_url
        ),
        TlsProblem::NotTls => format!(
            "{host} did not answer in TLS; if it serves plain HTTP, use http:// in base_url {}",
            cx.base_url
        ),
        TlsProblem::Other => format!(
            "the TLS handshake with {host} failed; check base_url {}",
            cx.base_url
        ),
    }
}

/// `host[:port]` of a URL, or the URL itself when it does not parse.
fn host_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => authority(&u),
        Err(_) => url.to_string(),
    }
}

fn authority(u: &reqwest::Url) -> String {
    let host = u.host_str().unwrap_or_default();
    match u.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

/// A 3xx answer, which Prism never follows (a redirect would carry the API key to
/// wherever it points), told as where it pointed and what to change.
pub(super) fn redirect_error(
    status: u16,
    headers: &reqwest::header::HeaderMap,
    asked: &reqwest::Url,
    cx: ErrorContext<'_>,
) -> ProviderError {
    let location = errors::header(headers, "location");
    let target = location.as_deref().and_then(|l| asked.join(l).ok());
    let what = match (&target, &location) {
        (Some(to), _) if to.origin() == asked.origin() => format!(
            "the server redirected to {} on the same host; if that is the right endpoint, fix the path in base_url {}",
            to.path(),
            cx.base_url
        ),
        (Some(to), _) => {
            let shown = if to.scheme() == asked.scheme() {
                authority(to)
            } else {
                format!("{}://{}", to.scheme(), authority(to))
            };
            format!("the server redirected to {shown}; if that is the right endpoint, set base_url to it")
        }
        (None, Some(raw)) => format!(
            "the server redirected to an unusable location `{raw}`; check base_url {}",
            cx.base_url
        ),
        (None, None) => format!(
            "the server answered with a redirect but no location; check base_url {}",
            cx.base_url
        ),
    };
    ProviderError {
        http_status: Some(status),
        ..ProviderError::new(
            ErrorKind::Http,
            errors::one_line(&format!(
                "HTTP {status}: {what} (redirects are not followed, so the key stays with base_url)"
            )),
        )
    }
}

/// The client decodes gzip; any other `Content-Encoding` left on a response would feed
/// compressed bytes to the parser, so it fails here, named.
pub(super) fn undecodable_encoding(headers: &reqwest::header::HeaderMap) -> Option<ProviderError> {
    let encoding = errors::header(headers, "content-encoding")?;
    let encoding = encoding.trim().to_ascii_lowercase();
    if encoding.is_empty() || encoding == "identity" {
        return None;
    }
    Some(ProviderError::new(
        ErrorKind::Malformed,
        errors::one_line(&format!(
            "the body is compressed as `{encoding}`, which Prism cannot decode (it asks for gzip only); a proxy may be compressing responses"
        )),
    ))
}

/// The error and its sources on one line (reqwest's top-level message alone is vague).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// Stands in for hyper-util's private connect error: "dns error" over the resolver's.
    #[derive(Debug)]
    struct DnsError(std::io::Error);

    impl fmt::Display for DnsError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("dns error")
        }
    }

    impl std::error::Error for DnsError {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    fn gai(text: &str) -> DnsError {
        DnsError(std::io::Error::other(format!(
            "failed to lookup address information: {text}"
        )))
    }

    #[test]
    fn only_a_definite_unknown_name_is_final() {
        assert_eq!(
            setup_failure(&gai("Name or service not known")),
            Some(SetupFailure::NameNotFound)
        );
        assert_eq!(setup_failure(&gai("Temporary failure in name resolution")), None);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(setup_failure(&refused), None);
    }

    #[test]
    fn rustls_errors_inside_io_errors_are_found() {
        // tokio-rustls hands rustls errors up wrapped in io::Error, whose source() skips them.
        let wrap = |e: rustls::Error| std::io::Error::new(std::io::ErrorKind::InvalidData, e);
        let cert = wrap(rustls::Error::InvalidCertificate(
            rustls::CertificateError::UnknownIssuer,
        ));
        assert_eq!(
            setup_failure(&cert),
            Some(SetupFailure::Tls(TlsProblem::Certificate))
        );
        let alert = wrap(rustls::Error::AlertReceived(
            rustls::AlertDescription::HandshakeFailure,
        ));
        assert_eq!(setup_failure(&alert), Some(SetupFailure::Tls(TlsProblem::Other)));
    }
}
