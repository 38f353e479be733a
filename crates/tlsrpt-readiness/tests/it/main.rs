//! Integration tests of the readiness advisor and its exports, on fixtures built in
//! `support`.

#![allow(clippy::unwrap_used)]

mod arbitrary;
mod corpus;
mod criteria;
mod exports;
mod json;
mod projection;
mod support;
mod verdicts;
