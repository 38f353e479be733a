//! Integration tests of alert delivery against real servers on loopback (the test kit's
//! webhook receiver and SMTP sink) and a real store on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod config;
mod email;
mod sender;
mod support;
mod webhook;
