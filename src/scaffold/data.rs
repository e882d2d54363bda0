//! What the project's data says about a new migration. When the database
//! exists it is read (read-only, nothing created beside it) for rows the
//! migration would break: duplicates under a new UNIQUE index, NULLs under a
//! new NOT NULL, rows a new CHECK or foreign key rejects. Each finding is a
//! note with counts, up to five examples, and a hint toward a data step.

use rusqlite::Connection;

use super::ident::quoted;
use super::plan::{Note, Operation};
use super::Request;
use crate::sqlite::data::duplicates;

const DATA_HINT: &str = "add a data step before it that fixes these rows (with a rollback that restores them), or ask the developer what to do with them";

/// Notes for `op` (planned from `req`) from the rows in `db`.
pub fn notes(db: &Connection, req: &Request, op: &Operation) -> Vec<Note> {
    let mut out = Vec::new();
    match op.kind {
        "create-index" if req.unique => {
            let Some(t) = req.table.as_deref() else {
                return out;
            };
            let cols: Vec<String> = req
                .columns
                .iter()
                .flat_map(|c| c.split(','))
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect();
            let exprs: Vec<String> = cols.iter().map(|c| quoted(c)).collect();
            if let Some((keys, rows, sample)) = duplicates(db, t, &exprs) {
                out.push(Note {
                    code: "duplicates",
                    message: format!(
                        "the database has {rows} rows of {t} that share {keys} value{} of ({}), for example {}; the unique index will fail on them",
                        if keys == 1 { "" } else { "s" },
                        cols.join(", "),
                        sample.join(", ")
                    ),
                    hint: Some(DATA_HINT.into()),
                });
            }
        }
        "rebuild-table" => {
            if let Some(r) = &op.rebuild {
                out.extend(rebuild_notes(db, &r.table, op));
            }
        }
        _ => {}
    }
    out
}

/// Rows of the table that the new definition rejects. The new shape is made
/// in memory and the database's rows, as the copy step would compute them,
/// are offered to it (`INSERT OR IGNORE` skips the ones a NOT NULL, UNIQUE,
/// PRIMARY KEY or CHECK rejects); a new foreign key is checked against the
/// parent table in the database.
fn rebuild_notes(db: &Connection, table: &str, op: &Operation) -> Vec<Note> {
    let mut out = Vec::new();
    let Some(r) = &op.rebuild else { return out };
    let total: i64 = db
        .query_row(
            &format!("SELECT count(*) FROM {}", quoted(table)),
            [],
            |r| r.get(0),
        )
        .unwrap_or(0);
    if total == 0 || total > 1_000_000 || r.copy.is_empty() {
        return out;
    }
    let Ok(mem) = Connection::open_in_memory() else {
        return out;
    };
    if mem.execute_batch(&r.new_definition).is_err() {
        return out;
    }
    let new = quoted(&format!("{table}__new"));
    let select = format!(
        "SELECT {} FROM {}",
        r.copy
            .iter()
            .map(|(_, e)| e.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        quoted(table)
    );
    let insert = format!(
        "INSERT OR IGNORE INTO {new} ({}) VALUES ({})",
        r.copy
            .iter()
            .map(|(c, _)| quoted(c))
            .collect::<Vec<_>>()
            .join(", "),
        vec!["?"; r.copy.len()].join(", ")
    );
    let kept = (|| -> rusqlite::Result<i64> {
        let mut read = db.prepare(&select)?;
        let mut write = mem.prepare(&insert)?;
        let width = r.copy.len();
        let mut rows = read.query([])?;
        let mut kept = 0;
        while let Some(row) = rows.next()? {
            let values: Vec<rusqlite::types::Value> =
                (0..width).map(|i| row.get(i)).collect::<Result<_, _>>()?;
            kept += write.execute(rusqlite::params_from_iter(values))? as i64;
        }
        Ok(kept)
    })();
    if let Ok(kept) = kept {
        if kept < total {
            out.push(Note {
                code: "rows_rejected",
                message: format!(
                    "{} of the {total} rows of {table} in the database break the new definition (a NOT NULL, UNIQUE, PRIMARY KEY or CHECK); the rebuild will fail on them",
                    total - kept
                ),
                hint: Some(DATA_HINT.into()),
            });
        }
    }
    // New foreign keys whose parent rows are missing in the database.
    let fks: Vec<(String, String, Option<String>)> = mem
        .prepare(&format!("PRAGMA foreign_key_list({new})"))
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(2)?, r.get(3)?, r.get(4)?)))
                .map(|rows| rows.flatten().collect())
        })
        .unwrap_or_default();
    for (parent, from, to) in fks {
        let Some((_, expr)) = r.copy.iter().find(|(c, _)| c.eq_ignore_ascii_case(&from)) else {
            continue;
        };
        let to = to.unwrap_or_else(|| "rowid".into());
        let sql = format!(
            "SELECT count(*) FROM {} WHERE {expr} IS NOT NULL AND {expr} NOT IN (SELECT {} FROM {})",
            quoted(table),
            quoted(&to),
            quoted(&parent),
        );
        if let Ok(dangling) = db.query_row(&sql, [], |r| r.get::<_, i64>(0)) {
            if dangling > 0 {
                out.push(Note {
                    code: "dangling_rows",
                    message: format!("{dangling} rows of {table} have a {from} that {parent}.{to} does not hold; the rebuilt table's foreign key does not accept them"),
                    hint: Some(DATA_HINT.into()),
                });
            }
        }
    }
    out
}
