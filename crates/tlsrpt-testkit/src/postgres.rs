//! A throwaway PostgreSQL for the tests: one server per test binary, started on first use
//! in a temp dir (initdb, run as the `postgres` OS user when we are root) on a random
//! loopback port, and a fresh database for each test.
//!
//! The server is stopped when the test binary exits, however it exits: a watchdog process
//! waits for the end of a pipe that only this process holds, then stops the server and
//! removes its directory. A [`Postgres`] started on its own is also stopped on drop.

use std::io::Write as _;
use std::net::TcpListener;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use tempfile::TempDir;

/// The install line printed when the server binaries are missing.
const INSTALL: &str = "apt-get install -y postgresql-15";

/// A running PostgreSQL server of our own.
#[derive(Debug)]
pub struct Postgres {
    dir: TempDir,
    bindir: PathBuf,
    /// Whether commands must switch to the `postgres` OS user (we are root).
    as_postgres: bool,
    pub port: u16,
    /// The stdin of the watchdog that stops the server once this pipe closes.
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// The server shared by every test of this test binary, started on first use.
pub fn server() -> &'static Postgres {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    SERVER.get_or_init(Postgres::start)
}

/// A URL of a new, empty database on the shared server, for one test.
pub fn fresh_database_url() -> String {
    server().create_database()
}

impl Postgres {
    /// Initialises a cluster in a temp dir and starts it on a free loopback port. Panics
    /// with the reason (and the install line) when PostgreSQL cannot be started: tests
    /// never skip their PostgreSQL part.
    pub fn start() -> Self {
        let bindir = bindir().unwrap_or_else(|| {
            panic!(
                "PostgreSQL server binaries not found (`pg_config --bindir`, \
                 /usr/lib/postgresql/*/bin): these tests need a real PostgreSQL ({INSTALL})"
            )
        });
        let as_postgres = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
        let dir = tempfile::Builder::new()
            .prefix("tlsrpt-pg")
            .tempdir()
            .expect("temp dir for PostgreSQL");
        std::fs::create_dir(dir.path().join("sock")).expect("socket dir");
        if as_postgres {
            chown_to_postgres(dir.path());
        }
        let mut server = Self {
            dir,
            bindir,
            as_postgres,
            port: 0,
            watchdog: Mutex::new(None),
        };
        server.initdb();
        server.start_watchdog();
        // Another process may take the port between our probe and the server's bind.
        for _ in 0..5 {
            server.port = free_port();
            if server.pg_ctl_start() {
                return server;
            }
        }
        panic!("PostgreSQL did not start: {}", server.log());
    }

    /// The URL of database `name` on this server.
    pub fn url(&self, name: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates a new, empty database with a name unique to this server; returns its URL.
    pub fn create_database(&self) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("test_{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let output = Command::new(self.bindir.join("createdb"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .arg(&name)
            .env_remove("PGPASSWORD")
            .output()
            .expect("run createdb");
        assert_success("createdb", &output);
        self.url(&name)
    }

    /// The server's log, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// `program` of the server binaries, as the `postgres` user when we are root.
    fn command(&self, program: &str) -> Command {
        let program = self.bindir.join(program);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(program);
            command
        } else {
            Command::new(program)
        }
    }

    fn initdb(&self) {
        let output = self
            .command("initdb")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync")
            .output()
            .unwrap_or_else(|e| panic!("cannot run initdb: {e}"));
        assert_success("initdb", &output);
    }

    /// Starts the server and waits until it accepts connections; false if it did not.
    fn pg_ctl_start(&self) -> bool {
        let options = format!(
            "-h 127.0.0.1 -p {} -k {} -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            self.port,
            self.dir.path().join("sock").display()
        );
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-o", &options, "-w", "-t", "60", "start"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// A shell that reads its stdin until this process closes it (or dies), then stops the
    /// server and removes its directory.
    fn start_watchdog(&self) {
        let stop = self.stop_script();
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "cat >/dev/null; {stop}; rm -rf '{}'",
                self.dir.path().display()
            ))
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the PostgreSQL watchdog");
        let stdin = child.stdin.take().expect("watchdog stdin");
        *self.watchdog.lock().expect("watchdog lock") = Some((child, stdin));
    }

    /// Shell commands that stop the server at once: `pg_ctl stop -m immediate`, then a kill
    /// of the postmaster if it is still there.
    fn stop_script(&self) -> String {
        let data = self.data_dir();
        let pg_ctl = self.bindir.join("pg_ctl");
        let runuser = if self.as_postgres {
            "runuser -u postgres -- "
        } else {
            ""
        };
        format!(
            "{runuser}'{pg_ctl}' -D '{data}' stop -m immediate -w -t 10 >/dev/null 2>&1; \
             pid=$(head -n 1 '{data}/postmaster.pid' 2>/dev/null) && kill -9 \"$pid\" 2>/dev/null; true",
            pg_ctl = pg_ctl.display(),
            data = data.display()
        )
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = Command::new("sh")
            .arg("-c")
            .arg(self.stop_script())
            .status();
        if let Some((mut child, mut stdin)) = self.watchdog.lock().ok().and_then(|mut w| w.take()) {
            let _ = stdin.flush();
            drop(stdin);
            let _ = child.wait();
        }
    }
}

/// The directory of the PostgreSQL server binaries: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/*/bin` that has `initdb`.
fn bindir() -> Option<PathBuf> {
    let from_pg_config = Command::new("pg_config")
        .arg("--bindir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .filter(|dir| dir.join("initdb").is_file());
    from_pg_config.or_else(|| {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|dir| dir.join("initdb").is_file())
            .collect();
        dirs.sort_by_key(|d| {
            d.parent()
                .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
        });
        dirs.pop()
    })
}

fn chown_to_postgres(dir: &Path) {
    let id = |flag: &str| -> u32 {
        let output = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("run id");
        assert_success("id postgres (is there a `postgres` OS user?)", &output);
        String::from_utf8_lossy(&output.stdout)
            .trim()
            .parse()
            .expect("numeric id")
    };
    let (uid, gid) = (id("-u"), id("-g"));
    for path in [dir.to_path_buf(), dir.join("sock")] {
        std::os::unix::fs::chown(&path, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to postgres: {e}", path.display()));
    }
}

fn assert_success(what: &str, output: &Output) {
    assert!(
        output.status.success(),
        "{what} failed ({}): {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}
