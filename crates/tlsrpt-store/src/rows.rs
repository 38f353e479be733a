//! Multi-row statements for bulk writes: a batch is cut into chunks of a few fixed sizes,
//! and the SQL of each size is written once per process, so that every statement is
//! prepared once per connection and its values are bound straight into the arguments.

use std::sync::OnceLock;

/// Rows per multi-row statement. A batch is cut into chunks of these sizes only, largest
/// first, so that each table has a handful of statements, each prepared once per
/// connection and then reused from sqlx's statement cache (100 per connection; 8 tables
/// times 6 sizes fit). Preparing a statement of 1,000 rows costs more than running it, and
/// a remainder of any other size would be prepared anew in every batch. 1,024 rows of at
/// most 11 binds stay well under SQLite's 32,766 bind variables.
const STATEMENT_ROWS: [usize; 6] = [1024, 256, 64, 16, 4, 1];

/// Cuts `items` into chunks of the sizes in [`STATEMENT_ROWS`], largest first.
pub(crate) fn statement_chunks<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let size = STATEMENT_ROWS.into_iter().find(|&s| s <= items.len())?;
        let (chunk, rest) = items.split_at(size);
        items = rest;
        Some(chunk)
    })
}

/// How a backend spells bind placeholders in the statements built here.
pub(crate) trait Placeholders {
    /// `$1, $2, …` (PostgreSQL) rather than `?, ?, …`. SQLite takes both, but looks up
    /// the name of every numbered parameter when binding: thousands per statement.
    const NUMBERED: bool;
}

impl Placeholders for sqlx::Sqlite {
    const NUMBERED: bool = false;
}

impl Placeholders for sqlx::Postgres {
    const NUMBERED: bool = true;
}

/// One multi-row statement, `{head} VALUES ($1, …), (…) {tail}`, in each of the
/// [`STATEMENT_ROWS`] sizes and both placeholder styles.
pub(crate) struct RowsSql {
    head: &'static str,
    columns: usize,
    tail: &'static str,
    numbered: OnceLock<[String; STATEMENT_ROWS.len()]>,
    anonymous: OnceLock<[String; STATEMENT_ROWS.len()]>,
}

impl RowsSql {
    /// `head` names the table and columns (`INSERT INTO t (a, b)`), `columns` is how many
    /// values each row binds, `tail` follows the values (`ON CONFLICT …`, `RETURNING …`).
    pub(crate) const fn new(head: &'static str, columns: usize, tail: &'static str) -> Self {
        Self {
            head,
            columns,
            tail,
            numbered: OnceLock::new(),
            anonymous: OnceLock::new(),
        }
    }

    /// The SQL for a chunk of `rows` rows, which must be one of the statement sizes, with
    /// the placeholders of backend `Db`.
    pub(crate) fn for_rows<Db: Placeholders>(&'static self, rows: usize) -> &'static str {
        let built = if Db::NUMBERED {
            self.numbered
                .get_or_init(|| STATEMENT_ROWS.map(|n| self.write(n, true)))
        } else {
            self.anonymous
                .get_or_init(|| STATEMENT_ROWS.map(|n| self.write(n, false)))
        };
        let index = STATEMENT_ROWS
            .iter()
            .position(|&n| n == rows)
            .unwrap_or_else(|| unreachable!("{rows} rows is not a statement size"));
        &built[index]
    }

    fn write(&self, rows: usize, numbered: bool) -> String {
        use std::fmt::Write as _;
        let mut sql = String::with_capacity(self.head.len() + rows * self.columns * 7 + 200);
        sql.push_str(self.head);
        sql.push_str(" VALUES ");
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..self.columns {
                if column > 0 {
                    sql.push_str(", ");
                }
                if numbered {
                    // Writing to a String cannot fail.
                    let _ = write!(sql, "${}", row * self.columns + column + 1);
                } else {
                    sql.push('?');
                }
            }
            sql.push(')');
        }
        if !self.tail.is_empty() {
            sql.push(' ');
            sql.push_str(self.tail);
        }
        sql
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_batches_into_the_few_statement_sizes() {
        let sizes = |n: usize| -> Vec<usize> {
            let items = vec![0u8; n];
            statement_chunks(&items).map(<[u8]>::len).collect()
        };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(2048), [1024, 1024]);
        assert_eq!(sizes(2100), [1024, 1024, 16, 16, 16, 4]);
        assert_eq!(sizes(300), [256, 16, 16, 4, 4, 4]);
    }

    #[test]
    fn numbers_the_placeholders_of_every_row() {
        use sqlx::{Postgres, Sqlite};
        static SQL: RowsSql = RowsSql::new("INSERT INTO t (a, b)", 2, "RETURNING a");
        assert_eq!(
            SQL.for_rows::<Postgres>(1),
            "INSERT INTO t (a, b) VALUES ($1, $2) RETURNING a"
        );
        assert_eq!(
            SQL.for_rows::<Postgres>(4),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6), ($7, $8) RETURNING a"
        );
        assert!(
            SQL.for_rows::<Postgres>(1024)
                .ends_with("($2047, $2048) RETURNING a")
        );
        assert_eq!(
            SQL.for_rows::<Sqlite>(4),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?), (?, ?) RETURNING a"
        );
        static BARE: RowsSql = RowsSql::new("INSERT INTO t (a)", 1, "");
        assert_eq!(BARE.for_rows::<Sqlite>(1), "INSERT INTO t (a) VALUES (?)");
    }
}
