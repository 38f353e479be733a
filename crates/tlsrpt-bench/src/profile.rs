//! `profile`: the stages of file ingest (extract = detect, decompress, parse; store) timed
//! one by one on an in-memory corpus, beside the raw limits of this machine for each
//! (gzip decompression with flate2, serde_json, SQLite inserts in one transaction, one
//! row or 1,024 rows per statement). Prints one `profile: WHAT|FIGURE` line per measure
//! for `bench/run`.

use std::io::Read;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, ensure};
use flate2::read::GzDecoder;
use flate2::{Decompress, FlushDecompress, Status};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, Row};
use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_ingest::{Claim, Found, extract};
use tlsrpt_store::{Auth, Candidate, NewInput, Outcome, Raw, Store};

/// Seed and domains of `bench/ingest.sh`, so that the profile runs on the same kind of corpus.
const SEED: u64 = 8460;
const DOMAINS: u64 = 500;
/// The batch size of `tlsrpt ingest`.
const BATCH: usize = 8192;

#[derive(Debug, clap::Args)]
pub struct ProfileArgs {
    /// Reports in the corpus (half .json.gz, half mails, as bench/ingest.sh).
    #[arg(long, default_value_t = 50_000)]
    reports: usize,
}

pub async fn profile(args: ProfileArgs) -> anyhow::Result<()> {
    let mut corpus = Corpus::new(SEED, DOMAINS);
    let inputs: Vec<(Format, Vec<u8>)> = (0..args.reports)
        .map(|i| {
            let format = if i % 2 == 0 {
                Format::Eml
            } else {
                Format::JsonGz
            };
            (format, corpus.next(format).bytes)
        })
        .collect();
    let n = inputs.len();
    let input_bytes: usize = inputs.iter().map(|(_, b)| b.len()).sum();

    // Stage 1: what the reader thread does to each file (detect, unpack, parse).
    let limits = tlsrpt_ingest::Limits::default();
    let started = Instant::now();
    let found: Vec<Vec<Found>> = inputs
        .iter()
        .map(|(_, bytes)| extract(bytes, Claim::None, &limits))
        .collect();
    let elapsed = started.elapsed();
    line(
        "stage extract (detect, decompress, parse; eml+gz)",
        &rates(n, input_bytes, elapsed),
    );

    // Its parts, and their limits.
    let gz: Vec<&[u8]> = inputs
        .iter()
        .filter(|(f, _)| *f == Format::JsonGz)
        .map(|(_, b)| b.as_slice())
        .collect();
    let gz_bytes: usize = gz.iter().map(|b| b.len()).sum();
    let jsons = gz
        .iter()
        .map(|bytes| gunzip_checked(bytes))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let json_bytes: usize = jsons.iter().map(Vec::len).sum();
    let mut inflate = Decompress::new(false);
    let mut out = Vec::new();
    let started = Instant::now();
    for bytes in &gz {
        inflate_member(&mut inflate, bytes, &mut out)?;
    }
    let elapsed = started.elapsed();
    line(
        "limit inflate (flate2 zlib-rs, one state reused, output sized)",
        &format!(
            "{} reports/s, {} MB/s out ({} MB/s in)",
            (gz.len() as f64 / elapsed.as_secs_f64()).round(),
            mb_per_s(json_bytes, elapsed),
            mb_per_s(gz_bytes, elapsed)
        ),
    );

    let report_limits = tlsrpt_report::Limits::default();
    let started = Instant::now();
    for json in &jsons {
        tlsrpt_report::parse(json, &report_limits)
            .map_err(|reason| anyhow::anyhow!("generated report rejected: {reason:?}"))?;
    }
    let elapsed = started.elapsed();
    line(
        "parse only (tlsrpt_report::parse)",
        &rates(jsons.len(), json_bytes, elapsed),
    );

    let started = Instant::now();
    for json in &jsons {
        serde_json::from_slice::<serde_json::Value>(json)?;
    }
    let elapsed = started.elapsed();
    line(
        "limit serde_json to Value",
        &rates(jsons.len(), json_bytes, elapsed),
    );

    // Stage 2: what the writer does (one transaction per batch), on a fresh SQLite file.
    let records = records(found)?;
    ensure!(records.len() == n, "{} reports of {n}", records.len());
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("profile.db");
    let store = Store::open(&db.display().to_string()).await?;
    let started = Instant::now();
    let mut writer = store.batch_writer();
    for batch in records.chunks(BATCH) {
        let outcomes = writer.write_batch(batch).await?;
        ensure!(
            outcomes.iter().all(|o| *o == Outcome::Stored),
            "not all stored"
        );
    }
    let elapsed = started.elapsed();
    drop(writer);
    store.close().await;
    let rows = count_rows(&db).await?;
    line(
        "stage store (batch writer, SQLite)",
        &format!(
            "{:.0} reports/s, {:.0} rows/s ({:.1} rows per report)",
            n as f64 / elapsed.as_secs_f64(),
            rows as f64 / elapsed.as_secs_f64(),
            rows as f64 / n as f64
        ),
    );

    let limit_rows = rows.max(10_000);
    for (per_statement, what) in [
        (
            1,
            "limit SQLite inserts, one transaction, 1 row per statement",
        ),
        (
            LIMIT_ROWS_PER_STATEMENT,
            "limit SQLite inserts, one transaction, 1,024 rows per statement",
        ),
    ] {
        let db = dir.path().join(format!("limit-{per_statement}.db"));
        let elapsed = sqlite_limit(&db, limit_rows, per_statement).await?;
        line(
            what,
            &format!(
                "{:.0} rows/s (4 columns, 1 index)",
                limit_rows as f64 / elapsed.as_secs_f64()
            ),
        );
    }
    Ok(())
}

/// One gzip member decompressed with flate2's reader, checksum and all: the JSON that the
/// parse measures read.
fn gunzip_checked(gzip: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut json = Vec::new();
    GzDecoder::new(gzip).read_to_end(&mut json)?;
    Ok(json)
}

/// Inflates the deflate body of one generated gzip member (a bare 10-byte header, as
/// flate2's encoder writes it) into `out`, sized from the trailer, with `inflate` reset
/// rather than set up again: the least work in which zlib-rs can turn a member into its
/// JSON. No CRC: that is the ingest's cost, not inflate's.
fn inflate_member(inflate: &mut Decompress, gzip: &[u8], out: &mut Vec<u8>) -> anyhow::Result<()> {
    ensure!(
        gzip.len() > 18 && gzip[..4] == [0x1f, 0x8b, 8, 0],
        "the limit reads bare gzip headers only"
    );
    let size = u32::from_le_bytes(gzip[gzip.len() - 4..].try_into()?) as usize;
    out.clear();
    out.reserve(size);
    inflate.reset(false);
    let status = inflate.decompress_vec(&gzip[10..gzip.len() - 8], out, FlushDecompress::Finish)?;
    ensure!(
        status == Status::StreamEnd && out.len() == size,
        "member not inflated whole"
    );
    Ok(())
}

/// Rows per multi-row statement of the SQLite limit, as the store's largest statements.
const LIMIT_ROWS_PER_STATEMENT: usize = 1024;

/// The records `tlsrpt ingest` would write for the extracted reports (as tlsrpt-intake
/// builds them: the reporter's gzip kept as is, the JSON compressed otherwise).
fn records(found: Vec<Vec<Found>>) -> anyhow::Result<Vec<NewInput>> {
    let mut records = Vec::new();
    for (i, found) in found.into_iter().enumerate() {
        for found in found {
            let Found::Report {
                part,
                report,
                json,
                gzip,
            } = found
            else {
                anyhow::bail!("input {i} is not a report: {found:?}");
            };
            let raw_json = match gzip {
                Some(gzip) => Raw::from_gzip(gzip, json.len() as u64),
                None => Raw::compress(&json, json.len() as u64),
            };
            records.push(NewInput {
                source: "file",
                locator: format!("profile/{i}"),
                part,
                message_id: None,
                received_at: report.date_range.end.timestamp() + 3600,
                candidate: Candidate::Report {
                    report,
                    raw_json,
                    auth: Auth::Operator,
                },
            });
        }
    }
    Ok(records)
}

/// Rows in every table of the SQLite database at `db`.
async fn count_rows(db: &std::path::Path) -> anyhow::Result<u64> {
    let mut conn = SqliteConnectOptions::new().filename(db).connect().await?;
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_sqlx%'",
    )
    .fetch_all(&mut conn)
    .await?
    .iter()
    .map(|row| row.get(0))
    .collect();
    let mut rows = 0u64;
    for table in tables {
        // The table names come from sqlite_master, quoted.
        let sql = sqlx::AssertSqlSafe(format!("SELECT count(*) FROM \"{table}\""));
        let count: i64 = sqlx::query(sql).fetch_one(&mut conn).await?.get(0);
        rows += count as u64;
    }
    Ok(rows)
}

/// Inserts `rows` rows, `per_statement` rows per statement, in one transaction, with the
/// store's settings (WAL, synchronous NORMAL); the time of the inserts and the commit. One
/// row per statement measures a round trip to sqlx's worker thread per row (on an idle
/// virtual machine, mostly waking threads); 1,024 rows per statement, SQLite itself.
async fn sqlite_limit(
    db: &std::path::Path,
    rows: u64,
    per_statement: usize,
) -> anyhow::Result<Duration> {
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(db)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let mut conn = options.connect().await.context("limit database")?;
    sqlx::query(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, domain TEXT NOT NULL, day INTEGER NOT NULL, count INTEGER NOT NULL)",
    )
    .execute(&mut conn)
    .await?;
    sqlx::query("CREATE INDEX t_domain_day ON t (domain, day)")
        .execute(&mut conn)
        .await?;
    let full = insert_sql(per_statement);
    let started = Instant::now();
    let mut tx = conn.begin().await?;
    let all: Vec<u64> = (0..rows).collect();
    for chunk in all.chunks(per_statement) {
        let sql = if chunk.len() == per_statement {
            sqlx::AssertSqlSafe(full.clone())
        } else {
            sqlx::AssertSqlSafe(insert_sql(chunk.len()))
        };
        let mut query = sqlx::query(sql);
        for &i in chunk {
            query = query
                .bind(format!("domain{}.example", i % 500))
                .bind((i / 500) as i64)
                .bind(i as i64);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(started.elapsed())
}

/// `INSERT INTO t (domain, day, count) VALUES (?, ?, ?), …` with `rows` rows.
fn insert_sql(rows: usize) -> String {
    let values = vec!["(?, ?, ?)"; rows].join(", ");
    format!("INSERT INTO t (domain, day, count) VALUES {values}")
}

fn mb_per_s(bytes: usize, elapsed: Duration) -> String {
    format!("{:.0}", bytes as f64 / 1e6 / elapsed.as_secs_f64())
}

fn rates(reports: usize, bytes: usize, elapsed: Duration) -> String {
    format!(
        "{:.0} reports/s, {} MB/s",
        reports as f64 / elapsed.as_secs_f64(),
        mb_per_s(bytes, elapsed)
    )
}

fn line(what: &str, figure: &str) {
    println!("profile: {what}|{figure}");
}

#[derive(Debug, clap::Args)]
pub struct ParseFilesArgs {
    /// A folder of reports; its `.json.gz` files are parsed, others skipped
    /// (`bench/parsedmarc.sh` passes its corpus).
    dir: std::path::PathBuf,
    /// Passes over all the reports; the median pass is printed.
    #[arg(long, default_value_t = 5)]
    passes: usize,
}

/// Parse only, on given files: every `.json.gz` file under a folder is read and
/// decompressed first, then `tlsrpt_report::parse` is timed over all of them, pass after pass, on one
/// core. This is the parse-only figure on the very files that parsedmarc parses.
pub fn parse_files(args: ParseFilesArgs) -> anyhow::Result<()> {
    let mut jsons = Vec::new();
    for entry in tlsrpt_ingest::files::walk(vec![args.dir.clone()]) {
        let entry = entry.map_err(|(path, why)| anyhow::anyhow!("{}: {why}", path.display()))?;
        if !entry.path.to_string_lossy().ends_with(".json.gz") {
            continue;
        }
        let gzip = std::fs::read(&entry.path)?;
        jsons.push(gunzip_checked(&gzip).with_context(|| entry.path.display().to_string())?);
    }
    ensure!(
        !jsons.is_empty(),
        "no .json.gz files under {}",
        args.dir.display()
    );
    let bytes: usize = jsons.iter().map(Vec::len).sum();
    let limits = tlsrpt_report::Limits::default();
    let mut passes = Vec::new();
    for _ in 0..args.passes.max(1) {
        let started = Instant::now();
        for json in &jsons {
            tlsrpt_report::parse(json, &limits)
                .map_err(|reason| anyhow::anyhow!("a report was rejected: {reason:?}"))?;
        }
        passes.push(started.elapsed());
    }
    passes.sort();
    let median = passes[passes.len() / 2];
    println!(
        "parse only, median of {} passes over {} reports: {}",
        passes.len(),
        jsons.len(),
        rates(jsons.len(), bytes, median)
    );
    Ok(())
}
