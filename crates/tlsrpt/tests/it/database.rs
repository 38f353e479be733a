//! Where the database lives: `--database-url`, `TLSRPT_DATABASE_URL` (a SQLite file or a
//! PostgreSQL database), and the documented default under `$XDG_DATA_HOME` or
//! `~/.local/share`.

use std::path::Path;
use std::process::Command;

use crate::support::{Backend, Sandbox, Summary, bare_command, run, simple_report};

fn ingest_with(mut command: Command, report: &Path) -> Summary {
    command.args(["ingest", "--json"]).arg(report);
    let run = run(command);
    assert_eq!(run.code, 0, "{}", run.stderr());
    Summary::parse(&run.stdout())
}

#[test]
fn the_default_is_under_xdg_data_home() {
    let sandbox = Sandbox::new();
    let report = sandbox.write("r.json", &simple_report("R", "r1", "example.com", 9));
    let data = sandbox.path("data");
    let home = sandbox.path("home");
    std::fs::create_dir_all(&home).unwrap();

    let mut command = bare_command();
    command
        .env("XDG_DATA_HOME", &data)
        .env("HOME", &home)
        .current_dir(sandbox.path(""));
    assert_eq!(ingest_with(command, &report), Summary::new(1, 0, 0, 0));

    let db = data.join("tlsrpt").join("tlsrpt.db");
    assert!(db.is_file(), "{} was not created", db.display());
    assert!(!home.join(".local").exists(), "nothing under $HOME");
    assert!(
        !sandbox.path("tlsrpt.db").exists(),
        "nothing in the working directory"
    );

    // The same default is read back, and is the file that holds the report.
    let mut command = bare_command();
    command
        .env("XDG_DATA_HOME", &data)
        .env("HOME", &home)
        .args(["stats", "--json"]);
    let stats = run(command).json();
    assert_eq!(stats["domains"][0]["successful_sessions"], 9);
    let mut command = bare_command();
    command
        .arg("--database-url")
        .arg(&db)
        .args(["stats", "--json"]);
    assert_eq!(run(command).json(), stats);
}

#[test]
fn without_xdg_data_home_the_default_is_under_home() {
    let sandbox = Sandbox::new();
    let report = sandbox.write("r.json", &simple_report("R", "r1", "example.com", 9));
    let home = sandbox.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = bare_command();
    command
        .env_remove("XDG_DATA_HOME")
        .env("HOME", &home)
        .current_dir(sandbox.path(""));
    assert_eq!(ingest_with(command, &report), Summary::new(1, 0, 0, 0));
    let db = home.join(".local/share/tlsrpt/tlsrpt.db");
    assert!(db.is_file(), "{} was not created", db.display());
}

#[test]
fn the_environment_variable_and_sqlite_urls_select_the_file() {
    let sandbox = Sandbox::new();
    let report = sandbox.write("r.json", &simple_report("R", "r1", "example.com", 9));
    let data = sandbox.path("data");

    let env_db = sandbox.path("nested/dir/env.db");
    let mut command = bare_command();
    command
        .env("XDG_DATA_HOME", &data)
        .env("TLSRPT_DATABASE_URL", &env_db);
    assert_eq!(ingest_with(command, &report), Summary::new(1, 0, 0, 0));
    assert!(env_db.is_file(), "parent folders are created");

    // `sqlite:PATH` names the same file: the report is already there.
    let mut command = bare_command();
    command
        .env("XDG_DATA_HOME", &data)
        .arg("--database-url")
        .arg(format!("sqlite:{}", env_db.display()));
    assert_eq!(ingest_with(command, &report), Summary::new(0, 1, 0, 0));

    // The option wins over the variable.
    let option_db = sandbox.path("option.db");
    let mut command = bare_command();
    command
        .env("XDG_DATA_HOME", &data)
        .env("TLSRPT_DATABASE_URL", &env_db)
        .arg("--database-url")
        .arg(&option_db);
    assert_eq!(ingest_with(command, &report), Summary::new(1, 0, 0, 0));
    assert!(option_db.is_file());
    assert!(!data.exists(), "the default was never used");
}

#[test]
fn the_database_is_in_wal_mode_and_reopens() {
    let sandbox = Sandbox::new();
    let a = sandbox.write("a.json", &simple_report("R", "a", "example.com", 1));
    let b = sandbox.write("b.json", &simple_report("R", "b", "example.com", 2));
    let (_, first) = sandbox.ingest_json(&[&a]);
    assert_eq!(first, Summary::new(1, 0, 0, 0));
    // The SQLite header says WAL: bytes 18 and 19 (file format versions) are 2.
    let header = std::fs::read(sandbox.db()).unwrap();
    assert_eq!(&header[..16], b"SQLite format 3\0");
    assert_eq!((header[18], header[19]), (2, 2), "WAL mode");
    let (_, second) = sandbox.ingest_json(&[&a, &b]);
    assert_eq!(second, Summary::new(1, 1, 0, 0));
}

#[test]
fn the_environment_variable_selects_a_postgres_database() {
    let sandbox = Sandbox::on(Backend::Postgres);
    let report = sandbox.write("r.json", &simple_report("R", "r1", "example.com", 9));
    let home = sandbox.path("home");
    std::fs::create_dir_all(&home).unwrap();
    let mut command = bare_command();
    command
        .env("TLSRPT_DATABASE_URL", sandbox.database_url())
        .env("HOME", &home)
        .env_remove("XDG_DATA_HOME")
        .current_dir(sandbox.path(""));
    assert_eq!(ingest_with(command, &report), Summary::new(1, 0, 0, 0));
    assert!(
        !home.join(".local").exists(),
        "no SQLite default was created"
    );
    assert!(!sandbox.db().exists(), "nothing in the working directory");
    // The report is in the PostgreSQL database, read through `--database-url`.
    assert_eq!(
        sandbox.run(["stats", "--json"]).json()["domains"][0]["successful_sessions"],
        9
    );
}
