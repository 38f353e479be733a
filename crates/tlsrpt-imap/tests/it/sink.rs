//! A test [`Sink`] that classifies messages by their TLS-RPT markers, records every commit,
//! keeps resume points in memory, and can be told to fail or to run a hook on a commit.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash as _, Hasher as _};
use std::sync::Mutex;

use tlsrpt_imap::{Disposition, MailboxId, MailboxState, Sink, SinkError};

/// Runs inside a commit, given how many commits came before.
type Hook = Box<dyn FnMut(usize) + Send>;

#[derive(Default)]
pub struct RecordingSink {
    /// Every successful commit: (UID, disposition, identity of the message).
    pub commits: Mutex<Vec<(u32, Disposition, u64)>>,
    pub states: Mutex<HashMap<MailboxId, MailboxState>>,
    /// Commits fail from this commit number on (counting successful ones only).
    pub fail_from: Mutex<Option<usize>>,
    pub hook: Mutex<Option<Hook>>,
}

impl RecordingSink {
    pub fn commits(&self) -> Vec<(u32, Disposition, u64)> {
        self.commits.lock().unwrap().clone()
    }

    pub fn count(&self, disposition: Disposition) -> usize {
        self.commits().iter().filter(|c| c.1 == disposition).count()
    }

    pub fn state(&self, mailbox: &MailboxId) -> Option<MailboxState> {
        self.states.lock().unwrap().get(mailbox).copied()
    }
}

/// What the real sink would decide, told by the markers RFC 8460 §3 defines.
pub fn classify(message: &[u8]) -> Disposition {
    let text = String::from_utf8_lossy(message).to_ascii_lowercase();
    let tlsrpt = text.contains("tls-report-domain:")
        || text.contains("report-type=\"tlsrpt\"")
        || text.contains("report-type=tlsrpt");
    if text.contains("x-test-broken-report:") {
        Disposition::Rejected
    } else if tlsrpt && text.contains("application/tlsrpt") {
        Disposition::Stored
    } else {
        Disposition::NotReport
    }
}

/// The identity of a message, independent of its line endings.
pub fn identity(message: &[u8]) -> u64 {
    let normalised: Vec<u8> = message.iter().copied().filter(|&b| b != b'\r').collect();
    let mut hasher = DefaultHasher::new();
    normalised.hash(&mut hasher);
    hasher.finish()
}

impl Sink for RecordingSink {
    async fn commit(
        &self,
        _mailbox: &MailboxId,
        uid: u32,
        message: &[u8],
    ) -> Result<Disposition, SinkError> {
        let done = self.commits.lock().unwrap().len();
        if self.fail_from.lock().unwrap().is_some_and(|n| done >= n) {
            return Err(SinkError::new("database is down"));
        }
        if let Some(hook) = self.hook.lock().unwrap().as_mut() {
            hook(done);
        }
        let disposition = classify(message);
        self.commits
            .lock()
            .unwrap()
            .push((uid, disposition, identity(message)));
        Ok(disposition)
    }

    async fn load_state(&self, mailbox: &MailboxId) -> Result<Option<MailboxState>, SinkError> {
        Ok(self.state(mailbox))
    }

    async fn save_state(&self, mailbox: &MailboxId, state: MailboxState) -> Result<(), SinkError> {
        self.states.lock().unwrap().insert(mailbox.clone(), state);
        Ok(())
    }
}

/// The real report mails of the shared corpus.
pub fn real_reports() -> Vec<Vec<u8>> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/tlsrpt-real"
    );
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read the corpus at {dir}: {e}"))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "eml"))
        .collect();
    paths.sort();
    let reports: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    assert!(
        reports.len() >= 10,
        "expected the corpus's .eml reports in {dir}"
    );
    assert!(reports.iter().all(|r| classify(r) == Disposition::Stored));
    reports
}

/// A DMARC aggregate report mail: same subject shape as TLS-RPT, but not one.
pub fn dmarc_report() -> Vec<u8> {
    b"From: noreply-dmarc-support@google.com\r\n\
To: reports@example.com\r\n\
Subject: Report domain: example.com Submitter: google.com Report-ID: 1234567890\r\n\
Message-ID: <dmarc-1@google.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: application/zip; name=\"google.com!example.com!1700000000!1700086399.zip\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
UEsDBAoAAAAAAAAAIQAAAAAAAAAAAAAAAAAAAAAA\r\n"
        .to_vec()
}

/// An ordinary mail.
pub fn plain_mail(n: u32) -> Vec<u8> {
    format!(
        "From: alice@example.com\r\nTo: reports@example.com\r\nSubject: hello {n}\r\n\
Message-ID: <plain-{n}@example.com>\r\n\r\nJust a note, number {n}.\r\n"
    )
    .into_bytes()
}

/// A mail that claims to be a TLS report but carries none: the sink rejects it.
pub fn broken_report() -> Vec<u8> {
    b"From: tlsrpt@reporter.example\r\n\
To: reports@example.com\r\n\
Subject: Report Domain: example.com Submitter: reporter.example Report-ID: <broken>\r\n\
TLS-Report-Domain: example.com\r\n\
TLS-Report-Submitter: reporter.example\r\n\
X-Test-Broken-Report: yes\r\n\
Content-Type: text/plain\r\n\
\r\n\
The attachment got lost.\r\n"
        .to_vec()
}
