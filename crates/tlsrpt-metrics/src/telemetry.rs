//! What only the running process knows, kept in memory since it started: how long
//! accepted reports took from receipt to commit (HTTPS and IMAP), the report endpoint's
//! answers by status code, and how many messages each IMAP mailbox still had waiting.
//!
//! One instance per process ([`telemetry`]), like a Prometheus client's default registry:
//! the ingest paths record into it without being handed anything.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::text::{Exposition, Kind};

/// Upper bounds (seconds) of the ingest latency buckets: from a small JSON post committed
/// in milliseconds to a large gzip on a busy database.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The ingest paths whose latency is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestPath {
    /// `POST /tlsrpt`: from the request's arrival to the answer after the commit.
    Https,
    /// An IMAP message: from its fetched bytes to the commit of its reports.
    Imap,
}

impl IngestPath {
    const ALL: [Self; 2] = [Self::Https, Self::Imap];

    fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Imap => "imap",
        }
    }
}

/// A histogram of durations with fixed buckets, updated without locks.
#[derive(Debug)]
struct DurationHistogram {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; LATENCY_BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

impl DurationHistogram {
    fn new() -> Self {
        Self {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            sum_nanos: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BUCKETS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BUCKETS.len());
        self.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Writes the `_bucket`, `_sum` and `_count` samples, with `labels` before `le`.
    fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]) {
        let bucket_name = format!("{name}_bucket");
        let mut cumulative = 0u64;
        for (i, slot) in self.buckets.iter().enumerate() {
            cumulative += slot.load(Ordering::Relaxed);
            let le = match LATENCY_BUCKETS.get(i) {
                Some(bound) => bound.to_string(),
                None => "+Inf".to_owned(),
            };
            let mut with_le = labels.to_vec();
            with_le.push(("le", &le));
            out.sample(&bucket_name, &with_le, cumulative as f64);
        }
        let sum = Duration::from_nanos(self.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
        out.sample(&format!("{name}_sum"), labels, sum);
        // The total of the buckets, so that `_count` equals the `+Inf` bucket even while
        // another thread is between its two increments.
        out.sample(&format!("{name}_count"), labels, cumulative as f64);
    }
}

/// The process's in-memory instruments.
#[derive(Debug)]
pub struct Telemetry {
    https_latency: DurationHistogram,
    imap_latency: DurationHistogram,
    /// Answers of the report endpoint by HTTP status code.
    https_responses: Mutex<BTreeMap<u16, u64>>,
    /// Messages above each mailbox's resume point at its last sync step.
    imap_waiting: Mutex<BTreeMap<String, u64>>,
}

static TELEMETRY: LazyLock<Telemetry> = LazyLock::new(|| Telemetry {
    https_latency: DurationHistogram::new(),
    imap_latency: DurationHistogram::new(),
    https_responses: Mutex::new(BTreeMap::new()),
    imap_waiting: Mutex::new(BTreeMap::new()),
});

/// The process's instruments.
pub fn telemetry() -> &'static Telemetry {
    &TELEMETRY
}

/// A poisoned lock still holds valid counts: a panic cannot leave a map half-updated.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Telemetry {
    /// Records that a report (or a message of reports) was committed `elapsed` after it
    /// was received.
    pub fn observe_ingest(&self, path: IngestPath, elapsed: Duration) {
        match path {
            IngestPath::Https => self.https_latency.observe(elapsed),
            IngestPath::Imap => self.imap_latency.observe(elapsed),
        }
    }

    /// Counts one answer of the report endpoint.
    pub fn count_https_response(&self, status: u16) {
        *lock(&self.https_responses).entry(status).or_default() += 1;
    }

    /// Records how many messages `mailbox` still has to handle.
    pub fn set_imap_waiting(&self, mailbox: &str, waiting: u64) {
        lock(&self.imap_waiting).insert(mailbox.to_owned(), waiting);
    }

    /// The latency histograms and the endpoint's answers.
    pub(crate) fn write_ingest(&self, out: &mut Exposition) {
        out.family(
            "tlsrpt_ingest_duration_seconds",
            Kind::Histogram,
            "Time from receipt to commit of accepted reports (HTTPS: per POST, IMAP: per \
             message), since this process started.",
        );
        for path in IngestPath::ALL {
            let histogram = match path {
                IngestPath::Https => &self.https_latency,
                IngestPath::Imap => &self.imap_latency,
            };
            histogram.write(
                out,
                "tlsrpt_ingest_duration_seconds",
                &[("source", path.as_str())],
            );
        }
        out.family(
            "tlsrpt_https_responses_total",
            Kind::Counter,
            "Answers of the HTTPS report endpoint (POST /tlsrpt) by status code, since this \
             process started; refusals before the store (401, 413, 415, 429…) only count here.",
        );
        for (status, count) in lock(&self.https_responses).iter() {
            out.sample(
                "tlsrpt_https_responses_total",
                &[("code", &status.to_string())],
                *count as f64,
            );
        }
    }

    /// Messages waiting per mailbox, as last seen by this process.
    pub(crate) fn imap_waiting(&self) -> BTreeMap<String, u64> {
        lock(&self.imap_waiting).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_everything() {
        let histogram = DurationHistogram::new();
        histogram.observe(Duration::from_millis(3));
        histogram.observe(Duration::from_millis(40));
        histogram.observe(Duration::from_secs(60));
        let mut out = Exposition::new();
        histogram.write(&mut out, "h", &[("source", "x")]);
        let text = out.finish();
        assert!(
            text.contains("h_bucket{source=\"x\",le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("h_bucket{source=\"x\",le=\"0.025\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("h_bucket{source=\"x\",le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("h_bucket{source=\"x\",le=\"30\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("h_bucket{source=\"x\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("h_sum{source=\"x\"} 60.043\n"), "{text}");
        assert!(text.contains("h_count{source=\"x\"} 3\n"), "{text}");
    }
}
