//! Intake: from unpacked inputs to stored records. Every source (files, the IMAP
//! mailbox, HTTPS POSTs) builds its records here, so that all of them are stored alike.

mod budget;
mod files;
mod records;

pub use files::{Progress, Settings, Summary, ingest_paths};
pub use records::to_new_inputs;
