//! Integration tests of the IMAP client against a real Dovecot started per test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod connect;
mod sink;
mod sync;
mod watch;
