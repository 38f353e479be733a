//! A bound on the bytes of inputs held in memory between the reader thread and the
//! committed batches, so that memory stays flat whatever the inputs' sizes, not only
//! whatever their number: a batch of 8,192 rejected inputs of 40 MB each, kept for
//! inspection, would otherwise be held whole.

use std::sync::{Condvar, Mutex, PoisonError};

use tlsrpt_store::{Candidate, NewInput};

/// The bytes held, shared by the reader (who takes) and the writer (who gives back once
/// a batch is committed).
///
/// The reader waits while more than half the limit is held and the new bytes would go
/// over it; below half, anything is let through, so that one input larger than the whole
/// limit still passes. The writer commits a batch as soon as it holds half the limit.
/// Together these cannot deadlock: when the channel between them is empty, all held
/// bytes are in the writer's batch, which is then either under half the limit (the
/// reader is not waiting) or being committed (and given back after).
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    held: usize,
    /// The writer has stopped: nothing will be given back, so nobody may wait.
    closed: bool,
}

impl Budget {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        }
    }

    /// Held bytes at which the writer commits its batch.
    pub(crate) fn flush_at(&self) -> usize {
        self.limit / 2
    }

    /// Takes `bytes` (reader thread), waiting for room as described on [`Budget`];
    /// false if the writer has stopped.
    pub(crate) fn take(&self, bytes: usize) -> bool {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        while !state.closed && state.held > self.flush_at() && state.held + bytes > self.limit {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.held += bytes;
        !state.closed
    }

    /// Gives back the bytes of a committed batch.
    pub(crate) fn give_back(&self, bytes: usize) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.held = state.held.saturating_sub(bytes);
        self.changed.notify_all();
    }

    /// The writer has stopped (finished or failed): a waiting reader returns.
    pub(crate) fn close(&self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.closed = true;
        self.changed.notify_all();
    }
}

/// About the bytes one record holds: its kept bytes, and for a report also its parsed
/// form, counted as the size of its JSON.
pub(crate) fn weight(input: &NewInput) -> usize {
    let text = input.locator.len()
        + input.part.as_ref().map_or(0, String::len)
        + input.message_id.as_ref().map_or(0, String::len);
    text + match &input.candidate {
        Candidate::Report { raw_json, .. } => {
            raw_json.compressed.len() + usize::try_from(raw_json.size).unwrap_or(usize::MAX)
        }
        Candidate::Rejected { reason, raw } => {
            reason.len() + raw.as_ref().map_or(0, |raw| raw.compressed.len())
        }
        Candidate::NotReport { reason } => reason.len(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::thread;
    use std::time::Duration;

    use super::*;

    /// Whether `take(bytes)` on a budget holding `held` of `limit` returns within a
    /// short wait (true) or blocks until something is given back (false).
    fn passes(limit: usize, held: usize, bytes: usize) -> bool {
        let budget = Arc::new(Budget::new(limit));
        assert!(budget.take(held));
        let done = Arc::new(AtomicBool::new(false));
        let taker = {
            let (budget, done) = (budget.clone(), done.clone());
            thread::spawn(move || {
                let open = budget.take(bytes);
                done.store(true, Ordering::SeqCst);
                open
            })
        };
        thread::sleep(Duration::from_millis(100));
        let passed = done.load(Ordering::SeqCst);
        budget.give_back(held);
        assert!(taker.join().unwrap(), "the budget was not closed");
        assert!(done.load(Ordering::SeqCst));
        passed
    }

    #[test]
    fn bytes_that_fit_pass_and_bytes_over_the_limit_wait_for_a_commit() {
        assert!(passes(100, 60, 40));
        assert!(!passes(100, 60, 41));
    }

    #[test]
    fn anything_passes_while_at_most_half_the_limit_is_held() {
        // One input bigger than the whole budget must still go through.
        assert!(passes(100, 50, 1_000));
        assert!(passes(100, 0, 1_000));
        assert!(!passes(100, 51, 1_000));
    }

    #[test]
    fn closing_releases_a_waiting_reader_and_says_so() {
        let budget = Arc::new(Budget::new(100));
        assert!(budget.take(90));
        let taker = {
            let budget = budget.clone();
            thread::spawn(move || budget.take(50))
        };
        thread::sleep(Duration::from_millis(50));
        budget.close();
        assert!(!taker.join().unwrap());
        assert!(!budget.take(1));
    }
}
