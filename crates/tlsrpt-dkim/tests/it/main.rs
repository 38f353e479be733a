//! DKIM verification against keys served by a real DNS server on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod verify;
