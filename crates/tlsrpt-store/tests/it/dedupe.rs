//! De-duplication on (organization-name, report-id) through `write_batch`: within a
//! batch, across batches, and never across organizations.

use tlsrpt_store::Outcome;

use crate::support::{
    Backend, TempStore, gzip, input, on_both_backends, policy, report, report_json, totals,
};

on_both_backends!(
    async: a_report_twice_in_one_batch_is_stored_then_duplicate,
    a_report_in_a_later_batch_is_a_duplicate,
    the_same_report_id_from_another_organization_is_another_report,
    outcomes_follow_the_batch_order_across_statement_chunks,
    policies_and_details_of_a_large_report_stay_with_their_policy,
);

async fn a_report_twice_in_one_batch_is_stored_then_duplicate(backend: Backend) {
    let db = TempStore::new(backend).await;
    let first = report_json("Reporter", "r-1", "example.com", 10);
    // The same report pretty-printed: other bytes, same identity.
    let again =
        serde_json::to_vec_pretty(&serde_json::from_slice::<serde_json::Value>(&first).unwrap())
            .unwrap();
    assert_ne!(first, again);

    let outcomes = db
        .store
        .write_batch(&[input(&first, "a.json"), input(&again, "b.json")])
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Stored, Outcome::Duplicate]);
    assert_eq!(
        totals(&db.stats().await),
        [("example.com".into(), 1, 10, 0)]
    );
    // The first copy is the one kept.
    let kept = db.store.report_json("Reporter", "r-1").await.unwrap();
    assert_eq!(kept.as_deref(), Some(&first[..]));
}

async fn a_report_in_a_later_batch_is_a_duplicate(backend: Backend) {
    let db = TempStore::new(backend).await;
    let json = report_json("Reporter", "r-1", "example.com", 10);
    let first = db
        .store
        .write_batch(&[input(&json, "a.json")])
        .await
        .unwrap();
    assert_eq!(first, [Outcome::Stored]);
    // By another route: gzip-compressed.
    let second = db
        .store
        .write_batch(&[input(&gzip(&json), "a.json.gz"), input(&json, "a.json")])
        .await
        .unwrap();
    assert_eq!(second, [Outcome::Duplicate, Outcome::Duplicate]);
    assert_eq!(
        totals(&db.stats().await),
        [("example.com".into(), 1, 10, 0)]
    );
}

async fn the_same_report_id_from_another_organization_is_another_report(backend: Backend) {
    let db = TempStore::new(backend).await;
    let outcomes = db
        .store
        .write_batch(&[
            input(&report_json("Reporter A", "shared", "example.com", 1), "a"),
            input(&report_json("Reporter B", "shared", "example.com", 2), "b"),
            input(&report_json("Reporter A", "other", "example.com", 4), "c"),
        ])
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Stored; 3]);
    assert_eq!(totals(&db.stats().await), [("example.com".into(), 3, 7, 0)]);
    let b = db.store.report_json("Reporter B", "shared").await.unwrap();
    assert!(b.is_some_and(|json| json.windows(10).any(|w| w == b"Reporter B")));
}

async fn outcomes_follow_the_batch_order_across_statement_chunks(backend: Backend) {
    // More candidates than one multi-row INSERT holds, with copies far apart.
    let db = TempStore::new(backend).await;
    let distinct = 1500;
    let mut batch: Vec<_> = (0..distinct)
        .map(|i| {
            input(
                &report_json("Bulk", &format!("r{i}"), "bulk.example", 1),
                "bulk",
            )
        })
        .collect();
    batch.extend((0..600).map(|i| {
        input(
            &report_json("Bulk", &format!("r{}", i * 2), "bulk.example", 1),
            "copy",
        )
    }));
    batch.insert(700, input(br#"{"something":"else"}"#, "not-a-report.json"));
    let outcomes = db.store.write_batch(&batch).await.unwrap();
    assert_eq!(outcomes.len(), batch.len());
    let count = |o: Outcome| outcomes.iter().filter(|&&x| x == o).count();
    assert_eq!(count(Outcome::Stored), distinct);
    assert_eq!(count(Outcome::Duplicate), 600);
    assert_eq!(count(Outcome::NotReport), 1);
    assert_eq!(outcomes[700], Outcome::NotReport);
    assert!(outcomes[..700].iter().all(|&o| o == Outcome::Stored));
    assert!(
        outcomes[distinct + 1..]
            .iter()
            .all(|&o| o == Outcome::Duplicate)
    );
    assert_eq!(
        totals(&db.stats().await),
        [("bulk.example".into(), distinct as i64, distinct as i64, 0)]
    );

    // A second batch with every copy again: all duplicates.
    let again: Vec<_> = (0..distinct)
        .map(|i| {
            input(
                &report_json("Bulk", &format!("r{i}"), "bulk.example", 1),
                "again",
            )
        })
        .collect();
    let outcomes = db.store.write_batch(&again).await.unwrap();
    assert!(outcomes.iter().all(|&o| o == Outcome::Duplicate));
}

async fn policies_and_details_of_a_large_report_stay_with_their_policy(backend: Backend) {
    // 2,500 policies (more than one INSERT chunk) over three domains; policy i has i
    // successful sessions and one failure detail of i sessions, of result type `t{i % 2}`.
    let db = TempStore::new(backend).await;
    let domains = ["a.example", "b.example", "c.example"];
    let n: u64 = 2500;
    let policies: Vec<_> = (0..n)
        .map(|i| {
            let kind = format!("t{}", i % 2);
            policy(domains[(i % 3) as usize], i, &[(kind.as_str(), i)])
        })
        .collect();
    let json = serde_json::to_vec(&report("Big", "big-1", policies)).unwrap();
    let outcomes = db
        .store
        .write_batch(&[input(&json, "big.json")])
        .await
        .unwrap();
    assert_eq!(outcomes, [Outcome::Stored]);

    let stats = db.stats().await;
    assert_eq!(stats.len(), 3);
    for (d, domain) in domains.iter().enumerate() {
        let of_domain = (0..n).filter(|i| (i % 3) as usize == d);
        let sum = |parity: u64| -> i64 {
            of_domain
                .clone()
                .filter(|i| i % 2 == parity)
                .map(|i| i as i64)
                .sum()
        };
        let row = &stats[d];
        assert_eq!(row.policy_domain, *domain);
        assert_eq!(row.reports, 1);
        assert_eq!(row.successful_sessions, sum(0) + sum(1));
        assert_eq!(row.failed_sessions, sum(0) + sum(1));
        let expected: std::collections::BTreeMap<String, i64> =
            [("t0".to_owned(), sum(0)), ("t1".to_owned(), sum(1))].into();
        assert_eq!(row.failures_by_result_type, expected, "{domain}");
    }
}
