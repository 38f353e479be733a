//! Mailbox leases: one holder per mailbox at a time, free again once dropped or released,
//! independent between mailboxes, and a lease whose lock went away says so.

use tlsrpt_store::{LEASE_CLASS, Store};

use crate::support::{Backend, TempStore, on_both_backends};

on_both_backends!(
    async: a_held_lease_is_refused_until_dropped,
    different_mailboxes_do_not_block_each_other,
    a_lost_lease_is_reported,
);

const INBOX: &str = "tester@localhost:993/INBOX";
const REPORTS: &str = "tester@localhost:993/Reports";

async fn a_held_lease_is_refused_until_dropped(backend: Backend) {
    let temp = TempStore::new(backend).await;
    // A second instance: its own store (its own pool) on the same database.
    let other = Store::open(&temp.url).await.unwrap();

    let mut first = temp.store.acquire_mailbox_lease(INBOX).await.unwrap();
    assert!(first.is_some());
    assert!(other.acquire_mailbox_lease(INBOX).await.unwrap().is_none());
    // A second lease inside the holding process is refused too.
    assert!(
        temp.store
            .acquire_mailbox_lease(INBOX)
            .await
            .unwrap()
            .is_none()
    );
    first.as_mut().unwrap().check().await.unwrap();
    assert_eq!(first.as_ref().unwrap().mailbox_id(), INBOX);

    drop(first);
    // PostgreSQL frees the lock once it sees the connection close: allow it a moment.
    let second = eventually_acquire(&other, INBOX).await;
    assert!(
        temp.store
            .acquire_mailbox_lease(INBOX)
            .await
            .unwrap()
            .is_none()
    );

    second.release().await;
    let third = temp.store.acquire_mailbox_lease(INBOX).await.unwrap();
    assert!(third.is_some(), "release() frees the lease at once");
}

async fn different_mailboxes_do_not_block_each_other(backend: Backend) {
    let temp = TempStore::new(backend).await;
    let other = Store::open(&temp.url).await.unwrap();
    let inbox = temp.store.acquire_mailbox_lease(INBOX).await.unwrap();
    let reports = other.acquire_mailbox_lease(REPORTS).await.unwrap();
    assert!(inbox.is_some() && reports.is_some());
    assert!(other.acquire_mailbox_lease(INBOX).await.unwrap().is_none());
    assert!(
        temp.store
            .acquire_mailbox_lease(REPORTS)
            .await
            .unwrap()
            .is_none()
    );
}

async fn a_lost_lease_is_reported(backend: Backend) {
    let temp = TempStore::new(backend).await;
    let mut lease = temp
        .store
        .acquire_mailbox_lease(INBOX)
        .await
        .unwrap()
        .unwrap();
    lease.check().await.unwrap();
    match backend {
        // An administrator (or a failover) ends the session that holds the lock. (pg_locks
        // shows every database of the server, and other tests run beside this one.)
        Backend::Postgres => {
            let sql = format!(
                "SELECT pg_terminate_backend(pid)::int4::int8 FROM pg_locks \
                 WHERE locktype = 'advisory' AND classid::int8 = {LEASE_CLASS} \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            );
            assert_eq!(temp.scalar(&sql).await, 1);
        }
        // Someone removes the lease file: another process could now lock a new one.
        Backend::Sqlite => {
            let dir = std::path::Path::new(&temp.url).parent().unwrap();
            let files: Vec<_> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.to_string_lossy().contains(".lease-"))
                .collect();
            assert_eq!(files.len(), 1, "{files:?}");
            std::fs::remove_file(&files[0]).unwrap();
        }
    }
    let lost = eventually_lost(&mut lease).await;
    assert_eq!(lost.mailbox_id, INBOX);
    drop(lease);
    eventually_acquire(&temp.store, INBOX).await;
}

/// The lease, once the previous holder's lock is gone (within 10 s).
async fn eventually_acquire(store: &Store, mailbox: &str) -> tlsrpt_store::MailboxLease {
    for _ in 0..100 {
        if let Some(lease) = store.acquire_mailbox_lease(mailbox).await.unwrap() {
            return lease;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the lease on {mailbox} was not freed within 10 s");
}

/// The loss `check` reports (within 10 s: a terminated backend takes a moment to go).
async fn eventually_lost(lease: &mut tlsrpt_store::MailboxLease) -> tlsrpt_store::LeaseLost {
    for _ in 0..100 {
        if let Err(lost) = lease.check().await {
            return lost;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the lost lease still checks as held after 10 s");
}
