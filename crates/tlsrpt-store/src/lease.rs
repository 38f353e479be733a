//! Mailbox leases: at most one process at a time holds the lease on a given IMAP mailbox,
//! so that several `tlsrpt` instances on one database keep one watcher per mailbox, and
//! another takes over when the holder dies.
//!
//! A lease is tried, never waited for ([`Store::acquire_mailbox_lease`]), and lasts as
//! long as the [`MailboxLease`] value: dropping it, or the death of the process, releases
//! it. Nothing has to expire: the operating system or the database server frees the lock
//! the moment its holder's file or connection goes away.
//!
//! - **PostgreSQL**: a session-level advisory lock, `pg_try_advisory_lock(class, key)`,
//!   held by a connection of its own (opened with the pool's options, never returned to
//!   the pool). `class` is [`LEASE_CLASS`] (ASCII `TLSR`), which keeps these locks apart
//!   from other users of advisory locks: the two-`int4` form never meets the one-`bigint`
//!   form (sqlx's migrator uses the latter). `key` is the FNV-1a 64-bit hash of the
//!   mailbox id (its UTF-8 bytes), folded to 32 bits (high half XOR low half), as a
//!   signed `int4`. Two mailboxes whose keys collide (about 1 in 4 billion for a pair)
//!   share one lease: they are then watched by one instance at a time, never both at once
//!   by two instances.
//! - **SQLite**: an exclusive, non-blocking `flock` on the file
//!   `DATABASE.lease-HASH` beside the database file, where `HASH` is the same FNV-1a
//!   64-bit hash in 16 hex digits. It works between processes on one machine (as SQLite
//!   itself does). Lease files are left in place: removing one would let two processes
//!   lock different files of the same name.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use sqlx::{Connection as _, PgConnection};

use crate::backend::Backend;
use crate::open::{Store, StoreError};

/// The first half of every PostgreSQL advisory lock key of a mailbox lease: `TLSR` in ASCII.
pub const LEASE_CLASS: i32 = 0x544C_5352;

/// The exclusive right of this process to watch one mailbox; released when dropped.
#[derive(Debug)]
pub struct MailboxLease {
    mailbox_id: String,
    holder: Holder,
}

#[derive(Debug)]
enum Holder {
    /// The connection whose session holds the advisory lock `(LEASE_CLASS, key)`.
    Postgres { connection: PgConnection, key: i32 },
    /// The locked lease file, and its path (to notice a removed or replaced file).
    Sqlite { file: File, path: PathBuf },
}

/// A lease that is no longer held (or can no longer be known to be held).
#[derive(Debug, thiserror::Error)]
#[error("the lease on mailbox {mailbox_id} is lost: {reason}")]
pub struct LeaseLost {
    /// The mailbox whose lease was lost.
    pub mailbox_id: String,
    /// What showed it.
    pub reason: String,
}

impl Store {
    /// Tries to take the lease on `mailbox_id` without waiting: `Some` when this process
    /// now holds it, `None` when another holder (another process, or another lease in this
    /// one) has it. See the module documentation for how each backend does it.
    pub async fn acquire_mailbox_lease(
        &self,
        mailbox_id: &str,
    ) -> Result<Option<MailboxLease>, StoreError> {
        let holder = match &self.pool {
            Backend::Postgres(pool) => {
                let key = advisory_key(mailbox_id);
                let mut connection = PgConnection::connect_with(&pool.connect_options())
                    .await
                    .map_err(|source| StoreError::Query {
                        doing: "connecting for a mailbox lease",
                        source,
                    })?;
                let taken: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                    .bind(LEASE_CLASS)
                    .bind(key)
                    .fetch_one(&mut connection)
                    .await
                    .map_err(|source| StoreError::Query {
                        doing: "trying a mailbox lease",
                        source,
                    })?;
                if !taken {
                    let _ = connection.close().await;
                    return Ok(None);
                }
                Holder::Postgres { connection, key }
            }
            Backend::Sqlite(pool) => {
                let path = lease_path(pool.connect_options().get_filename(), mailbox_id);
                let lease_error = |source| StoreError::LeaseFile {
                    path: path.clone(),
                    source,
                };
                let file = OpenOptions::new()
                    .read(true)
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .open(&path)
                    .map_err(lease_error)?;
                match file.try_lock() {
                    Ok(()) => {}
                    Err(TryLockError::WouldBlock) => return Ok(None),
                    Err(TryLockError::Error(source)) => return Err(lease_error(source)),
                }
                Holder::Sqlite { file, path }
            }
        };
        Ok(Some(MailboxLease {
            mailbox_id: mailbox_id.to_owned(),
            holder,
        }))
    }
}

impl MailboxLease {
    /// The mailbox this lease is on.
    pub fn mailbox_id(&self) -> &str {
        &self.mailbox_id
    }

    /// Checks, cheaply, that the lease is still held: on PostgreSQL, one query on the
    /// lease's connection asks whether its session still holds the lock (a broken
    /// connection is a lost lease); on SQLite, the lease file must still be the locked one.
    /// On `Err` the caller must stop what the lease guarded, and drop the lease.
    pub async fn check(&mut self) -> Result<(), LeaseLost> {
        let lost = |reason: String| LeaseLost {
            mailbox_id: self.mailbox_id.clone(),
            reason,
        };
        match &mut self.holder {
            Holder::Postgres { connection, key } => {
                let held: bool = sqlx::query_scalar(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
                     AND pid = pg_backend_pid() AND granted AND objsubid = 2 \
                     AND classid::int8 = $1 AND objid::int8 = $2)",
                )
                .bind(i64::from(LEASE_CLASS.cast_unsigned()))
                .bind(i64::from(key.cast_unsigned()))
                .fetch_one(&mut *connection)
                .await
                .map_err(|e| lost(format!("the lease connection failed: {e}")))?;
                if held {
                    Ok(())
                } else {
                    Err(lost("the advisory lock is no longer held".to_owned()))
                }
            }
            Holder::Sqlite { file, path } => {
                let ours = file
                    .metadata()
                    .map_err(|e| lost(format!("cannot read the lease file: {e}")))?;
                let current = std::fs::metadata(&*path)
                    .map_err(|e| lost(format!("the lease file {} is gone: {e}", path.display())))?;
                if (ours.dev(), ours.ino()) == (current.dev(), current.ino()) {
                    Ok(())
                } else {
                    Err(lost(format!(
                        "the lease file {} was replaced",
                        path.display()
                    )))
                }
            }
        }
    }

    /// Gives the lease up now, for others to take. Dropping it does the same, without
    /// waiting (PostgreSQL frees the lock when it sees the connection close).
    pub async fn release(self) {
        match self.holder {
            Holder::Postgres {
                mut connection,
                key,
            } => {
                let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                    .bind(LEASE_CLASS)
                    .bind(key)
                    .execute(&mut connection)
                    .await;
                let _ = connection.close().await;
            }
            Holder::Sqlite { file, .. } => {
                let _ = file.unlock();
            }
        }
    }
}

/// FNV-1a, 64 bits: a hash that never changes between builds, platforms or Rust versions
/// (unlike std's `DefaultHasher`), as keys shared by processes must not.
fn fnv1a_64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The second half of the advisory lock key of `mailbox_id`.
fn advisory_key(mailbox_id: &str) -> i32 {
    let hash = fnv1a_64(mailbox_id.as_bytes());
    let [high, low] = [hash >> 32, hash & 0xffff_ffff].map(|half| half as u32);
    (high ^ low).cast_signed()
}

/// The lease file of `mailbox_id` beside the database file `database`.
fn lease_path(database: &Path, mailbox_id: &str) -> PathBuf {
    let mut name = database.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".lease-{:016x}", fnv1a_64(mailbox_id.as_bytes())));
    database.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable() {
        // The published FNV-1a test vectors: the hash must never change, or instances of
        // two versions would not see each other's leases.
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(
            advisory_key("foobar"),
            (0x8594_4171_u32 ^ 0xf739_67e8).cast_signed()
        );
        assert_eq!(
            lease_path(Path::new("/var/lib/tlsrpt/tlsrpt.db"), "foobar"),
            Path::new("/var/lib/tlsrpt/tlsrpt.db.lease-85944171f73967e8")
        );
        assert_ne!(
            advisory_key("u@h:993/INBOX"),
            advisory_key("u@h:993/Reports")
        );
    }
}
