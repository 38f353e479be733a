//! The HTTP side of tlsrpt: the RFC 8460 §3 HTTPS report endpoint (`rua=https:`), served
//! over plain HTTP behind a reverse proxy or over built-in TLS (rustls).
//!
//! A report is answered 2xx only once it is committed (or was already stored): a sender
//! that sees anything else retries, so nothing acknowledged is ever lost.

mod client;
mod committer;
mod error;
mod rate_limit;
mod report_post;
mod server;
mod telemetry;
mod tokens;

pub use client::{Cidr, client_ip};
pub use rate_limit::{LimitKind, Rate, RateLimiter, RateLimits, Refusal, with_rate_limits};
pub use report_post::{IngestState, router};
pub use server::{ConnectionLimits, ServeError, TlsFiles, serve};
pub use tokens::{Tokens, TokensError};
