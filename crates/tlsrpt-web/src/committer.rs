//! Group commit for posted reports: the records of the posts waiting at the same moment
//! are written in one transaction, and each post is answered only once that transaction
//! is committed. One writer instead of one transaction per post, each contending for
//! SQLite's single write lock.

use tlsrpt_store::{NewInput, Outcome, Store, StoreError};
use tokio::sync::{mpsc, oneshot};

/// Most records in one group.
const GROUP_RECORDS: usize = 256;
/// Most posted bytes in one group (a post larger than this makes a group of its own).
const GROUP_BYTES: usize = 32 << 20;

/// Why a post's records were not committed: the database refused the group's
/// transaction (already logged), or the committer has stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NotCommitted;

/// The records of one post, and where to send what became of them.
#[derive(Debug)]
struct Job {
    records: Vec<NewInput>,
    /// The size of the post's body.
    bytes: usize,
    done: oneshot::Sender<Result<Vec<Outcome>, NotCommitted>>,
}

/// The sending end; cloned into every request.
#[derive(Debug, Clone)]
pub(crate) struct Committer {
    jobs: mpsc::Sender<Job>,
}

impl Committer {
    /// Starts the writer task on the current tokio runtime. It ends when the last
    /// `Committer` is dropped.
    pub(crate) fn start(store: Store) -> Self {
        let (jobs, queue) = mpsc::channel(1024);
        tokio::spawn(run(store, queue));
        Self { jobs }
    }

    /// Commits `records` (from a body of `bytes` bytes), with whatever other posts are
    /// waiting, and says what became of each record.
    pub(crate) async fn commit(
        &self,
        records: Vec<NewInput>,
        bytes: usize,
    ) -> Result<Vec<Outcome>, NotCommitted> {
        let (done, outcome) = oneshot::channel();
        let job = Job {
            records,
            bytes,
            done,
        };
        self.jobs.send(job).await.map_err(|_| NotCommitted)?;
        outcome.await.map_err(|_| NotCommitted)?
    }
}

async fn run(store: Store, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.recv().await {
        let mut records = first.records.len();
        let mut bytes = first.bytes;
        let mut group = vec![first];
        while records < GROUP_RECORDS && bytes < GROUP_BYTES {
            let Ok(job) = queue.try_recv() else { break };
            records += job.records.len();
            bytes += job.bytes;
            group.push(job);
        }
        write(&store, group).await;
    }
}

/// Writes a group in one transaction and answers each of its posts.
async fn write(store: &Store, mut group: Vec<Job>) {
    let sizes: Vec<usize> = group.iter().map(|job| job.records.len()).collect();
    let records: Vec<NewInput> = group
        .iter_mut()
        .flat_map(|job| std::mem::take(&mut job.records))
        .collect();
    match store.write_batch(&records).await {
        Ok(outcomes) => {
            let mut rest = outcomes.as_slice();
            for (job, size) in group.into_iter().zip(sizes) {
                let (mine, others) = rest.split_at(size.min(rest.len()));
                rest = others;
                // A post that gave up waiting (its client went away) is not an error.
                let _ = job.done.send(Ok(mine.to_vec()));
            }
        }
        Err(error) => {
            log_failure(store, &error, group.len());
            for job in group {
                let _ = job.done.send(Err(NotCommitted));
            }
        }
    }
}

fn log_failure(store: &Store, error: &StoreError, posts: usize) {
    tracing::error!(
        database = store.location(),
        posts,
        error = %crate::report_post::chain(error),
        "storing posted reports failed"
    );
}
