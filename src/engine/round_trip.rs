//! The round trip `test-apply` proves: apply the pending migrations, roll
//! them back newest first, apply them again, on the scratch copy only, with
//! either engine. Between the phases the scratch database is read: its
//! schema after every migration, the row counts of the tables the migrations
//! touch, read-only queries the caller asked for, and, for the touched tables
//! only, `integrity_check` and `foreign_key_check`.

use std::collections::BTreeSet;

use std::path::Path;
use std::time::Instant;

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use super::native::Native;
use super::{diagnose, Failure, Phase, Runner};
use crate::error::AppError;
use crate::migrations::Migration;
use crate::sqlite::schema::{self, Changes, Schema, YOYO_TABLES};

/// What the round trip found.
#[derive(Debug, Serialize)]
pub struct RoundTrip {
    /// Pending migrations applied, in order.
    pub applied: Vec<String>,
    pub changes: ChangeReport,
    /// Row counts of the tables the migrations touched.
    pub rows: Vec<RowCounts>,
    pub rollback: RollbackReport,
    pub reapply: ReapplyReport,
    /// `--query` results, read after the apply phase.
    pub queries: Vec<QueryResult>,
    /// Foreign key violations the migrations introduced.
    pub foreign_key_violations: Vec<FkViolation>,
    /// Violations that were in the database before (reported, not failed on).
    pub preexisting_foreign_key_violations: Vec<FkViolation>,
    /// Tables that `integrity_check` and `foreign_key_check` looked at.
    pub checked_tables: Vec<String>,
    /// `ok`, or what `PRAGMA integrity_check` reported for the checked tables.
    pub integrity: Vec<String>,
    pub failures: Vec<Failure>,
}

impl RoundTrip {
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
            && self.rollback.restores_schema
            && self.rollback.restores_rows
            && self.reapply.ok
            && self.foreign_key_violations.is_empty()
            && self.integrity == ["ok"]
    }
}

#[derive(Debug, Serialize)]
pub struct ChangeReport {
    pub per_migration: Vec<MigrationChanges>,
    pub total: Changes,
}

#[derive(Debug, Serialize)]
pub struct MigrationChanges {
    pub migration: String,
    #[serde(flatten)]
    pub changes: Changes,
}

#[derive(Debug, Serialize)]
pub struct RollbackReport {
    pub restores_schema: bool,
    /// Every touched table has its row count from before the apply.
    pub restores_rows: bool,
    pub differences: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ReapplyReport {
    pub ok: bool,
    pub differences: Vec<String>,
}

/// A touched table's row count at each point; null where the table does not
/// exist then (or, for `before`, when a Python step touched it unseen).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RowCounts {
    pub table: String,
    pub before: Option<i64>,
    pub after_apply: Option<i64>,
    pub after_rollback: Option<i64>,
    pub after_reapply: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FkViolation {
    pub table: String,
    pub rowid: Option<i64>,
    pub parent: String,
}

#[derive(Debug, Serialize)]
pub struct QueryResult {
    pub sql: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<serde_json::Value>>,
    /// More rows than the first 200 were left out.
    pub truncated: bool,
    pub error: Option<String>,
}

const QUERY_ROWS: usize = 200;
const QUERY_BYTES: usize = 1 << 20;

fn snapshot(conn: &Connection, previous: &Schema) -> Result<Schema, AppError> {
    schema::introspect_reusing(conn, Some(previous))
}

fn is_project_table(name: &str) -> bool {
    !name.starts_with("sqlite_") && !YOYO_TABLES.contains(&name)
}

/// The tables the migrations would touch, found by applying them to an
/// empty copy of the schema in memory: cheap, and known before the real run,
/// so their row counts can be read first.
fn probe_touched(
    reader: &Connection,
    pending: &[&Migration],
    hooks: &[Migration],
    deadline: Instant,
) -> BTreeSet<String> {
    let Ok(mut probe) = Native::in_memory() else {
        return BTreeSet::new();
    };
    probe.set_deadline(deadline);
    let rows: Vec<(String, String)> = reader
        .prepare("SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map(|rows| rows.flatten().collect())
        })
        .unwrap_or_default();
    for pass in [true, false] {
        for (ty, sql) in &rows {
            if (ty == "table") == pass {
                let _ = probe.conn().execute_batch(sql);
            }
        }
    }
    probe.seal().take_touched();
    for m in pending.iter().copied().chain(hooks) {
        let _ = probe.run_migration(m, Phase::Apply, false);
        probe.reset_session();
    }
    probe
        .seal()
        .take_touched()
        .into_iter()
        .filter(|t| is_project_table(t))
        .collect()
}

fn count(conn: &Connection, schema: &Schema, table: &str) -> Option<i64> {
    schema.table(table)?;
    conn.query_row(
        &format!("SELECT count(*) FROM \"{}\"", table.replace('"', "\"\"")),
        [],
        |r| r.get(0),
    )
    .ok()
}

/// `tables` and the tables whose foreign keys point at them, as far as they exist in `schema`.
fn with_referrers(schema: &Schema, tables: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = tables
        .iter()
        .filter(|t| schema.table(t).is_some())
        .cloned()
        .collect();
    for t in &schema.tables {
        if t.foreign_keys
            .iter()
            .any(|fk| tables.contains(&fk.references_table))
        {
            out.insert(t.name.clone());
        }
    }
    out
}

fn foreign_key_check(conn: &Connection, tables: &BTreeSet<String>) -> BTreeSet<FkViolation> {
    let mut out = BTreeSet::new();
    for t in tables {
        let sql = format!("PRAGMA foreign_key_check(\"{}\")", t.replace('"', "\"\""));
        let Ok(mut stmt) = conn.prepare(&sql) else {
            continue;
        };
        let found: Vec<FkViolation> = stmt
            .query_map([], |r| {
                Ok(FkViolation {
                    table: r.get(0)?,
                    rowid: r.get(1)?,
                    parent: r.get(2)?,
                })
            })
            .map(|rows| rows.flatten().collect())
            .unwrap_or_default();
        out.extend(found);
    }
    out
}

fn integrity_check(conn: &Connection, tables: &BTreeSet<String>) -> Vec<String> {
    let mut problems = Vec::new();
    for t in tables {
        let sql = format!("PRAGMA integrity_check(\"{}\")", t.replace('"', "\"\""));
        let rows: Vec<String> = conn
            .prepare(&sql)
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))
                    .map(|rows| rows.flatten().collect())
            })
            .unwrap_or_else(|e| vec![e.to_string()]);
        problems.extend(rows.into_iter().filter(|r| r != "ok"));
    }
    if problems.is_empty() {
        vec!["ok".into()]
    } else {
        problems
    }
}

/// Run a read-only query on the scratch copy, on a connection of its own
/// that can only read: opened read-only, and an authorizer that lets through
/// reading and pragmas that only report, nothing else (no transactions, no
/// settings, no ATTACH). Results are cut at 200 rows and 1 MiB.
pub fn query(db: &Path, sql: &str, deadline: Instant) -> QueryResult {
    let mut result = QueryResult {
        sql: sql.to_string(),
        columns: Vec::new(),
        rows: Vec::new(),
        truncated: false,
        error: None,
    };
    if !super::native::has_statement(sql) {
        result.error = Some("empty query: give one SELECT statement".into());
        return result;
    }
    let conn = match Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    ) {
        Ok(c) => c,
        Err(e) => {
            result.error = Some(e.to_string());
            return result;
        }
    };
    let _ = conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, QUERY_BYTES as i32);
    let refused = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
    let note = refused.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| match ctx.action {
        AuthAction::Select
        | AuthAction::Read { .. }
        | AuthAction::Function { .. }
        | AuthAction::Recursive => {
            if let AuthAction::Function { function_name } = ctx.action {
                if function_name.eq_ignore_ascii_case("load_extension") {
                    *note.lock().unwrap_or_else(|e| e.into_inner()) =
                        Some("load_extension()".into());
                    return Authorization::Deny;
                }
            }
            Authorization::Allow
        }
        AuthAction::Pragma {
            pragma_value: None, ..
        } => Authorization::Allow,
        // Pragmas whose argument names what to report on, never a setting.
        AuthAction::Pragma { pragma_name, .. }
            if REPORTING_PRAGMAS
                .iter()
                .any(|p| p.eq_ignore_ascii_case(pragma_name)) =>
        {
            Authorization::Allow
        }
        other => {
            *note.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!("{other:?}"));
            Authorization::Deny
        }
    }));
    conn.progress_handler(10_000, Some(move || Instant::now() > deadline));
    let mut stmt = match conn.prepare(sql) {
        Ok(s) => s,
        Err(e) => {
            let why = refused.lock().unwrap_or_else(|e| e.into_inner()).take();
            result.error = Some(match why {
                Some(_) => {
                    "refused: --query runs only statements that read (SELECT, pragmas that report)"
                        .into()
                }
                None => e.to_string(),
            });
            return result;
        }
    };
    if !stmt.readonly() {
        result.error = Some(
            "refused: --query runs only statements that read (SELECT, pragmas that report)".into(),
        );
        return result;
    }
    result.columns = stmt
        .column_names()
        .into_iter()
        .map(str::to_string)
        .collect();
    let width = result.columns.len();
    let mut bytes = 0usize;
    let mut rows = stmt.raw_query();
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                if result.rows.len() == QUERY_ROWS || bytes > QUERY_BYTES {
                    result.truncated = true;
                    break;
                }
                let values: Vec<serde_json::Value> =
                    (0..width).map(|i| json_value(row.get_ref(i))).collect();
                bytes += values.iter().map(|v| v.to_string().len()).sum::<usize>();
                result.rows.push(values);
            }
            Ok(None) => break,
            Err(e) => {
                let text = e.to_string();
                result.error = Some(if text == "interrupted" {
                    "stopped: the query was still running when --timeout ran out".into()
                } else {
                    text
                });
                break;
            }
        }
    }
    result
}

fn json_value(v: rusqlite::Result<ValueRef<'_>>) -> serde_json::Value {
    match v {
        Ok(ValueRef::Integer(i)) => i.into(),
        Ok(ValueRef::Real(f)) => {
            serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
        }
        Ok(ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned().into(),
        Ok(ValueRef::Blob(b)) => format!(
            "x'{}'",
            b.iter().map(|x| format!("{x:02x}")).collect::<String>()
        )
        .into(),
        Ok(ValueRef::Null) | Err(_) => serde_json::Value::Null,
    }
}

/// Where the round trip runs and when it must stop.
pub struct Options<'a> {
    /// The scratch database (for `--query`'s own read-only connection).
    pub db: &'a Path,
    pub queries: &'a [String],
    pub deadline: Instant,
}

/// A post-apply hook that changed yoyo's bookkeeping: after a real `yoyo
/// apply`, yoyo would count the migrations it removed as not applied.
fn unrecorded_by_hooks(
    reader: &Connection,
    before: &super::Applied,
    applied: &[String],
) -> Option<Failure> {
    let after = super::Applied::read(reader).unwrap_or_default();
    let lost = after.lost_since(before);
    let first = lost.first()?;
    let mut f = Failure::new(
        applied.last().unwrap_or(first),
        Phase::Apply,
        "not_recorded",
        format!(
            "after the post-apply hooks ran, _yoyo_migration no longer lists {}",
            lost.join(", ")
        ),
    );
    f.hint = "a post-apply hook changed yoyo's bookkeeping (_yoyo_migration): yoyo would apply these again next time; leave yoyo's tables to yoyo".into();
    Some(f)
}

/// Pragmas that take an argument only to say what to report on (a table, an
/// index, a row limit), so `--query` may run them with one.
const REPORTING_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "foreign_key_check",
    "integrity_check",
    "quick_check",
];

/// Apply, roll back and re-apply `pending` through `runner`.
pub fn run(
    runner: &mut dyn Runner,
    pending: &[&Migration],
    hooks: &[Migration],
    options: &Options<'_>,
) -> Result<RoundTrip, AppError> {
    let mut failures: Vec<Failure> = Vec::new();
    let fail = |failures: &mut Vec<Failure>, runner: &dyn Runner, mut f: Failure| {
        diagnose::fill_hint(runner.reader(), &mut f);
        failures.push(f);
    };
    let probed = probe_touched(runner.reader(), pending, hooks, options.deadline);
    let s0 = schema::introspect(runner.reader())?;
    let before: Vec<(String, Option<i64>)> = probed
        .iter()
        .map(|t| (t.clone(), count(runner.reader(), &s0, t)))
        .collect();
    let preexisting = foreign_key_check(runner.reader(), &with_referrers(&s0, &probed));
    runner.take_touched();

    // Apply.
    let mut applied = Vec::new();
    let mut per_migration = Vec::new();
    let mut previous = s0.clone();
    // The schema before each applied migration, to check each rollback on its own.
    let mut befores: Vec<Schema> = Vec::new();
    for m in pending {
        if let Err(f) = runner.run(m, Phase::Apply) {
            fail(&mut failures, runner, f);
            break;
        }
        let now = snapshot(runner.reader(), &previous)?;
        per_migration.push(MigrationChanges {
            migration: m.file.id.clone(),
            changes: schema::diff(&previous, &now),
        });
        befores.push(std::mem::replace(&mut previous, now));
        applied.push(m.file.id.clone());
    }
    let all_applied = applied.len() == pending.len() && !pending.is_empty();
    if all_applied {
        let recorded = super::Applied::read(runner.reader()).unwrap_or_default();
        match runner.hooks(Phase::Apply) {
            Err(f) => fail(&mut failures, runner, f),
            Ok(()) => {
                if let Some(f) = unrecorded_by_hooks(runner.reader(), &recorded, &applied) {
                    fail(&mut failures, runner, f);
                }
            }
        }
    }
    let s1 = snapshot(runner.reader(), &previous)?;
    let mut touched: BTreeSet<String> = probed.clone();
    touched.extend(
        runner
            .take_touched()
            .into_iter()
            .filter(|t| is_project_table(t)),
    );
    let mut rows: Vec<RowCounts> = touched
        .iter()
        .map(|t| RowCounts {
            table: t.clone(),
            before: before.iter().find(|(n, _)| n == t).and_then(|(_, c)| *c),
            after_apply: count(runner.reader(), &s1, t),
            after_rollback: None,
            after_reapply: None,
        })
        .collect();
    let query_results: Vec<QueryResult> = options
        .queries
        .iter()
        .map(|q| query(options.db, q, options.deadline))
        .collect();

    // Roll back, newest first.
    let mut rollback_ok = true;
    let mut rollback_differences = Vec::new();
    let mut residue: Vec<String> = Vec::new();
    let applied_pending: Vec<&&Migration> = pending
        .iter()
        .filter(|m| applied.contains(&m.file.id))
        .collect();
    let mut last = s1.clone();
    for (i, m) in applied_pending.iter().enumerate().rev() {
        if let Err(f) = runner.run(m, Phase::Rollback) {
            fail(&mut failures, runner, f);
            rollback_ok = false;
            break;
        }
        // Each rollback must restore the schema its migration started from;
        // what a later migration's rollback already left behind is not repeated.
        let after = snapshot(runner.reader(), &last)?;
        let left = schema::diff(&befores[i], &after).lines();
        for line in left.iter().filter(|l| !residue.contains(l)) {
            rollback_differences.push(format!("{}: after its rollback, {line}", m.file.id));
        }
        residue = left;
        last = after;
    }
    let s2 = snapshot(runner.reader(), &last)?;
    let rollback_diff = schema::diff(&s0, &s2);
    let restores_schema =
        rollback_ok && rollback_diff.is_empty() && rollback_differences.is_empty();
    if rollback_differences.is_empty() {
        rollback_differences = rollback_diff.lines();
    }
    let mut restores_rows = true;
    for r in &mut rows {
        r.after_rollback = count(runner.reader(), &s2, &r.table);
        if let (Some(b), Some(a)) = (r.before, r.after_rollback) {
            if a != b && rollback_ok {
                restores_rows = false;
                rollback_differences.push(format!(
                    "rows: table {} has {a} row{} after the rollback, {b} before the apply",
                    r.table,
                    if a == 1 { "" } else { "s" }
                ));
            }
        }
    }
    runner.take_touched();

    // Apply again.
    let mut reapply_ok = rollback_ok;
    if rollback_ok {
        for m in &applied_pending {
            if let Err(f) = runner.run(m, Phase::Reapply) {
                fail(&mut failures, runner, f);
                reapply_ok = false;
                break;
            }
        }
        if reapply_ok && all_applied {
            if let Err(f) = runner.hooks(Phase::Reapply) {
                fail(&mut failures, runner, f);
                reapply_ok = false;
            }
        }
    }
    let s3 = snapshot(runner.reader(), &s2)?;
    let reapply_diff = schema::diff(&s1, &s3);
    let mut reapply_differences = reapply_diff.lines();
    reapply_ok &= reapply_diff.is_empty();
    for r in &mut rows {
        r.after_reapply = count(runner.reader(), &s3, &r.table);
        if rollback_ok && r.after_reapply != r.after_apply {
            reapply_ok = false;
            reapply_differences.push(format!(
                "rows: table {} has {} rows after the re-apply, {} after the first apply",
                r.table,
                r.after_reapply.map_or("no".into(), |n| n.to_string()),
                r.after_apply.map_or("no".into(), |n| n.to_string()),
            ));
        }
    }
    touched.extend(
        runner
            .take_touched()
            .into_iter()
            .filter(|t| is_project_table(t)),
    );

    // Names that were never a table at any point (a view, a table made and
    // renamed inside one migration) have no row counts to report.
    rows.retain(|r| {
        r.before.is_some()
            || r.after_apply.is_some()
            || r.after_rollback.is_some()
            || r.after_reapply.is_some()
    });

    // Checks on what the migrations touched.
    let checked = with_referrers(&s3, &touched);
    let violations = foreign_key_check(runner.reader(), &checked);
    let (preexisting_found, new): (Vec<FkViolation>, Vec<FkViolation>) = violations
        .into_iter()
        .partition(|v| preexisting.contains(v));
    let integrity = integrity_check(runner.reader(), &checked);

    Ok(RoundTrip {
        applied,
        changes: ChangeReport {
            per_migration,
            total: schema::diff(&s0, &s1),
        },
        rows,
        rollback: RollbackReport {
            restores_schema,
            restores_rows,
            differences: rollback_differences,
        },
        reapply: ReapplyReport {
            ok: reapply_ok,
            differences: reapply_differences,
        },
        queries: query_results,
        foreign_key_violations: new,
        preexisting_foreign_key_violations: preexisting_found,
        checked_tables: checked.into_iter().collect(),
        integrity,
        failures,
    })
}
