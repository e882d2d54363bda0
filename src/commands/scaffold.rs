//! `scaffold KIND`: write a new migration from a template, checked against
//! the schema the migrations produce, numbered safely under concurrency. The
//! work is done in `crate::scaffold`; this is the command around it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::{Format, ScaffoldArgs, ScaffoldKind};
use crate::commands::next_number;
use crate::config::ProjectConfig;
use crate::error::{AppError, ExitStatus};
use crate::migrations;
use crate::output::Printer;
use crate::scaffold::plan::plan;
use crate::scaffold::rehearse::rehearse;
use crate::scaffold::render::{compile_check, render, verify};
use crate::scaffold::request::read_spec;
use crate::scaffold::write::{create_exclusive, FolderLock};
use crate::scaffold::Request;

#[derive(Debug, Serialize)]
pub struct ScaffoldReport {
    pub ok: bool,
    /// The migration file, relative to the project root.
    pub path: String,
    pub id: String,
    pub number: u64,
    pub kind: String,
    /// The apply SQL of each step, in order.
    pub apply: Vec<String>,
    /// The rollback SQL of each step, in order.
    pub rollback: Vec<String>,
    /// The migration this one depends on, or null.
    pub depends: Option<String>,
    pub dry_run: bool,
    /// The file's text.
    pub content: String,
    pub warnings: Vec<next_number::Warning>,
}

pub fn run(args: &ScaffoldArgs, root: &Path, printer: &Printer) -> Result<ExitStatus, AppError> {
    let mut req = match (&args.spec, &args.kind) {
        (Some(spec), None) => read_spec(spec)?,
        (None, Some(kind)) => request_from_flags(kind),
        (Some(_), Some(_)) => {
            return Err(AppError::env(
                "usage",
                "give a KIND or --spec, not both",
                "run `migration-creator scaffold --help`",
            ));
        }
        (None, None) => {
            return Err(AppError::env(
                "usage",
                "scaffold needs a KIND or --spec -",
                "run `migration-creator scaffold --help`",
            ))
        }
    };
    if let Some(d) = &args.description {
        req.description = Some(d.clone());
    }
    req.no_depends |= args.no_depends;
    req.dry_run |= args.dry_run;
    let dir_flag = args.dir.clone();
    let config = ProjectConfig::load(root, dir_flag.as_deref(), None)?;
    let crate::engine::native::Built { schema, engine, .. } =
        crate::engine::native::build(&config)?;
    let plan = plan(&req, &schema)?;
    rehearse(&engine, &plan)?;

    let display = |p: &Path| config.display(p);
    let _lock = if req.dry_run {
        None
    } else {
        Some(FolderLock::acquire(&config.migrations)?)
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let discovery = migrations::discover(&config.migrations, &display)?;
        let numbers = next_number::compute(&discovery, &display(&config.migrations), &display);
        let depends = if req.no_depends {
            None
        } else {
            numbers.latest.as_ref().map(|l| l.id.clone())
        };
        let id = format!("{}_{}", numbers.next, plan.description);
        let path: PathBuf = config.migrations.join(format!("{id}.py"));
        let text = render(&config.root, &plan, depends.as_deref())?;
        verify(&text, &plan, depends.as_deref())?;
        compile_check(&config.root, &text)?;
        let warnings: Vec<next_number::Warning> = numbers
            .warnings
            .into_iter()
            .filter(|w| w.code == "width_overflow" || w.code == "duplicate_number")
            .collect();
        let report = ScaffoldReport {
            ok: true,
            path: display(&path),
            id,
            number: numbers.number,
            kind: plan.kind.to_string(),
            apply: plan.steps.iter().map(|(a, _)| a.clone()).collect(),
            rollback: plan.steps.iter().map(|(_, r)| r.clone()).collect(),
            depends,
            dry_run: req.dry_run,
            content: text.clone(),
            warnings,
        };
        if !req.dry_run && !create_exclusive(&path, &text)? {
            if attempts > 100 {
                return Err(AppError::env(
                    "number_unavailable",
                    "could not find a free migration number",
                    "check the migrations folder",
                ));
            }
            continue;
        }
        match printer.format {
            Format::Json => printer.json(&report),
            _ => {
                let verb = if req.dry_run { "would write" } else { "wrote" };
                printer.out(&format!("{verb} {}\n\n{}", report.path, report.content));
            }
        }
        return Ok(ExitStatus::Success);
    }
}

fn request_from_flags(kind: &ScaffoldKind) -> Request {
    match kind {
        ScaffoldKind::CreateTable(a) => Request {
            kind: "create-table".into(),
            table: Some(a.table.clone()),
            columns: a.column.clone(),
            no_timestamps: a.no_timestamps,
            ..Request::default()
        },
        ScaffoldKind::AddColumn(a) => Request {
            kind: "add-column".into(),
            table: Some(a.table.clone()),
            columns: vec![a.column.clone()],
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
        ScaffoldKind::Sql(a) => Request {
            kind: "sql".into(),
            apply: a.apply.clone(),
            rollback: a.rollback.clone(),
            ..Request::default()
        },
    }
}
