//! `tlsrpt imap sync` against a real Dovecot: reports are stored and moved, other mail is
//! left alone, a second pass fetches nothing, and a `kill -9` mid-sync loses and duplicates
//! nothing.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tlsrpt_corpus::{Corpus, Format};
use tlsrpt_imap::TlsMode;
use tlsrpt_testkit::dns::{BackgroundDns, Zone};
use tlsrpt_testkit::dovecot::{Dovecot, PASSWORD, USER};

use crate::support::{Backend, Sandbox, on_both_backends};

on_both_backends!(
    async: sync_stores_reports_moves_them_and_leaves_other_mail,
    killed_mid_sync_loses_and_duplicates_nothing,
    mailed_reports_are_trusted_only_with_a_valid_aligned_dkim_signature,
);

fn corpus_mails() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/tlsrpt-real"
    );
    let mut mails: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "eml" || x == "elm"))
        .collect();
    mails.sort();
    mails
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect()
}

const DMARC_MAIL: &[u8] = b"From: noreply-dmarc-support@google.com\r\n\
To: reports@example.com\r\n\
Subject: Report domain: example.com Submitter: google.com Report-ID: 1234567890\r\n\
Message-ID: <dmarc-1@google.com>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: application/gzip; name=\"google.com!example.com!1!2.xml.gz\"\r\n\
Content-Transfer-Encoding: base64\r\n\
\r\n\
H4sIAAAAAAAAA7OxL8pMUShLLSrOzM+zUjI00jNQsrPRB4oBAHcdv8kZAAAA\r\n";

const PLAIN_MAIL: &[u8] = b"From: alice@example.com\r\nTo: tlsrpt@example.com\r\n\
Subject: hello\r\nMessage-ID: <plain-1@example.com>\r\n\r\nNot a report.\r\n";

/// `tlsrpt imap sync` with the options for `dovecot`'s implicit-TLS port.
fn sync_command(sandbox: &Sandbox, dovecot: &Dovecot) -> Command {
    sync_command_with(sandbox, dovecot, PASSWORD, quiet_dns())
}

/// A DNS server that knows no DKIM key: the real reports' signatures then fail for a
/// clear reason, the same on every machine, instead of depending on the host's resolver.
pub(crate) fn quiet_dns() -> std::net::SocketAddr {
    static DNS: std::sync::OnceLock<BackgroundDns> = std::sync::OnceLock::new();
    DNS.get_or_init(|| BackgroundDns::start(Zone::default()))
        .addr
}

pub(crate) fn sync_command_with(
    sandbox: &Sandbox,
    dovecot: &Dovecot,
    password: &str,
    dns: std::net::SocketAddr,
) -> Command {
    let password = sandbox.write("imap-password", format!("{password}\n").as_bytes());
    let mut command = sandbox.command();
    command
        .args([
            "imap",
            "sync",
            "--imap-host",
            "localhost",
            "--imap-user",
            USER,
        ])
        .arg("--imap-port")
        .arg(dovecot.account(TlsMode::Implicit).port.to_string())
        .arg("--imap-password-file")
        .arg(password)
        .arg("--imap-ca-file")
        .arg(dovecot.ca_file())
        .arg("--dkim-dns-server")
        .arg(dns.to_string());
    command
}

/// The stats of the same messages ingested as files: the reference for the IMAP route.
pub(crate) fn stats_of_files(mails: &[Vec<u8>]) -> String {
    let reference = Sandbox::new();
    let paths: Vec<PathBuf> = mails
        .iter()
        .enumerate()
        .map(|(i, m)| reference.write(&format!("mail/{i:05}.eml"), m))
        .collect();
    let paths: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
    let (run, _) = reference.ingest_json(&paths);
    assert_eq!(run.code, 0, "{}", run.stderr());
    reference.stats_json(&[])
}

async fn sync_stores_reports_moves_them_and_leaves_other_mail(backend: Backend) {
    let dovecot = Dovecot::start();
    let mails: Vec<Vec<u8>> = corpus_mails().into_iter().map(|(_, m)| m).collect();
    dovecot.append("INBOX", &mails).await;
    dovecot.append("INBOX", &[DMARC_MAIL, PLAIN_MAIL]).await;
    let sandbox = Sandbox::on(backend);

    let run = crate::support::run(sync_command(&sandbox, &dovecot));
    assert_eq!(run.code, 0, "{}{}", run.stdout(), run.stderr());
    assert!(
        run.stdout().contains(&format!(
            "{} fetched, {} stored, 0 rejected, 2 not TLS reports",
            mails.len() + 2,
            mails.len()
        )),
        "{}",
        run.stdout()
    );
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&mails));

    // The reports were moved; the DMARC report and the plain mail stay, unread.
    let inbox = dovecot.messages("INBOX").await;
    assert_eq!(inbox.len(), 2);
    assert!(
        inbox
            .iter()
            .all(|(_, flags, _)| flags.iter().all(|f| !f.contains("Seen")))
    );
    let folders = dovecot.folders().await;
    let processed = folders
        .iter()
        .find(|f| f.ends_with("Processed"))
        .unwrap_or_else(|| panic!("no processed folder in {folders:?}"));
    assert_eq!(dovecot.messages(processed).await.len(), mails.len());

    // A second pass has nothing new to fetch and changes nothing.
    let again = crate::support::run(sync_command(&sandbox, &dovecot));
    assert_eq!(again.code, 0, "{}", again.stderr());
    assert!(again.stdout().contains(": 0 fetched"), "{}", again.stdout());
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&mails));
}

#[tokio::test]
async fn wrong_credentials_give_a_clear_error() {
    let dovecot = Dovecot::start();
    let sandbox = Sandbox::new();
    let run = crate::support::run(sync_command_with(
        &sandbox,
        &dovecot,
        "not-the-password",
        quiet_dns(),
    ));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr()
            .contains("authentication failed for user tester at localhost"),
        "{}",
        run.stderr()
    );
    // The failure is kept for the dashboard's sources page.
    let store = tlsrpt_store::Store::open(sandbox.database_url())
        .await
        .unwrap();
    let mailboxes = store.mailboxes().await.unwrap();
    assert_eq!(mailboxes.len(), 1, "{mailboxes:?}");
    let error = mailboxes[0].last_error.as_deref().unwrap_or_default();
    assert!(error.contains("authentication failed"), "{error}");
}

async fn killed_mid_sync_loses_and_duplicates_nothing(backend: Backend) {
    let dovecot = Dovecot::start();
    let mut corpus = Corpus::new(20_261_122, 40);
    let mails: Vec<Vec<u8>> = (0..600).map(|_| corpus.next(Format::Eml).bytes).collect();
    dovecot.append("INBOX", &mails).await;
    let sandbox = Sandbox::on(backend);

    // Kill the sync once it has committed some reports, and before it is done.
    let mut child = sync_command(&sandbox, &dovecot)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let stats: serde_json::Value = serde_json::from_str(&sandbox.stats_json(&[])).unwrap();
        if stats["domains"].as_array().is_some_and(|d| !d.is_empty()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the sync stored nothing within 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = dovecot.messages("INBOX").await.len();
    assert!(left > 0, "the sync finished before it could be killed");

    let run = crate::support::run(sync_command(&sandbox, &dovecot));
    assert_eq!(run.code, 0, "{}", run.stderr());
    assert!(dovecot.messages("INBOX").await.is_empty());
    let folders = dovecot.folders().await;
    let processed = folders.iter().find(|f| f.ends_with("Processed")).unwrap();
    assert_eq!(dovecot.messages(processed).await.len(), mails.len());
    // Every acknowledged (moved) report is stored, once: the same totals as the files.
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&mails));
}

/// A generated report mail and the domain of its `From` address.
fn report_mail(serial: u64) -> (Vec<u8>, String) {
    let mail = Corpus::new(serial, 5).next(Format::Eml).bytes;
    let text = String::from_utf8_lossy(&mail);
    let from = text.lines().find(|l| l.starts_with("From:")).unwrap();
    let domain = from
        .rsplit('@')
        .next()
        .unwrap()
        .trim_end_matches('>')
        .to_owned();
    (mail, domain)
}

/// `mail` with a DKIM signature by `signer` made with the Ed25519 key `pkcs8`.
pub(crate) fn sign(mail: &[u8], pkcs8: &[u8], signer: &str) -> Vec<u8> {
    use mail_auth::common::crypto::Ed25519Key;
    use mail_auth::common::headers::HeaderWriter;
    let signature =
        mail_auth::dkim::DkimSigner::from_key(Ed25519Key::from_pkcs8_der(pkcs8).unwrap())
            .domain(signer)
            .selector("tlsrpt")
            .headers(["From", "To", "Subject", "Date", "Message-ID"])
            .sign(mail)
            .unwrap();
    [signature.to_header().into_bytes(), mail.to_vec()].concat()
}

async fn mailed_reports_are_trusted_only_with_a_valid_aligned_dkim_signature(backend: Backend) {
    use base64::Engine;
    use mail_auth::common::crypto::Ed25519Key;

    let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
    let public = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap().public_key();
    let record = format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD.encode(public)
    );
    let (mail, reporter) = report_mail(1);
    let good = sign(&mail, &pkcs8, &reporter);
    let (mail, _) = report_mail(2);
    let unaligned = sign(&mail, &pkcs8, "evil.example");
    let (unsigned, _) = report_mail(3);
    let (mail, tamperer) = report_mail(4);
    let tampered = String::from_utf8(sign(&mail, &pkcs8, &tamperer))
        .unwrap()
        .replacen(
            "This is an aggregate TLS report",
            "This is a forged TLS report",
            1,
        )
        .into_bytes();
    let mut zone = Zone::default();
    for domain in [reporter.as_str(), tamperer.as_str(), "evil.example"] {
        zone.txt(&format!("tlsrpt._domainkey.{domain}"), &record);
    }
    let dns = BackgroundDns::start(zone);

    let dovecot = Dovecot::start();
    dovecot
        .append("INBOX", &[&good, &unaligned, &unsigned, &tampered])
        .await;
    let sandbox = Sandbox::on(backend);
    let run = crate::support::run(sync_command_with(&sandbox, &dovecot, PASSWORD, dns.addr));
    assert_eq!(run.code, 0, "{}", run.stderr());

    let listed = sandbox.run(["reports", "--json"]).json();
    let mut auth: Vec<(String, bool)> = listed["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["auth"].as_str().unwrap().to_owned(),
                r["trusted"].as_bool().unwrap(),
            )
        })
        .collect();
    auth.sort();
    assert_eq!(
        auth,
        vec![
            ("dkim-fail".to_owned(), false),
            ("dkim-fail".to_owned(), false),
            ("dkim-none".to_owned(), false),
            (format!("dkim-pass:{reporter}"), true),
        ]
    );
}

#[tokio::test]
async fn an_accounts_file_syncs_several_mailboxes() {
    let dovecot = Dovecot::start();
    let mails: Vec<Vec<u8>> = corpus_mails().into_iter().map(|(_, m)| m).collect();
    let (first, second) = mails.split_at(mails.len() / 2);
    dovecot.append("INBOX", first).await;
    let mut admin = dovecot.admin().await;
    admin.create("Reports").await.unwrap();
    admin.logout().await.unwrap();
    dovecot.append("Reports", second).await;

    let sandbox = Sandbox::new();
    let password = sandbox.write("imap-password", PASSWORD.as_bytes());
    let port = dovecot.account(TlsMode::Implicit).port;
    let account = |mailbox: &str| {
        serde_json::json!({
            "host": "localhost", "port": port, "user": USER,
            "password_file": password, "mailbox": mailbox, "ca_file": dovecot.ca_file(),
        })
    };
    let accounts = serde_json::to_vec(&[account("INBOX"), account("Reports")]).unwrap();
    let accounts_file = sandbox.write("accounts.json", &accounts);
    let run = sandbox.run([
        "imap".as_ref(),
        "sync".as_ref(),
        "--imap-accounts".as_ref(),
        accounts_file.as_os_str(),
        "--dkim-dns-server".as_ref(),
        quiet_dns().to_string().as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr());
    let out = run.stdout();
    assert!(
        out.contains(&format!(
            "/INBOX: {} fetched, {} stored",
            first.len(),
            first.len()
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "/Reports: {} fetched, {} stored",
            second.len(),
            second.len()
        )),
        "{out}"
    );
    assert_eq!(sandbox.stats_json(&[]), stats_of_files(&mails));
}
