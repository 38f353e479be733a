//! TLS client setup (rustls with ring, TLS 1.2+) and certificate analysis.
//!
//! A capturing verifier records the chain and delegates to the real WebPKI verifier, so a
//! failed verification can still be explained: untrusted, expired, or which names the
//! certificate does carry (RFC 8461 §3.3 and §4.2: DNS-ID only, no CN fallback).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{ClientConfig, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, Error, RootCertStore, SignatureScheme};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

use crate::report::{CertificateReport, TlsSession};

/// Trust anchors and crypto provider shared by every connection of one checker.
#[derive(Debug)]
pub(crate) struct TlsTrust {
    verifier: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl TlsTrust {
    pub(crate) fn new(
        extra_roots: Vec<CertificateDer<'static>>,
        ca_file: &std::path::Path,
    ) -> Result<Self, crate::CheckError> {
        let mut roots = RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for cert in extra_roots {
            roots
                .add(cert)
                .map_err(|source| crate::CheckError::TrustAnchor {
                    path: ca_file.to_owned(),
                    source,
                })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                .build()?;
        Ok(Self { verifier, provider })
    }

    /// A client config for one connection. With `enforce`, an invalid certificate aborts
    /// the handshake (policy fetch); without, the handshake completes and the verdict is
    /// only recorded (MX probe). The returned verifier holds the analysis afterwards.
    pub(crate) fn client_config(
        &self,
        expected_host: &str,
        enforce: bool,
    ) -> Result<(Arc<ClientConfig>, Arc<CapturingVerifier>), Error> {
        let verifier = Arc::new(CapturingVerifier {
            inner: self.verifier.clone(),
            expected_host: expected_host.to_owned(),
            enforce,
            captured: Mutex::new(None),
        });
        let config = ClientConfig::builder_with_provider(self.provider.clone())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone())
            .with_no_client_auth();
        Ok((Arc::new(config), verifier))
    }
}

/// Records the certificate analysis of one handshake, then answers like WebPKI would
/// (or accepts, when not enforcing).
#[derive(Debug)]
pub(crate) struct CapturingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    expected_host: String,
    enforce: bool,
    captured: Mutex<Option<CertificateReport>>,
}

impl CapturingVerifier {
    /// The analysis of the certificate the server presented, if it got that far.
    pub(crate) fn certificate(&self) -> Option<CertificateReport> {
        self.captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ServerCertVerifier for CapturingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let leaf = X509Certificate::from_der(end_entity.as_ref())
            .ok()
            .map(|(_, c)| c);
        if let Some(leaf) = &leaf {
            // Judge the chain at a time inside the leaf's validity, so that an expired
            // certificate can still be called trusted or untrusted.
            let chain_verdict = if is_time_error(&verdict) {
                let not_before = leaf.validity().not_before.timestamp();
                let not_after = leaf.validity().not_after.timestamp();
                let mid = u64::try_from(not_before / 2 + not_after / 2).unwrap_or(0);
                self.inner
                    .verify_server_cert(
                        end_entity,
                        intermediates,
                        server_name,
                        ocsp_response,
                        UnixTime::since_unix_epoch(Duration::from_secs(mid)),
                    )
                    .map(|_| ())
            } else {
                verdict.as_ref().map(|_| ()).map_err(Clone::clone)
            };
            let report = analyse(
                leaf,
                intermediates.len() + 1,
                &self.expected_host,
                &chain_verdict,
            );
            *self.captured.lock().unwrap_or_else(PoisonError::into_inner) = Some(report);
        }
        match verdict {
            Ok(ok) => Ok(ok),
            Err(e) if self.enforce => Err(e),
            Err(_) => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn is_time_error(verdict: &Result<ServerCertVerified, Error>) -> bool {
    matches!(
        verdict,
        Err(Error::InvalidCertificate(
            CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. }
        ))
    )
}

fn analyse(
    leaf: &X509Certificate<'_>,
    chain_length: usize,
    expected_host: &str,
    chain_verdict: &Result<(), Error>,
) -> CertificateReport {
    let san_dns: Vec<String> = leaf
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|ext| {
            ext.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let name_matches = san_dns.iter().any(|san| san_matches(san, expected_host));
    let chain_error = match chain_verdict {
        Ok(_) => None,
        Err(Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => None,
        Err(e) => Some(describe_error(e)),
    };
    let not_before = timestamp(leaf.validity().not_before.timestamp());
    let not_after = timestamp(leaf.validity().not_after.timestamp());
    CertificateReport {
        subject: leaf.subject().to_string(),
        issuer: leaf.issuer().to_string(),
        serial: leaf.raw_serial_as_string(),
        san_dns,
        not_before,
        not_after,
        days_remaining: (not_after - Utc::now()).num_days(),
        chain_length,
        chain_trusted: chain_error.is_none(),
        chain_error,
        name_matches,
    }
}

fn timestamp(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

/// RFC 6125 DNS-ID matching: case-insensitive, a `*` only as the whole left-most label.
fn san_matches(san: &str, host: &str) -> bool {
    let san = san.trim_end_matches('.').to_ascii_lowercase();
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    match san.strip_prefix("*.") {
        Some(rest) => host
            .split_once('.')
            .is_some_and(|(first, tail)| !first.is_empty() && tail == rest),
        None => san == host,
    }
}

/// Plain words for a rustls verification or handshake error.
pub(crate) fn describe_error(error: &Error) -> String {
    match error {
        Error::InvalidCertificate(cert) => match cert {
            CertificateError::UnknownIssuer => "it does not chain to a trusted root (unknown \
                 issuer: self-signed, a private CA, or a missing intermediate certificate)"
                .to_owned(),
            CertificateError::BadSignature => "a signature in the chain is invalid".to_owned(),
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                "it has expired".to_owned()
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                "it is not valid yet".to_owned()
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                "it is not valid for the host name".to_owned()
            }
            CertificateError::InvalidPurpose | CertificateError::InvalidPurposeContext { .. } => {
                "it is not valid for TLS server authentication".to_owned()
            }
            CertificateError::Revoked => "it has been revoked".to_owned(),
            CertificateError::BadEncoding => "it cannot be parsed".to_owned(),
            other => format!("it was rejected ({other:?})"),
        },
        other => other.to_string(),
    }
}

/// The session facts of a finished handshake.
pub(crate) fn session(
    connection: &rustls::ClientConnection,
    verifier: &CapturingVerifier,
) -> TlsSession {
    let version = match connection.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3".to_owned(),
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2".to_owned(),
        Some(other) => format!("{other:?}"),
        None => "unknown".to_owned(),
    };
    let cipher_suite = connection
        .negotiated_cipher_suite()
        .map(|s| format!("{:?}", s.suite()))
        .unwrap_or_default();
    TlsSession {
        version,
        cipher_suite,
        certificate: verifier.certificate(),
    }
}

/// Why a certificate is unacceptable for `host`, in one sentence, or `None` when it is fine.
pub(crate) fn certificate_problem(cert: &CertificateReport, host: &str) -> Option<String> {
    if !cert.chain_trusted {
        let why = cert.chain_error.as_deref().unwrap_or("it is not trusted");
        return Some(format!("the certificate for {host} is not trusted: {why}"));
    }
    if cert.not_after < Utc::now() {
        return Some(format!(
            "the certificate for {host} expired on {}",
            cert.not_after.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if cert.not_before > Utc::now() {
        return Some(format!(
            "the certificate for {host} is not valid before {}",
            cert.not_before.format("%Y-%m-%d %H:%M UTC")
        ));
    }
    if !cert.name_matches {
        return Some(name_mismatch(cert, host));
    }
    None
}

/// Explains a name mismatch, calling out CN-only certificates.
pub(crate) fn name_mismatch(cert: &CertificateReport, host: &str) -> String {
    if cert.san_dns.is_empty() {
        format!(
            "the certificate for {host} has no subjectAltName DNS names (subject {}); \
             the CN is not used for name matching",
            cert.subject
        )
    } else {
        format!(
            "the certificate for {host} is only valid for {}",
            cert.san_dns.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::san_matches;

    #[test]
    fn san_wildcards_cover_one_label() {
        assert!(san_matches("mx.example.com", "MX.example.com"));
        assert!(san_matches("*.example.com", "mx.example.com"));
        assert!(!san_matches("*.example.com", "example.com"));
        assert!(!san_matches("*.example.com", "a.mx.example.com"));
        assert!(!san_matches("m*.example.com", "mx.example.com"));
    }
}
