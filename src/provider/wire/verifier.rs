//! The platform's certificate verifier, loaded when a certificate first needs it.
//!
//! Building it reads and parses every root certificate the system trusts: on a Debian
//! machine three quarters of the CPU a short `prism run` against a plain-HTTP server
//! spent (the mock, a local model server), for a verifier such a run never asks. Here a
//! TLS configuration gets [`LazyVerifier`], which loads the platform's verifier (once per
//! process) on the first certificate it checks. A target reached over HTTPS starts that
//! load in the background as its request is prepared ([`warm`]), so its handshake,
//! whose time is reported as the connection's, does not wait for it.
//!
//! Only certificate checks need the roots. The handshake's signature checks use the
//! crypto provider's algorithms alone, as the platform verifier's own do.

use std::sync::{Arc, Once, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

type Loaded = Result<Arc<rustls_platform_verifier::Verifier>, rustls::Error>;

static VERIFIER: OnceLock<Loaded> = OnceLock::new();

/// The platform verifier, built at most once per process.
fn platform() -> &'static Loaded {
    VERIFIER.get_or_init(|| rustls_platform_verifier::Verifier::new(provider()).map(Arc::new))
}

/// Whether the platform verifier has been built (or its building has failed).
pub fn is_loaded() -> bool {
    VERIFIER.get().is_some()
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Start loading the platform verifier on a thread of its own, if nothing has yet.
pub fn warm() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        // Whoever needs it first waits for this load rather than starting another.
        let _ = std::thread::Builder::new().name("tls-roots".into()).spawn(|| {
            let _ = platform();
        });
    });
}

/// A verifier that is the platform's, loaded on the first certificate it checks.
#[derive(Debug)]
pub struct LazyVerifier {
    algorithms: WebPkiSupportedAlgorithms,
}

impl Default for LazyVerifier {
    /// With the signature algorithms of Prism's crypto provider (ring).
    fn default() -> Self {
        Self {
            algorithms: provider().signature_verification_algorithms,
        }
    }
}

impl ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match platform() {
            Ok(v) => v.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now),
            Err(e) => Err(rustls::Error::General(format!(
                "the system's trusted certificates could not be loaded: {e}"
            ))),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_offers_the_platform_verifier_s_signature_schemes() {
        let Ok(platform) = platform() else {
            // A machine without a trust store has nothing to compare with.
            return;
        };
        assert_eq!(
            LazyVerifier::default().supported_verify_schemes(),
            platform.supported_verify_schemes()
        );
    }
}
