//! RFC 5322 / MIME messages that may carry TLS reports (RFC 8460 §5.3): recognises a
//! report by its `report-type=tlsrpt`, `TLS-Report-Domain` header or media type, and
//! unpacks every attachment by content, so that DMARC reports sharing the mailbox pass by.

use mail_parser::{Message, MessageParser, MimeHeaders, PartType};

use crate::extract::{Claim, Found, Unpacker};

/// Header facts of a message, for the input record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MessageMeta {
    /// `Message-ID`, without angle brackets.
    pub message_id: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `TLS-Report-Domain`.
    pub report_domain: Option<String>,
}

impl MessageMeta {
    /// Reads the header facts of a message (only its header is parsed).
    pub fn read(bytes: &[u8]) -> Self {
        let Some(message) = MessageParser::default().parse_headers(strip_from_line(bytes)) else {
            return Self::default();
        };
        Self {
            message_id: message.message_id().and_then(printable),
            subject: message.subject().and_then(printable),
            report_domain: message.header_raw("TLS-Report-Domain").and_then(printable),
        }
    }
}

/// The header value without control characters (NUL bytes, escapes), trimmed; `None`
/// when nothing is left.
fn printable(value: &str) -> Option<String> {
    let text: String = value.chars().filter(|c| !c.is_control()).collect();
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// An mbox `From ` separator line is not part of the message.
pub(crate) fn strip_from_line(bytes: &[u8]) -> &[u8] {
    if bytes.starts_with(b"From ") {
        match memchr::memchr(b'\n', bytes) {
            Some(i) => &bytes[i + 1..],
            None => &[],
        }
    } else {
        bytes
    }
}

/// Unpacks the attachments of the message in `bytes` into `outer`.
pub(crate) fn unpack(outer: &mut Unpacker<'_>, bytes: &[u8], depth: usize) {
    let Some(message) = MessageParser::default().parse(strip_from_line(bytes)) else {
        outer.not_report("a mail message that cannot be parsed".into());
        return;
    };
    let marked = is_marked_tlsrpt(&message);
    let claim = if marked { Claim::Tlsrpt } else { Claim::None };
    let limits = outer.limits;
    if nests_deeper_than(&message, limits.max_depth) {
        let reason = format!("MIME parts nest deeper than {} levels", limits.max_depth);
        outer.reject(None, reason);
        return;
    }
    let attachments: Vec<(String, &[u8])> = message
        .parts
        .iter()
        .enumerate()
        .filter_map(|(index, part)| {
            let contents: &[u8] = match &part.body {
                PartType::Binary(b) | PartType::InlineBinary(b) => b,
                PartType::Text(t) if is_attachment_text(part) => t.as_bytes(),
                PartType::Message(nested) => nested.raw_message(),
                PartType::Text(_) | PartType::Html(_) | PartType::Multipart(_) => return None,
            };
            let name = part
                .attachment_name()
                .map(str::to_owned)
                .unwrap_or_else(|| format!("part {index}"));
            Some((name, contents))
        })
        .collect();
    if attachments.len() > limits.max_entries {
        let reason = format!(
            "the message has {} attachments, over the limit of {}",
            attachments.len(),
            limits.max_entries
        );
        outer.reject(None, reason);
        return;
    }
    let mut found = Vec::new();
    let mut inner = Unpacker {
        limits,
        out: &mut found,
        decompressed: outer.decompressed,
    };
    for (name, contents) in &attachments {
        inner.unpack(contents, depth + 1, Some(name), claim);
    }
    let attachments = attachments.len();
    let useful = found
        .iter()
        .filter(|f| matches!(f, Found::Report { .. } | Found::Rejected { .. }))
        .count();
    if useful > 0 {
        outer.out.extend(
            found
                .into_iter()
                .filter(|f| !matches!(f, Found::NotReport { .. })),
        );
    } else if marked {
        let why = found
            .iter()
            .filter_map(|f| match f {
                Found::NotReport { reason } => Some(reason.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("; ");
        outer.reject(
            None,
            if why.is_empty() {
                "the message is marked as a TLS report but has no attachment".into()
            } else {
                format!("the message is marked as a TLS report but no attachment holds one: {why}")
            },
        );
    } else {
        outer.not_report(if attachments == 0 {
            "a mail message without attachments".into()
        } else {
            "a mail message without a TLS report attachment".into()
        });
    }
}

/// Whether some part sits inside more than `max` nested multiparts. Each part's depth is
/// walked up its parents, at most `max + 1` steps, so the cost stays linear.
fn nests_deeper_than(message: &Message<'_>, max: usize) -> bool {
    let mut parent = vec![None; message.parts.len()];
    for (index, part) in message.parts.iter().enumerate() {
        if let PartType::Multipart(children) = &part.body {
            for &child in children {
                if let Some(slot) = parent.get_mut(child as usize) {
                    *slot = Some(index);
                }
            }
        }
    }
    (0..parent.len()).any(|mut index| {
        let mut depth = 0;
        while let Some(up) = parent[index] {
            depth += 1;
            if depth > max {
                return true;
            }
            index = up;
        }
        false
    })
}

/// RFC 8460 §5.3 markers: `multipart/report; report-type=tlsrpt`, the
/// `TLS-Report-Domain` header, or an `application/tlsrpt*` part.
fn is_marked_tlsrpt(message: &Message<'_>) -> bool {
    let root = message.root_part();
    let report_type = root.content_type().is_some_and(|ct| {
        ct.c_type.eq_ignore_ascii_case("multipart")
            && ct
                .attribute("report-type")
                .is_some_and(|t| t.eq_ignore_ascii_case("tlsrpt"))
    });
    report_type
        || message.header_raw("TLS-Report-Domain").is_some()
        || message.parts.iter().any(|p| {
            p.content_type().is_some_and(|ct| {
                ct.c_type.eq_ignore_ascii_case("application")
                    && ct
                        .c_subtype
                        .as_deref()
                        .is_some_and(|s| s.to_ascii_lowercase().starts_with("tlsrpt"))
            })
        })
}

/// A text part is an attachment when it is named or is not a plain message body.
fn is_attachment_text(part: &mail_parser::MessagePart<'_>) -> bool {
    if part.attachment_name().is_some() {
        return true;
    }
    part.content_type().is_some_and(|ct| {
        !ct.c_type.eq_ignore_ascii_case("text")
            || ct
                .c_subtype
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("json"))
    })
}
