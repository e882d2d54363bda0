//! Turning a failure into a next step. When existing rows break a constraint
//! (UNIQUE, NOT NULL, CHECK, a NOT NULL column added without a default), the
//! scratch copy is asked which rows, and the hint names how many and up to
//! five of them, with the two honest ways out.

use rusqlite::Connection;

use super::{Failure, Phase};
use crate::sqlite::data::{duplicates, show};

/// The failure code for SQLite's message.
pub fn code_for(message: &str) -> &'static str {
    let m = message.to_ascii_lowercase();
    if m == "interrupted" {
        "timeout"
    } else if m.contains("constraint failed")
        || m.contains("cannot add a not null column")
        || m.contains("cannot add a column with non-constant default")
    {
        "constraint"
    } else {
        "step_failed"
    }
}

/// The hint for a statement the seal refused.
pub fn outside_scratch_hint(refused: &str) -> String {
    format!(
        "test-apply runs migrations on a sealed scratch copy and refused {refused}: a migration may \
         change only the database it is applied to, so remove that statement or call (to move data \
         between databases, ask the developer)"
    )
}

const WAYS_OUT: &str = "add a data step before the constraint that fixes these rows (with its own \
rollback that restores them), or ask the developer what to do with them";

/// Fill in `f.hint`, reading the scratch database through `conn` as it is
/// when the failure happened.
pub fn fill_hint(conn: &Connection, f: &mut Failure) {
    if !f.hint.is_empty() {
        return;
    }
    f.hint = hint(conn, f);
}

fn hint(conn: &Connection, f: &Failure) -> String {
    let where_ = match (f.phase, f.step) {
        (Phase::Rollback, Some(n)) => format!("the rollback SQL of step {n}"),
        (_, Some(n)) => format!("step {n}"),
        _ => "the migration".to_string(),
    };
    match f.code {
        "constraint" if f.phase == Phase::Reapply => format!(
            "{where_} broke a constraint on the second apply: the rollback did not undo what the first \
             apply added (see rollback.differences and rows); make the rollback remove every row and \
             object its step adds"
        ),
        "constraint" => constraint_hint(conn, f).unwrap_or_else(|| {
            format!(
                "rows break a constraint in {where_}; if they are rows that were there before, {WAYS_OUT}; \
                 if this migration's own earlier steps made them, fix those steps"
            )
        }),
        "outside_scratch" => outside_scratch_hint("a statement that reaches another file"),
        "timeout" => format!(
            "{where_} of {} was still running when --timeout ran out: a statement that never ends (a recursive query without a limit?) or a slow one on a large table; fix it, or raise --timeout",
            f.migration
        ),
        _ => format!(
            "fix {where_} of {}: SQLite's message says what is wrong; run `migration-creator schema` to see the tables and columns it can use",
            f.migration
        ),
    }
}

fn constraint_hint(conn: &Connection, f: &Failure) -> Option<String> {
    let error = f.error.as_str();
    if let Some(rest) = error.strip_prefix("UNIQUE constraint failed: ") {
        let (table, columns) = table_columns(conn, rest)?;
        return unique_hint(conn, &table, &columns, f.sql.as_deref().unwrap_or(""));
    }
    if let Some(rest) = error.strip_prefix("NOT NULL constraint failed: ") {
        let (table, columns) = table_columns(conn, rest)?;
        let column = columns.first()?;
        let filter = format!("{} IS NULL", quote(column));
        let (count, sample) = rows_where(conn, &table, &filter)?;
        if count == 0 {
            return None;
        }
        return Some(format!(
            "{count} row{} of {table} {} NULL in {column} ({}): {WAYS_OUT}",
            plural(count),
            if count == 1 { "has" } else { "have" },
            sample.join(", ")
        ));
    }
    if error.starts_with("Cannot add a NOT NULL column")
        || error.starts_with("Cannot add a column with non-constant default")
    {
        let table = target_table(f.sql.as_deref()?)?;
        let count: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {}", quote(&table)),
                [],
                |r| r.get(0),
            )
            .ok()?;
        return Some(format!(
            "{table} has {count} row{}, and SQLite adds a column to existing rows only with a constant, \
             non-NULL default: give the column such a DEFAULT, or add it nullable and backfill it in a \
             data step (a NOT NULL then needs a table rebuild), or ask the developer",
            plural(count)
        ));
    }
    if let Some(check) = error.strip_prefix("CHECK constraint failed: ") {
        let table = target_table(f.sql.as_deref()?)?;
        let expr = check_expression(conn, &table, check).unwrap_or_else(|| check.to_string());
        let (count, sample) = rows_where(conn, &table, &format!("NOT ({expr})"))?;
        if count == 0 {
            return None;
        }
        return Some(format!(
            "{count} row{} of {table} {} CHECK ({expr}) ({}): {WAYS_OUT}",
            plural(count),
            if count == 1 { "breaks" } else { "break" },
            sample.join(", ")
        ));
    }
    None
}

fn unique_hint(conn: &Connection, table: &str, columns: &[String], sql: &str) -> Option<String> {
    // Values that collide under the index's collation (`COLLATE NOCASE`) are duplicates too.
    let exprs: Vec<String> = columns
        .iter()
        .map(|c| match collation(sql, c) {
            Some(coll) => format!("{} COLLATE {coll}", quote(c)),
            None => quote(c),
        })
        .collect();
    let (keys, rows, sample) = duplicates(conn, table, &exprs)?;
    Some(format!(
        "{rows} rows of {table} share {keys} value{} of ({}), for example {}: {WAYS_OUT}",
        plural(keys),
        columns.join(", "),
        sample.join(", ")
    ))
}

/// The collation `sql` gives `column` (`column COLLATE NOCASE`), if any.
fn collation(sql: &str, column: &str) -> Option<String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
        .filter(|w| !w.is_empty())
        .collect();
    words.windows(3).find_map(|w| {
        let name = w[0].trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'));
        (name.eq_ignore_ascii_case(column) && w[1].eq_ignore_ascii_case("COLLATE"))
            .then(|| w[2].trim_matches('"').to_string())
            .filter(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_'))
    })
}

/// `t.a, t.b` (or `index 'name'`) as the table and its columns.
fn table_columns(conn: &Connection, rest: &str) -> Option<(String, Vec<String>)> {
    if let Some(name) = rest
        .strip_prefix("index '")
        .and_then(|r| r.strip_suffix('\''))
    {
        let table: String = conn
            .query_row(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [name],
                |r| r.get(0),
            )
            .ok()?;
        let mut stmt = conn
            .prepare(&format!("PRAGMA index_info({})", quote(name)))
            .ok()?;
        let columns: Vec<Option<String>> =
            stmt.query_map([], |r| r.get(2)).ok()?.flatten().collect();
        let columns: Option<Vec<String>> = columns.into_iter().collect();
        return Some((table, columns?));
    }
    let mut table = None;
    let mut columns = Vec::new();
    for part in rest.split(", ") {
        let (t, c) = part.trim().split_once('.')?;
        if table.get_or_insert_with(|| t.to_string()) != t {
            return None;
        }
        columns.push(c.to_string());
    }
    Some((table?, columns))
}

/// How many rows of `table` match `filter`, and up to five of them by key.
fn rows_where(conn: &Connection, table: &str, filter: &str) -> Option<(i64, Vec<String>)> {
    let count: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM {} WHERE {filter}", quote(table)),
            [],
            |r| r.get(0),
        )
        .ok()?;
    let key = key_columns(conn, table);
    let select = if key.is_empty() {
        "rowid".to_string()
    } else {
        key.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", ")
    };
    let label = if key.is_empty() {
        "rowid".to_string()
    } else {
        key.join(", ")
    };
    let width = key.len().max(1);
    let mut stmt = conn
        .prepare(&format!(
            "SELECT {select} FROM {} WHERE {filter} LIMIT 5",
            quote(table)
        ))
        .ok()?;
    let sample = stmt
        .query_map([], |r| {
            let values: Vec<String> = (0..width).map(|i| show(r.get_ref(i))).collect();
            Ok(format!("{label} {}", values.join(", ")))
        })
        .ok()?
        .flatten()
        .collect();
    Some((count, sample))
}

fn key_columns(conn: &Connection, table: &str) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare(&format!("PRAGMA table_info({})", quote(table))) else {
        return Vec::new();
    };
    let mut cols: Vec<(i64, String)> = stmt
        .query_map([], |r| Ok((r.get::<_, i64>(5)?, r.get::<_, String>(1)?)))
        .map(|rows| rows.flatten().filter(|(pk, _)| *pk > 0).collect())
        .unwrap_or_default();
    cols.sort();
    cols.into_iter().map(|(_, c)| c).collect()
}

/// The expression of a CHECK named `name` in `table`'s definition, when the
/// message gives a constraint name rather than the expression.
fn check_expression(conn: &Connection, table: &str, name: &str) -> Option<String> {
    if !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [table],
            |r| r.get(0),
        )
        .ok()?;
    let lower = sql.to_ascii_lowercase();
    let at = lower.find(&format!("constraint {}", name.to_ascii_lowercase()))?;
    let rest = &sql[at..];
    let open = rest.find('(')?;
    let mut depth = 0;
    for (i, c) in rest[open..].char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return Some(rest[open + 1..open + i].to_string());
                }
            }
            _ => {}
        }
    }
    None
}

/// The table a statement writes: `ALTER TABLE t`, `INSERT INTO t`, `UPDATE t`,
/// `CREATE [UNIQUE] INDEX i ON t`.
pub fn target_table(sql: &str) -> Option<String> {
    let words: Vec<&str> = sql
        .split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| !w.is_empty())
        .collect();
    let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
    let after = |kw: &[&str]| -> Option<&str> {
        let i = upper
            .windows(kw.len())
            .position(|w| w.iter().zip(kw).all(|(a, b)| a == b))?;
        let mut j = i + kw.len();
        while matches!(
            upper.get(j).map(String::as_str),
            Some(
                "IF" | "NOT"
                    | "EXISTS"
                    | "OR"
                    | "REPLACE"
                    | "IGNORE"
                    | "ABORT"
                    | "FAIL"
                    | "ROLLBACK"
            )
        ) {
            j += 1;
        }
        words.get(j).copied()
    };
    let name = after(&["ALTER", "TABLE"])
        .or_else(|| after(&["INTO"]))
        .or_else(|| after(&["ON"]))
        .or_else(|| after(&["UPDATE"]))?;
    let name = name.rsplit('.').next().unwrap_or(name);
    Some(
        name.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
            .to_string(),
    )
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn plural(n: i64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(error: &str, sql: &str) -> Failure {
        let mut f = Failure::new("0002_x", Phase::Apply, code_for(error), error);
        f.step = Some(1);
        f.sql = Some(sql.into());
        f
    }

    #[test]
    fn duplicate_keys_are_named() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE c (id TEXT PRIMARY KEY, user_id TEXT, title TEXT);
             INSERT INTO c VALUES ('c1','u1','same'),('c2','u1','same'),('c3','u2','x'),('c4','u1',NULL),('c5','u1',NULL);",
        )
        .unwrap();
        let err = conn
            .execute_batch("CREATE UNIQUE INDEX i ON c (user_id, title)")
            .unwrap_err()
            .to_string();
        let mut f = failure(&err, "CREATE UNIQUE INDEX i ON c (user_id, title)");
        fill_hint(&conn, &mut f);
        assert_eq!(f.code, "constraint");
        assert!(
            f.hint.starts_with("2 rows of c share 1 value of (user_id, title), for example ('u1', 'same') (2 rows)"),
            "{}",
            f.hint
        );
        assert!(f.hint.contains("ask the developer"));
    }

    #[test]
    fn null_rows_and_check_rows_are_named() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE u (id TEXT PRIMARY KEY, age INTEGER);
             INSERT INTO u VALUES ('a', NULL), ('b', 3), ('c', -1);
             CREATE TABLE u2 (id TEXT PRIMARY KEY, age INTEGER NOT NULL CONSTRAINT adult CHECK (age >= 0));",
        )
        .unwrap();
        let sql = "INSERT INTO u2 SELECT * FROM u";
        let err = conn.execute_batch(sql).unwrap_err().to_string();
        let mut f = failure(&err, sql);
        fill_hint(&conn, &mut f);
        // SQLite reports the first broken constraint; u2 is empty, so no rows are named.
        assert_eq!(f.code, "constraint");
        assert!(
            f.hint.contains("fix those steps") || f.hint.contains("row"),
            "{}",
            f.hint
        );

        let sql = "ALTER TABLE u ADD COLUMN email TEXT NOT NULL";
        let err = conn.execute_batch(sql).unwrap_err().to_string();
        let mut f = failure(&err, sql);
        fill_hint(&conn, &mut f);
        assert!(f.hint.starts_with("u has 3 rows"), "{}", f.hint);

        let sql = "UPDATE u SET age = age";
        conn.execute_batch("CREATE TABLE v (id TEXT PRIMARY KEY, age INTEGER CHECK (age >= 0)); INSERT INTO v VALUES ('x', 1);").unwrap();
        let _ = sql;
        let mut f = failure(
            "CHECK constraint failed: age >= 0",
            "UPDATE v SET age = age - 2",
        );
        fill_hint(&conn, &mut f);
        // v's only row satisfies the check now, so nothing is named.
        assert!(f.hint.contains("rows break a constraint"), "{}", f.hint);
        let mut f = failure(
            "NOT NULL constraint failed: u.age",
            "UPDATE u SET age = age",
        );
        fill_hint(&conn, &mut f);
        assert!(
            f.hint.starts_with("1 row of u has NULL in age (id 'a')"),
            "{}",
            f.hint
        );
    }

    #[test]
    fn duplicates_under_a_collation_are_named() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('B'), ('b'), ('c');")
            .unwrap();
        let sql = "CREATE UNIQUE INDEX ix ON t (v COLLATE NOCASE)";
        let err = conn.execute_batch(sql).unwrap_err().to_string();
        let mut f = failure(&err, sql);
        fill_hint(&conn, &mut f);
        assert!(
            f.hint.starts_with("2 rows of t share 1 value of (v)"),
            "{}",
            f.hint
        );
    }

    #[test]
    fn target_tables() {
        assert_eq!(
            target_table("ALTER TABLE \"users\" ADD COLUMN x").as_deref(),
            Some("users")
        );
        assert_eq!(
            target_table("insert or ignore into t(a) values (1)").as_deref(),
            Some("t")
        );
        assert_eq!(
            target_table("CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a)").as_deref(),
            Some("t")
        );
        assert_eq!(
            target_table("UPDATE main.t SET a = 1").as_deref(),
            Some("t")
        );
    }
}
