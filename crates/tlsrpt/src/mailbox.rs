//! The store-backed [`Sink`] of IMAP ingestion: each message's DKIM is verified, the
//! message is unpacked, its reports (or its rejection) written in one transaction, and only
//! then reported as committed.

use std::sync::Arc;
use std::time::Instant;

use tlsrpt_dkim::{DkimVerifier, MailAuth};
use tlsrpt_imap::{Disposition, MailboxId, MailboxState, Sink, SinkError};
use tlsrpt_ingest::files::Input;
use tlsrpt_ingest::{Claim, MessageMeta, Source};
use tlsrpt_metrics::{IngestPath, telemetry};
use tlsrpt_store::{Auth, Outcome, Store, StoreError};

use tlsrpt_intake::to_new_inputs;

/// Commits IMAP messages to the store. Idempotent: a message committed twice (after a
/// crash between commit and move) stores its reports once and is `Stored` both times.
#[derive(Debug, Clone)]
pub struct StoreSink {
    pub store: Store,
    pub limits: tlsrpt_ingest::Limits,
    pub dkim: Arc<DkimVerifier>,
}

impl Sink for StoreSink {
    async fn commit(
        &self,
        mailbox: &MailboxId,
        uid: u32,
        message: &[u8],
    ) -> Result<Disposition, SinkError> {
        let received = Instant::now();
        // A shared rua mailbox also receives DMARC reports and plain mail: nothing claims a
        // message is a TLS report unless it is marked as one.
        let found = tlsrpt_ingest::extract(message, Claim::None, &self.limits);
        let input = Input {
            source: Source::Imap,
            locator: format!("imap://{mailbox};UID={uid}"),
            message_id: MessageMeta::read(message).message_id,
            bytes: message.to_vec(),
            size: message.len() as u64,
            found,
        };
        let auth = match self.dkim.verify(message).await {
            MailAuth::Pass { domain } => Auth::DkimPass { domain },
            MailAuth::UpstreamPass { domain, .. } => Auth::DkimUpstreamPass { domain },
            MailAuth::Fail { reason } => {
                tracing::info!(%mailbox, uid, %reason, "DKIM failed: the report is kept but not trusted");
                Auth::DkimFail
            }
            MailAuth::None => Auth::DkimNone,
            // A DNS outage must not mark a genuine report untrusted for ever: the message
            // stays in the mailbox and is verified again on a later pass.
            MailAuth::TempError { reason } => {
                return Err(SinkError::new(format!(
                    "DKIM could not be verified for now: {reason}"
                )));
            }
        };
        let now = chrono::Utc::now().timestamp();
        let records = to_new_inputs(input, now, auth);
        let outcomes = self
            .store
            .write_batch(&records)
            .await
            .map_err(|e| self.failure(e))?;
        let disposition = disposition(&outcomes);
        if disposition == Disposition::Stored {
            telemetry().observe_ingest(IngestPath::Imap, received.elapsed());
        }
        Ok(disposition)
    }

    async fn load_state(&self, mailbox: &MailboxId) -> Result<Option<MailboxState>, SinkError> {
        let state = self
            .store
            .mailbox_state(mailbox.as_str())
            .await
            .map_err(|e| self.failure(e))?;
        Ok(state.map(|(uid_validity, last_uid)| MailboxState {
            uid_validity,
            last_uid,
        }))
    }

    async fn save_state(&self, mailbox: &MailboxId, state: MailboxState) -> Result<(), SinkError> {
        self.store
            .save_mailbox_state(mailbox.as_str(), state.uid_validity, state.last_uid)
            .await
            .map_err(|e| self.failure(e))
    }

    async fn record_error(&self, mailbox: &MailboxId, error: &str) {
        if let Err(e) = self
            .store
            .record_mailbox_error(mailbox.as_str(), error)
            .await
        {
            tracing::warn!(mailbox = %mailbox, "cannot record the mailbox error: {e}");
        }
    }

    fn note_waiting(&self, mailbox: &MailboxId, waiting: usize) {
        telemetry().set_imap_waiting(mailbox.as_str(), waiting as u64);
    }
}

impl StoreSink {
    /// A database failure as the sink's error, naming the database and every cause, so
    /// that the one line the sync prints says what went wrong (a full disk, a read-only
    /// database, …).
    fn failure(&self, error: StoreError) -> SinkError {
        SinkError::new(format!(
            "database {}: {}",
            self.store.location(),
            crate::output::error_chain(&anyhow::Error::from(error))
        ))
    }
}

/// A message with any stored (or already stored) report counts as stored; one whose only
/// candidates were rejected is rejected; anything else is not a report.
fn disposition(outcomes: &[Outcome]) -> Disposition {
    if outcomes
        .iter()
        .any(|o| matches!(o, Outcome::Stored | Outcome::Duplicate))
    {
        Disposition::Stored
    } else if outcomes.contains(&Outcome::Rejected) {
        Disposition::Rejected
    } else {
        Disposition::NotReport
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_with_any_report_is_stored() {
        use Outcome::*;
        assert_eq!(disposition(&[Rejected, Duplicate]), Disposition::Stored);
        assert_eq!(disposition(&[Stored]), Disposition::Stored);
        assert_eq!(disposition(&[Rejected, NotReport]), Disposition::Rejected);
        assert_eq!(disposition(&[NotReport]), Disposition::NotReport);
        assert_eq!(disposition(&[]), Disposition::NotReport);
    }
}
