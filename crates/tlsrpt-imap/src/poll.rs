//! The long-running loop behind `tlsrpt serve`: a pass, then IDLE (or a pause) until new
//! mail, for every account at once, reconnecting with capped exponential backoff.

use std::future::Future;

use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use futures_util::FutureExt as _;
use futures_util::future::{Either, Shared, join_all, select};

use crate::config::{AccountConfig, PollSettings};
use crate::connect::{Connection, connect, imap_error, within};
use crate::error::Error;
use crate::sink::Sink;
use crate::sync::pass;

/// Watches every account until `shutdown` completes, then returns.
///
/// Each account gets its own connection. After each pass it waits for new mail with IDLE
/// when the server offers it (renewed every [`PollSettings::idle_timeout`]), or sleeps
/// [`PollSettings::interval`] otherwise. Any error is logged and followed by a reconnection
/// after an exponential backoff capped at [`PollSettings::backoff_max`]; a failed commit
/// is retried after [`PollSettings::interval`] on the same connection.
///
/// On shutdown, a pass in progress finishes its current batch; waits are cut short.
pub async fn run<S: Sink>(
    accounts: &[AccountConfig],
    settings: &PollSettings,
    sink: &S,
    shutdown: impl Future<Output = ()> + Send,
) {
    let shutdown = shutdown.boxed().shared();
    join_all(
        accounts
            .iter()
            .map(|account| watch(account, settings, sink, shutdown.clone())),
    )
    .await;
}

type Shutdown<'a> = Shared<futures_util::future::BoxFuture<'a, ()>>;

/// Runs `fut` unless shutdown comes first (`None`).
async fn unless_shutdown<T>(shutdown: &Shutdown<'_>, fut: impl Future<Output = T>) -> Option<T> {
    match select(std::pin::pin!(fut), shutdown.clone()).await {
        Either::Left((value, _)) => Some(value),
        Either::Right(((), _)) => None,
    }
}

async fn watch<S: Sink>(
    account: &AccountConfig,
    settings: &PollSettings,
    sink: &S,
    shutdown: Shutdown<'_>,
) {
    let mailbox = account.mailbox_id();
    let mut backoff = settings.backoff_initial;
    loop {
        let mut connected = false;
        let Some(error) = session(account, settings, sink, &shutdown, &mut connected).await else {
            tracing::info!(mailbox = %mailbox, "stopped watching");
            return;
        };
        if connected {
            backoff = settings.backoff_initial;
        }
        tracing::warn!(
            mailbox = %mailbox,
            error = %ErrorChain(&error),
            retry_in = ?backoff,
            "IMAP connection failed"
        );
        let reason = ErrorChain(&error).to_string();
        sink.record_error(&mailbox, &reason).await;
        if unless_shutdown(&shutdown, tokio::time::sleep(backoff))
            .await
            .is_none()
        {
            tracing::info!(mailbox = %mailbox, "stopped watching");
            return;
        }
        backoff = (backoff * 2).min(settings.backoff_max);
    }
}

/// One connection's life; returns the error that ended it, or `None` on shutdown.
async fn session<S: Sink>(
    account: &AccountConfig,
    settings: &PollSettings,
    sink: &S,
    shutdown: &Shutdown<'_>,
    connected: &mut bool,
) -> Option<Error> {
    let mut connection = match unless_shutdown(shutdown, connect(account)).await? {
        Ok(connection) => connection,
        Err(error) => return Some(error),
    };
    *connected = true;
    let mailbox = account.mailbox_id();
    let idle = connection.capabilities.idle;
    tracing::info!(mailbox = %mailbox, idle, "connected");
    let stop = || shutdown.clone().now_or_never().is_some();
    loop {
        let summary = match pass(&mut connection, account, sink, &stop).await {
            Ok(summary) => summary,
            Err(error) => return Some(error),
        };
        if summary.fetched > 0 {
            tracing::info!(
                mailbox = %mailbox,
                stored = summary.stored,
                rejected = summary.rejected,
                not_report = summary.not_report,
                "pass done"
            );
        }
        if stop() {
            return None;
        }
        if summary.deferred.is_some() || !idle {
            unless_shutdown(shutdown, tokio::time::sleep(settings.interval)).await?;
            continue;
        }
        if arrived_during_pass(&connection) {
            continue;
        }
        connection = match wait_idle(connection, account, settings, shutdown).await? {
            Ok(connection) => connection,
            Err(error) => return Some(error),
        };
    }
}

/// Whether the server announced new messages (`EXISTS`) in its answers to the pass's
/// commands. async-imap sets such announcements aside, and IDLE does not repeat them: mail
/// that arrived during a pass would otherwise wait for the next IDLE timeout. Empties the
/// queue of set-aside responses (whose `SELECT` answer consumes its own `EXISTS`).
fn arrived_during_pass(connection: &Connection) -> bool {
    let mut arrived = false;
    while let Ok(response) = connection.session.unsolicited_responses.try_recv() {
        arrived |= matches!(
            response,
            UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
        );
    }
    arrived
}

/// IDLEs until the server says something or the IDLE times out; `None` on shutdown.
async fn wait_idle(
    connection: Connection,
    account: &AccountConfig,
    settings: &PollSettings,
    shutdown: &Shutdown<'_>,
) -> Option<Result<Connection, Error>> {
    let Connection {
        session,
        capabilities,
        delimiter,
        folders,
    } = connection;
    let mut handle = session.idle();
    let started = within(account, "IDLE", async {
        handle.init().await.map_err(imap_error(account, "IDLE"))
    })
    .await;
    if let Err(error) = started {
        return Some(Err(error));
    }
    let woke = {
        let (wait, _interrupt) = handle.wait_with_timeout(settings.idle_timeout);
        unless_shutdown(shutdown, wait).await?
    };
    match woke {
        Ok(IdleResponse::NewData(_) | IdleResponse::Timeout) => {}
        // Nobody interrupts this IDLE: the stream ended, so the server went away.
        Ok(IdleResponse::ManualInterrupt) => {
            return Some(Err(imap_error(account, "IDLE")(
                async_imap::error::Error::ConnectionLost,
            )));
        }
        Err(error) => return Some(Err(imap_error(account, "IDLE")(error))),
    }
    let session = within(account, "DONE", async {
        handle.done().await.map_err(imap_error(account, "DONE"))
    })
    .await;
    Some(session.map(|session| Connection {
        session,
        capabilities,
        delimiter,
        folders,
    }))
}

/// Displays an error with its sources, `a: b: c`.
struct ErrorChain<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}
