//! A batch is written whole or not at all, and the bytes kept of reports and of rejected
//! inputs come back exactly.

use tlsrpt_store::{Candidate, NewInput, Outcome};
use tlsrpt_testkit::noise::incompressible;

use crate::support::{
    Backend, TempStore, gzip, input, on_both_backends, policy, rejected, report, report_json,
    totals,
};

on_both_backends!(
    async: after_a_batch_every_row_is_there,
    a_failing_batch_leaves_nothing_behind,
    a_batch_writer_goes_on_after_a_failed_batch,
    report_json_gives_back_the_original_bytes,
    rejected_bytes_round_trip_and_the_list_is_newest_first,
    the_head_of_an_oversized_input_is_marked_incomplete,
);

async fn after_a_batch_every_row_is_there(backend: Backend) {
    let db = TempStore::new(backend).await;
    let two_policies = serde_json::to_vec(&report(
        "Reporter",
        "r-2",
        vec![
            policy("example.com", 5, &[("certificate-expired", 2)]),
            policy(
                "example.net",
                7,
                &[("validation-failure", 1), ("starttls-not-supported", 3)],
            ),
        ],
    ))
    .unwrap();
    let batch = vec![
        input(&report_json("Reporter", "r-1", "example.com", 10), "a.json"),
        input(&two_policies, "b.json"),
        rejected(
            b"{\"report-id\": broken",
            "c.json",
            "not valid JSON",
            1_772_400_001,
        ),
        NewInput {
            candidate: Candidate::NotReport {
                reason: "an XML document".into(),
            },
            ..input(b"<feedback/>", "d.xml")
        },
    ];
    let outcomes = db.store.write_batch(&batch).await.unwrap();
    assert_eq!(
        outcomes,
        [
            Outcome::Stored,
            Outcome::Stored,
            Outcome::Rejected,
            Outcome::NotReport
        ]
    );
    assert_eq!(
        totals(&db.stats().await),
        [
            ("example.com".into(), 2, 15, 2),
            ("example.net".into(), 1, 7, 4)
        ]
    );
    let stats = db.stats().await;
    assert_eq!(stats[1].failures_by_result_type.len(), 2);
    assert_eq!(
        stats[1].failures_by_result_type["starttls-not-supported"],
        3
    );
    let listed = db.store.rejected_inputs(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].locator, "c.json");
    assert_eq!(listed[0].part.as_deref(), Some("attachment.json"));
    assert_eq!(
        listed[0].message_id.as_deref(),
        Some("<m@reporter.example>")
    );
    assert_eq!(listed[0].reason, "not valid JSON");
    assert_eq!(listed[0].received_at, 1_772_400_001);
}

async fn a_failing_batch_leaves_nothing_behind(backend: Backend) {
    let db = TempStore::new(backend).await;
    // A trigger makes the last statement of the batch (the input records) fail, after
    // its reports and policies were inserted.
    fail_inputs_named_fail(&db, backend).await;

    let json = report_json("Reporter", "r-1", "example.com", 10);
    let batch = [
        input(&json, "a.json"),
        rejected(b"junk", "b.json", "not valid JSON", 1),
        rejected(b"junk", "fail", "not valid JSON", 1),
    ];
    let error = db.store.write_batch(&batch).await.unwrap_err();
    let cause = std::error::Error::source(&error).map(ToString::to_string);
    assert_eq!(error.to_string(), "database error while recording inputs");
    assert!(
        cause
            .as_deref()
            .is_some_and(|c| c.contains("injected failure")),
        "{cause:?}"
    );
    assert!(db.stats().await.is_empty(), "no policy rows");
    assert_eq!(db.store.report_json("Reporter", "r-1").await.unwrap(), None);
    assert!(db.store.rejected_inputs(10).await.unwrap().is_empty());

    stop_failing(&db, backend).await;
    // Nothing of the failed batch counts: the report is new.
    let outcomes = db.store.write_batch(&batch).await.unwrap();
    assert_eq!(
        outcomes,
        [Outcome::Stored, Outcome::Rejected, Outcome::Rejected]
    );
    assert_eq!(db.store.rejected_inputs(10).await.unwrap().len(), 2);
}

async fn report_json_gives_back_the_original_bytes(backend: Backend) {
    let db = TempStore::new(backend).await;
    // Odd spacing, a BOM and an unknown field: the bytes are kept, not a re-serialisation.
    let plain = b"\xEF\xBB\xBF{ \"organization-name\" : \"Plain\", \"x-extra\": [1, 2],\n\
        \"date-range\": {\"start-datetime\": \"2026-03-01T00:00:00Z\",\n\
        \"end-datetime\": \"2026-03-01T23:59:59Z\"}, \"contact-info\": null,\n\
        \"report-id\": \"p-1\", \"policies\": [{\"policy\": {\"policy-type\": \"sts\",\n\
        \"policy-domain\": \"example.com\"}, \"summary\": {\"total-successful-session-count\": 1,\n\
        \"total-failure-session-count\": 0}}]}\r\n"
        .to_vec();
    let zipped_json = report_json("Zipped", "z-1", "example.org", 2);
    let outcomes = db
        .store
        .write_batch(&[
            input(&plain, "plain.json"),
            input(&gzip(&zipped_json), "z.json.gz"),
        ])
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Stored, Outcome::Stored]);
    let kept = db.store.report_json("Plain", "p-1").await.unwrap().unwrap();
    assert!(kept == plain, "{:?}", String::from_utf8_lossy(&kept));
    let kept = db
        .store
        .report_json("Zipped", "z-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept, zipped_json);
    assert_eq!(db.store.report_json("Zipped", "nope").await.unwrap(), None);
}

async fn rejected_bytes_round_trip_and_the_list_is_newest_first(backend: Backend) {
    let db = TempStore::new(backend).await;
    let all_bytes: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    let batch = [
        rejected(&all_bytes, "old.bin", "first", 100),
        rejected(b"\x1f\x8b\x08truncated", "new.gz", "second", 300),
        rejected(b"", "empty", "third", 200),
        NewInput {
            candidate: Candidate::Rejected {
                reason: "cannot read: No such file or directory".into(),
                raw: None,
            },
            ..rejected(b"", "gone.json", "", 50)
        },
        input(&report_json("Reporter", "r-1", "example.com", 1), "ok.json"),
    ];
    db.store.write_batch(&batch).await.unwrap();

    let listed = db.store.rejected_inputs(100).await.unwrap();
    let order: Vec<&str> = listed.iter().map(|r| r.locator.as_str()).collect();
    assert_eq!(order, ["new.gz", "empty", "old.bin", "gone.json"]);
    let limited = db.store.rejected_inputs(2).await.unwrap();
    assert_eq!(limited, listed[..2]);

    let by_locator = |l: &str| listed.iter().find(|r| r.locator == l).unwrap();
    let old = by_locator("old.bin");
    assert_eq!(
        (old.raw_size, old.raw_complete),
        (Some(300_000), Some(true))
    );
    assert_eq!(db.store.input_bytes(old.id).await.unwrap(), Some(all_bytes));
    assert_eq!(
        db.store.input_bytes(by_locator("new.gz").id).await.unwrap(),
        Some(b"\x1f\x8b\x08truncated".to_vec())
    );
    assert_eq!(
        db.store.input_bytes(by_locator("empty").id).await.unwrap(),
        Some(Vec::new())
    );
    let gone = by_locator("gone.json");
    assert_eq!((gone.raw_size, gone.raw_complete), (None, None));
    assert_eq!(db.store.input_bytes(gone.id).await.unwrap(), None);
    assert_eq!(db.store.input_bytes(999_999).await.unwrap(), None);
    // The input record of the stored report, written last in the batch, keeps no bytes.
    let max_id = listed.iter().map(|r| r.id).max().unwrap();
    assert_eq!(db.store.input_bytes(max_id + 1).await.unwrap(), None);
}

async fn the_head_of_an_oversized_input_is_marked_incomplete(backend: Backend) {
    let db = TempStore::new(backend).await;
    let head = vec![b'{'; 1024];
    let input = NewInput {
        candidate: Candidate::Rejected {
            reason: "too big".into(),
            raw: Some(tlsrpt_store::Raw::compress(&head, 100 * 1024 * 1024)),
        },
        ..rejected(b"", "huge.json", "", 1)
    };
    db.store.write_batch(&[input]).await.unwrap();
    let listed = db.store.rejected_inputs(1).await.unwrap();
    assert_eq!(
        (listed[0].raw_size, listed[0].raw_complete),
        (Some(100 * 1024 * 1024), Some(false))
    );
    assert_eq!(
        db.store.input_bytes(listed[0].id).await.unwrap(),
        Some(head)
    );
}

/// Makes every insert of an input whose locator is `fail` fail.
async fn fail_inputs_named_fail(db: &TempStore, backend: Backend) {
    match backend {
        Backend::Sqlite => {
            db.execute(&[
                "CREATE TRIGGER fail_input BEFORE INSERT ON inputs WHEN NEW.locator = 'fail' \
                 BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
            ])
            .await;
        }
        Backend::Postgres => {
            db.execute(&[
                "CREATE FUNCTION fail_input() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.locator = 'fail' THEN RAISE EXCEPTION 'injected failure'; \
                 END IF; RETURN NEW; END $$",
                "CREATE TRIGGER fail_input BEFORE INSERT ON inputs FOR EACH ROW \
                 EXECUTE FUNCTION fail_input()",
            ])
            .await;
        }
    }
}

async fn stop_failing(db: &TempStore, backend: Backend) {
    db.execute(&[match backend {
        Backend::Sqlite => "DROP TRIGGER fail_input",
        Backend::Postgres => "DROP TRIGGER fail_input ON inputs",
    }])
    .await;
}

/// `count` rejected inputs of one MiB each that gzip cannot shrink: about 256 pages each.
fn incompressible_rejections(count: u64, name: &str) -> Vec<NewInput> {
    (0..count)
        .map(|i| {
            let bytes = incompressible(1 << 20, i);
            rejected(&bytes, &format!("{name}-{i}"), "not valid JSON", 1)
        })
        .collect()
}

/// A bulk writer's connection checkpoints the write-ahead log late, so that each commit
/// does not copy the pages it touched into the database file once more; the pool's
/// connections keep SQLite's default (1,000 pages).
#[tokio::test]
async fn a_batch_writer_checkpoints_late_and_the_pool_does_not() {
    let db = TempStore::new(Backend::Sqlite).await;
    let file_size = || std::fs::metadata(&db.url).unwrap().len();
    const MIB: u64 = 1 << 20;
    let before = file_size();

    let mut writer = db.store.batch_writer();
    let outcomes = writer
        .write_batch(&incompressible_rejections(8, "bulk"))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Rejected; 8]);
    assert!(
        file_size() < before + MIB,
        "8 MiB committed by the bulk writer stay in the log: {} bytes",
        file_size()
    );
    drop(writer);

    let outcomes = db
        .store
        .write_batch(&incompressible_rejections(8, "pooled"))
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Rejected; 8]);
    assert!(
        file_size() > before + 16 * MIB,
        "a pooled commit over 1,000 log pages checkpoints both batches: {} bytes",
        file_size()
    );
}

async fn a_batch_writer_goes_on_after_a_failed_batch(backend: Backend) {
    let db = TempStore::new(backend).await;
    let mut writer = db.store.batch_writer();
    let first = report_json("Reporter", "r-1", "example.com", 10);
    let second = report_json("Reporter", "r-2", "example.com", 5);
    let outcomes = writer.write_batch(&[input(&first, "a.json")]).await;
    assert_eq!(outcomes.unwrap(), [Outcome::Stored]);

    fail_inputs_named_fail(&db, backend).await;
    let failing = [
        input(&second, "b.json"),
        rejected(b"junk", "fail", "not valid JSON", 1),
    ];
    let error = writer.write_batch(&failing).await.unwrap_err();
    assert_eq!(error.to_string(), "database error while recording inputs");
    stop_failing(&db, backend).await;

    // The writer takes a fresh connection; the failed batch left nothing, so it is new.
    let outcomes = writer.write_batch(&failing).await.unwrap();
    assert_eq!(outcomes, [Outcome::Stored, Outcome::Rejected]);
    let outcomes = writer.write_batch(&[input(&first, "c.json")]).await;
    assert_eq!(outcomes.unwrap(), [Outcome::Duplicate]);
    assert_eq!(
        totals(&db.stats().await),
        [("example.com".into(), 2, 15, 0)]
    );
}
