//! The verifier: mail-auth's DKIM over a hickory resolver (the system's, or one DNS server
//! given explicitly), then alignment with the `From` domain.

use std::net::SocketAddr;

use mail_auth::hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolverConfig, ResolverOpts,
};
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator};

use crate::upstream;

/// How mailed reports are authenticated.
#[derive(Debug, Clone, Default)]
pub struct DkimConfig {
    /// Ask this DNS server for DKIM keys instead of the system's resolvers.
    pub dns_server: Option<SocketAddr>,
    /// Trust `Authentication-Results` headers added by the MTA with this authserv-id.
    pub trusted_authserv_id: Option<String>,
}

/// The verifier could not be built.
#[derive(Debug, thiserror::Error)]
pub enum DkimError {
    /// The resolver configuration is unusable.
    #[error("cannot set up DNS for DKIM: {0}")]
    Resolver(String),
}

/// What DKIM says of one message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailAuth {
    /// A valid signature by the `From` domain or a parent of it.
    Pass { domain: String },
    /// The trusted upstream MTA reported a DKIM pass aligned with the `From` domain.
    UpstreamPass { domain: String, authserv_id: String },
    /// Signed, but no signature is both valid and aligned; the reason says why.
    Fail { reason: String },
    /// No DKIM signature at all.
    None,
    /// A DNS failure prevented the check; it may pass later.
    TempError { reason: String },
}

impl MailAuth {
    /// True when the report may count towards the advice.
    pub fn is_trusted(&self) -> bool {
        matches!(self, Self::Pass { .. } | Self::UpstreamPass { .. })
    }
}

/// Verifies the DKIM signatures of mailed reports.
pub struct DkimVerifier {
    authenticator: MessageAuthenticator,
    trusted_authserv_id: Option<String>,
}

impl std::fmt::Debug for DkimVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimVerifier")
            .field("trusted_authserv_id", &self.trusted_authserv_id)
            .finish_non_exhaustive()
    }
}

impl DkimVerifier {
    /// A verifier using `config`.
    pub fn new(config: DkimConfig) -> Result<Self, DkimError> {
        let authenticator = match config.dns_server {
            Some(server) => {
                let connections = [ProtocolConfig::Udp, ProtocolConfig::Tcp]
                    .into_iter()
                    .map(|protocol| {
                        let mut connection = ConnectionConfig::new(protocol);
                        connection.port = server.port();
                        connection
                    })
                    .collect();
                let name_server = NameServerConfig::new(server.ip(), true, connections);
                MessageAuthenticator::new(
                    ResolverConfig::from_name_servers(vec![name_server]),
                    ResolverOpts::default(),
                )
            }
            None => MessageAuthenticator::new_system_conf(),
        }
        .map_err(|e| DkimError::Resolver(e.to_string()))?;
        Ok(Self {
            authenticator,
            trusted_authserv_id: config.trusted_authserv_id,
        })
    }

    /// Verifies `message`.
    pub async fn verify(&self, message: &[u8]) -> MailAuth {
        let Some(from_domain) = from_domain(message) else {
            return MailAuth::Fail {
                reason: "the message has no From address to align a signature with".into(),
            };
        };
        if let Some(id) = &self.trusted_authserv_id
            && let Some(domain) = upstream::dkim_pass(message, id, &from_domain)
        {
            return MailAuth::UpstreamPass {
                domain,
                authserv_id: id.clone(),
            };
        }
        let Some(parsed) = AuthenticatedMessage::parse(message) else {
            return MailAuth::Fail {
                reason: "the message cannot be parsed for DKIM".into(),
            };
        };
        let outputs = self.authenticator.verify_dkim(&parsed).await;
        if outputs.is_empty() {
            return MailAuth::None;
        }
        let mut reasons = Vec::new();
        let mut temporary = None;
        for output in &outputs {
            let signer = output.signature().map(|s| s.d.to_ascii_lowercase());
            match (output.result(), signer) {
                (DkimResult::Pass, Some(d)) if aligned(&d, &from_domain) => {
                    return MailAuth::Pass { domain: d };
                }
                (DkimResult::Pass, Some(d)) => reasons.push(format!(
                    "a valid signature by {d}, which is not the From domain {from_domain} or a parent of it"
                )),
                (DkimResult::TempError(e), _) => temporary = Some(e.to_string()),
                (result, signer) => reasons.push(format!(
                    "signature{}: {}",
                    signer.map(|d| format!(" by {d}")).unwrap_or_default(),
                    describe(result)
                )),
            }
        }
        match temporary {
            Some(reason) if reasons.is_empty() => MailAuth::TempError { reason },
            _ => MailAuth::Fail {
                reason: reasons.join("; "),
            },
        }
    }
}

fn describe(result: &DkimResult) -> String {
    match result {
        DkimResult::Pass => "pass".into(),
        DkimResult::Neutral(e) => format!("neutral ({e})"),
        DkimResult::Fail(e) => format!("fail ({e})"),
        DkimResult::PermError(e) => format!("permanent error ({e})"),
        DkimResult::TempError(e) => format!("temporary error ({e})"),
        DkimResult::None => "none".into(),
    }
}

/// The domain of the first `From` address, lower-cased.
fn from_domain(message: &[u8]) -> Option<String> {
    let parsed = mail_parser::MessageParser::default().parse_headers(message)?;
    let address = parsed.from()?.first()?.address()?;
    let domain = address.rsplit_once('@')?.1.trim().trim_end_matches('.');
    (!domain.is_empty()).then(|| domain.to_ascii_lowercase())
}

/// `signer` is the `From` domain or a parent of it (relaxed alignment).
pub(crate) fn aligned(signer: &str, from_domain: &str) -> bool {
    let signer = signer.trim_end_matches('.');
    !signer.is_empty()
        && signer.contains('.')
        && (from_domain == signer || from_domain.ends_with(&format!(".{signer}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alignment_is_relaxed_but_anchored() {
        assert!(aligned("google.com", "google.com"));
        assert!(aligned("google.com", "smtp-tls-reporting.google.com"));
        assert!(!aligned("evil.com", "google.com"));
        assert!(!aligned("oogle.com", "google.com"));
        assert!(
            !aligned("com", "google.com"),
            "a public suffix alone never aligns"
        );
    }

    #[test]
    fn reads_the_from_domain() {
        let message = b"From: TLS Reports <Noreply@Google.COM>\r\nSubject: x\r\n\r\nbody";
        assert_eq!(from_domain(message).as_deref(), Some("google.com"));
        assert_eq!(from_domain(b"Subject: x\r\n\r\nbody"), None);
    }
}
