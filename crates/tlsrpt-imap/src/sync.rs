//! One pass over a mailbox: fetch the messages after the resume point in UID batches (the
//! bodies of a batch in groups bounded in bytes), commit each through the [`Sink`], and
//! only then move or flag it.

use std::collections::BTreeMap;

use async_imap::types::Fetch;
use futures_util::TryStreamExt as _;

use crate::config::{AccountConfig, AfterIngest};
use crate::connect::{Connection, connect, imap_error, within};
use crate::error::Error;
use crate::sink::{Disposition, MailboxState, Sink, SinkError};

/// What one pass over a mailbox did.
#[derive(Debug, Default)]
pub struct SyncSummary {
    /// Messages fetched and handed to the sink.
    pub fetched: usize,
    /// Messages whose reports were stored (or already held), then moved or flagged.
    pub stored: usize,
    /// Messages rejected, then moved to the rejected folder.
    pub rejected: usize,
    /// Messages that were not TLS reports, left untouched.
    pub not_report: usize,
    /// Whether the mailbox's UIDVALIDITY differed from the saved one, so that the whole
    /// mailbox was looked at again.
    pub uid_validity_reset: bool,
    /// Set when the sink failed to commit a message: the pass stopped there, leaving that
    /// message and the following ones in place for a later pass.
    pub deferred: Option<Deferred>,
}

/// A message the sink could not commit.
#[derive(Debug)]
pub struct Deferred {
    /// Its UID.
    pub uid: u32,
    /// The sink's error.
    pub error: SinkError,
}

/// Connects, runs one pass over the configured mailbox, and logs out.
///
/// Returns `Err` when the pass could not run or broke off (connection, TLS, login, protocol,
/// resume point); messages committed before that are moved or flagged on the next pass.
/// A failed commit is not an `Err`: see [`SyncSummary::deferred`].
pub async fn sync_once<S: Sink>(config: &AccountConfig, sink: &S) -> Result<SyncSummary, Error> {
    let mut connection = connect(config).await?;
    let summary = pass(&mut connection, config, sink, &|| false).await?;
    // The pass is complete whatever LOGOUT says.
    let _ = within(config, "LOGOUT", async {
        connection
            .session
            .logout()
            .await
            .map_err(imap_error(config, "LOGOUT"))
    })
    .await;
    Ok(summary)
}

/// One pass over the configured mailbox on an open connection. `stop` is asked between
/// batches; when it says yes, the pass ends early (and cleanly).
pub(crate) async fn pass<S: Sink>(
    connection: &mut Connection,
    config: &AccountConfig,
    sink: &S,
    stop: &(dyn Fn() -> bool + Sync),
) -> Result<SyncSummary, Error> {
    let mailbox_id = config.mailbox_id();
    let mut summary = SyncSummary::default();

    let selected = within(config, "SELECT", async {
        connection
            .session
            .select(&config.mailbox)
            .await
            .map_err(imap_error(config, "SELECT"))
    })
    .await?;
    let uid_validity = selected.uid_validity.ok_or_else(|| Error::Protocol {
        host: config.host.clone(),
        problem: format!("no UIDVALIDITY for mailbox {}", config.mailbox),
    })?;

    let state_error = |source| Error::State {
        mailbox: mailbox_id.clone(),
        source,
    };
    let saved = sink.load_state(&mailbox_id).await.map_err(state_error)?;
    let mut last_uid = match saved {
        Some(state) if state.uid_validity == uid_validity => state.last_uid,
        Some(state) => {
            tracing::warn!(
                mailbox = %mailbox_id,
                old = state.uid_validity,
                new = uid_validity,
                "UIDVALIDITY changed: looking at the whole mailbox again"
            );
            summary.uid_validity_reset = true;
            0
        }
        None => 0,
    };
    let start_uid = last_uid;

    let mut query = format!("UID {}:*", u64::from(last_uid) + 1);
    if let AfterIngest::Flag { keyword } = &config.after_ingest {
        query.push_str(" UNKEYWORD ");
        query.push_str(keyword);
    }
    let found = within(config, "UID SEARCH", async {
        connection
            .session
            .uid_search(&query)
            .await
            .map_err(imap_error(config, "UID SEARCH"))
    })
    .await?;
    // `n:*` always matches the last message, even when its UID is below n.
    let mut uids: Vec<u32> = found.into_iter().filter(|&uid| uid > last_uid).collect();
    uids.sort_unstable();
    sink.note_waiting(&mailbox_id, uids.len());

    for batch in uids.chunks(config.batch_size.max(1)) {
        if stop() {
            break;
        }
        let sizes = fetch_sizes(connection, config, batch).await?;
        let mut handled: Vec<(u32, Disposition)> = Vec::with_capacity(batch.len());
        let mut batch_last = last_uid;
        'groups: for group in by_size(batch, &sizes, config.fetch_bytes) {
            let fetched = fetch_bodies(connection, config, group).await?;
            for &uid in group {
                // A message expunged meanwhile by someone else is simply gone.
                let Some(message) = fetched.get(&uid).and_then(Fetch::body) else {
                    batch_last = uid;
                    continue;
                };
                summary.fetched += 1;
                match sink.commit(&mailbox_id, uid, message).await {
                    Ok(disposition) => {
                        match disposition {
                            Disposition::Stored => summary.stored += 1,
                            Disposition::Rejected => summary.rejected += 1,
                            Disposition::NotReport => summary.not_report += 1,
                        }
                        handled.push((uid, disposition));
                        batch_last = uid;
                    }
                    Err(error) => {
                        tracing::warn!(
                            mailbox = %mailbox_id,
                            uid,
                            error = %error,
                            "commit failed: leaving the message for a later pass"
                        );
                        summary.deferred = Some(Deferred { uid, error });
                        break 'groups;
                    }
                }
            }
        }
        apply(connection, config, &handled).await?;
        if batch_last != last_uid {
            last_uid = batch_last;
            let state = MailboxState {
                uid_validity,
                last_uid,
            };
            sink.save_state(&mailbox_id, state)
                .await
                .map_err(state_error)?;
        }
        sink.note_waiting(
            &mailbox_id,
            uids.iter().filter(|&&uid| uid > last_uid).count(),
        );
        if summary.deferred.is_some() {
            break;
        }
    }
    // A new or renumbered mailbox gets a resume point even when it held nothing to fetch.
    if last_uid == start_uid && saved.is_none_or(|s| s.uid_validity != uid_validity) {
        let state = MailboxState {
            uid_validity,
            last_uid,
        };
        sink.save_state(&mailbox_id, state)
            .await
            .map_err(state_error)?;
    }
    Ok(summary)
}

/// The sizes (`RFC822.SIZE`) of the messages of a batch, by UID; a message expunged
/// meanwhile is missing.
async fn fetch_sizes(
    connection: &mut Connection,
    config: &AccountConfig,
    batch: &[u32],
) -> Result<BTreeMap<u32, u64>, Error> {
    let fetches = uid_fetch(connection, config, batch, "(UID RFC822.SIZE)").await?;
    Ok(fetches
        .into_iter()
        .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
        .collect())
}

/// Cuts `batch` into runs of UIDs whose messages add up to at most `budget` bytes; a
/// message larger than that makes a run of its own. Unknown sizes count as nothing.
fn by_size<'b>(batch: &'b [u32], sizes: &BTreeMap<u32, u64>, budget: u64) -> Vec<&'b [u32]> {
    let mut groups = Vec::new();
    let mut start = 0;
    let mut held = 0u64;
    for (i, uid) in batch.iter().enumerate() {
        let size = sizes.get(uid).copied().unwrap_or(0);
        if i > start && held.saturating_add(size) > budget {
            groups.push(&batch[start..i]);
            start = i;
            held = 0;
        }
        held = held.saturating_add(size);
    }
    if start < batch.len() {
        groups.push(&batch[start..]);
    }
    groups
}

/// The bodies of the messages of `group`, by UID.
async fn fetch_bodies(
    connection: &mut Connection,
    config: &AccountConfig,
    group: &[u32],
) -> Result<BTreeMap<u32, Fetch>, Error> {
    let fetches = uid_fetch(connection, config, group, "(UID BODY.PEEK[])").await?;
    // Unsolicited FETCH responses (flag changes of other messages) carry no body.
    Ok(fetches
        .into_iter()
        .filter(|f| f.body().is_some())
        .filter_map(|f| f.uid.map(|uid| (uid, f)))
        .collect())
}

/// `UID FETCH` of `items` for `uids`, every response collected.
async fn uid_fetch(
    connection: &mut Connection,
    config: &AccountConfig,
    uids: &[u32],
    items: &str,
) -> Result<Vec<Fetch>, Error> {
    let set = uid_set(uids);
    within(config, "UID FETCH", async {
        connection
            .session
            .uid_fetch(&set, items)
            .await
            .map_err(imap_error(config, "UID FETCH"))?
            .try_collect()
            .await
            .map_err(imap_error(config, "UID FETCH"))
    })
    .await
}

/// Moves or flags the committed messages of a batch, grouped by destination.
async fn apply(
    connection: &mut Connection,
    config: &AccountConfig,
    handled: &[(u32, Disposition)],
) -> Result<(), Error> {
    let mut stored = Vec::new();
    let mut rejected = Vec::new();
    for &(uid, disposition) in handled {
        match (disposition, &config.rejected_folder) {
            (Disposition::Stored, _) | (Disposition::Rejected, None) => stored.push(uid),
            (Disposition::Rejected, Some(_)) => rejected.push(uid),
            (Disposition::NotReport, _) => {}
        }
    }
    if let Some(folder) = &config.rejected_folder
        && !rejected.is_empty()
    {
        move_to(connection, config, &rejected, folder).await?;
    }
    if stored.is_empty() {
        return Ok(());
    }
    match &config.after_ingest {
        AfterIngest::Move { folder } => move_to(connection, config, &stored, folder).await,
        AfterIngest::Flag { keyword } => {
            store_flags(connection, config, &stored, &format!("\\Seen {keyword}")).await
        }
    }
}

async fn move_to(
    connection: &mut Connection,
    config: &AccountConfig,
    uids: &[u32],
    folder: &str,
) -> Result<(), Error> {
    let folder = ensure_folder(connection, config, folder).await?;
    let set = uid_set(uids);
    if connection.capabilities.moves {
        return within(config, "UID MOVE", async {
            connection
                .session
                .uid_mv(&set, &folder)
                .await
                .map_err(imap_error(config, "UID MOVE"))
        })
        .await;
    }
    within(config, "UID COPY", async {
        connection
            .session
            .uid_copy(&set, &folder)
            .await
            .map_err(imap_error(config, "UID COPY"))
    })
    .await?;
    store_flags(connection, config, uids, "\\Deleted").await?;
    let uidplus = connection.capabilities.uidplus;
    within(config, "EXPUNGE", async {
        let session = &mut connection.session;
        let expunged: Result<Vec<u32>, _> = if uidplus {
            session
                .uid_expunge(&set)
                .await
                .map_err(imap_error(config, "UID EXPUNGE"))?
                .try_collect()
                .await
        } else {
            // Without UIDPLUS, EXPUNGE also removes any other message marked \Deleted.
            session
                .expunge()
                .await
                .map_err(imap_error(config, "EXPUNGE"))?
                .try_collect()
                .await
        };
        expunged.map(drop).map_err(imap_error(config, "EXPUNGE"))
    })
    .await
}

async fn store_flags(
    connection: &mut Connection,
    config: &AccountConfig,
    uids: &[u32],
    flags: &str,
) -> Result<(), Error> {
    let set = uid_set(uids);
    let query = format!("+FLAGS.SILENT ({flags})");
    within(config, "UID STORE", async {
        let responses: Vec<Fetch> = connection
            .session
            .uid_store(&set, &query)
            .await
            .map_err(imap_error(config, "UID STORE"))?
            .try_collect()
            .await
            .map_err(imap_error(config, "UID STORE"))?;
        drop(responses);
        Ok(())
    })
    .await
}

/// Makes sure `folder` (with `/` separators) exists and returns its name on the server.
async fn ensure_folder(
    connection: &mut Connection,
    config: &AccountConfig,
    folder: &str,
) -> Result<String, Error> {
    let delimiter = match &connection.delimiter {
        Some(delimiter) => delimiter.clone(),
        None => {
            let delimiter = list(connection, config, "").await?.unwrap_or(None);
            connection.delimiter = Some(delimiter.clone());
            delimiter
        }
    };
    let name = match delimiter {
        Some(d) if d != "/" => folder.replace('/', &d),
        _ => folder.to_owned(),
    };
    if connection.folders.contains(&name) {
        return Ok(name);
    }
    if list(connection, config, &name).await?.is_none() {
        let created = within(config, "CREATE", async {
            connection
                .session
                .create(&name)
                .await
                .map_err(imap_error(config, "CREATE"))
        })
        .await;
        // Another client may have created it meanwhile; only a folder still missing is an error.
        if let Err(error) = created
            && list(connection, config, &name).await?.is_none()
        {
            return Err(error);
        }
        tracing::info!(host = %config.host, folder = %name, "created folder");
    }
    connection.folders.insert(name.clone());
    Ok(name)
}

/// `LIST "" name`: `None` when nothing matches, else the delimiter of the first match.
async fn list(
    connection: &mut Connection,
    config: &AccountConfig,
    name: &str,
) -> Result<Option<Option<String>>, Error> {
    let pattern = quote(name);
    within(config, "LIST", async {
        let names: Vec<_> = connection
            .session
            .list(Some(""), Some(&pattern))
            .await
            .map_err(imap_error(config, "LIST"))?
            .try_collect()
            .await
            .map_err(imap_error(config, "LIST"))?;
        Ok(names.first().map(|n| n.delimiter().map(str::to_owned)))
    })
    .await
}

/// An IMAP quoted string.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A UID set such as `3:5,9`, from ascending UIDs.
fn uid_set(uids: &[u32]) -> String {
    let mut set = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end + 1 {
            i += 1;
            end = uids[i];
        }
        if !set.is_empty() {
            set.push(',');
        }
        if start == end {
            set.push_str(&start.to_string());
        } else {
            set.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    set
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{by_size, quote, uid_set};

    #[test]
    fn batches_are_fetched_in_groups_that_fit_the_byte_budget() {
        let sizes: BTreeMap<u32, u64> = [(1, 40), (2, 40), (3, 30), (4, 250), (5, 10), (6, 90)]
            .into_iter()
            .collect();
        let batch = [1, 2, 3, 4, 5, 6];
        // 40+40 fits 100, +30 does not; the 250-byte message goes alone.
        assert_eq!(
            by_size(&batch, &sizes, 100),
            [&[1, 2][..], &[3], &[4], &[5, 6]]
        );
        assert_eq!(by_size(&batch, &sizes, 1000), [&batch[..]]);
        assert_eq!(
            by_size(&batch, &sizes, 1),
            [&[1][..], &[2], &[3], &[4], &[5], &[6]]
        );
        // An expunged message (no size) costs nothing.
        assert_eq!(by_size(&[1, 7, 2], &sizes, 80), [&[1, 7, 2][..]]);
        assert!(by_size(&[], &sizes, 100).is_empty());
    }

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1]), "1");
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[]), "");
    }

    #[test]
    fn quoting_escapes_quotes_and_backslashes() {
        assert_eq!(quote(r#"a"b\c"#), r#""a\"b\\c""#);
    }
}
