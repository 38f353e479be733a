//! What a notification says, whatever the channel: the versioned JSON payload of webhooks,
//! its HMAC signature, and the dashboard links.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use tlsrpt_store::{PendingDelivery, StoredAlert};

/// The `schema` of the payload; bumped when a field changes meaning or goes away (adding
/// fields does not bump it).
pub const SCHEMA: &str = "tlsrpt.alert.v1";

/// The dashboard pages of an alert, when the dashboard's public URL is configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Links {
    /// `{dashboard_url}/alerts/{id}`
    pub alert: String,
    /// `{dashboard_url}/domains/{domain}`
    pub domain: String,
}

impl Links {
    /// The links of `alert` under `dashboard_url` (a trailing `/` is ignored).
    pub fn new(dashboard_url: Option<&str>, alert: &StoredAlert) -> Option<Self> {
        let base = dashboard_url?.trim_end_matches('/');
        Some(Self {
            alert: format!("{base}/alerts/{}", alert.id),
            domain: format!("{base}/domains/{}", alert.domain),
        })
    }
}

/// The JSON body POSTed to a webhook.
#[derive(Debug, Clone, Serialize)]
pub struct Payload<'a> {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// `opened` or `resolved`.
    pub event: &'a str,
    /// The same for every attempt of one notification: receivers drop repeats with it.
    pub delivery_id: i64,
    /// When this attempt was made (RFC 3339, UTC).
    pub sent_at: String,
    pub alert: &'a StoredAlert,
    /// Null when no dashboard URL is configured.
    pub links: Option<Links>,
}

impl<'a> Payload<'a> {
    pub fn new(delivery: &'a PendingDelivery, links: Option<Links>, now: DateTime<Utc>) -> Self {
        Self {
            schema: SCHEMA,
            event: &delivery.event,
            delivery_id: delivery.id,
            sent_at: now.to_rfc3339_opts(SecondsFormat::Secs, true),
            alert: &delivery.alert,
            links,
        }
    }
}

/// The `X-Tlsrpt-Signature` value: `sha256=` and the hex HMAC-SHA256, keyed with
/// `secret`, of `"{timestamp}.{body}"`.
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut context = ring::hmac::Context::with_key(&key);
    context.update(timestamp.to_string().as_bytes());
    context.update(b".");
    context.update(body);
    format!("sha256={}", hex(context.sign().as_ref()))
}

/// Whether `header` is the valid signature of `body` sent at `timestamp` (constant-time
/// comparison). Receivers written in Rust can use it; docs/ALERTS-DELIVERY.md shows the
/// same in Python.
pub fn verify_signature(secret: &[u8], timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(digest) = header.strip_prefix("sha256=").and_then(unhex) else {
        return false;
    };
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret);
    let mut message = timestamp.to_string().into_bytes();
    message.push(b'.');
    message.extend_from_slice(body);
    ring::hmac::verify(&key, &message, &digest).is_ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_pythons_hmac() {
        // python3: hmac.new(b"Jefe", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
        let body = br#"{"a":1}"#;
        let sig = signature(b"Jefe", 1_700_000_000, body);
        assert_eq!(
            sig,
            "sha256=fa5f6481efc59da48b19c9dc10196c9953e5651f8304b3a318b6b87d70272e0a"
        );
        assert!(verify_signature(b"Jefe", 1_700_000_000, body, &sig));
        assert!(!verify_signature(b"jefe", 1_700_000_000, body, &sig));
        assert!(!verify_signature(b"Jefe", 1_700_000_001, body, &sig));
        assert!(!verify_signature(b"Jefe", 1_700_000_000, b"{}", &sig));
        assert!(!verify_signature(b"Jefe", 1_700_000_000, body, "sha256=zz"));
    }
}
