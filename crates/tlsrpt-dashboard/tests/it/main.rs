//! HTTP tests of the dashboard's router (tower `oneshot`), over the demo data in a real
//! store on both backends: pages, API, exports, escaping, access and CSRF.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod alerts;
mod api;
mod pages;
mod support;
