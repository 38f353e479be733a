//! The report endpoint driven through its router (no port, no sleep), on a real SQLite
//! store: every status it can answer, and what it stored.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod post;
