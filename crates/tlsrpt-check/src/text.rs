//! Human-readable rendering of a [`DomainReport`]: a one-line verdict, then each record as
//! found, each followed by its findings.

use std::fmt::Write as _;

use crate::finding::{Finding, Section, Severity};
use crate::report::{AddressProbe, DomainReport, Verdict};

impl DomainReport {
    /// The one-line verdict, such as `example.com: FAIL (2 errors, 1 warning)`.
    pub fn verdict_line(&self) -> String {
        let errors = self.count(Severity::Error);
        let warnings = self.count(Severity::Warning);
        let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
        match self.verdict {
            Verdict::Pass => {
                let mode = self
                    .policy
                    .as_ref()
                    .and_then(|p| p.policy.as_ref())
                    .map(|p| format!(", mode {}", p.mode.as_str()))
                    .unwrap_or_default();
                format!("{}: PASS (no errors, no warnings{mode})", self.domain)
            }
            Verdict::Warn => format!("{}: WARN ({})", self.domain, plural(warnings, "warning")),
            Verdict::Fail => format!(
                "{}: FAIL ({}, {})",
                self.domain,
                plural(errors, "error"),
                plural(warnings, "warning")
            ),
        }
    }

    /// The full text report, grouped by record.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", self.verdict_line());
        self.section(&mut out, Section::Domain, |_| {});
        self.section(&mut out, Section::StsRecord, |out| {
            let r = &self.sts_record;
            let _ = writeln!(out, "    {} TXT", r.name);
            if r.dns_error.is_none() && r.txt.is_empty() {
                let _ = writeln!(out, "      (none)");
            }
            for txt in &r.txt {
                let _ = writeln!(out, "      \"{txt}\"");
            }
        });
        self.section(&mut out, Section::Policy, |out| match &self.policy {
            None => {
                let _ = writeln!(out, "    not fetched (no v=STSv1 record)");
            }
            Some(p) => {
                let _ = writeln!(out, "    {}", p.url);
                let mut facts = Vec::new();
                if let Some(addr) = p.connected_to {
                    facts.push(format!("from {addr}"));
                }
                if let Some(tls) = &p.tls {
                    facts.push(tls.version.clone());
                }
                if let Some(status) = p.http_status {
                    facts.push(format!("HTTP {status}"));
                }
                if let Some(ct) = &p.content_type {
                    facts.push(ct.clone());
                }
                if !facts.is_empty() {
                    let _ = writeln!(out, "      {}", facts.join(", "));
                }
                if let Some(policy) = &p.policy {
                    let mx: Vec<&str> = policy.mx.iter().map(|m| m.text.as_str()).collect();
                    let _ = writeln!(
                        out,
                        "      mode: {}, max_age: {}, mx: {}",
                        policy.mode.as_str(),
                        policy.max_age,
                        if mx.is_empty() {
                            "(none)".to_owned()
                        } else {
                            mx.join(", ")
                        }
                    );
                }
            }
        });
        self.section(&mut out, Section::Mx, |out| {
            if self.mx.null_mx {
                let _ = writeln!(out, "    null MX");
            }
            for host in &self.mx.hosts {
                let pref = host
                    .preference
                    .map_or_else(|| "implicit".to_owned(), |p| p.to_string());
                let covered = host
                    .policy_match
                    .as_deref()
                    .map(|m| format!(" (policy: {m})"))
                    .unwrap_or_default();
                let tlsa = if host.tlsa == Some(true) {
                    " [TLSA]"
                } else {
                    ""
                };
                let _ = writeln!(out, "    {pref} {}{covered}{tlsa}", host.name);
                for probe in &host.addresses {
                    let _ = writeln!(out, "      {}", probe_line(probe));
                }
            }
        });
        self.section(&mut out, Section::Tlsrpt, |out| {
            let r = &self.tlsrpt;
            let _ = writeln!(out, "    {} TXT", r.name);
            if r.dns_error.is_none() && r.txt.is_empty() {
                let _ = writeln!(out, "      (none)");
            }
            for txt in &r.txt {
                let _ = writeln!(out, "      \"{txt}\"");
            }
        });
        out
    }

    fn section(&self, out: &mut String, section: Section, body: impl FnOnce(&mut String)) {
        let findings: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.section == section)
            .collect();
        if section == Section::Domain && findings.is_empty() {
            return;
        }
        let _ = writeln!(out, "  {}", section.title());
        body(out);
        for f in findings {
            let _ = writeln!(
                out,
                "    {:<7} {}: {}",
                f.severity.as_str(),
                f.code,
                f.message
            );
            let _ = writeln!(out, "            advice: {}", f.advice);
        }
    }
}

fn probe_line(probe: &AddressProbe) -> String {
    if let Some(skipped) = &probe.skipped {
        return format!("{}  skipped: {skipped}", probe.address);
    }
    let mut parts = Vec::new();
    if !probe.connected {
        parts.push("unreachable".to_owned());
    } else {
        match probe.starttls_offered {
            Some(true) => parts.push("STARTTLS".to_owned()),
            Some(false) => parts.push("no STARTTLS".to_owned()),
            None => parts.push("SMTP failed".to_owned()),
        }
    }
    if let Some(tls) = &probe.tls {
        parts.push(tls.version.clone());
        if let Some(cert) = &tls.certificate {
            let trust = if cert.chain_trusted && cert.name_matches {
                "valid"
            } else {
                "INVALID"
            };
            parts.push(format!(
                "certificate {trust}, expires {} ({} days)",
                cert.not_after.format("%Y-%m-%d"),
                cert.days_remaining
            ));
        }
    }
    format!("{}  {}", probe.address, parts.join(", "))
}
