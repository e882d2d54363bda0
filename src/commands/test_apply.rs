//! `test-apply`: prove the pending migrations on a scratch copy of the
//! database (apply, roll back newest first, apply again) and say exactly what
//! changed. The real database is only ever opened read-only; the engines and
//! the round trip live in `engine`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::cli::{EngineChoice, TestApplyArgs};
use crate::config::ProjectConfig;
use crate::diagnostic::Severity;
use crate::engine::native::Native;
use crate::engine::round_trip::{self, RoundTrip};
use crate::engine::scratch::{self, Mode};
use crate::engine::yoyo::Yoyo;
use crate::engine::{self, Engine, Failure, Runner};
use crate::error::{AppError, ExitStatus};
use crate::lint::{self, Finding, LintConfig};
use crate::migrations::{self, Migration};
use crate::output::{Printer, Report};

#[derive(Debug, Serialize)]
pub struct TestApplyReport {
    pub ok: bool,
    /// `native` or `yoyo`.
    pub engine: &'static str,
    pub database: DatabaseInfo,
    /// Things worth knowing that did not fail the run.
    pub warnings: Vec<String>,
    #[serde(flatten)]
    pub round_trip: RoundTrip,
    /// What `lint` finds in the pending migrations; an error fails the run.
    pub lint: Vec<Finding>,
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

fn choose_engine(args: &TestApplyArgs, root: &Path) -> Result<Engine, AppError> {
    let found = engine::find_yoyo(args.yoyo.as_deref(), root);
    match args.engine {
        EngineChoice::Native => Ok(Engine::Native),
        EngineChoice::Auto => Ok(engine::auto_engine(found)),
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
/// yoyo engine imports the files itself, so a file our reader refuses (a
/// Python callable) is only a stand-in here.
fn read_migrations(config: &ProjectConfig, engine: &Engine) -> Result<Vec<Migration>, AppError> {
    let display = |p: &Path| config.display(p);
    migrations::read_folder(&config.migrations, &display, |file, e| match engine {
        Engine::Yoyo(_) => Ok(Migration::stand_in(file)),
        Engine::Native => {
            let mut err = e.into_app_error(&display(&file.path));
            if err.code == "unsupported_step" {
                err.hint = format!(
                    "{}; or run with --engine yoyo, which lets yoyo import the file",
                    err.hint
                );
            }
            Err(err)
        }
    })
}

/// The post-apply hooks. The native engine runs them and needs every one;
/// the yoyo engine runs its own, and ours only tell which tables they touch.
fn read_hooks(config: &ProjectConfig, strict: bool) -> Result<Vec<Migration>, AppError> {
    let display = |p: &Path| config.display(p);
    let found = migrations::discover(&config.migrations, &display)?;
    let mut hooks = Vec::new();
    for h in &found.hooks {
        match migrations::read(h) {
            Ok(m) => hooks.push(m),
            Err(e) if strict => return Err(e.into_app_error(&display(&h.path))),
            Err(_) => {}
        }
    }
    Ok(hooks)
}

/// The configured database file when it exists; a missing one is a warning
/// (the run starts from an empty database), anything but a file an error.
fn source_file(
    config: &ProjectConfig,
    warnings: &mut Vec<String>,
) -> Result<Option<PathBuf>, AppError> {
    let Some(path) = config.database_file()? else {
        return Ok(None);
    };
    match std::fs::metadata(&path) {
        Ok(m) if m.is_file() => Ok(Some(path)),
        Ok(m) => Err(AppError::env(
            "database_not_a_file",
            format!(
                "database {} is a {}, not a SQLite file",
                config.display(&path),
                if m.is_dir() {
                    "folder"
                } else {
                    "device, FIFO or socket"
                }
            ),
            "point --database (or yoyo.ini's `database`) at a SQLite database file",
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            warnings.push(format!(
                "database {} does not exist: the migrations ran on an empty database",
                config.display(&path)
            ));
            Ok(None)
        }
        Err(e) => Err(AppError::io("read", &path, &e)),
    }
}

/// `only` and the pending migrations it depends on, in order.
fn narrow<'a>(
    pending: Vec<&'a Migration>,
    ordered: &[Migration],
    only: &str,
) -> Result<Vec<&'a Migration>, AppError> {
    let ids: Vec<&str> = pending.iter().map(|m| m.file.id.as_str()).collect();
    if !ids.contains(&only) {
        let known = ordered.iter().any(|m| m.file.id == only);
        return Err(AppError::env(
            if known {
                "not_pending"
            } else {
                "migration_not_found"
            },
            if known {
                format!("{only} is already applied in the database")
            } else {
                format!("no migration `{only}` in the migrations folder")
            },
            if ids.is_empty() {
                "nothing is pending; scaffold a migration first".to_string()
            } else {
                format!("pending: {}", ids.join(", "))
            },
        ));
    }
    let mut wanted = std::collections::BTreeSet::from([only.to_string()]);
    for m in pending.iter().rev() {
        if wanted.contains(&m.file.id) {
            wanted.extend(m.depends.iter().cloned());
        }
    }
    Ok(pending
        .into_iter()
        .filter(|m| wanted.contains(&m.file.id))
        .collect())
}

pub fn run(args: &TestApplyArgs, root: &Path) -> Result<TestApplyReport, AppError> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.timeout);
    let config = ProjectConfig::load(root, args.dir.as_deref(), args.database.as_deref())?;
    let engine = choose_engine(args, &config.root)?;
    let ordered = read_migrations(&config, &engine)?;
    let mut warnings = Vec::new();
    let source = source_file(&config, &mut warnings)?;
    let mut scratch = scratch::make(source.as_deref(), args.schema_only)?;
    let mut load_failures: Vec<Failure> = Vec::new();
    let (mut runner, pending_ids): (Box<dyn Runner>, Vec<String>) = match &engine {
        Engine::Native => {
            let mut native = Native::open(&scratch.path, read_hooks(&config, true)?)?;
            native.set_deadline(deadline);
            let done = engine::Applied::read(native.conn())?;
            let ids = ordered
                .iter()
                .map(|m| m.file.id.clone())
                .filter(|id| !done.contains(id))
                .collect();
            (Box::new(native), ids)
        }
        Engine::Yoyo(yoyo) => {
            let mut driver = Yoyo::start(yoyo, &scratch.path, &config.migrations, deadline)?;
            load_failures = std::mem::take(&mut driver.load_failures);
            let ids = std::mem::take(&mut driver.pending);
            (Box::new(driver), ids)
        }
    };
    let mut pending: Vec<&Migration> = pending_ids
        .iter()
        .filter_map(|id| ordered.iter().find(|m| &m.file.id == id))
        .collect();
    if !load_failures.is_empty() {
        pending.clear();
    } else if let Some(only) = &args.only {
        pending = narrow(pending, &ordered, only)?;
    }
    let findings = lint_pending(&config, &pending, deadline)?;
    let hooks = read_hooks(&config, false)?;
    let options = round_trip::Options {
        db: &scratch.path,
        queries: &args.query,
        deadline,
    };
    let mut round_trip = round_trip::run(runner.as_mut(), &pending, &hooks, &options)?;
    round_trip.failures.splice(0..0, load_failures);
    drop(runner);
    let kept = args.keep.then(|| scratch.keep().display().to_string());
    let lint_errors = findings
        .iter()
        .any(|f| f.diagnostic.severity == Severity::Error);
    let report = TestApplyReport {
        ok: round_trip.ok() && !lint_errors,
        engine: engine.name(),
        database: DatabaseInfo {
            source: source.as_deref().map(|p| config.display(p)),
            mode: scratch.mode,
            bytes: scratch.bytes,
            copy_duration_ms: scratch.copy_duration_ms,
        },
        warnings,
        round_trip,
        lint: findings,
        scratch: kept,
        duration_ms: started.elapsed().as_millis(),
    };
    drop(scratch);
    Ok(report)
}

/// `lint`'s findings for the pending migrations, each checked against the
/// schema the migrations before it build.
fn lint_pending(
    config: &ProjectConfig,
    pending: &[&Migration],
    deadline: Instant,
) -> Result<Vec<Finding>, AppError> {
    if pending.is_empty() {
        return Ok(Vec::new());
    }
    let settings = LintConfig::load(&config.root)?;
    let opts = lint::Options {
        only: Some(pending.iter().map(|m| m.file.path.clone()).collect()),
        since: None,
        virtual_files: Vec::new(),
        deadline: Some(deadline),
    };
    Ok(lint::lint_project(config, &settings, &opts)?.findings)
}

impl Report for TestApplyReport {
    fn text(&self, _printer: &Printer) -> String {
        render_text(self)
    }

    fn status(&self) -> ExitStatus {
        if self.ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}

fn render_text(r: &TestApplyReport) -> String {
    let t = &r.round_trip;
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
    for w in &r.warnings {
        out.push_str(&format!("warning: {w}\n"));
    }
    for f in &r.lint {
        out.push_str(&format!(
            "lint {}[{}]: {}:{}: {}\n",
            f.diagnostic.severity.as_str(),
            f.diagnostic.code,
            f.file,
            f.diagnostic.line,
            f.diagnostic.message
        ));
    }
    out.push_str(&format!(
        "applied: {}\n",
        if t.applied.is_empty() && t.failures.is_empty() {
            "nothing pending".to_string()
        } else if t.applied.is_empty() {
            "nothing".to_string()
        } else {
            t.applied.join(", ")
        }
    ));
    for line in t.changes.total.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    let n = |c: Option<i64>| c.map_or("-".to_string(), |c| c.to_string());
    for row in &t.rows {
        out.push_str(&format!(
            "  rows in {}: {} before, {} after apply, {} after rollback, {} after re-apply\n",
            row.table,
            n(row.before),
            n(row.after_apply),
            n(row.after_rollback),
            n(row.after_reapply)
        ));
    }
    out.push_str(&format!(
        "rollback restores the schema: {}; the row counts: {}\n",
        if t.rollback.restores_schema {
            "yes"
        } else {
            "no"
        },
        if t.rollback.restores_rows {
            "yes"
        } else {
            "no"
        }
    ));
    for d in &t.rollback.differences {
        out.push_str(&format!("  after rollback: {d}\n"));
    }
    for d in &t.reapply.differences {
        out.push_str(&format!("  after re-apply: {d}\n"));
    }
    for q in &t.queries {
        out.push_str(&format!("query: {}\n", q.sql));
        if let Some(e) = &q.error {
            out.push_str(&format!("  error: {e}\n"));
            continue;
        }
        out.push_str(&format!("  {}\n", q.columns.join(" | ")));
        for row in &q.rows {
            let cells: Vec<String> = row
                .iter()
                .map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect();
            out.push_str(&format!("  {}\n", cells.join(" | ")));
        }
        if q.truncated {
            out.push_str("  (more rows left out)\n");
        }
    }
    for f in &t.failures {
        out.push_str(&format!(
            "failure[{}]: {} {} step {}: {}\n",
            f.code,
            f.migration,
            f.phase.as_str(),
            f.step.map_or("?".into(), |s| s.to_string()),
            f.error
        ));
        if let Some(sql) = &f.sql {
            out.push_str(&format!(
                "  sql: {}\n",
                sql.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
        out.push_str(&format!("  hint: {}\n", f.hint));
    }
    for v in &t.foreign_key_violations {
        out.push_str(&format!(
            "foreign key violation: {} row {} -> {}\n",
            v.table,
            v.rowid.map_or("?".into(), |r| r.to_string()),
            v.parent
        ));
    }
    if !t.preexisting_foreign_key_violations.is_empty() {
        out.push_str(&format!(
            "({} foreign key violation{} already in the database, not caused by these migrations)\n",
            t.preexisting_foreign_key_violations.len(),
            if t.preexisting_foreign_key_violations.len() == 1 { "" } else { "s" }
        ));
    }
    if t.integrity != ["ok"] {
        for i in &t.integrity {
            out.push_str(&format!("integrity: {i}\n"));
        }
    }
    out
}
