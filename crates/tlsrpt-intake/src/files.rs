//! The file ingest pipeline: one thread walks the paths and reads, unpacks, parses and
//! compresses inputs; the async side writes them in batches, one transaction each, all on
//! one connection, and tallies outcomes. The walk is lazy, and what is held between them
//! is bounded in count and in bytes, so memory stays flat on any corpus, of any sizes.

use std::path::PathBuf;
use std::sync::Arc;
use std::thread;

use anyhow::Context;
use serde::Serialize;
use tlsrpt_ingest::files;
use tlsrpt_store::{Auth, BatchWriter, Candidate, NewInput, Outcome, Store};

use crate::budget::{Budget, weight};
use crate::records::to_new_inputs;
use tokio::sync::mpsc;

/// Counts of what became of every report candidate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub not_reports: u64,
}

impl Summary {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Stored => self.stored += 1,
            Outcome::Duplicate => self.duplicates += 1,
            Outcome::Rejected => self.rejected += 1,
            Outcome::NotReport => self.not_reports += 1,
        }
    }
}

/// Settings of one ingest run.
#[derive(Debug, Clone)]
pub struct Settings {
    pub limits: tlsrpt_ingest::Limits,
    pub batch_size: usize,
    /// About the most bytes of inputs held in memory at once, read but not committed; a
    /// batch is committed early once it holds half of them.
    pub held_bytes: usize,
    /// Count the files before reading them, for [`Progress::planned`]: one more walk of
    /// the directories (names only, no file is opened).
    pub count_files: bool,
}

/// What the pipeline tells its caller as it goes.
pub trait Progress {
    /// The number of files to read is known (only when [`Settings::count_files`] asks).
    fn planned(&mut self, files: u64);
    /// One more file has been read.
    fn file_done(&mut self);
    /// A candidate was rejected, and the rejection is committed.
    fn rejected(&mut self, input: &NewInput, reason: &str);
}

/// The first batch of a run: each next one is twice as large, up to the batch size.
/// Waiting for a full first batch of 8,192 left the writer idle until the reader had read
/// them all, and the reader idle while they were written: a 10,000-report import ran at
/// three quarters of the rate of larger ones.
const FIRST_BATCH: usize = 512;

/// What the reader thread sends: the records of one input, and whether they finish a file.
struct Message {
    inputs: Vec<NewInput>,
    /// The inputs' [`weight`], taken from the budget.
    bytes: usize,
    file_done: bool,
}

/// Reads `paths` and stores everything in them.
pub async fn ingest_paths(
    store: &Store,
    paths: Vec<PathBuf>,
    settings: &Settings,
    progress: &mut dyn Progress,
) -> anyhow::Result<Summary> {
    if settings.count_files {
        let files = files::walk(paths.clone()).filter(Result::is_ok).count();
        progress.planned(files as u64);
    }
    // Room for two batches, so that reading goes on while a batch is written.
    let (sender, mut receiver) = mpsc::channel::<Message>(settings.batch_size);
    let budget = Arc::new(Budget::new(settings.held_bytes));
    // However this function ends, a reader waiting for room must not wait for ever.
    let _closing = Closing(budget.clone());
    let limits = settings.limits;
    let reader = {
        let budget = budget.clone();
        thread::Builder::new()
            .name("tlsrpt-reader".into())
            .spawn(move || read_all(paths, &limits, &Sender { sender, budget }))
            .context("cannot start the reader thread")?
    };

    let mut summary = Summary::default();
    let mut writer = store.batch_writer();
    let mut batch = Vec::with_capacity(settings.batch_size);
    let mut target = settings.batch_size.min(FIRST_BATCH);
    let mut held = 0;
    while let Some(message) = receiver.recv().await {
        batch.extend(message.inputs);
        held += message.bytes;
        if message.file_done {
            progress.file_done();
        }
        if batch.len() >= target || held >= budget.flush_at() {
            write(&mut writer, &mut batch, &mut summary, progress).await?;
            budget.give_back(std::mem::take(&mut held));
            target = (target * 2).min(settings.batch_size);
        }
    }
    write(&mut writer, &mut batch, &mut summary, progress).await?;
    // The reader has finished once the channel is closed; a panic there is a bug to report.
    if reader.join().is_err() {
        anyhow::bail!("the reader thread panicked");
    }
    Ok(summary)
}

/// Closes the budget when dropped.
struct Closing(Arc<Budget>);

impl Drop for Closing {
    fn drop(&mut self) {
        self.0.close();
    }
}

/// The reader's end: the channel, and the budget that bounds the bytes sent into it.
struct Sender {
    sender: mpsc::Sender<Message>,
    budget: Arc<Budget>,
}

impl Sender {
    /// Sends the records of one input once there is room for their bytes; false when the
    /// writer has stopped.
    fn send(&self, inputs: Vec<NewInput>, file_done: bool) -> bool {
        let bytes = inputs.iter().map(weight).sum();
        self.budget.take(bytes)
            && self
                .sender
                .blocking_send(Message {
                    inputs,
                    bytes,
                    file_done,
                })
                .is_ok()
    }
}

async fn write(
    writer: &mut BatchWriter<'_>,
    batch: &mut Vec<NewInput>,
    summary: &mut Summary,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcomes = writer.write_batch(batch).await?;
    for (input, outcome) in batch.iter().zip(outcomes) {
        summary.add(outcome);
        if let Candidate::Rejected { reason, .. } = &input.candidate {
            progress.rejected(input, reason);
        }
    }
    batch.clear();
    Ok(())
}

/// Walks `paths` and reads every file found, sending the records of each input.
fn read_all(paths: Vec<PathBuf>, limits: &tlsrpt_ingest::Limits, sender: &Sender) {
    let now = chrono::Utc::now().timestamp();
    for found in files::walk(paths) {
        let entry = match found {
            Ok(entry) => entry,
            Err((path, error)) => {
                let input = NewInput {
                    source: files::Source::File.as_str(),
                    locator: path.display().to_string(),
                    part: None,
                    message_id: None,
                    received_at: now,
                    candidate: Candidate::Rejected {
                        reason: format!("cannot read: {error}"),
                        raw: None,
                    },
                };
                if !sender.send(vec![input], false) {
                    return;
                }
                continue;
            }
        };
        // Inputs are sent one behind, so that the last one of the file carries `file_done`.
        let mut pending: Option<Vec<NewInput>> = None;
        let mut open = true;
        files::read(&entry, limits, &mut |input| {
            if let Some(inputs) = pending.replace(to_new_inputs(input, now, Auth::Operator)) {
                open = open && sender.send(inputs, false);
            }
        });
        if !open || !sender.send(pending.unwrap_or_default(), true) {
            return;
        }
    }
}
