//! `docker-compose.yml` cannot run here (no Docker engine), so its structure is checked
//! against the binary: every tlsrpt service runs a real subcommand, every `TLSRPT_*`
//! variable it sets is one that subcommand reads, and the services have their health checks.

use serde_yaml_ng::Value;

use crate::support::bare_command;

fn compose() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docker-compose.yml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The `--help` of `tlsrpt ARGS…`, which must succeed, with its line wrapping undone.
fn help(args: &[&str]) -> String {
    let output = bare_command().args(args).arg("--help").output().unwrap();
    assert!(output.status.success(), "tlsrpt {args:?} --help failed");
    let text = String::from_utf8(output.stdout).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn the_compose_file_runs_real_subcommands_with_variables_they_read() {
    let compose = compose();
    let services = compose["services"].as_mapping().unwrap();
    let names: Vec<&str> = services.keys().filter_map(Value::as_str).collect();
    assert_eq!(names, ["postgres", "tlsrpt-http", "tlsrpt-imap"]);

    for name in ["tlsrpt-http", "tlsrpt-imap"] {
        let service = &compose["services"][name];
        assert_eq!(service["image"], "tlsrpt:latest", "{name}");
        let command: Vec<&str> = service["command"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let help = help(&command);
        let environment = service["environment"].as_mapping().unwrap();
        for key in environment.keys().filter_map(Value::as_str) {
            assert!(key.starts_with("TLSRPT_"), "{name}: {key}");
            assert!(
                help.contains(&format!("[env: {key}")),
                "{name}: `tlsrpt {}` reads no {key}",
                command.join(" ")
            );
        }
        assert!(
            environment
                .get("TLSRPT_DATABASE_URL")
                .and_then(Value::as_str)
                .is_some_and(|url| url.starts_with("postgres://")),
            "{name} uses PostgreSQL"
        );
        assert_eq!(
            service["depends_on"]["postgres"]["condition"], "service_healthy",
            "{name} waits for PostgreSQL"
        );
    }
    assert!(compose["services"]["postgres"]["healthcheck"]["test"].is_sequence());
    let http_check = compose["services"]["tlsrpt-http"]["healthcheck"]["test"]
        .as_sequence()
        .unwrap();
    assert!(
        http_check
            .iter()
            .filter_map(Value::as_str)
            .any(|part| part.contains("GET /healthz")),
        "the HTTP service is checked through /healthz"
    );
    assert_eq!(
        compose["services"]["tlsrpt-http"]["environment"]["TLSRPT_LISTEN"],
        "0.0.0.0:8080"
    );
    assert_eq!(compose["services"]["tlsrpt-http"]["ports"][0], "8080:8080");
    assert!(compose["volumes"]["pgdata"].is_null() || compose["volumes"]["pgdata"].is_mapping());
}
