//! A private Dovecot for each test: config, test CA and Maildir in a temp dir, listening on
//! random loopback ports, stopped (and restartable) on demand and on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_imap::Session;
use futures_util::TryStreamExt as _;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tempfile::TempDir;
use tlsrpt_imap::{AccountConfig, Password, TlsMode};

pub const USER: &str = "tester";
pub const PASSWORD: &str = "secret";

/// A running (or stopped) Dovecot of our own.
#[derive(Debug)]
pub struct Dovecot {
    dir: TempDir,
    child: Arc<Mutex<Option<Child>>>,
    pub imap_port: u16,
    pub imaps_port: u16,
    extra_config: String,
}

impl Dovecot {
    /// Starts a Dovecot with the stock capabilities.
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// Starts a Dovecot with extra lines appended to its configuration.
    pub fn start_with(extra_config: &str) -> Self {
        let dovecot = which("dovecot").unwrap_or_else(|| {
            panic!(
                "the `dovecot` binary is missing: these tests need a real Dovecot \
                 (apt-get install -y dovecot-imapd)"
            )
        });
        let dir = tempfile::Builder::new()
            .prefix("tlsrpt-dovecot")
            .tempdir()
            .unwrap();
        write_certificates(dir.path());
        let mut server = Self {
            dir,
            child: Arc::default(),
            imap_port: 0,
            imaps_port: 0,
            extra_config: extra_config.to_owned(),
        };
        // Another process may take a port between our probe and Dovecot's bind: retry.
        for _ in 0..5 {
            (server.imap_port, server.imaps_port) = (free_port(), free_port());
            if server.launch(&dovecot) {
                return server;
            }
        }
        panic!("Dovecot did not start: {}", server.log());
    }

    /// Stops the server (as a crash or an admin would), keeping its mail.
    pub fn stop(&self) {
        stop(&self.child);
    }

    /// A function that stops the server, for use inside a sink.
    pub fn stopper(&self) -> impl FnMut() + Send + 'static {
        let child = Arc::clone(&self.child);
        move || stop(&child)
    }

    /// Starts the server again on the same ports, with the same mail.
    pub fn restart(&self) {
        self.stop();
        let dovecot = which("dovecot").unwrap();
        assert!(
            self.launch(&dovecot),
            "Dovecot did not restart: {}",
            self.log()
        );
    }

    /// The file holding the test CA's certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// Dovecot's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// An account on this server using `tls`, trusting the test CA.
    pub fn account(&self, tls: TlsMode) -> AccountConfig {
        let mut account = AccountConfig::new("localhost", USER, Password::Inline(PASSWORD.into()));
        account.tls = tls;
        account.port = match tls {
            TlsMode::Implicit => self.imaps_port,
            TlsMode::StartTls | TlsMode::Plain => self.imap_port,
        };
        account.extra_ca_file = Some(self.ca_file());
        account.timeout = Duration::from_secs(10);
        account
    }

    /// A plain IMAP session for setting up and inspecting mailboxes.
    pub async fn admin(&self) -> Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.imap_port))
            .await
            .unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap()
    }

    /// Appends `messages` to `mailbox` in order.
    pub async fn append<M: AsRef<[u8]>>(&self, mailbox: &str, messages: &[M]) {
        let mut session = self.admin().await;
        for message in messages {
            session.append(mailbox, None, None, message).await.unwrap();
        }
        session.logout().await.unwrap();
    }

    /// The messages of `mailbox`, in UID order, as (UID, flags, whole message).
    pub async fn messages(&self, mailbox: &str) -> Vec<(u32, Vec<String>, Vec<u8>)> {
        let mut session = self.admin().await;
        let selected = session.examine(mailbox).await.unwrap();
        let mut messages: Vec<_> = if selected.exists == 0 {
            Vec::new()
        } else {
            session
                .uid_fetch("1:*", "(UID FLAGS BODY.PEEK[])")
                .await
                .unwrap()
                .try_collect::<Vec<_>>()
                .await
                .unwrap()
                .iter()
                .map(|f| {
                    let flags = f.flags().map(|flag| format!("{flag:?}")).collect();
                    (f.uid.unwrap(), flags, f.body().unwrap().to_vec())
                })
                .collect()
        };
        messages.sort_by_key(|m| m.0);
        session.logout().await.unwrap();
        messages
    }

    /// The names of all folders.
    pub async fn folders(&self) -> Vec<String> {
        let mut session = self.admin().await;
        let names: Vec<_> = session
            .list(Some(""), Some("*"))
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut names: Vec<String> = names.iter().map(|n| n.name().to_owned()).collect();
        names.sort();
        session.logout().await.unwrap();
        names
    }

    fn launch(&self, dovecot: &Path) -> bool {
        let config = self.dir.path().join("dovecot.conf");
        std::fs::write(&config, self.config()).unwrap();
        let child = Command::new(dovecot)
            .arg("-F")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        *self.child.lock().unwrap() = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // Ready means serving, not just bound: the login process greets on the plain
            // port (a bare TCP accept can still be reset while Dovecot starts up).
            let ready = greets(self.imap_port)
                && TcpStream::connect(("127.0.0.1", self.imaps_port)).is_ok();
            if ready {
                return true;
            }
            let exited = match self.child.lock().unwrap().as_mut() {
                Some(child) => child.try_wait().unwrap().is_some(),
                None => true,
            };
            if exited || Instant::now() > deadline {
                self.stop();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn config(&self) -> String {
        let dir = self.dir.path().display();
        let (mail_uid, internal_user) = mail_owner();
        format!(
            "base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
disable_plaintext_auth = no
auth_failure_delay = 0
mail_location = maildir:{dir}/home/%u/Maildir
mailbox_idle_check_interval = 1 secs
default_internal_user = {internal_user}
default_login_user = {internal_user}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_uid} home={dir}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
{extra}
",
            imap = self.imap_port,
            imaps = self.imaps_port,
            extra = self.extra_config,
        )
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Who owns the mail: as root, Dovecot refuses uid 0 for mail, so `nobody` owns it and the
/// system `dovecot` user runs the internal services; otherwise the current user does all.
fn mail_owner() -> (u32, String) {
    use std::os::unix::fs::MetadataExt as _;
    let probe = tempfile::tempfile().unwrap();
    let uid = probe.metadata().unwrap().uid();
    if uid == 0 {
        (65534, "dovecot".to_owned())
    } else {
        let name = Command::new("id").arg("-un").output().unwrap().stdout;
        (uid, String::from_utf8(name).unwrap().trim().to_owned())
    }
}

fn write_certificates(dir: &Path) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server_params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let server_cert = server_params.signed_by(&server_key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), server_cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), server_key.serialize_pem()).unwrap();
    std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
    // Dovecot's unprivileged processes must reach the files and the mail directory.
    let home = dir.join("home");
    std::fs::create_dir(&home).unwrap();
    let (mail_uid, _) = mail_owner();
    std::os::unix::fs::chown(&home, Some(mail_uid), Some(mail_uid)).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind(("127.0.0.1", 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

/// Stops the Dovecot in `child`, if running, and waits for it to exit.
fn stop(child: &Mutex<Option<Child>>) {
    if let Some(mut child) = child.lock().unwrap().take() {
        // Dovecot's master leaves the serving imap processes running for their clients, so
        // the whole tree goes down at once, as in a crash. The master is frozen first so
        // that it forks nothing while its children are listed.
        let master = child.id().to_string();
        let _ = Command::new("kill").args(["-STOP", &master]).status();
        let mut pids: Vec<String> = children_of(child.id()).iter().map(u32::to_string).collect();
        pids.push(master);
        let _ = Command::new("kill")
            .arg("-KILL")
            .args(&pids)
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// The processes whose parent is `parent`, from /proc.
fn children_of(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // The field after the ")" that ends the command name is the state, then the ppid.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

/// True when an IMAP server on `port` sends its `* OK` greeting.
fn greets(port: u16) -> bool {
    use std::io::Read;
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut greeting = [0u8; 4];
    stream.read_exact(&mut greeting).is_ok() && &greeting == b"* OK"
}
