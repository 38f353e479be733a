//! One watcher per mailbox across instances: the lease loop around the IMAP watcher.
//!
//! Every instance runs, per mailbox, a standby loop that tries to take the mailbox's lease
//! (see `tlsrpt_store::MailboxLease`) every `retry`. The instance that holds it watches
//! the mailbox, and checks the lease every `retry`; when the lease is lost, that mailbox's
//! IMAP session is cut at once (which is safe: see the crash safety of `tlsrpt_imap`) and
//! the instance goes back to standby. When the holder dies, its lock goes with it, and a
//! standby instance takes over within about one `retry`.

use std::future::Future;
use std::time::Duration;

use tlsrpt_imap::{AccountConfig, MailboxId, PollSettings};
use tlsrpt_store::{LeaseLost, MailboxLease, Store};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::mailbox::StoreSink;

/// Watches every account, each under its mailbox's lease, until `stopped` turns true.
pub async fn watch_all(
    store: &Store,
    accounts: &[AccountConfig],
    settings: &PollSettings,
    sink: &StoreSink,
    retry: Duration,
    stopped: watch::Receiver<bool>,
) {
    let mut watchers = JoinSet::new();
    for account in accounts {
        watchers.spawn(watch_mailbox(
            store.clone(),
            account.clone(),
            settings.clone(),
            sink.clone(),
            retry,
            stopped.clone(),
        ));
    }
    while let Some(result) = watchers.join_next().await {
        if let Err(error) = result {
            tracing::error!(%error, "a mailbox watcher failed");
        }
    }
}

/// Stands by for the lease on `account`'s mailbox, watches the mailbox while holding it,
/// and stands by again when it is lost, until `stopped` turns true.
async fn watch_mailbox(
    store: Store,
    account: AccountConfig,
    settings: PollSettings,
    sink: StoreSink,
    retry: Duration,
    stopped: watch::Receiver<bool>,
) {
    let mailbox = account.mailbox_id();
    loop {
        let Some(mut lease) = standby(&store, &mailbox, retry, &stopped).await else {
            return;
        };
        let watching = tlsrpt_imap::run(
            std::slice::from_ref(&account),
            &settings,
            &sink,
            wait(stopped.clone()),
        );
        match under_lease(&mut lease, retry, watching).await {
            Ok(()) => {
                lease.release().await;
                return;
            }
            Err(lost) => {
                tracing::warn!(mailbox = %mailbox, "{lost}: stopped watching mailbox {mailbox}");
            }
        }
    }
}

/// Tries the lease every `retry` until it is taken (`Some`) or `stopped` turns true.
async fn standby(
    store: &Store,
    mailbox: &MailboxId,
    retry: Duration,
    stopped: &watch::Receiver<bool>,
) -> Option<MailboxLease> {
    let mut announced = false;
    loop {
        if *stopped.borrow() {
            return None;
        }
        match store.acquire_mailbox_lease(mailbox.as_str()).await {
            Ok(Some(lease)) => {
                tracing::info!(mailbox = %mailbox, "holding mailbox {mailbox}");
                return Some(lease);
            }
            Ok(None) if !announced => {
                tracing::info!(
                    mailbox = %mailbox,
                    "standby: mailbox {mailbox} is held by another instance"
                );
                announced = true;
            }
            Ok(None) => {}
            Err(error) => tracing::warn!(
                mailbox = %mailbox,
                error = %anyhow::Error::from(error),
                "cannot try the lease on mailbox {mailbox}"
            ),
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            () = wait(stopped.clone()) => return None,
        }
    }
}

/// Runs `work` while checking `lease` every `retry`: the work's result, or the loss of the
/// lease, upon which `work` is dropped at once. A check that does not answer within
/// `retry` (at least 5 s) counts as a loss.
pub async fn under_lease<T>(
    lease: &mut MailboxLease,
    retry: Duration,
    work: impl Future<Output = T>,
) -> Result<T, LeaseLost> {
    let keep = async {
        loop {
            tokio::time::sleep(retry).await;
            match tokio::time::timeout(retry.max(Duration::from_secs(5)), lease.check()).await {
                Ok(Ok(())) => {}
                Ok(Err(lost)) => return lost,
                Err(_) => {
                    return LeaseLost {
                        mailbox_id: lease.mailbox_id().to_owned(),
                        reason: "the lease check did not answer in time".to_owned(),
                    };
                }
            }
        }
    };
    tokio::select! {
        done = work => Ok(done),
        lost = keep => Err(lost),
    }
}

/// Resolves once `stopped` turns true (or its sender is gone).
pub async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
