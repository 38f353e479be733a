//! `--help`: every option of every subcommand names its environment variable.

use crate::support::{bare_command, run};

/// The options listed by `tlsrpt ARGS… --help`, each with the text that describes it.
fn options(args: &[&str]) -> Vec<(String, String)> {
    let mut command = bare_command();
    command.args(args).arg("--help");
    let run = run(command);
    assert_eq!(run.code, 0, "{}", run.stderr());
    let stdout = run.stdout();
    let section = stdout
        .split_once("\nOptions:\n")
        .unwrap_or_else(|| panic!("no Options section: {stdout}"))
        .1;
    let mut options: Vec<(String, String)> = Vec::new();
    for line in section.lines() {
        let indent = line.len() - line.trim_start().len();
        let text = line.trim();
        if text.starts_with('-') && indent <= 6 {
            let name = text
                .split([' ', '<'])
                .find(|w| w.starts_with("--"))
                .unwrap_or(text)
                .trim_end_matches(',')
                .to_owned();
            options.push((name, text.to_owned()));
        } else if let Some((_, description)) = options.last_mut() {
            description.push(' ');
            description.push_str(text);
        }
    }
    options
}

/// Options that do not name an environment variable in their help.
fn without_env(args: &[&str]) -> Vec<String> {
    let options = options(args);
    assert!(options.len() > 2, "options of {args:?}: {options:?}");
    options
        .into_iter()
        .filter(|(name, _)| name != "--help" && name != "--version")
        .filter(|(_, description)| !description.contains("[env: TLSRPT_"))
        .map(|(name, _)| format!("tlsrpt {} {name}", args.join(" ")))
        .collect()
}

#[test]
fn every_option_names_its_environment_variable() {
    let missing: Vec<String> = [&["ingest"][..], &["stats"], &["rejected"], &["check"]]
        .into_iter()
        .flat_map(without_env)
        .collect();
    assert!(missing.is_empty(), "options without [env: …]: {missing:#?}");
}

#[test]
fn the_documented_variables_are_named() {
    let expected = [
        ("ingest", "--database-url", "TLSRPT_DATABASE_URL"),
        ("ingest", "--json", "TLSRPT_JSON"),
        ("ingest", "--max-input-size", "TLSRPT_MAX_INPUT_SIZE"),
        (
            "ingest",
            "--max-decompressed-size",
            "TLSRPT_MAX_DECOMPRESSED_SIZE",
        ),
        ("stats", "--domain", "TLSRPT_DOMAIN"),
        ("stats", "--since", "TLSRPT_SINCE"),
        ("stats", "--until", "TLSRPT_UNTIL"),
        ("rejected", "--database-url", "TLSRPT_DATABASE_URL"),
    ];
    for (subcommand, option, variable) in expected {
        let options = options(&[subcommand]);
        let (_, description) = options
            .iter()
            .find(|(name, _)| name == option)
            .unwrap_or_else(|| panic!("{subcommand} has no {option}: {options:?}"));
        assert!(
            description.contains(&format!("[env: {variable}")),
            "{subcommand} {option}: {description}"
        );
    }
}

#[test]
fn ingest_help_explains_the_exit_status() {
    let mut command = bare_command();
    command.args(["ingest", "--help"]);
    let stdout = run(command).stdout();
    assert!(
        stdout.contains("0 when nothing was rejected, 2 when something was, 1 on a fatal error"),
        "{stdout}"
    );
}
