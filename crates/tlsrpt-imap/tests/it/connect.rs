//! Connection modes and their errors: implicit TLS, STARTTLS, plain only when allowed,
//! an untrusted certificate, wrong credentials.

use tlsrpt_imap::{Error, Password, TlsMode, sync_once};

use crate::sink::{RecordingSink, real_reports};
use tlsrpt_testkit::dovecot::{Dovecot, USER};

#[tokio::test]
async fn implicit_tls_and_starttls_both_sync() {
    let dovecot = Dovecot::start();
    let reports = real_reports();
    dovecot.append("INBOX", &reports[..2]).await;

    let sink = RecordingSink::default();
    let summary = sync_once(&dovecot.account(TlsMode::Implicit), &sink)
        .await
        .unwrap();
    assert_eq!(summary.stored, 2);

    dovecot.append("INBOX", &reports[2..3]).await;
    let summary = sync_once(&dovecot.account(TlsMode::StartTls), &sink)
        .await
        .unwrap();
    assert_eq!(summary.stored, 1);
}

#[tokio::test]
async fn plain_is_refused_unless_allowed() {
    let dovecot = Dovecot::start();
    dovecot.append("INBOX", &real_reports()[..1]).await;
    let sink = RecordingSink::default();

    let mut account = dovecot.account(TlsMode::Plain);
    let error = sync_once(&account, &sink).await.unwrap_err();
    assert!(matches!(error, Error::PlainNotAllowed { .. }), "{error:?}");
    assert!(error.to_string().contains("refusing plain"), "{error}");
    assert!(sink.commits().is_empty());

    account.allow_plain = true;
    let summary = sync_once(&account, &sink).await.unwrap();
    assert_eq!(summary.stored, 1);
}

#[tokio::test]
async fn wrong_password_says_authentication_failed_for_whom() {
    let dovecot = Dovecot::start();
    let mut account = dovecot.account(TlsMode::Implicit);
    account.password = Password::Inline("not-the-password".into());

    let error = sync_once(&account, &RecordingSink::default())
        .await
        .unwrap_err();
    assert!(matches!(error, Error::AuthFailed { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        format!("IMAP authentication failed for user {USER} at localhost: Authentication failed.")
    );
}

#[tokio::test]
async fn password_file_is_read_without_its_newline() {
    let dovecot = Dovecot::start();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        format!("{}\n", tlsrpt_testkit::dovecot::PASSWORD),
    )
    .unwrap();
    let mut account = dovecot.account(TlsMode::Implicit);
    account.password = Password::File(file.path().to_owned());
    sync_once(&account, &RecordingSink::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn untrusted_certificate_names_the_host_and_the_reason() {
    let dovecot = Dovecot::start();
    for tls in [TlsMode::Implicit, TlsMode::StartTls] {
        let mut account = dovecot.account(tls);
        account.extra_ca_file = None;
        let error = sync_once(&account, &RecordingSink::default())
            .await
            .unwrap_err();
        assert!(matches!(error, Error::Tls { .. }), "{error:?}");
        let text = error.to_string();
        assert!(
            text.starts_with("TLS with IMAP server localhost failed:"),
            "{text}"
        );
        assert!(text.contains("UnknownIssuer"), "{text}");
    }
}
