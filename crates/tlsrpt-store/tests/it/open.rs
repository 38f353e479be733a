//! Opening a store: the SQLite file and its folders are created on first use, in WAL
//! mode; on both backends reopening runs the migrations again harmlessly and several
//! handles opening a new database at once all succeed; unsupported URLs are refused.

use sqlx::Row;
use tlsrpt_store::{Outcome, Store, StoreError};

use crate::support::{Backend, TempStore, input, on_both_backends, path_in, report_json, totals};

on_both_backends!(
    async: reopening_keeps_the_data_and_the_schema,
    two_handles_on_one_database_share_the_data,
);

#[tokio::test]
async fn the_file_is_created_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/c/tlsrpt.db");
    let store = Store::open(&path.display().to_string()).await.unwrap();
    assert!(path.is_file(), "created with its folders");
    let json = report_json("Reporter", "r-1", "example.com", 3);
    store.write_batch(&[input(&json, "a.json")]).await.unwrap();
    let wal = path.with_file_name("tlsrpt.db-wal");
    assert!(wal.is_file(), "{} exists after a write", wal.display());

    // A plain connection, which sets no journal mode, finds WAL: it is the file's mode.
    let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
        .await
        .unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(mode, "wal");
    let reports: i64 = sqlx::query("SELECT COUNT(*) FROM reports")
        .fetch_one(&pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(reports, 1, "the write is visible to another connection");
    pool.close().await;
    store.close().await;
}

async fn reopening_keeps_the_data_and_the_schema(backend: Backend) {
    let db = TempStore::new(backend).await;
    let json = report_json("Reporter", "r-1", "example.com", 3);
    db.store
        .write_batch(&[input(&json, "a.json")])
        .await
        .unwrap();
    db.store.close().await;

    for _ in 0..2 {
        let store = Store::open(&db.url).await.unwrap();
        let stats = store.stats(&Default::default()).await.unwrap();
        assert_eq!(totals(&stats), [("example.com".into(), 1, 3, 0)]);
        let outcomes = store.write_batch(&[input(&json, "a.json")]).await.unwrap();
        assert_eq!(outcomes, [Outcome::Duplicate]);
        store.close().await;
    }

    // Each migration is recorded once.
    let migrations = db.scalar("SELECT COUNT(*) FROM _sqlx_migrations").await;
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let files = std::fs::read_dir(format!(
        "{}/../../migrations/{folder}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
    .filter(|e| {
        e.as_ref()
            .unwrap()
            .path()
            .extension()
            .is_some_and(|x| x == "sql")
    })
    .count();
    assert_eq!(migrations, files as i64);
}

async fn two_handles_on_one_database_share_the_data(backend: Backend) {
    let db = TempStore::new(backend).await;
    let other_url = match backend {
        Backend::Sqlite => format!("sqlite://{}", db.url),
        Backend::Postgres => db.url.clone(),
    };
    let other = Store::open(&other_url).await.unwrap();
    let json = report_json("Reporter", "r-1", "example.com", 3);
    let (first, second) = ([input(&json, "a.json")], [input(&json, "b.json")]);
    let (a, b) = tokio::join!(db.store.write_batch(&first), other.write_batch(&second));
    let mut outcomes = [a.unwrap()[0], b.unwrap()[0]];
    outcomes.sort_by_key(|o| o.as_str());
    assert_eq!(outcomes, [Outcome::Duplicate, Outcome::Stored]);
    assert_eq!(
        totals(&other.stats(&Default::default()).await.unwrap()).len(),
        1
    );
}

#[tokio::test]
async fn urls_that_name_no_sqlite_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        "mysql://db.example/tlsrpt",
        "postgre://db.example/tlsrpt",
        "sqlite::memory:",
        "sqlite:",
    ] {
        let error = Store::open(url).await.unwrap_err();
        assert!(
            matches!(error, StoreError::UnsupportedUrl(ref u) if u == url),
            "{url}: {error}"
        );
    }
    let error = Store::open("/proc/x/y.db").await.unwrap_err();
    assert!(matches!(error, StoreError::CreateDir { .. }), "{error}");
    assert!(!path_in(&dir).exists());
}

#[tokio::test]
async fn an_unreachable_postgres_is_an_error_that_hides_the_password() {
    // Port 1 on loopback: nothing listens, the connection is refused at once.
    let error = Store::open("postgres://tlsrpt:s3cret@127.0.0.1:1/tlsrpt")
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Open { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        "cannot open the database postgres://tlsrpt:hidden@127.0.0.1:1/tlsrpt"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = path_in(&dir);
    std::fs::write(&path, vec![b'x'; 4096]).unwrap();
    let error = Store::open(&path.display().to_string()).await.unwrap_err();
    assert!(
        matches!(error, StoreError::Open { .. } | StoreError::Migrate { .. }),
        "{error}"
    );
    assert_eq!(
        std::fs::read(&path).unwrap(),
        vec![b'x'; 4096],
        "left as it was"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opening_a_new_file_from_several_handles_at_once_succeeds() {
    // Several processes may start on a database that does not exist yet (cron jobs, a
    // daemon and a CLI run): each must find or create the schema. The race is narrow,
    // so several rounds are run, each on a new file.
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let url = path_in(&dir).display().to_string();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await })
            })
            .collect();
        for open in opens {
            let store = open.await.unwrap();
            assert!(store.is_ok(), "round {round}: {}", store.unwrap_err());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opening_an_existing_file_from_several_handles_at_once_succeeds() {
    for round in 0..8 {
        let dir = tempfile::tempdir().unwrap();
        let url = path_in(&dir).display().to_string();
        Store::open(&url).await.unwrap().close().await;
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await })
            })
            .collect();
        for open in opens {
            let store = open.await.unwrap();
            assert!(store.is_ok(), "round {round}: {}", store.unwrap_err());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn opening_a_new_postgres_database_from_several_handles_at_once_succeeds() {
    // The PostgreSQL counterpart: sqlx's migrator takes an advisory lock, so the handles
    // take turns to create the schema. Several rounds, each on a fresh database.
    for round in 0..4 {
        let url = tlsrpt_testkit::postgres::fresh_database_url();
        let opens: Vec<_> = (0..4)
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { Store::open(&url).await })
            })
            .collect();
        for open in opens {
            let store = open.await.unwrap();
            assert!(store.is_ok(), "round {round}: {}", store.unwrap_err());
        }
    }
}
