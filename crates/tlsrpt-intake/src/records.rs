//! The records of one input: one per report candidate found in it, each with what it is
//! (report, rejection, not a report), where it came from and who vouches for it.

use tlsrpt_ingest::Found;
use tlsrpt_ingest::files::Input;
use tlsrpt_store::{Auth, Candidate, NewInput, Raw};

/// Turns one read input into one record per report candidate found in it; `auth` says who
/// vouches for the reports in it.
pub fn to_new_inputs(input: Input, received_at: i64, auth: Auth) -> Vec<NewInput> {
    let Input {
        source,
        locator,
        message_id,
        bytes,
        size,
        found,
    } = input;
    // The input's own bytes are kept only for rejections: a stored report keeps its JSON.
    let rejected = found.iter().any(|f| matches!(f, Found::Rejected { .. }));
    let kept = (rejected && !bytes.is_empty()).then(|| Raw::compress(&bytes, size));
    found
        .into_iter()
        .map(|found| {
            let (part, candidate) = match found {
                Found::Report {
                    part,
                    report,
                    json,
                    gzip,
                } => {
                    let raw_json = match gzip {
                        Some(gzip) => Raw::from_gzip(gzip, json.len() as u64),
                        None => Raw::compress(&json, json.len() as u64),
                    };
                    let candidate = Candidate::Report {
                        report,
                        raw_json,
                        auth: auth.clone(),
                    };
                    (part, candidate)
                }
                Found::Rejected { part, reason } => (
                    part,
                    Candidate::Rejected {
                        reason,
                        raw: kept.clone(),
                    },
                ),
                Found::NotReport { reason } => (None, Candidate::NotReport { reason }),
            };
            NewInput {
                source: source.as_str(),
                locator: locator.clone(),
                part,
                message_id: message_id.clone(),
                received_at,
                candidate,
            }
        })
        .collect()
}
