//! `scaffold KIND`: write a new migration from a template, checked against
//! the schema the migrations produce, numbered safely under concurrency. The
//! work is done in `crate::scaffold`; this is the command around it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{ScaffoldArgs, ScaffoldKind};
use crate::config::ProjectConfig;
use crate::engine::native::{build, Built};
use crate::error::{AppError, ExitStatus};
use crate::lint::{self, Finding, LintConfig};
use crate::migrations;
use crate::output::{Printer, Report};
use crate::scaffold::data;
use crate::scaffold::plan::plan;
use crate::scaffold::rebuild::Rebuild;
use crate::scaffold::rehearse::rehearse;
use crate::scaffold::render::{compile_check, render, verify};
use crate::scaffold::request::read_spec;
use crate::scaffold::write::{create_exclusive, FolderLock};
use crate::scaffold::{Conventions, Note, Request};
use crate::sqlite::open_source;

#[derive(Debug, Serialize)]
pub struct ScaffoldReport {
    pub ok: bool,
    /// The migration file, relative to the project root.
    pub path: String,
    pub id: String,
    pub number: u64,
    /// The kind, or the kinds joined by `+` for several operations.
    pub kind: String,
    /// The module docstring.
    pub summary: String,
    /// The apply SQL of each step, in order.
    pub apply: Vec<String>,
    /// The rollback SQL of each step, in order.
    pub rollback: Vec<String>,
    /// Existing objects the migration changes or depends on (`table users`).
    pub touches: Vec<String>,
    /// For rebuild-table: what the rebuild changes and what a rollback loses.
    pub rebuild: Option<Rebuild>,
    /// The migration this one depends on, or null.
    pub depends: Option<String>,
    pub dry_run: bool,
    /// Whether the project's database was read for rows the migration breaks.
    pub data_checked: bool,
    /// The file's text.
    pub content: String,
    pub warnings: Vec<Note>,
    /// What `lint` finds in the file, checked against the schema the
    /// migrations before it build (no errors: scaffold refuses those).
    pub lint: Vec<Finding>,
}

fn usage(message: &str) -> AppError {
    AppError::env("usage", message, "run `migration-creator scaffold --help`")
}

pub fn run(args: &ScaffoldArgs, root: &Path) -> Result<ScaffoldReport, AppError> {
    let mut requests = match (&args.spec, &args.kind) {
        (Some(spec), None) => read_spec(spec)?,
        (None, Some(kind)) => vec![request_from_flags(kind)?],
        (Some(_), Some(_)) => return Err(usage("give a KIND or --spec, not both")),
        (None, None) => return Err(usage("scaffold needs a KIND or --spec -")),
    };
    if let Some(d) = &args.description {
        requests[0].description = Some(d.clone());
    }
    if let Some(s) = &args.summary {
        requests[0].summary = Some(s.clone());
    }
    let no_depends = args.no_depends || requests.iter().any(|r| r.no_depends);
    let dry_run = args.dry_run || requests.iter().any(|r| r.dry_run);
    let no_data = args.no_data || requests.iter().any(|r| r.no_data);
    let config = ProjectConfig::load(root, args.dir.as_deref(), None)?;
    let conventions = Conventions::load(&config.root)?;
    // The lock is held from reading the migrations to writing the file, so
    // two scaffolds never plan against the same schema.
    let _lock = if dry_run {
        None
    } else {
        Some(FolderLock::acquire(&config.migrations)?)
    };
    let Built { engine, .. } = build(&config)?;
    let plan = plan(&requests, &engine, &conventions)?;
    let rehearsed = rehearse(&engine, &plan)?;

    // What the project's data says, read-only.
    let mut notes: Vec<Note> = plan.notes.clone();
    notes.extend(rehearsed);
    let mut data_checked = false;
    if !no_data {
        if let Some(db) = config.database_file()?.filter(|p| p.is_file()) {
            let conn = open_source(&db)?;
            for (req, op) in requests.iter().zip(&plan.operations) {
                notes.extend(data::notes(&conn, req, op));
            }
            data_checked = true;
        }
    }

    let display = |p: &Path| config.display(p);
    let mut attempts = 0;
    // A name taken by something discovery does not count (a dangling link,
    // a folder) moves the number on instead of failing.
    let mut floor: u64 = 0;
    loop {
        attempts += 1;
        let discovery = migrations::discover(&config.migrations, &display)?;
        let numbers = crate::migrations::numbering::compute(
            &discovery,
            &display(&config.migrations),
            &display,
        );
        let depends = if no_depends {
            None
        } else {
            numbers.latest.as_ref().map(|l| l.id.clone())
        };
        let number = numbers.number.max(floor);
        let next = format!("{number:0width$}", width = numbers.width);
        let id = format!("{next}_{}", plan.description);
        let path: PathBuf = config.migrations.join(format!("{id}.py"));
        let text = render(&config.root, &plan, depends.as_deref())?;
        verify(&text, &plan, depends.as_deref())?;
        compile_check(&config.root, &text)?;
        let findings = lint_new(&config, &path, &text)?;
        let mut warnings: Vec<Note> = numbers
            .warnings
            .into_iter()
            .filter(|w| w.code == "width_overflow" || w.code == "duplicate_number")
            .map(|w| Note {
                code: w.code,
                message: w.message,
                hint: None,
            })
            .collect();
        warnings.extend(notes.iter().cloned());
        let report = ScaffoldReport {
            ok: true,
            path: display(&path),
            id,
            number,
            kind: plan.kind.clone(),
            summary: plan.docstring.clone(),
            apply: plan.steps.iter().map(|(a, _)| a.clone()).collect(),
            rollback: plan.steps.iter().map(|(_, r)| r.clone()).collect(),
            touches: plan.touches.clone(),
            rebuild: plan.rebuild.clone(),
            depends,
            dry_run,
            data_checked,
            content: text.clone(),
            warnings,
            lint: findings,
        };
        if !dry_run && !create_exclusive(&path, &text)? {
            floor = number + 1;
            if attempts > 100 {
                return Err(AppError::env(
                    "number_unavailable",
                    "could not find a free migration number",
                    "check the migrations folder",
                ));
            }
            continue;
        }
        return Ok(report);
    }
}

/// Lint the file about to be written at `path`; an error refuses it.
fn lint_new(config: &ProjectConfig, path: &Path, text: &str) -> Result<Vec<Finding>, AppError> {
    let settings = LintConfig::load(&config.root)?;
    let opts = lint::Options {
        only: Some(vec![path.to_path_buf()]),
        since: None,
        virtual_files: vec![(path.to_path_buf(), text.to_string())],
        deadline: None,
    };
    let findings = lint::lint_project(config, &settings, &opts)?.findings;
    let errors: Vec<String> = findings
        .iter()
        .filter(|f| f.diagnostic.severity == crate::diagnostic::Severity::Error)
        .map(|f| format!("{}: {}", f.diagnostic.code, f.diagnostic.message))
        .collect();
    if !errors.is_empty() {
        return Err(crate::scaffold::refuse(
            "lint_error",
            format!("the migration would not pass lint: {}", errors.join("; ")),
            "change the request so that the migration applies on a database with rows (`migration-creator lint --help` explains each code)",
        ));
    }
    Ok(findings)
}

impl Report for ScaffoldReport {
    fn text(&self, _printer: &Printer) -> String {
        let verb = if self.dry_run { "would write" } else { "wrote" };
        let mut text = format!("{verb} {}\n", self.path);
        for w in &self.warnings {
            text.push_str(&format!("warning[{}]: {}\n", w.code, w.message));
            if let Some(h) = &w.hint {
                text.push_str(&format!("  hint: {h}\n"));
            }
        }
        for f in &self.lint {
            text.push_str(&format!(
                "{}[{}]: {}\n",
                f.diagnostic.severity.as_str(),
                f.diagnostic.code,
                f.diagnostic.message
            ));
        }
        text.push('\n');
        text.push_str(&self.content);
        text
    }

    fn status(&self) -> ExitStatus {
        ExitStatus::Success
    }
}

fn request_from_flags(kind: &ScaffoldKind) -> Result<Request, AppError> {
    Ok(match kind {
        ScaffoldKind::CreateTable(a) => Request {
            kind: "create-table".into(),
            table: a.table.clone(),
            columns: a.column.clone(),
            no_timestamps: a.no_timestamps,
            primary_key: a.primary_key.clone(),
            without_rowid: a.without_rowid,
            constraints: a.constraint.clone(),
            definition: a.definition.clone(),
            ..Request::default()
        },
        ScaffoldKind::AddColumn(a) => Request {
            kind: "add-column".into(),
            table: Some(a.table.clone()),
            columns: a.column.clone(),
            ..Request::default()
        },
        ScaffoldKind::CreateIndex(a) => Request {
            kind: "create-index".into(),
            table: Some(a.table.clone()),
            columns: vec![a.columns.clone()],
            unique: a.unique,
            name: a.name.clone(),
            ..Request::default()
        },
        ScaffoldKind::DropIndex(a) => Request {
            kind: "drop-index".into(),
            name: Some(a.name.clone()),
            ..Request::default()
        },
        ScaffoldKind::RenameColumn(a) => Request {
            kind: "rename-column".into(),
            table: Some(a.table.clone()),
            from: Some(a.from.clone()),
            to: Some(a.to.clone()),
            ..Request::default()
        },
        ScaffoldKind::RenameTable(a) => Request {
            kind: "rename-table".into(),
            from: Some(a.from.clone()),
            to: Some(a.to.clone()),
            ..Request::default()
        },
        ScaffoldKind::DropTable(a) => Request {
            kind: "drop-table".into(),
            table: Some(a.table.clone()),
            ..Request::default()
        },
        ScaffoldKind::InsertRows(a) => Request {
            kind: "insert-rows".into(),
            table: Some(a.table.clone()),
            rows: Some(serde_json::from_str(&a.rows).map_err(|e| {
                AppError::env(
                    "invalid_rows",
                    format!("--rows is not JSON: {e}"),
                    "give a JSON list of objects, for example --rows '[{\"id\": \"light\", \"label\": \"Light\"}]'",
                )
            })?),
            ..Request::default()
        },
        ScaffoldKind::RebuildTable(a) => Request {
            kind: "rebuild-table".into(),
            table: Some(a.table.clone()),
            definition: Some(a.definition.clone()),
            map: a.map.clone(),
            ..Request::default()
        },
        ScaffoldKind::Sql(a) => Request {
            kind: "sql".into(),
            apply: a.apply.clone(),
            rollback: a.rollback.clone(),
            ..Request::default()
        },
    })
}
