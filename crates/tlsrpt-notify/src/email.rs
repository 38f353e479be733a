//! The email channel: one message per notification, sent over SMTP with lettre (tokio,
//! rustls with ring) to the configured recipients and the domain's routed ones.
//!
//! Message-IDs are derived from the alert and event, so a retried notification keeps its
//! id, and a resolution refers to its opening (`In-Reply-To`): mail clients thread them.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};
use tlsrpt_store::{EVENT_OPENED, EVENT_RESOLVED, PendingDelivery};

use crate::NotifyError;
use crate::config::{EMAIL_CHANNEL, EmailConfig, RetryConfig, SmtpTls, read_secret};
use crate::message::{html_body, subject, text_body};
use crate::payload::Links;
use crate::retry::Attempt;

/// The configured email channel, ready to send.
pub(crate) struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The right-hand side of Message-IDs: the sender's domain.
    id_domain: String,
    to: Vec<Mailbox>,
    routes: BTreeMap<String, Vec<Mailbox>>,
    /// The longest a whole SMTP exchange may take.
    deadline: Duration,
    pub retry: RetryConfig,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("from", &self.from.to_string())
            .field("to", &self.to.len())
            .field("routes", &self.routes.len())
            .finish_non_exhaustive()
    }
}

impl Email {
    pub(crate) fn new(config: &EmailConfig) -> Result<Self, NotifyError> {
        let bad = |why: String| NotifyError::Config(format!("{EMAIL_CHANNEL}: {why}"));
        let address = |text: &str| {
            text.parse::<Mailbox>()
                .map_err(|e| bad(format!("{text:?} is not an email address: {e}")))
        };
        let from = address(&config.from)?;
        let to = config
            .to
            .iter()
            .map(|t| address(t))
            .collect::<Result<Vec<_>, _>>()?;
        let routes = config
            .routes
            .iter()
            .map(|(domain, list)| {
                let list = list.iter().map(|t| address(t)).collect::<Result<_, _>>()?;
                Ok((normalize(domain), list))
            })
            .collect::<Result<BTreeMap<_, _>, NotifyError>>()?;
        if to.is_empty() && routes.values().all(Vec::is_empty) {
            return Err(bad("no recipient: set `to` or `routes`".to_owned()));
        }
        let password = read_secret(
            EMAIL_CHANNEL,
            config.password.as_ref(),
            config.password_file.as_deref(),
        )?;
        let tls = match config.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(config).map_err(bad)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(config).map_err(bad)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port.unwrap_or(config.tls.default_port()))
            .tls(tls)
            .timeout(Some(config.timeout()));
        match (&config.username, password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(user.clone(), password));
            }
            (None, None) => {}
            _ => return Err(bad("give both username and password, or neither".to_owned())),
        }
        Ok(Self {
            transport: builder.build(),
            id_domain: from.email.domain().to_owned(),
            from,
            to,
            routes,
            // Connection, greeting, TLS, AUTH, envelope and data: each step has `timeout`.
            deadline: config.timeout() * 4,
            retry: config.retry.clone(),
        })
    }

    /// The longest one send may take.
    pub(crate) fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The recipients of an alert on `domain`: `to`, then the routed ones, without repeats.
    pub(crate) fn recipients(&self, domain: &str) -> Vec<Mailbox> {
        let mut all: Vec<Mailbox> = Vec::new();
        let routed = self.routes.get(&normalize(domain)).into_iter().flatten();
        for mailbox in self.to.iter().chain(routed) {
            if !all.iter().any(|m| m.email == mailbox.email) {
                all.push(mailbox.clone());
            }
        }
        all
    }

    /// The message of `delivery`.
    pub(crate) fn message(
        &self,
        delivery: &PendingDelivery,
        links: Option<&Links>,
        now: DateTime<Utc>,
    ) -> Result<Message, String> {
        let alert = &delivery.alert;
        let recipients = self.recipients(&alert.domain);
        if recipients.is_empty() {
            return Err(format!("no recipient for {}", alert.domain));
        }
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(subject(&delivery.event, alert))
            .date(now.into())
            .message_id(Some(self.message_id(alert.id, &delivery.event)))
            .user_agent(concat!("tlsrpt/", env!("CARGO_PKG_VERSION")).to_owned())
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Tlsrpt-Event"),
                delivery.event.clone(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("X-Tlsrpt-Delivery"),
                delivery.id.to_string(),
            ));
        if delivery.event == EVENT_RESOLVED {
            let opened = self.message_id(alert.id, EVENT_OPENED);
            builder = builder.in_reply_to(opened.clone()).references(opened);
        }
        for mailbox in recipients {
            builder = builder.to(mailbox);
        }
        builder
            .multipart(MultiPart::alternative_plain_html(
                text_body(delivery, links),
                html_body(delivery, links),
            ))
            .map_err(|e| format!("building the message: {e}"))
    }

    fn message_id(&self, alert_id: i64, event: &str) -> String {
        format!("<tlsrpt-alert-{alert_id}-{event}@{}>", self.id_domain)
    }

    /// Sends `delivery` and says what came of it.
    pub(crate) async fn send(
        &self,
        delivery: &PendingDelivery,
        links: Option<Links>,
        now: DateTime<Utc>,
    ) -> Attempt {
        let message = match self.message(delivery, links.as_ref(), now) {
            Ok(message) => message,
            Err(error) => return Attempt::GiveUp(error),
        };
        match tokio::time::timeout(self.deadline, self.transport.send(message)).await {
            Err(_) => Attempt::retry(format!("SMTP: no answer within {:?}", self.deadline)),
            Ok(Ok(_)) => Attempt::Delivered,
            Ok(Err(e)) if e.is_permanent() => Attempt::GiveUp(format!("SMTP: {e}")),
            Ok(Err(e)) => Attempt::retry(format!("SMTP: {e}")),
        }
    }
}

fn tls_parameters(config: &EmailConfig) -> Result<TlsParameters, String> {
    let mut builder = TlsParameters::builder(config.host.clone());
    if let Some(path) = &config.ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| format!("reading the CA file {}: {e}", path.display()))?;
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| format!("the CA file {}: {e}", path.display()))?;
        builder = builder.add_root_certificate(cert);
    }
    builder
        .build_rustls()
        .map_err(|e| format!("TLS setup: {e}"))
}

fn normalize(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}
