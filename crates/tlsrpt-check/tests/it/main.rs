//! Scenario tests of the checker against a closed network on loopback: an in-process DNS
//! server, an HTTPS policy host and STARTTLS SMTP servers with certificates from a test CA.

#![allow(clippy::unwrap_used)]

mod bulk;
mod mx;
mod output;
mod policy_content;
mod policy_fetch;
mod ssrf;
mod sts_record;
mod support;
mod tlsrpt;
