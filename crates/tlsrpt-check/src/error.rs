//! Errors that stop the checker from being built. Problems found in a domain are findings,
//! never errors.

use std::path::PathBuf;

/// Why a [`crate::Checker`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The CA file could not be read or holds no PEM certificate.
    #[error("cannot read trust anchors from {path}: {reason}")]
    CaFile {
        /// The file named in the configuration.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A certificate in the CA file is not usable as a trust anchor.
    #[error("certificate in {path} is not a usable trust anchor: {source}")]
    TrustAnchor {
        /// The file named in the configuration.
        path: PathBuf,
        /// The rustls error.
        source: rustls::Error,
    },
    /// The TLS verifier could not be built.
    #[error("cannot build the TLS certificate verifier: {0}")]
    Verifier(#[from] rustls::client::VerifierBuilderError),
    /// The DNS resolver could not be built.
    #[error("cannot build the DNS resolver: {0}")]
    Resolver(#[from] hickory_resolver::net::NetError),
}
