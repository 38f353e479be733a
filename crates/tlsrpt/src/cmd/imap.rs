//! `tlsrpt imap sync`, and the IMAP accounts (from the command line or an accounts file)
//! that `tlsrpt serve` watches, run against the store-backed sink.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use tlsrpt_dkim::{DkimConfig, DkimVerifier};
use tlsrpt_imap::{AccountConfig, AfterIngest, Password, Sink as _, TlsMode};
use tlsrpt_store::Store;

use crate::cli::ImapArgs;
use crate::lease::under_lease;
use crate::mailbox::StoreSink;

/// The exit status of a sync that skipped a mailbox held by another instance, and failed
/// nowhere: EX_TEMPFAIL of sysexits.h, "try again later".
const HELD_ELSEWHERE: u8 = 75;

pub async fn sync(store: &Store, args: ImapArgs) -> anyhow::Result<ExitCode> {
    let accounts = accounts(&args)?;
    let sink = sink(store, &args)?;
    let retry = Duration::from_secs(args.lease_retry.max(1));
    let mut failed = false;
    let mut held_elsewhere = false;
    for account in &accounts {
        let mailbox = account.mailbox_id();
        let mut lease = match store.acquire_mailbox_lease(mailbox.as_str()).await {
            Ok(Some(lease)) => lease,
            Ok(None) => {
                eprintln!(
                    "{mailbox}: skipped: another instance (tlsrpt serve or imap sync) holds this mailbox"
                );
                held_elsewhere = true;
                continue;
            }
            Err(e) => {
                eprintln!(
                    "error: {mailbox}: cannot take the mailbox's lease: {}",
                    crate::output::error_chain(&anyhow::Error::from(e))
                );
                failed = true;
                continue;
            }
        };
        let synced = under_lease(&mut lease, retry, tlsrpt_imap::sync_once(account, &sink)).await;
        lease.release().await;
        match synced {
            Ok(Ok(summary)) => {
                println!(
                    "{mailbox}: {} fetched, {} stored, {} rejected, {} not TLS reports",
                    summary.fetched, summary.stored, summary.rejected, summary.not_report
                );
                if let Some(deferred) = summary.deferred {
                    eprintln!(
                        "error: {mailbox}: message UID {} was not stored and stays in the mailbox: {}",
                        deferred.uid, deferred.error
                    );
                    failed = true;
                }
            }
            Ok(Err(e)) => {
                // With its causes: "cannot save the resume point" alone does not say that
                // the disk is full.
                let e = crate::output::error_chain(&anyhow::Error::from(e));
                eprintln!("error: {mailbox}: {e}");
                sink.record_error(&mailbox, &e).await;
                failed = true;
            }
            Err(lost) => {
                eprintln!("error: {lost}: the sync of {mailbox} stopped");
                failed = true;
            }
        }
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else if held_elsewhere {
        ExitCode::from(HELD_ELSEWHERE)
    } else {
        ExitCode::SUCCESS
    })
}

/// The store-backed sink, with DKIM verification as configured.
pub fn sink(store: &Store, args: &ImapArgs) -> anyhow::Result<StoreSink> {
    let dkim = DkimVerifier::new(DkimConfig {
        dns_server: args.dkim_dns_server,
        trusted_authserv_id: args.trust_authserv_id.clone(),
    })?;
    Ok(StoreSink {
        store: store.clone(),
        limits: tlsrpt_ingest::Limits::default(),
        dkim: Arc::new(dkim),
    })
}

/// One account of an accounts file; only `host` and `user` are required.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountEntry {
    host: String,
    port: Option<u16>,
    tls: Option<String>,
    #[serde(default)]
    allow_plain: bool,
    user: String,
    password_file: Option<PathBuf>,
    password: Option<String>,
    mailbox: Option<String>,
    after: Option<String>,
    processed_folder: Option<String>,
    flag_keyword: Option<String>,
    rejected_folder: Option<String>,
    ca_file: Option<PathBuf>,
}

pub fn accounts(args: &ImapArgs) -> anyhow::Result<Vec<AccountConfig>> {
    let mut accounts = Vec::new();
    if let Some(path) = &args.imap_accounts {
        accounts.extend(read_accounts_file(path, args)?);
    }
    if let Some(host) = &args.imap_host {
        let entry = AccountEntry {
            host: host.clone(),
            port: args.imap_port,
            tls: Some(args.imap_tls.clone()),
            allow_plain: args.imap_allow_plain,
            user: args
                .imap_user
                .clone()
                .context("--imap-user is required with --imap-host")?,
            password_file: args.imap_password_file.clone(),
            password: args.imap_password.clone(),
            mailbox: None,
            after: None,
            processed_folder: None,
            flag_keyword: None,
            rejected_folder: None,
            ca_file: args.imap_ca_file.clone(),
        };
        accounts.push(account(entry, args)?);
    }
    if accounts.is_empty() {
        bail!(
            "no IMAP account configured: give --imap-host and --imap-user, or --imap-accounts FILE"
        );
    }
    Ok(accounts)
}

fn read_accounts_file(path: &Path, defaults: &ImapArgs) -> anyhow::Result<Vec<AccountConfig>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the accounts file {}", path.display()))?;
    let entries: Vec<AccountEntry> = serde_json::from_str(&text)
        .with_context(|| format!("the accounts file {} is not valid", path.display()))?;
    entries.into_iter().map(|e| account(e, defaults)).collect()
}

/// Builds one account; what the entry leaves out comes from the `--imap-*` defaults.
fn account(entry: AccountEntry, defaults: &ImapArgs) -> anyhow::Result<AccountConfig> {
    let password = match (entry.password_file, entry.password) {
        (Some(file), _) => Password::File(file),
        (None, Some(password)) => Password::Inline(password),
        (None, None) => bail!(
            "no password for {} at {}: give a password file (--imap-password-file or \"password_file\")",
            entry.user,
            entry.host
        ),
    };
    let tls = match entry.tls.as_deref().unwrap_or(&defaults.imap_tls) {
        "implicit" => TlsMode::Implicit,
        "starttls" => TlsMode::StartTls,
        "plain" => TlsMode::Plain,
        other => bail!("unknown TLS mode {other:?}: use implicit, starttls or plain"),
    };
    let after_ingest = match entry.after.as_deref().unwrap_or(&defaults.imap_after) {
        "move" => AfterIngest::Move {
            folder: entry
                .processed_folder
                .unwrap_or_else(|| defaults.imap_processed_folder.clone()),
        },
        "flag" => AfterIngest::Flag {
            keyword: entry
                .flag_keyword
                .unwrap_or_else(|| defaults.imap_flag_keyword.clone()),
        },
        other => bail!("unknown after-ingest action {other:?}: use move or flag"),
    };
    let mut account = AccountConfig::new(entry.host, entry.user, password);
    account.port = entry.port.unwrap_or_else(|| tls.default_port());
    account.tls = tls;
    account.allow_plain = entry.allow_plain || defaults.imap_allow_plain;
    account.mailbox = entry
        .mailbox
        .unwrap_or_else(|| defaults.imap_mailbox.clone());
    account.after_ingest = after_ingest;
    account.rejected_folder = Some(
        entry
            .rejected_folder
            .unwrap_or_else(|| defaults.imap_rejected_folder.clone()),
    );
    account.extra_ca_file = entry.ca_file.or_else(|| defaults.imap_ca_file.clone());
    Ok(account)
}
