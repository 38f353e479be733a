//! Parse-only throughput of `tlsrpt_report::parse` on the synthetic corpus (the seed and
//! domains of `bench/ingest.sh`), in reports/s and MB/s:
//! `cargo bench -p tlsrpt-bench --bench parse`.

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use tlsrpt_corpus::Corpus;

fn main() {
    divan::main();
}

/// `n` generated reports as the JSON a reporter sends.
fn reports(n: usize) -> Vec<Vec<u8>> {
    let mut corpus = Corpus::new(8460, 500);
    (0..n)
        .map(|_| serde_json::to_vec(&corpus.next_report().0).unwrap_or_default())
        .collect()
}

/// One sample parses 1,000 reports.
#[divan::bench]
fn parse(bencher: Bencher) {
    let reports = reports(1000);
    let bytes: usize = reports.iter().map(Vec::len).sum();
    let limits = tlsrpt_report::Limits::default();
    bencher
        .counter(ItemsCount::new(reports.len()))
        .counter(BytesCount::new(bytes))
        .bench(|| {
            for json in &reports {
                let parsed = tlsrpt_report::parse(divan::black_box(json), &limits);
                assert!(parsed.is_ok(), "a generated report was rejected");
            }
        });
}
