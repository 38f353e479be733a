//! `Store::verify_consistency` finds nothing wrong in what the store wrote, and finds each
//! kind of damage a half-written batch would leave: missing failure details, a rollup that
//! no longer matches the detail rows, a report without its ledger entry (and input counts
//! that no longer match the ledger), truncated JSON.

use crate::support::{Backend, TempStore, input, on_both_backends, policy, report};

on_both_backends!(async: a_clean_store_is_consistent_and_each_damage_is_found);

async fn a_clean_store_is_consistent_and_each_damage_is_found(backend: Backend) {
    let db = TempStore::new(backend).await;
    let batch: Vec<_> = (0..3)
        .map(|i| {
            let json = serde_json::to_vec(&report(
                "Reporter",
                &format!("r-{i}"),
                vec![
                    policy("example.com", 5, &[("certificate-expired", 2)]),
                    policy("example.net", 7, &[("validation-failure", i + 1)]),
                ],
            ))
            .unwrap();
            input(&json, &format!("{i}.json"))
        })
        .collect();
    db.store.write_batch(&batch).await.unwrap();
    let clean = db.store.verify_consistency().await.unwrap();
    assert_eq!(clean.problems, Vec::<String>::new());
    assert_eq!(
        (
            clean.counts.reports,
            clean.counts.policies,
            clean.counts.failure_details
        ),
        (3, 6, 6)
    );
    assert_eq!(clean.counts.inputs, 3);

    db.execute(&[
        "DELETE FROM failure_details WHERE id = (SELECT MIN(id) FROM failure_details)",
        "UPDATE daily_domain_totals SET reports = reports + 1 WHERE policy_domain = 'example.net'",
        "DELETE FROM inputs WHERE locator = '2.json'",
        "UPDATE reports SET raw_size = raw_size + 1 WHERE report_id = 'r-1'",
    ])
    .await;
    let damaged = db.store.verify_consistency().await.unwrap();
    let problems = damaged.problems.join("\n");
    assert_eq!(damaged.problems.len(), 6, "{problems}");
    assert!(
        problems.contains("has 2 policies and 1 failure details stored, its JSON has 2 and 2"),
        "{problems}"
    );
    assert!(problems.contains("were recorded"), "{problems}");
    // The deleted detail is missing from the recomputed failure rollups too.
    assert!(problems.contains("daily_rollups: 1 rows"), "{problems}");
    assert!(
        problems.contains("daily_domain_totals: 1 rows that a recomputation"),
        "{problems}"
    );
    assert!(
        problems.contains(r#"report "Reporter" "r-2" is recorded as stored by 0 inputs, not 1"#),
        "{problems}"
    );
    // The deleted input is still in the per-source counts.
    assert!(
        problems.contains("input_counts: 1 rows that a recomputation"),
        "{problems}"
    );
}
