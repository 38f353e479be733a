//! What became of one attempt, and when a failed notification is tried again: exponential
//! backoff with jitter, stretched to the receiver's `Retry-After`, until the attempts run
//! out.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::RetryConfig;

/// The longest `Retry-After` honoured; a longer one is cut to this.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The outcome of one attempt on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    Delivered,
    /// A passing failure (timeout, connection error, 5xx, 408, 429, SMTP 4xx): try again,
    /// not before `after` when the receiver said so.
    Retry {
        error: String,
        after: Option<Duration>,
    },
    /// A failure that trying again will not cure (4xx, SMTP 5xx, bad address).
    GiveUp(String),
}

impl Attempt {
    pub(crate) fn retry(error: impl Into<String>) -> Self {
        Self::Retry {
            error: error.into(),
            after: None,
        }
    }
}

/// What to record after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub error: String,
    /// `None`: give up.
    pub retry_at: Option<DateTime<Utc>>,
}

impl RetryConfig {
    /// The record of a failed `attempt` (1 for the first), made at `now`.
    pub(crate) fn failure(
        &self,
        attempt: i64,
        error: String,
        retry_after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> Failure {
        if attempt >= i64::from(self.max_attempts) {
            return Failure {
                error: format!("{error} (gave up after {attempt} attempts)"),
                retry_at: None,
            };
        }
        let step = usize::try_from(attempt.max(1) - 1).unwrap_or(usize::MAX);
        let base = self
            .backoff_seconds
            .get(step)
            .or(self.backoff_seconds.last())
            .map_or(Duration::from_secs(60), |s| Duration::from_secs(*s));
        let stretched = base.mul_f64(1.0 + self.jitter.clamp(0.0, 1.0) * fastrand::f64());
        let wait = retry_after
            .map(|after| after.min(MAX_RETRY_AFTER))
            .map_or(stretched, |after| after.max(stretched));
        let wait = chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::hours(24));
        Failure {
            error,
            retry_at: Some(now + wait),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(jitter: f64) -> RetryConfig {
        RetryConfig {
            jitter,
            ..RetryConfig::default()
        }
    }

    fn wait(config: &RetryConfig, attempt: i64, retry_after: Option<u64>) -> Option<i64> {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        config
            .failure(
                attempt,
                "boom".to_owned(),
                retry_after.map(Duration::from_secs),
                now,
            )
            .retry_at
            .map(|at| (at - now).num_seconds())
    }

    #[test]
    fn backoff_grows_then_gives_up() {
        let c = config(0.0);
        let waits: Vec<Option<i64>> = (1..=6).map(|n| wait(&c, n, None)).collect();
        assert_eq!(
            waits,
            [
                Some(30),
                Some(120),
                Some(600),
                Some(3600),
                Some(21_600),
                None
            ]
        );
        let given_up = c.failure(6, "boom".to_owned(), None, Utc::now());
        assert_eq!(given_up.error, "boom (gave up after 6 attempts)");
    }

    #[test]
    fn the_last_step_repeats() {
        let c = RetryConfig {
            max_attempts: 10,
            ..config(0.0)
        };
        assert_eq!(wait(&c, 8, None), Some(21_600));
    }

    #[test]
    fn jitter_stretches_within_bounds() {
        let c = config(0.2);
        for _ in 0..100 {
            let w = wait(&c, 1, None).unwrap();
            assert!((30..=36).contains(&w), "{w}");
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let c = config(0.0);
        assert_eq!(wait(&c, 1, Some(300)), Some(300));
        assert_eq!(
            wait(&c, 1, Some(5)),
            Some(30),
            "never sooner than the backoff"
        );
        assert_eq!(wait(&c, 1, Some(10 * 86_400)), Some(86_400));
    }
}
