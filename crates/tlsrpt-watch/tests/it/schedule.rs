//! The schedule re-checks a known domain once its latest check is older than the interval,
//! records each check, and stops when asked.

use std::time::Duration;

use tlsrpt_check::Verdict;

use crate::support::Scenario;
use crate::{Backend, on_both_backends, store, watcher};

on_both_backends!(
    async multi_thread: the_schedule_rechecks_known_domains_until_stopped);

async fn the_schedule_rechecks_known_domains_until_stopped(backend: Backend) {
    let (store, _dir) = store(backend).await;
    let domain = format!("sched-{backend:?}.test").to_ascii_lowercase();
    let mut s = Scenario::good(&domain);
    let network = s.start().await;
    let w = watcher(&s, network.dns.addr, &store);
    let first = w.check_and_record(&domain).await.unwrap();
    assert_eq!(first.report.verdict, Verdict::Pass);
    // Not due yet with a long interval; due with a short one.
    assert!(
        w.due_domains(Duration::from_secs(3600))
            .await
            .unwrap()
            .is_empty()
    );

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduled = w.clone();
    let schedule = tokio::spawn(async move {
        scheduled
            .run_schedule(Duration::from_secs(1), 4, async {
                let _ = stopped.await;
            })
            .await;
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let checks = store.check_history(&domain, 10).await.unwrap();
        if checks.len() >= 3 {
            assert!(checks.iter().all(|c| c.verdict == "pass"));
            assert!(checks[0].checked_at > first.report.checked_at);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the schedule stored {} checks in 30 s",
            checks.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(10), schedule)
        .await
        .expect("the schedule stops when asked")
        .unwrap();
}
