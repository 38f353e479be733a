//! Storage of TLS reports through sqlx: every report once (de-duplicated on
//! organization-name and report-id, by a unique constraint), its policies and failure
//! details as rows, its original bytes compressed, and a record of every input.
//!
//! Two backends behave the same: an embedded SQLite file (the default) and PostgreSQL
//! (`postgres://…`), chosen by [`Store::open`] from the URL. See the `backend` module for
//! how one body of SQL serves both.

#[macro_use]
mod backend;
mod alerts;
mod assessments;
mod checks;
mod health;
mod inputs;
mod lease;
mod mailboxes;
mod open;
mod plans;
mod raw;
mod reports;
mod rollups;
mod rows;
mod sources;
mod stats;
mod summaries;
mod tally;
mod verify;
mod write;

pub use alerts::{
    AlertCount, AlertQuery, AlertScope, AlertSync, DeliveryStatus, EVENT_OPENED, EVENT_RESOLVED,
    NewAlert, PendingDelivery, StoredAlert, SyncOptions,
};
pub use assessments::CachedAssessment;
pub use checks::{NewCheck, StoredCheck};
pub use inputs::RejectedInput;
pub use lease::{LEASE_CLASS, LeaseLost, MailboxLease};
pub use open::{Store, StoreError, default_database_path};
pub use plans::QueryPlan;
pub use raw::Raw;
pub use reports::StoredReport;
pub use rollups::{
    DailyRollup, DayTotals, DomainOverview, FailureRow, PolicySeen, PortfolioQuery, RollupQuery,
    SessionTotals, UntrustedSummary,
};
pub use sources::{MailboxStatus, SourceSummary, UnacceptedInput};
pub use stats::{DomainStats, StatsFilter};
pub use summaries::{CheckSummary, DomainFailures};
pub use verify::{Consistency, TableCounts};
pub use write::{Auth, BatchWriter, Candidate, NewInput, Outcome, is_trusted_auth};
