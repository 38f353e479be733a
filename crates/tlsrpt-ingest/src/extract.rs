//! Recursive, bounded unpacking of one input into report candidates: each gzip member,
//! zip entry, base64 body and mail attachment is sniffed and unpacked in turn.

use tlsrpt_report::{RejectReason, Report};

use std::cell::Cell;

use crate::content::{Kind, sniff};
use crate::decompress::{Failure, gunzip, unzip};
use crate::mail;

/// Bounds on the work and memory one input may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest raw input (file or message) read, in bytes.
    pub max_input_bytes: usize,
    /// Largest decompressed content of one input, in bytes: all its gzip streams and zip
    /// archives together, however they nest, so that a bomb of bombs costs no more.
    pub max_decompressed_bytes: usize,
    /// How many containers (gzip in zip in mail…) may nest.
    pub max_depth: usize,
    /// Most files in one zip archive, and most attachments looked at in one message.
    pub max_entries: usize,
    /// Limits on the report JSON itself.
    pub report: tlsrpt_report::Limits,
}

impl Default for Limits {
    fn default() -> Self {
        let max_decompressed_bytes = 20 * 1024 * 1024;
        Self {
            max_input_bytes: 50 * 1024 * 1024,
            max_decompressed_bytes,
            max_depth: 6,
            max_entries: 1000,
            report: tlsrpt_report::Limits {
                max_bytes: max_decompressed_bytes,
                ..tlsrpt_report::Limits::default()
            },
        }
    }
}

/// What one report candidate inside an input turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// A TLS report, with the exact JSON bytes it was parsed from.
    Report {
        /// Where inside the input it was found (attachment or entry name), if anywhere.
        part: Option<String>,
        report: Box<Report>,
        json: Vec<u8>,
        /// The gzip stream the JSON came out of, when it came straight out of one: the
        /// original compressed bytes, which can be kept as they are.
        gzip: Option<Vec<u8>>,
    },
    /// Something that claims to be a TLS report but cannot be read as one.
    Rejected {
        part: Option<String>,
        reason: String,
    },
    /// Content that is not a TLS report at all (a DMARC report, a plain mail, …).
    NotReport { reason: String },
}

/// How strongly the context claims that an input is a TLS report. It decides whether
/// content that cannot be read is a rejection (kept, shown, counted as an error) or
/// simply "not a TLS report" (a DMARC report in a shared rua mailbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Nothing claims it: a part of a mail that is not marked as a TLS report.
    None,
    /// The operator handed it over (a file): unreadable archives are rejections, but a
    /// JSON or text file that is plainly something else is not a report.
    Operator,
    /// The transport says it is a TLS report: a `tlsrpt` mail part, an HTTPS POST.
    Tlsrpt,
}

/// Unpacks one input. The result always holds at least one element.
pub fn extract(bytes: &[u8], claim: Claim, limits: &Limits) -> Vec<Found> {
    if bytes.len() > limits.max_input_bytes {
        return vec![Found::Rejected {
            part: None,
            reason: format!(
                "input is {} bytes, over the limit of {} bytes (--max-input-size)",
                bytes.len(),
                limits.max_input_bytes
            ),
        }];
    }
    let mut out = Vec::new();
    let decompressed = Cell::new(0);
    Unpacker {
        limits,
        out: &mut out,
        decompressed: &decompressed,
    }
    .unpack(bytes, 0, None, claim);
    if out.is_empty() {
        out.push(Found::NotReport {
            reason: "no content".into(),
        });
    }
    out
}

/// A candidate before the mail layer decides whether its failures are rejections.
pub(crate) struct Unpacker<'a> {
    pub(crate) limits: &'a Limits,
    pub(crate) out: &'a mut Vec<Found>,
    /// Bytes decompressed so far from the whole input, shared by nested unpackers.
    pub(crate) decompressed: &'a Cell<usize>,
}

impl Unpacker<'_> {
    /// Unpacks `bytes`, found at `part` of the input, under `claim`.
    pub(crate) fn unpack(&mut self, bytes: &[u8], depth: usize, part: Option<&str>, claim: Claim) {
        let claimed = claim != Claim::None;
        if depth > self.limits.max_depth {
            self.reject(
                part,
                format!(
                    "containers nest deeper than {} levels",
                    self.limits.max_depth
                ),
            );
            return;
        }
        let limit = self.limits.max_decompressed_bytes;
        if self.decompressed.get() > limit {
            return; // The input's budget is spent and that was already reported once.
        }
        let cap = limit - self.decompressed.get();
        match sniff(bytes) {
            Kind::Gzip => match self.spend(gunzip(bytes, cap), Vec::len) {
                Ok(inner) if sniff(&inner) == Kind::Json => {
                    self.json(&inner, Some(bytes), part, claim);
                }
                Ok(inner) => self.unpack(&inner, depth + 1, part, claim),
                Err(e) if claimed => self.reject(part, e),
                Err(e) => self.not_report(format!("unreadable gzip attachment: {e}")),
            },
            Kind::Zip => match self.spend(unzip(bytes, cap, self.limits.max_entries), |e| {
                e.iter().map(|e| e.data.len()).sum()
            }) {
                Ok(entries) => {
                    if entries.is_empty() {
                        self.not_report("empty zip archive".into());
                    }
                    for entry in entries {
                        let name = match part {
                            Some(p) => format!("{p}/{}", entry.name),
                            None => entry.name,
                        };
                        self.unpack(&entry.data, depth + 1, Some(&name), claim);
                    }
                }
                Err(e) if claimed => self.reject(part, e),
                Err(e) => self.not_report(format!("unreadable zip attachment: {e}")),
            },
            Kind::Json => self.json(bytes, None, part, claim),
            Kind::Mail => mail::unpack(self, bytes, depth),
            Kind::Base64 => match decode_base64(bytes) {
                Some(inner) if !matches!(sniff(&inner), Kind::Unknown | Kind::Empty) => {
                    self.unpack(&inner, depth + 1, part, claim);
                }
                _ => self.not_report("text that is neither JSON nor mail".into()),
            },
            Kind::Xml => self.not_report("an XML document (a DMARC aggregate report?)".into()),
            Kind::Empty => self.not_report("empty content".into()),
            Kind::Unknown if claim == Claim::Tlsrpt => {
                self.reject(part, "content is neither JSON, gzip, zip nor mail".into());
            }
            Kind::Unknown => {
                self.not_report("content is neither JSON, gzip, zip nor mail".into());
            }
        }
    }

    /// Counts the bytes a decompression produced against the input's budget, and words
    /// its failure; once the budget is exceeded, nothing more of the input is unpacked.
    fn spend<T>(
        &self,
        result: Result<T, Failure>,
        size: impl Fn(&T) -> usize,
    ) -> Result<T, String> {
        match result {
            Ok(out) => {
                self.decompressed
                    .set(self.decompressed.get().saturating_add(size(&out)));
                Ok(out)
            }
            Err(Failure::OverCap) => {
                self.decompressed.set(usize::MAX);
                Err(format!(
                    "decompressed size exceeds the limit of {} bytes (raise --max-decompressed-size \
                 if this report is genuine)",
                    self.limits.max_decompressed_bytes
                ))
            }
            Err(Failure::Corrupt(why)) => Err(why),
        }
    }

    fn json(&mut self, bytes: &[u8], gzip: Option<&[u8]>, part: Option<&str>, claim: Claim) {
        match tlsrpt_report::parse(bytes, &self.limits.report) {
            Ok(report) => self.out.push(Found::Report {
                part: part.map(part_name),
                report: Box::new(report),
                json: bytes.to_vec(),
                gzip: gzip.map(<[u8]>::to_vec),
            }),
            // A JSON object that has none of the keys of a TLS report is some other
            // document, unless the context says it must be a report.
            Err(RejectReason::Missing(_) | RejectReason::NotAnObject(_))
                if claim != Claim::Tlsrpt && !mentions_report_keys(bytes) =>
            {
                self.not_report("a JSON document that is not a TLS report".into());
            }
            Err(e) => self.reject(part, e.to_string()),
        }
    }

    pub(crate) fn reject(&mut self, part: Option<&str>, reason: String) {
        self.out.push(Found::Rejected {
            part: part.map(part_name),
            reason,
        });
    }

    pub(crate) fn not_report(&mut self, reason: String) {
        self.out.push(Found::NotReport { reason });
    }
}

/// An archive entry or attachment name as stored: control characters (NUL above all,
/// which databases refuse in text) become U+FFFD.
fn part_name(part: &str) -> String {
    part.chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

fn mentions_report_keys(bytes: &[u8]) -> bool {
    ["\"report-id\"", "\"policies\"", "\"organization-name\""]
        .iter()
        .any(|k| memchr::memmem::find(bytes, k.as_bytes()).is_some())
}

fn decode_base64(bytes: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    let compact: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}
