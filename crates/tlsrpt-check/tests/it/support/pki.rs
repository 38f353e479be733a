//! A test certificate authority made with rcgen, and leaf certificates that are valid,
//! expired, expiring, for the wrong name, CN-only or self-signed.

use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{Datelike, Days, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, date_time_ymd,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The test CA and the PEM file the checker loads with `ca_file`.
pub struct Pki {
    issuer: Issuer<'static, KeyPair>,
    ca_der: CertificateDer<'static>,
    pub ca_file: PathBuf,
    _dir: tempfile::TempDir,
}

/// A certificate chain and its key, ready for a rustls server.
pub struct Leaf {
    pub chain: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

/// What kind of certificate a test server presents.
#[derive(Clone, Debug)]
pub enum Cert {
    /// Issued by the test CA for the host, valid for a year.
    Valid,
    /// Issued for the host, expired yesterday.
    Expired,
    /// Issued for the host, expires in this many days.
    Expiring(u64),
    /// Issued by the test CA for another name only.
    WrongName(String),
    /// Issued by the test CA with the host as CN and no SAN.
    CnOnly,
    /// Self-signed for the host.
    SelfSigned,
    /// Issued by the test CA for these SAN names.
    Names(Vec<String>),
}

static PKI: OnceLock<Pki> = OnceLock::new();

/// The process-wide test CA.
pub fn pki() -> &'static Pki {
    PKI.get_or_init(|| {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "tlsrpt-check test CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params.not_before = date_time_ymd(2020, 1, 1);
        params.not_after = date_time_ymd(2100, 1, 1);
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA cert");
        let dir = tempfile::tempdir().expect("temp dir");
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, cert.pem()).expect("write CA file");
        Pki {
            issuer: Issuer::new(params, key),
            ca_der: cert.der().clone(),
            ca_file,
            _dir: dir,
        }
    })
}

/// `(year, month, day)` of today plus `days` (negative for the past).
fn ymd(days: i64) -> (i32, u8, u8) {
    let today = Utc::now().date_naive();
    let date = if days >= 0 {
        today + Days::new(days.unsigned_abs())
    } else {
        today - Days::new(days.unsigned_abs())
    };
    let month = u8::try_from(date.month()).expect("month");
    let day = u8::try_from(date.day()).expect("day");
    (date.year(), month, day)
}

fn params(sans: Vec<String>, cn: &str, from_days: i64, to_days: i64) -> CertificateParams {
    let mut params = CertificateParams::new(sans).expect("leaf params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    let (y, m, d) = ymd(from_days);
    params.not_before = date_time_ymd(y, m, d);
    let (y, m, d) = ymd(to_days);
    params.not_after = date_time_ymd(y, m, d);
    params
}

impl Pki {
    /// A certificate of kind `cert` for `host`, with its chain.
    pub fn leaf(&self, host: &str, cert: &Cert) -> Leaf {
        let key = KeyPair::generate().expect("leaf key");
        let own = vec![host.to_owned()];
        let (params, self_signed) = match cert {
            Cert::Valid => (params(own, host, -1, 365), false),
            Cert::Expired => (params(own, host, -90, -1), false),
            Cert::Expiring(days) => (
                params(own, host, -60, i64::try_from(*days).expect("days")),
                false,
            ),
            Cert::WrongName(other) => (params(vec![other.clone()], other, -1, 365), false),
            Cert::CnOnly => (params(Vec::new(), host, -1, 365), false),
            Cert::SelfSigned => (params(own, host, -1, 365), true),
            Cert::Names(names) => (params(names.clone(), host, -1, 365), false),
        };
        let (cert, chain_tail) = if self_signed {
            (params.self_signed(&key).expect("self-signed"), Vec::new())
        } else {
            (
                params.signed_by(&key, &self.issuer).expect("signed leaf"),
                vec![self.ca_der.clone()],
            )
        };
        let mut chain = vec![cert.der().clone()];
        chain.extend(chain_tail);
        Leaf {
            chain,
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}
