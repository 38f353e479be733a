//! The file ingest pipeline: one thread reads, unpacks, parses and compresses inputs;
//! the async side writes them in batches, one transaction each, and tallies outcomes.
//! The channel between them is bounded, so memory stays flat on any corpus size.

use std::path::PathBuf;
use std::thread;

use anyhow::Context;
use serde::Serialize;
use tlsrpt_ingest::Found;
use tlsrpt_ingest::files::{self, Entry, Input};
use tlsrpt_store::{Auth, Candidate, NewInput, Outcome, Raw, Store};
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
}

/// What the pipeline tells its caller as it goes.
pub trait Progress {
    /// The number of files to read is known.
    fn planned(&mut self, files: u64);
    /// One more file has been read.
    fn file_done(&mut self);
    /// A candidate was rejected, and the rejection is committed.
    fn rejected(&mut self, input: &NewInput, reason: &str);
}

/// What the reader thread sends: the records of one input, and whether they finish a file.
struct Message {
    inputs: Vec<NewInput>,
    file_done: bool,
}

/// Reads `paths` and stores everything in them.
pub async fn ingest_paths(
    store: &Store,
    paths: Vec<PathBuf>,
    settings: &Settings,
    progress: &mut dyn Progress,
) -> anyhow::Result<Summary> {
    let (entries, walk_errors) = files::plan(&paths);
    progress.planned(entries.len() as u64);
    // Room for two batches, so that reading goes on while a batch is written.
    let (sender, mut receiver) = mpsc::channel::<Message>(settings.batch_size);
    let limits = settings.limits;
    let reader = thread::Builder::new()
        .name("tlsrpt-reader".into())
        .spawn(move || read_all(&entries, walk_errors, &limits, &sender))
        .context("cannot start the reader thread")?;

    let mut summary = Summary::default();
    let mut batch = Vec::with_capacity(settings.batch_size);
    while let Some(message) = receiver.recv().await {
        batch.extend(message.inputs);
        if message.file_done {
            progress.file_done();
        }
        if batch.len() >= settings.batch_size {
            write(store, &mut batch, &mut summary, progress).await?;
        }
    }
    write(store, &mut batch, &mut summary, progress).await?;
    // The reader has finished once the channel is closed; a panic there is a bug to report.
    if reader.join().is_err() {
        anyhow::bail!("the reader thread panicked");
    }
    Ok(summary)
}

async fn write(
    store: &Store,
    batch: &mut Vec<NewInput>,
    summary: &mut Summary,
    progress: &mut dyn Progress,
) -> anyhow::Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcomes = store.write_batch(batch).await?;
    for (input, outcome) in batch.iter().zip(outcomes) {
        summary.add(outcome);
        if let Candidate::Rejected { reason, .. } = &input.candidate {
            progress.rejected(input, reason);
        }
    }
    batch.clear();
    Ok(())
}

fn read_all(
    entries: &[Entry],
    walk_errors: Vec<(PathBuf, String)>,
    limits: &tlsrpt_ingest::Limits,
    sender: &mpsc::Sender<Message>,
) {
    let now = chrono::Utc::now().timestamp();
    for (path, error) in walk_errors {
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
        let message = Message {
            inputs: vec![input],
            file_done: false,
        };
        if sender.blocking_send(message).is_err() {
            return;
        }
    }
    for entry in entries {
        // Inputs are sent one behind, so that the last one of the file carries `file_done`.
        let mut pending: Option<Vec<NewInput>> = None;
        let mut open = true;
        files::read(entry, limits, &mut |input| {
            if let Some(inputs) = pending.replace(to_new_inputs(input, now, Auth::Operator)) {
                open &= sender
                    .blocking_send(Message {
                        inputs,
                        file_done: false,
                    })
                    .is_ok();
            }
        });
        let message = Message {
            inputs: pending.unwrap_or_default(),
            file_done: true,
        };
        if !open || sender.blocking_send(message).is_err() {
            return;
        }
    }
}

/// Turns one read input into one record per report candidate found in it; `auth` says who
/// vouches for the reports in it.
pub fn to_new_inputs(input: Input, received_at: i64, auth: Auth) -> Vec<NewInput> {
    let Input {
        source,
        locator,
        message_id,
        bytes,
        size,
        found,
    } = input;
    // The input's own bytes are kept only for rejections: a stored report keeps its JSON.
    let rejected = found.iter().any(|f| matches!(f, Found::Rejected { .. }));
    let kept = (rejected && !bytes.is_empty()).then(|| Raw::compress(&bytes, size));
    found
        .into_iter()
        .map(|found| {
            let (part, candidate) = match found {
                Found::Report {
                    part,
                    report,
                    json,
                    gzip,
                } => {
                    let raw_json = match gzip {
                        Some(gzip) => Raw::from_gzip(gzip, json.len() as u64),
                        None => Raw::compress(&json, json.len() as u64),
                    };
                    let candidate = Candidate::Report {
                        report,
                        raw_json,
                        auth,
                    };
                    (part, candidate)
                }
                Found::Rejected { part, reason } => (
                    part,
                    Candidate::Rejected {
                        reason,
                        raw: kept.clone(),
                    },
                ),
                Found::NotReport { reason } => (None, Candidate::NotReport { reason }),
            };
            NewInput {
                source: source.as_str(),
                locator: locator.clone(),
                part,
                message_id: message_id.clone(),
                received_at,
                candidate,
            }
        })
        .collect()
}
