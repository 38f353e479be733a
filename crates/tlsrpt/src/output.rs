//! Terminal output: text from reports and inputs is made safe to print (no escape
//! sequences), errors are printed with their causes, and a closed pipe ends the program
//! quietly.

use std::io::Write;

/// Replaces control characters (terminal escapes among them) with visible escapes.
pub fn terminal_safe(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes `text` and a newline to stdout.
pub fn print_line(text: &str) -> std::io::Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.write_all(b"\n")?;
    stdout.flush()
}

/// True when the error is a write to a closed pipe (`tlsrpt stats | head`).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// An error and its causes, joined by `: ` like `{:#}`, leaving out a cause that the text
/// before already ends with: sqlx repeats a database's own message as the source of its
/// error, which would print "database or disk is full: database or disk is full".
pub fn error_chain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_control_sequences() {
        assert_eq!(terminal_safe("a\x1b[31mred\x07"), "a\\u{1b}[31mred\\u{7}");
        assert_eq!(terminal_safe("line\nnext\ttab"), "line\nnext\ttab");
    }

    #[test]
    fn prints_each_cause_once() {
        let error = anyhow::anyhow!("(code: 13) database or disk is full")
            .context("error returned from database: (code: 13) database or disk is full")
            .context("database error while committing a batch");
        assert_eq!(
            error_chain(&error),
            "database error while committing a batch: \
             error returned from database: (code: 13) database or disk is full"
        );
    }
}
