//! Test support for the integration tests of the workspace: real services, started for a
//! test in a temp dir on loopback ports and stopped when dropped. Never used by the binary.
//!
//! A missing service binary fails the test with the install command to run: tests never
//! skip their real part.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backends;
pub mod browser;
pub mod dns;
pub mod dovecot;
mod localhost_tls;
pub mod net;
pub mod noise;
pub mod postgres;
pub mod smtp;
pub mod webhook;

pub use backends::Backend;
