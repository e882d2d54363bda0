//! Proving a plan before it is written: applied and rolled back on the
//! in-memory schema, which must come back unchanged, then again with a row in
//! every table, so what SQLite refuses only on a table with rows is refused
//! here and not on the developer's database.

use super::{refuse, Note, Plan};
use crate::engine::native::Native;
use crate::error::AppError;
use crate::sqlite::schema;

/// Apply and roll back the plan on the in-memory schema: every statement must
/// run, and the rollback must restore the schema exactly.
/// Returns notes for what made-up rows could not settle.
pub fn rehearse(engine: &Native, plan: &Plan) -> Result<Vec<Note>, AppError> {
    for (apply, rollback) in &plan.steps {
        for t in crate::sqlite::schema::YOYO_TABLES {
            if super::plan::mentions(apply, t) || super::plan::mentions(rollback, t) {
                return Err(refuse(
                    "reserved_name",
                    format!("`{}` names {t}, one of yoyo's own tables", one_line(apply)),
                    "leave _yoyo_migration, _yoyo_log, _yoyo_version and yoyo_lock to yoyo; choose another name",
                ));
            }
        }
    }
    let conn = engine.conn();
    let before = schema::introspect(conn)?.normalized();
    conn.execute_batch("SAVEPOINT scaffold")
        .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
    let result = (|| {
        for (apply, _) in &plan.steps {
            engine.execute_step(apply).map_err(|e| match e.refused {
                Some(what) => refuse(
                    "outside_scratch",
                    format!("`{}` reaches outside the database ({what})", one_line(apply)),
                    "a migration may only change its own database: remove the ATTACH, VACUUM INTO or extension loading",
                ),
                None => {
                    let data_only = fails_on_rows(apply, &e.message, &[]);
                    if data_only.code != "fails_on_existing_rows" {
                        return data_only;
                    }
                    refuse(
                        "sql_error",
                        format!("SQLite rejects `{}`: {}", one_line(apply), e.message),
                        "fix the column definition or SQL; SQLite's message says what is wrong",
                    )
                }
            })?;
        }
        for (_, rollback) in plan.steps.iter().rev() {
            engine.execute_step(rollback).map_err(|e| {
                refuse(
                    if e.refused.is_some() {
                        "outside_scratch"
                    } else {
                        "rollback_error"
                    },
                    format!("the rollback `{}` fails: {}", one_line(rollback), e.message),
                    "give each step a rollback that undoes it",
                )
            })?;
        }
        let after = schema::introspect(conn)?.normalized();
        if after != before {
            return Err(refuse(
                "rollback_incomplete",
                "rolling the steps back does not restore the schema",
                "give each step a rollback that undoes it exactly",
            ));
        }
        Ok(())
    })();
    let _ = conn.execute_batch("ROLLBACK TO scaffold; RELEASE scaffold");
    result?;
    let touched = engine.seal().take_touched();
    if let Some(t) = touched.iter().find(|t| {
        crate::sqlite::schema::YOYO_TABLES
            .iter()
            .any(|y| y.eq_ignore_ascii_case(t))
    }) {
        return Err(refuse(
            "reserved_name",
            format!("the migration writes `{t}`, one of yoyo's own tables"),
            "leave _yoyo_migration, _yoyo_log, _yoyo_version and yoyo_lock to yoyo; choose another name",
        ));
    }
    rehearse_on_rows(engine, plan)
}

/// Apply and roll back the plan again with a row in every table, so what
/// SQLite refuses only on a table that has rows is refused here, not on the
/// developer's database. Made-up rows can clash with a migration's own (a
/// seed with the same key, a CHECK the made-up text breaks), so a failure
/// that depends on the values is tried again with other values; what fails
/// whatever the values is refused.
fn rehearse_on_rows(engine: &Native, plan: &Plan) -> Result<Vec<Note>, AppError> {
    let mut last = None;
    let mut skip: Option<&str> = None;
    for variant in 0..4 {
        match rehearse_with_rows(engine, plan, variant, skip) {
            Ok(()) => return Ok(Vec::new()),
            Err(e) if e.code == "fails_on_existing_rows" => {
                // A rebuild's copy that a made-up row breaks (a new CHECK the
                // made-up text does not meet) says nothing about real rows:
                // those are read from the database. Rehearse with the rebuilt
                // table empty instead.
                if let Some(r) = plan.rebuild.as_ref().filter(|_| skip.is_none()) {
                    if e.message.contains(&format!("{}__", r.table)) {
                        skip = Some(r.table.as_str());
                        continue;
                    }
                }
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    // What fails whatever made-up values are used, and is not one of the
    // failures SQLite gives every table with rows, depends on what the rows
    // hold: the real ones may be fine. Say so; test-apply on a copy of the
    // database decides.
    let e = last.expect("tried");
    Ok(vec![Note {
        code: "fails_on_made_up_rows",
        message: format!("with a made-up row in every table, {}", e.message),
        hint: Some("check that the real rows cannot break it: run `migration-creator test-apply` on a copy of the database".into()),
    }])
}

fn rehearse_with_rows(
    engine: &Native,
    plan: &Plan,
    variant: usize,
    skip: Option<&str>,
) -> Result<(), AppError> {
    let conn = engine.conn();
    conn.execute_batch("SAVEPOINT scaffold_rows")
        .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
    let result = (|| {
        let seeded = crate::engine::native::seed_rows(conn, variant, skip);
        let rows = |t: &str| -> Option<i64> {
            conn.query_row(
                &format!("SELECT count(*) FROM \"{}\"", t.replace('"', "\"\"")),
                [],
                |r| r.get(0),
            )
            .ok()
        };
        let rebuilt = plan
            .rebuild
            .as_ref()
            .map(|r| (r.table.as_str(), rows(&r.table)));
        for (apply, _) in &plan.steps {
            if let Err(e) = engine.execute_step(apply) {
                return Err(fails_on_rows(apply, &e.message, &seeded));
            }
        }
        if let Some((t, before)) = rebuilt {
            if rows(t) != before {
                return Err(refuse(
                    "rows_lost",
                    format!(
                        "the rebuild of {t} does not keep its rows ({before:?} before, {:?} after)",
                        rows(t)
                    ),
                    "check the definition and --map: every row must fit the new shape",
                ));
            }
        }
        for (apply, rollback) in plan.steps.iter().rev() {
            if let Err(e) = engine.execute_step(rollback) {
                return Err(refuse(
                    "rollback_error",
                    format!(
                        "the rollback `{}` of `{}` fails once the table has rows: {}",
                        one_line(rollback),
                        one_line(apply),
                        e.message
                    ),
                    "give each step a rollback that works on a table with rows",
                ));
            }
        }
        if let Some((t, before)) = rebuilt {
            if rows(t) != before {
                return Err(refuse(
                    "rows_lost",
                    format!("the rollback of the rebuild of {t} does not bring its rows back ({before:?} before, {:?} after)", rows(t)),
                    "report this as a bug, with the definition you gave",
                ));
            }
        }
        Ok(())
    })();
    let _ = conn.execute_batch("ROLLBACK TO scaffold_rows; RELEASE scaffold_rows");
    result
}

/// The refusal for a step that works on empty tables and fails with rows.
fn fails_on_rows(sql: &str, message: &str, seeded: &[String]) -> AppError {
    let lower = message.to_ascii_lowercase();
    let (code, hint) = if lower.contains("non-constant default") && lower.contains("add") {
        (
            "non_constant_default",
            "SQLite adds a column to a table with rows only with a constant default: give a constant DEFAULT, or add the column without one and fill it in a second step (UPDATE ... SET), or rebuild the table",
        )
    } else if lower.contains("stored column") {
        (
            "stored_generated_column",
            "SQLite cannot add a STORED generated column to a table with rows: make it VIRTUAL, or rebuild the table with the column",
        )
    } else if lower.contains("not null column with default value null") {
        (
            "not_null_without_default",
            "a NOT NULL column needs a non-NULL DEFAULT to be added to a table with rows: give it one, or add it nullable, fill it, and rebuild the table with NOT NULL",
        )
    } else if lower.contains("check constraint failed")
        && sql.to_ascii_uppercase().contains("ADD COLUMN")
    {
        (
            "check_fails_on_default",
            "existing rows would get the column's default, and the default breaks its CHECK: choose a default the CHECK accepts",
        )
    } else {
        (
            "fails_on_existing_rows",
            "the statement works on an empty table only: change it so that it also works on rows (SQLite's message says why)",
        )
    };
    refuse(
        code,
        format!(
            "`{}` fails where the table has rows: {message}{}",
            one_line(sql),
            if seeded.is_empty() {
                String::new()
            } else {
                format!(" (rehearsed with a row in {})", seeded.join(", "))
            }
        ),
        hint,
    )
}

pub fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}
