//! `test-apply`: prove the pending migrations on a scratch copy of the
//! database: apply, roll back (newest first), apply again, and say exactly
//! what changed. The real database is only ever opened read-only.

use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;
use serde::Serialize;

use crate::cli::{EngineChoice, Format, TestApplyArgs};
use crate::config::ProjectConfig;
use crate::engine::{self, Engine, Failure};
use crate::error::{AppError, ExitStatus};
use crate::migrations::{self, Migration};
use crate::output::Printer;
use crate::schema::{self, Changes, Schema};
use crate::scratch::{self, Mode};

#[derive(Debug, Serialize)]
pub struct TestApplyReport {
    pub ok: bool,
    /// `native` or `yoyo`.
    pub engine: &'static str,
    pub database: DatabaseInfo,
    /// Pending migrations applied, in order.
    pub applied: Vec<String>,
    pub changes: ChangeReport,
    pub rollback: RollbackReport,
    pub reapply: ReapplyReport,
    pub foreign_key_violations: Vec<FkViolation>,
    /// `ok`, or what `PRAGMA integrity_check` reported.
    pub integrity: Vec<String>,
    pub failures: Vec<Failure>,
    /// The scratch database, when kept with --keep (a temporary path).
    pub scratch: Option<String>,
    pub duration_ms: u128,
}

#[derive(Debug, Serialize)]
pub struct DatabaseInfo {
    /// The source database file, or null for an empty start.
    pub source: Option<String>,
    pub mode: Mode,
    pub bytes: u64,
    /// How long making the scratch copy took.
    pub copy_duration_ms: u128,
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
    pub differences: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ReapplyReport {
    pub ok: bool,
    pub differences: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct FkViolation {
    pub table: String,
    pub rowid: Option<i64>,
    pub parent: String,
}

fn snapshot(db: &Path) -> Result<Schema, AppError> {
    let conn = Connection::open(db)
        .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
    schema::introspect(&conn)
}

fn choose_engine(args: &TestApplyArgs, root: &Path) -> Result<Engine, AppError> {
    let found = engine::find_yoyo(args.yoyo.as_deref(), root);
    match args.engine {
        EngineChoice::Native => Ok(Engine::Native),
        EngineChoice::Auto => Ok(found.map(Engine::Yoyo).unwrap_or(Engine::Native)),
        EngineChoice::Yoyo => match found {
            Some(p) if p.is_file() => Ok(Engine::Yoyo(p)),
            _ => Err(AppError::env(
                "yoyo_not_found",
                "no yoyo executable: not given with --yoyo, not in .venv/bin/, not on PATH",
                "install yoyo-migrations in the project's .venv, pass --yoyo PATH, or use --engine native",
            )),
        },
    }
}

/// Read the migrations for `engine`. The native engine needs every step; the
/// yoyo engine only needs ids and dependencies, so a file our reader refuses
/// (a Python callable) is still run by yoyo.
fn read_migrations(config: &ProjectConfig, engine: &Engine) -> Result<Vec<Migration>, AppError> {
    let display = |p: &Path| config.display(p);
    migrations::read_folder(&config.migrations, &display, |file, e| match engine {
        Engine::Yoyo(_) => Ok(Migration {
            file: file.clone(),
            docstring: None,
            depends: Vec::new(),
            transactional: true,
            steps: Vec::new(),
        }),
        Engine::Native => {
            let mut err = e.into_app_error(&display(&file.path));
            err.hint = "the native engine runs only steps it can read; run with --engine yoyo to let yoyo import the file".into();
            Err(err)
        }
    })
}

pub fn run(args: &TestApplyArgs, root: &Path, printer: &Printer) -> Result<ExitStatus, AppError> {
    let started = Instant::now();
    let config = ProjectConfig::load(root, args.dir.as_deref(), args.database.as_deref())?;
    let engine = choose_engine(args, &config.root)?;
    let ordered = read_migrations(&config, &engine)?;
    let source = config.database_file()?;
    let mut scratch = scratch::make(source.as_deref(), args.schema_only)?;
    let db = scratch.path.clone();
    let already: Vec<String> = Connection::open(&db)
        .map(|c| engine::applied_ids(&c))
        .unwrap_or_default();
    let pending: Vec<&Migration> = ordered
        .iter()
        .filter(|m| !already.contains(&m.file.id))
        .collect();

    let mut failures = Vec::new();
    let s0 = snapshot(&db)?;
    let mut applied = Vec::new();
    let mut per_migration = Vec::new();
    let mut previous = s0.clone();
    // The schema before each applied migration, to check each rollback on its own.
    let mut befores: Vec<Schema> = Vec::new();
    for m in &pending {
        if let Err(f) = engine::run(&engine, &db, &config.migrations, m, "apply") {
            failures.push(f);
            break;
        }
        let now = snapshot(&db)?;
        per_migration.push(MigrationChanges {
            migration: m.file.id.clone(),
            changes: schema::diff(&previous, &now),
        });
        befores.push(std::mem::replace(&mut previous, now));
        applied.push(m.file.id.clone());
    }
    let s1 = previous;
    let mut rollback_ok = true;
    let mut rollback_differences = Vec::new();
    let mut residue: Vec<String> = Vec::new();
    let applied_pending: Vec<&&Migration> = pending
        .iter()
        .filter(|m| applied.contains(&m.file.id))
        .collect();
    for (i, m) in applied_pending.iter().enumerate().rev() {
        if let Err(f) = engine::run(&engine, &db, &config.migrations, m, "rollback") {
            failures.push(f);
            rollback_ok = false;
            break;
        }
        // Each rollback must restore the schema its migration started from;
        // what a later migration's rollback already left behind is not repeated.
        let after = snapshot(&db)?;
        let left = schema::diff(&befores[i], &after).lines();
        for line in left.iter().filter(|l| !residue.contains(l)) {
            rollback_differences.push(format!("{}: after its rollback, {line}", m.file.id));
        }
        residue = left;
    }
    let s2 = snapshot(&db)?;
    let rollback_diff = schema::diff(&s0, &s2);
    let restores_schema =
        rollback_ok && rollback_diff.is_empty() && rollback_differences.is_empty();
    if rollback_differences.is_empty() {
        rollback_differences = rollback_diff.lines();
    }
    let mut reapply_ok = rollback_ok;
    if rollback_ok {
        for m in pending.iter().filter(|m| applied.contains(&m.file.id)) {
            if let Err(f) = engine::run(&engine, &db, &config.migrations, m, "apply") {
                failures.push(f);
                reapply_ok = false;
                break;
            }
        }
    }
    let s3 = snapshot(&db)?;
    let reapply_diff = schema::diff(&s1, &s3);
    reapply_ok &= reapply_diff.is_empty();

    let conn = Connection::open(&db)
        .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
    let foreign_key_violations = foreign_key_check(&conn);
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))
                .map(|rows| rows.flatten().collect())
        })
        .unwrap_or_else(|e| vec![e.to_string()]);
    drop(conn);

    let ok = failures.is_empty()
        && restores_schema
        && reapply_ok
        && foreign_key_violations.is_empty()
        && integrity == ["ok"];
    let kept = args.keep.then(|| scratch.keep().display().to_string());
    let report = TestApplyReport {
        ok,
        engine: engine.name(),
        database: DatabaseInfo {
            source: source
                .as_deref()
                .filter(|p| p.is_file())
                .map(|p| config.display(p)),
            mode: scratch.mode,
            bytes: scratch.bytes,
            copy_duration_ms: scratch.copy_duration_ms,
        },
        applied,
        changes: ChangeReport {
            per_migration,
            total: schema::diff(&s0, &s1),
        },
        rollback: RollbackReport {
            restores_schema,
            differences: rollback_differences,
        },
        reapply: ReapplyReport {
            ok: reapply_ok,
            differences: reapply_diff.lines(),
        },
        foreign_key_violations,
        integrity,
        failures,
        scratch: kept,
        duration_ms: started.elapsed().as_millis(),
    };
    drop(scratch);
    match printer.format {
        Format::Json => printer.json(&report),
        _ => printer.out(&render_text(&report)),
    }
    Ok(if report.ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

fn foreign_key_check(conn: &Connection) -> Vec<FkViolation> {
    let Ok(mut stmt) = conn.prepare("PRAGMA foreign_key_check") else {
        return Vec::new();
    };
    stmt.query_map([], |r| {
        Ok(FkViolation {
            table: r.get(0)?,
            rowid: r.get(1)?,
            parent: r.get(2)?,
        })
    })
    .map(|rows| {
        rows.flatten()
            .filter(|v| !schema::YOYO_TABLES.contains(&v.table.as_str()))
            .collect()
    })
    .unwrap_or_default()
}

fn render_text(r: &TestApplyReport) -> String {
    let mut out = format!(
        "{} ({} engine, {} database{})\n",
        if r.ok { "ok" } else { "FAILED" },
        r.engine,
        match r.database.mode {
            Mode::Full => "full copy of the",
            Mode::SchemaOnly => "schema-only copy of the",
            Mode::Empty => "an empty",
        },
        r.database
            .source
            .as_deref()
            .map(|s| format!(" {s}"))
            .unwrap_or_default()
    );
    out.push_str(&format!(
        "applied: {}\n",
        if r.applied.is_empty() {
            "nothing pending".to_string()
        } else {
            r.applied.join(", ")
        }
    ));
    for line in r.changes.total.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out.push_str(&format!(
        "rollback restores the schema: {}\n",
        if r.rollback.restores_schema {
            "yes"
        } else {
            "no"
        }
    ));
    for d in &r.rollback.differences {
        out.push_str(&format!("  after rollback: {d}\n"));
    }
    for d in &r.reapply.differences {
        out.push_str(&format!("  after re-apply: {d}\n"));
    }
    for f in &r.failures {
        out.push_str(&format!(
            "failure: {} {} step {}: {}\n",
            f.migration,
            f.phase,
            f.step.map_or("?".into(), |s| s.to_string()),
            f.error
        ));
    }
    for v in &r.foreign_key_violations {
        out.push_str(&format!(
            "foreign key violation: {} row {:?} -> {}\n",
            v.table, v.rowid, v.parent
        ));
    }
    out
}
