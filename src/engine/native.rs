//! The native engine: our reader's steps run through rusqlite with yoyo's
//! rules (one statement per step, foreign keys off, each migration in a
//! transaction and each step in a savepoint unless `__transactional__` is
//! false) and yoyo's bookkeeping rows, on one sealed connection for the run.
//! `schema` and `scaffold`'s rehearsal apply migrations through the same code
//! on a database in memory.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;

use super::{Failure, Phase, Runner};
use crate::config::ProjectConfig;
use crate::error::AppError;
use crate::migrations::Migration;
use crate::sqlite::schema::{self, Schema};
use crate::sqlite::{seal, Seal};

/// A step that failed: SQLite's message, and what the seal refused, if that was the cause.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    pub message: String,
    pub refused: Option<String>,
}

/// One sealed connection and the migrations' hooks.
pub struct Native {
    conn: Connection,
    seal: Seal,
    hooks: Vec<Migration>,
    /// Whether yoyo's bookkeeping tables are kept (false in memory).
    bookkeeping: bool,
    /// Savepoints made so far (their names are `sp_N`, as yoyo's).
    savepoints: std::cell::Cell<u64>,
    /// When a step still running is interrupted.
    deadline: Option<Instant>,
    /// Whether steps are first tried with double-quoted strings off, to
    /// find the `"..."` SQLite would read as a string (`lint`).
    watch_quotes: std::cell::Cell<bool>,
    /// `(sql, name)`: a step that needed `"name"` read as a string.
    quoted: std::cell::RefCell<Vec<(String, String)>>,
}

fn setup_error(e: rusqlite::Error) -> AppError {
    AppError::env(
        "sqlite_error",
        format!("preparing the scratch database: {e}"),
        "check that the temporary folder is writable and has space (TMPDIR)",
    )
}

impl Native {
    /// The engine on the scratch database at `path`: durability off (the copy
    /// is thrown away), the journal in memory, yoyo's bookkeeping tables made.
    pub fn open(path: &Path, hooks: Vec<Migration>) -> Result<Native, AppError> {
        let conn = Connection::open(path).map_err(setup_error)?;
        let native = Native::with(conn, hooks, true)?;
        ensure_bookkeeping(&native.conn).map_err(setup_error)?;
        Ok(native)
    }

    /// The engine on an empty database in memory, without yoyo's bookkeeping.
    pub fn in_memory() -> Result<Native, AppError> {
        let conn = Connection::open_in_memory().map_err(setup_error)?;
        Native::with(conn, Vec::new(), false)
    }

    fn with(
        conn: Connection,
        hooks: Vec<Migration>,
        bookkeeping: bool,
    ) -> Result<Native, AppError> {
        conn.execute_batch(
            "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; PRAGMA journal_mode = MEMORY;",
        )
        .map_err(setup_error)?;
        let seal = seal(&conn);
        Ok(Native {
            conn,
            seal,
            hooks,
            bookkeeping,
            savepoints: std::cell::Cell::new(0),
            deadline: None,
            watch_quotes: std::cell::Cell::new(false),
            quoted: std::cell::RefCell::new(Vec::new()),
        })
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn seal(&self) -> &Seal {
        &self.seal
    }

    /// Interrupt any step still running at `deadline` (it fails with
    /// SQLite's `interrupted`, reported as a timeout).
    pub fn set_deadline(&mut self, deadline: Instant) {
        self.deadline = Some(deadline);
    }

    /// Run one step's SQL as yoyo does on SQLite: a single statement.
    pub fn execute_step(&self, sql: &str) -> Result<(), StepError> {
        self.seal.take_refused();
        if let Some(deadline) = self.deadline {
            self.conn
                .progress_handler(10_000, Some(move || Instant::now() > deadline));
        }
        let result = if self.watch_quotes.get() && sql.contains('"') {
            self.execute_watching_quotes(sql)
        } else {
            execute(&self.conn, sql)
        };
        if self.deadline.is_some() {
            self.conn.progress_handler(0, None::<fn() -> bool>);
        }
        result.map_err(|message| StepError {
            message,
            refused: self.seal.take_refused(),
        })
    }

    /// Try every step first with double-quoted strings off (SQLite's
    /// `DQS_DDL`/`DQS_DML`), and remember the steps that needed one.
    pub fn watch_quotes(&self, on: bool) {
        self.watch_quotes.set(on);
    }

    /// The `(sql, name)` pairs found since the last call: a step that only
    /// runs because SQLite read `"name"` as a string.
    pub fn take_quoted(&self) -> Vec<(String, String)> {
        std::mem::take(&mut self.quoted.borrow_mut())
    }

    fn execute_watching_quotes(&self, sql: &str) -> Result<(), String> {
        use rusqlite::config::DbConfig;
        let set = |on: bool| {
            let _ = self
                .conn
                .set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL, on);
            let _ = self
                .conn
                .set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML, on);
        };
        set(false);
        let strict = execute(&self.conn, sql);
        set(true);
        let Err(message) = strict else {
            return Ok(());
        };
        // A statement that fails has no effect: run it again as yoyo would.
        let result = execute(&self.conn, sql);
        if result.is_ok() {
            // `no such column: x`, or (SQLite 3.45 and later)
            // `no such column: "x" - should this be a string literal in single-quotes?`
            if let Some(rest) = message.strip_prefix("no such column: ") {
                let name = match rest.strip_prefix('"') {
                    Some(r) => r.split("\" - ").next().unwrap_or(r).trim_end_matches('"'),
                    None => rest,
                };
                let quoted = format!("\"{}\"", name.replace('"', "\"\""));
                if sql.contains(&quoted) {
                    self.quoted
                        .borrow_mut()
                        .push((sql.to_string(), name.to_string()));
                }
            }
        }
        result
    }

    /// Apply or roll back `m`, recording it in yoyo's tables when kept.
    pub fn run_migration(&self, m: &Migration, phase: Phase, record: bool) -> Result<(), Failure> {
        let id = &m.file.id;
        let fail = |code, e: rusqlite::Error| Failure::new(id, phase, code, e.to_string());
        let order: Vec<usize> = if phase.applies() {
            (0..m.steps.len()).collect()
        } else {
            (0..m.steps.len()).rev().collect()
        };
        let sql_of = |i: usize, applies: bool| -> Option<&str> {
            let step = &m.steps[i];
            if applies {
                Some(step.apply.as_str())
            } else {
                step.rollback.as_deref()
            }
        };
        if m.transactional {
            self.conn
                .execute_batch("BEGIN")
                .map_err(|e| fail("step_failed", e))?;
        }
        let mut executed: Vec<usize> = Vec::new();
        for &i in &order {
            let Some(sql) = sql_of(i, phase.applies()) else {
                executed.push(i);
                continue;
            };
            // As yoyo: a savepoint per step, rolled back on an error, never
            // released (the transaction's COMMIT does that).
            let savepoint = if m.transactional && !self.conn.is_autocommit() {
                let n = self.savepoints.get() + 1;
                self.savepoints.set(n);
                let name = format!("\"sp_{n}\"");
                self.conn
                    .execute_batch(&format!("SAVEPOINT {name}"))
                    .is_ok()
                    .then_some(name)
            } else {
                None
            };
            let result = self.execute_step(sql);
            let Err(error) = result else {
                executed.push(i);
                continue;
            };
            if let Some(name) = savepoint {
                let _ = self
                    .conn
                    .execute_batch(&format!("ROLLBACK TO SAVEPOINT {name}"));
            }
            let ignored = matches!(
                (m.steps[i].ignore_errors.as_deref(), phase.applies()),
                (Some("all"), _) | (Some("apply"), true) | (Some("rollback"), false)
            );
            // ignore_errors does not cover what the seal refused: against
            // the real database the step would reach another file.
            if ignored && error.refused.is_none() {
                executed.push(i);
                continue;
            }
            let error = if ignored {
                StepError {
                    message: format!(
                        "{} (ignore_errors does not cover what the seal refuses)",
                        error.message
                    ),
                    ..error
                }
            } else {
                error
            };
            if m.transactional {
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
            } else {
                // As yoyo does without a transaction: undo the steps that ran,
                // newest first, until an undo fails.
                for &j in executed.iter().rev() {
                    if let Some(undo) = sql_of(j, !phase.applies()) {
                        if self.execute_step(undo).is_err() {
                            break;
                        }
                    }
                }
            }
            let mut f = Failure::new(
                id,
                phase,
                if error.refused.is_some() {
                    "outside_scratch"
                } else {
                    super::diagnose::code_for(&error.message)
                },
                error.message,
            );
            f.step = Some(i + 1);
            f.sql = Some(sql.trim().to_string());
            if let Some(refused) = error.refused {
                f.hint = super::diagnose::outside_scratch_hint(&refused);
            }
            return Err(f);
        }
        if record && self.bookkeeping {
            let marked = if phase.applies() {
                mark(&self.conn, id)
            } else {
                unmark(&self.conn, id)
            };
            marked
                .and_then(|_| {
                    log(
                        &self.conn,
                        id,
                        if phase.applies() { "apply" } else { "rollback" },
                    )
                })
                .map_err(|e| fail("step_failed", e))?;
        }
        // A step may have ended the transaction itself (COMMIT); yoyo's
        // commit is then a no-op, and so is ours.
        if m.transactional && !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| fail("step_failed", e))?;
        }
        Ok(())
    }

    /// Forget what a migration left on the connection, as yoyo's fresh
    /// connection per migration does: attached databases, temporary
    /// objects, a foreign_keys pragma turned on.
    pub fn reset_session(&self) {
        if !self.conn.is_autocommit() {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        let attached: Vec<String> = self
            .conn
            .prepare("PRAGMA database_list")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(1))
                    .map(|rows| rows.flatten().collect())
            })
            .unwrap_or_default();
        for name in attached.iter().filter(|n| *n != "main" && *n != "temp") {
            let _ = self.conn.execute_batch(&format!(
                "DETACH DATABASE \"{}\"",
                name.replace('"', "\"\"")
            ));
        }
        let temps: Vec<(String, String)> = self
            .conn
            .prepare("SELECT type, name FROM temp.sqlite_master WHERE type IN ('table', 'view', 'trigger')")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                    .map(|rows| rows.flatten().collect())
            })
            .unwrap_or_default();
        for (ty, name) in temps {
            let _ = self.conn.execute_batch(&format!(
                "DROP {} IF EXISTS temp.\"{}\"",
                ty.to_ascii_uppercase(),
                name.replace('"', "\"\"")
            ));
        }
        let _ = self.conn.execute_batch("PRAGMA foreign_keys = OFF");
    }
}

impl Runner for Native {
    fn name(&self) -> &'static str {
        "native"
    }

    fn run(&mut self, m: &Migration, phase: Phase) -> Result<(), Failure> {
        let result = self.run_migration(m, phase, true);
        self.reset_session();
        result
    }

    fn hooks(&mut self, phase: Phase) -> Result<(), Failure> {
        for hook in &self.hooks {
            let result = self.run_migration(hook, phase, false);
            self.reset_session();
            result?;
            if self.bookkeeping {
                let _ = log(&self.conn, &hook.file.id, "apply");
            }
        }
        Ok(())
    }

    fn take_touched(&mut self) -> BTreeSet<String> {
        self.seal.take_touched()
    }

    fn reader(&self) -> &Connection {
        &self.conn
    }
}

/// The schema the project's migrations produce, built in memory, with the
/// engine that holds it and the migrations in yoyo's order.
pub struct Built {
    pub schema: Schema,
    pub engine: Native,
    pub applied: Vec<Migration>,
}

/// Apply every migration in `config`'s folder, in yoyo's order, to an empty
/// database in memory.
pub fn build(config: &ProjectConfig) -> Result<Built, AppError> {
    let display = |p: &Path| config.display(p);
    let ordered = crate::migrations::read_folder(&config.migrations, &display, |file, e| {
        Err(e.into_app_error(&display(&file.path)))
    })?;
    let engine = Native::in_memory()?;
    for m in &ordered {
        engine.run_migration(m, Phase::Apply, false).map_err(|f| {
            let line = f
                .step
                .and_then(|n| m.steps.get(n - 1))
                .map_or(1, |s| s.line);
            let sql = f.sql.as_deref().unwrap_or("");
            AppError::problem(
                if f.code == "outside_scratch" {
                    "outside_scratch"
                } else {
                    "migration_failed"
                },
                format!(
                    "{}:{line}: {} failed: {}",
                    display(&m.file.path),
                    f.migration,
                    f.error
                ),
                if f.code == "outside_scratch" {
                    f.hint.clone()
                } else {
                    format!("fix the step's SQL ({}) and run again", first_line(sql))
                },
            )
        })?;
    }
    Ok(Built {
        schema: schema::introspect(engine.conn())?,
        engine,
        applied: ordered,
    })
}

fn first_line(sql: &str) -> String {
    let line = sql
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > 80 {
        format!("{}...", line.chars().take(80).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Put one row in every ordinary table of `conn` that has none, made up to
/// fit each column's type, default and constraints (columns with a default
/// keep it). `variant` picks other values, for a second try. A table no
/// made-up row fits is left empty. Returns the tables that got a row.
pub fn seed_rows(conn: &Connection, variant: usize, skip: Option<&str>) -> Vec<String> {
    let tables: Vec<(String, String)> = conn
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                ))
            })
            .map(|rows| rows.flatten().collect())
        })
        .unwrap_or_default();
    let mut seeded = Vec::new();
    for (table, sql) in tables {
        if sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL")
            || schema::YOYO_TABLES.contains(&table.as_str())
            || skip.is_some_and(|s| s.eq_ignore_ascii_case(&table))
        {
            continue;
        }
        if seed_table(conn, &table, variant) {
            seeded.push(table);
        }
    }
    seeded
}

/// Put one made-up row in `table` if it has none (see [`seed_rows`]).
/// Whether the table got a row.
pub fn seed_table(conn: &Connection, table: &str, variant: usize) -> bool {
    {
        let table = table.to_string();
        let q = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
        let empty = conn
            .query_row(
                &format!("SELECT NOT EXISTS (SELECT 1 FROM {})", q(&table)),
                [],
                |r| r.get::<_, bool>(0),
            )
            .unwrap_or(false);
        if !empty {
            return false;
        }
        // (name, declared type, not null, has default, pk position, hidden)
        let columns: Vec<(String, String, bool, bool, i64, i64)> = conn
            .prepare(&format!("PRAGMA table_xinfo({})", q(&table)))
            .and_then(|mut s| {
                s.query_map([], |r| {
                    Ok((
                        r.get(1)?,
                        r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                        r.get::<_, i64>(3)? != 0,
                        r.get::<_, Option<String>>(4)?.is_some(),
                        r.get(5)?,
                        r.get(6)?,
                    ))
                })
                .map(|rows| rows.flatten().collect())
            })
            .unwrap_or_default();
        let pk_count = columns.iter().filter(|c| c.4 > 0).count();
        // Values unlikely to meet a migration's own rows or checks: a text
        // long enough for length checks, numbers above small seeds.
        let value = |ty: &str, alt: bool| -> String {
            let ty = ty.to_ascii_uppercase();
            let numeric = ty.contains("REAL")
                || ty.contains("FLOA")
                || ty.contains("DOUB")
                || ty.contains("NUM")
                || ty.contains("DEC");
            match (ty.contains("INT"), numeric, ty.contains("BLOB"), alt) {
                (true, _, _, false) => format!("{}", 7_340_033 + variant),
                (true, _, _, true) => format!("{variant}"),
                (_, true, _, false) => format!("{}.5", 7_340_033 + variant),
                (_, true, _, true) => format!("{variant}.0"),
                (_, _, true, _) => format!("x'{:02x}'", variant),
                (_, _, _, false) => format!("'rehearsal row {}'", 7_340_033 + variant),
                (_, _, _, true) => format!("'r{variant}'"),
            }
        };
        for alt in [false, true] {
            let chosen: Vec<&(String, String, bool, bool, i64, i64)> = columns
                .iter()
                .filter(|c| c.5 == 0)
                .filter(|c| !c.3)
                .filter(|c| {
                    !(alt && pk_count == 1 && c.4 == 1 && c.1.eq_ignore_ascii_case("INTEGER"))
                })
                .filter(|c| !alt || c.2 || c.4 > 0)
                .collect();
            let sql = if chosen.is_empty() {
                format!("INSERT INTO {} DEFAULT VALUES", q(&table))
            } else {
                format!(
                    "INSERT INTO {} ({}) VALUES ({})",
                    q(&table),
                    chosen
                        .iter()
                        .map(|c| q(&c.0))
                        .collect::<Vec<_>>()
                        .join(", "),
                    chosen
                        .iter()
                        .map(|c| value(&c.1, alt))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            if conn.execute_batch(&sql).is_ok() {
                return true;
            }
        }
    }
    false
}

/// Whether `sql` holds anything but whitespace and comments.
pub fn has_statement(sql: &str) -> bool {
    let mut rest = sql.trim_start();
    loop {
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.find('\n').map_or("", |i| &r[i + 1..]).trim_start();
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.find("*/").map_or("", |i| &r[i + 2..]).trim_start();
        } else {
            return !rest.trim_start_matches(';').trim().is_empty();
        }
    }
}

fn execute(conn: &Connection, sql: &str) -> Result<(), String> {
    if !has_statement(sql) {
        return Ok(());
    }
    let mut stmt = conn.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => {
            "more than one SQL statement in one step; yoyo's SQLite driver runs only one (split it into steps)".to_string()
        }
        other => other.to_string(),
    })?;
    // yoyo runs a step as `cursor.execute(sql)` with no parameters, so a
    // statement with a bind parameter (`?`, `:name`, `@name`, `$name`) fails
    // under Python's sqlite3 before it starts; rusqlite would bind NULL.
    let wanted = stmt.parameter_count();
    if wanted > 0 {
        return Err(format!(
            "Incorrect number of bindings supplied. The current statement uses {wanted}, and there are 0 supplied. (yoyo runs a step with no parameters: write the value into the SQL)"
        ));
    }
    // Step through every row: a step may be a SELECT.
    let mut rows = stmt.raw_query();
    loop {
        match rows.next() {
            Ok(Some(_)) => {}
            Ok(None) => return Ok(()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

fn mark(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    let (date, time) = utc_now();
    conn.execute(
        "INSERT INTO _yoyo_migration (migration_hash, migration_id, applied_at_utc) VALUES (?1, ?2, ?3)",
        rusqlite::params![super::migration_hash(id), id, format!("{date}T{time}")],
    )?;
    Ok(())
}

fn unmark(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.execute(
        "DELETE FROM _yoyo_migration WHERE migration_hash = ?1",
        [super::migration_hash(id)],
    )?;
    Ok(())
}

/// yoyo's bookkeeping tables, exactly as yoyo 9.0.0 creates them on SQLite.
const YOYO_DDL: &[(&str, &str)] = &[
    (
        "_yoyo_migration",
        "CREATE TABLE \"_yoyo_migration\" (\n            \"migration_hash\" VARCHAR(64),\n            \"migration_id\" VARCHAR(255),\n            \"applied_at_utc\" TIMESTAMP,\n            PRIMARY KEY (\"migration_hash\")\n        )",
    ),
    (
        "_yoyo_log",
        "CREATE TABLE \"_yoyo_log\" (\n            \"id\" VARCHAR(36),\n            \"migration_hash\" VARCHAR(64),\n            \"migration_id\" VARCHAR(255),\n            \"operation\" VARCHAR(10),\n            \"username\" VARCHAR(255),\n            \"hostname\" VARCHAR(255),\n            \"comment\" VARCHAR(255),\n            \"created_at_utc\" TIMESTAMP,\n            PRIMARY KEY (\"id\")\n        )",
    ),
    (
        "_yoyo_version",
        "CREATE TABLE \"_yoyo_version\" (\n            \"version\" INT NOT NULL PRIMARY KEY,\n            \"installed_at_utc\" TIMESTAMP\n        )",
    ),
    ("yoyo_lock", "CREATE TABLE \"yoyo_lock\" (\"locked\" INT DEFAULT 1, \"ctime\" TIMESTAMP,\"pid\" INT NOT NULL,PRIMARY KEY (\"locked\"))"),
];

/// UTC now as `YYYY-MM-DD`, `HH:MM:SS.ffffff`.
fn utc_now() -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            now.subsec_micros()
        ),
    )
}

/// A version-1 UUID string, as yoyo writes into `_yoyo_log.id`.
fn uuid1() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ticks = (now.as_nanos() / 100) as u64 + 0x01b2_1dd2_1381_4000;
    let random = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(now.as_nanos().to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        h.finalize()
    };
    format!(
        "{:08x}-{:04x}-1{:03x}-{:02x}{:02x}-{}",
        ticks & 0xffff_ffff,
        (ticks >> 32) & 0xffff,
        (ticks >> 48) & 0x0fff,
        (random[0] & 0x3f) | 0x80,
        random[1],
        random[2..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn ensure_bookkeeping(conn: &Connection) -> rusqlite::Result<()> {
    let existing: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let has = |t: &str| existing.iter().any(|n| n == t);
    let fresh = !has("_yoyo_migration");
    // yoyo's first schema (`id`, `ctime`, no _yoyo_version): upgrade it as
    // yoyo's internal migration v2 does, keeping what it records as applied.
    let mut upgraded: Vec<(String, Option<String>)> = Vec::new();
    let first_schema = !fresh && !has("_yoyo_version") && !has("_yoyo_log");
    if first_schema {
        if let Ok(rows) = conn
            .prepare("SELECT id, ctime FROM _yoyo_migration")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect()
            })
        {
            upgraded = rows;
            conn.execute_batch("DROP TABLE _yoyo_migration")?;
        }
    }
    let existing: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for (name, ddl) in YOYO_DDL {
        if !existing.iter().any(|t| t == name) {
            conn.execute_batch(ddl)?;
        }
    }
    for (id, ctime) in &upgraded {
        conn.execute(
            "INSERT INTO _yoyo_migration (migration_hash, migration_id, applied_at_utc) VALUES (?1, ?2, ?3)",
            rusqlite::params![super::migration_hash(id), id, ctime],
        )?;
    }
    if fresh || first_schema {
        let (date, time) = utc_now();
        conn.execute(
            "INSERT INTO _yoyo_version (version, installed_at_utc) VALUES (2, ?1)",
            [format!("{date} {time}")],
        )?;
    }
    Ok(())
}

fn log(conn: &Connection, id: &str, operation: &str) -> rusqlite::Result<()> {
    let (date, time) = utc_now();
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    conn.execute(
        "INSERT INTO _yoyo_log (id, migration_hash, migration_id, operation, username, hostname, comment, created_at_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
        rusqlite::params![uuid1(), super::migration_hash(id), id, operation, user, host, format!("{date}T{time}")],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_hash_like_yoyo() {
        assert_eq!(
            super::super::migration_hash("0001_create_users"),
            "f35c1922f2d725a5a9b51be3112173a73e3f7857d1d64fcd06edcfab4c728754"
        );
        let u = super::uuid1();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "1");
    }
}
