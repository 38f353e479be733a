//! Parse-only throughput of `tlsrpt_report::parse` on the synthetic corpus (the seed and
//! domains of `bench/ingest.sh`), in reports/s and MB/s, on the generated mix and on its
//! quirk-free reports alone:
//! `cargo bench -p tlsrpt-bench --bench parse`.

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use tlsrpt_corpus::Corpus;

/// The allocator of the `tlsrpt` binary.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// One sample parses 1,000 reports, about half of them with quirks (as the corpus
/// generator gives each reporter its own).
#[divan::bench]
fn parse(bencher: Bencher) {
    parse_all(bencher, reports(1000));
}

/// One sample parses the first 1,000 generated reports that have no quirk at all.
#[divan::bench]
fn parse_clean(bencher: Bencher) {
    let limits = tlsrpt_report::Limits::default();
    let clean = reports(3000)
        .into_iter()
        .filter(|json| tlsrpt_report::parse(json, &limits).is_ok_and(|r| r.quirks.is_empty()))
        .take(1000)
        .collect();
    parse_all(bencher, clean);
}

fn parse_all(bencher: Bencher, reports: Vec<Vec<u8>>) {
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
