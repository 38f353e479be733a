//! `tlsrpt-corpus`: writes a deterministic synthetic corpus of TLS reports to a folder.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use tlsrpt_corpus::{Corpus, Format};

/// Write N synthetic TLS reports (a mix of .json.gz files and report mails) to a folder,
/// spread over subfolders of 1,000 files. The same seed gives the same corpus.
#[derive(Debug, Parser)]
struct Args {
    /// Folder to write into (created if missing).
    #[arg(long, env = "TLSRPT_CORPUS_OUT")]
    out: PathBuf,
    /// Number of reports.
    #[arg(long, env = "TLSRPT_CORPUS_REPORTS", default_value_t = 100_000)]
    reports: u64,
    /// Number of distinct policy domains.
    #[arg(long, env = "TLSRPT_CORPUS_DOMAINS", default_value_t = 500)]
    domains: u64,
    /// Share of reports written as mails, in percent.
    #[arg(long, env = "TLSRPT_CORPUS_EML_PERCENT", default_value_t = 50)]
    eml_percent: u64,
    /// Seed of the generator.
    #[arg(long, env = "TLSRPT_CORPUS_SEED", default_value_t = 8460)]
    seed: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut corpus = Corpus::new(args.seed, args.domains);
    for i in 0..args.reports {
        let dir = args.out.join(format!("{:04}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let format = if i % 100 < args.eml_percent {
            Format::Eml
        } else {
            Format::JsonGz
        };
        let generated = corpus.next(format);
        let path = dir.join(&generated.file_name);
        std::fs::write(&path, &generated.bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}
