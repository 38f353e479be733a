//! Storage of TLS reports through sqlx: every report once (de-duplicated on
//! organization-name and report-id, by a unique constraint), its policies and failure
//! details as rows, its original bytes compressed, and a record of every input.
//!
//! The embedded SQLite database is the default. Queries use `$n` placeholders and
//! portable SQL so that the PostgreSQL backend can share them.

mod inputs;
mod mailboxes;
mod open;
mod raw;
mod stats;
mod write;

pub use inputs::RejectedInput;
pub use open::{Store, StoreError, default_database_path};
pub use raw::Raw;
pub use stats::{DomainStats, StatsFilter};
pub use write::{Auth, Candidate, NewInput, Outcome};
