//! `doctor`: what migration-creator finds in this project, and each problem
//! with its fix.

use std::path::Path;
use std::process::Command;

use serde::Serialize;

use crate::cli::{DoctorArgs, Format, ProjectConfigArgs, Scope};
use crate::commands::install::{rendered_agent, Installed, Target};
use crate::config::Origin;
use crate::engine;
use crate::error::{AppError, ExitStatus};
use crate::migrations;
use crate::output::{Printer, Style};
use crate::settings::{self, RuleStatus, PERMISSION_RULE};

#[derive(Debug, Serialize)]
pub struct DoctorReport {
    pub ok: bool,
    pub checks: Vec<Check>,
}

#[derive(Debug, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub ok: bool,
    /// What was found.
    pub detail: String,
    /// How to fix it, when it is not ok.
    pub fix: Option<String>,
}

fn check(name: &'static str, ok: bool, detail: impl Into<String>, fix: Option<String>) -> Check {
    Check {
        name,
        ok,
        detail: detail.into(),
        fix: if ok { None } else { fix },
    }
}

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Flag => "command line",
        Origin::YoyoIni => "yoyo.ini",
        Origin::Default => "default",
    }
}

/// `3.35.0` style versions compared numerically.
fn at_least(version: &str, min: (u32, u32)) -> bool {
    let mut parts = version
        .trim()
        .split('.')
        .map(|p| p.parse::<u32>().unwrap_or(0));
    let (a, b) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (a, b) >= min
}

pub fn run(args: &DoctorArgs, root: &Path, printer: &Printer) -> Result<ExitStatus, AppError> {
    let flags = ProjectConfigArgs {
        dir: args.dir.clone(),
        database: args.database.clone(),
    };
    let target = Target::resolve(Scope::Project, root, &flags)?;
    let config = &target.config;
    let mut checks = Vec::new();

    let ini = config
        .ini
        .as_deref()
        .map(|p| config.display(p))
        .unwrap_or_else(|| "none".into());
    checks.push(check(
        "configuration",
        true,
        format!(
            "yoyo.ini: {ini}; migrations: {} ({}); database: {} ({})",
            config.display(&config.migrations),
            origin(config.migrations_origin),
            config.database.as_deref().unwrap_or("none"),
            origin(config.database_origin)
        ),
        None,
    ));

    let yoyo = engine::find_yoyo(args.yoyo.as_deref(), &config.root);
    let yoyo_detail = match &yoyo {
        Some(p) => {
            let python = p.with_file_name("python");
            let version = Command::new(&python)
                .args([
                    "-c",
                    "import importlib.metadata as m; print(m.version('yoyo-migrations'))",
                ])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
            format!(
                "{} (yoyo-migrations {})",
                p.display(),
                version.as_deref().unwrap_or("version unknown")
            )
        }
        None => "not found in .venv/bin/ or on PATH".into(),
    };
    checks.push(check(
        "yoyo",
        yoyo.is_some(),
        yoyo_detail,
        Some("python3 -m venv .venv && .venv/bin/pip install yoyo-migrations==9.0.0 (test-apply falls back to its native engine meanwhile)".into()),
    ));

    let bundled = rusqlite::version();
    checks.push(check(
        "sqlite (migration-creator)",
        at_least(bundled, (3, 35)),
        format!("SQLite {bundled}, bundled"),
        None,
    ));
    let python = yoyo
        .as_ref()
        .map(|p| p.with_file_name("python"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "python3".into());
    let py_sqlite = Command::new(&python)
        .args(["-c", "import sqlite3; print(sqlite3.sqlite_version)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    checks.push(match py_sqlite {
        Some(v) => check(
            "sqlite (project python)",
            at_least(&v, (3, 35)),
            format!("SQLite {v} in {}", python.display()),
            Some("ALTER TABLE ... DROP COLUMN, the rollback of add-column, needs SQLite 3.35; use a newer Python".into()),
        ),
        None => check(
            "sqlite (project python)",
            false,
            format!("could not run {}", python.display()),
            Some("install Python 3 with its sqlite3 module, or create .venv".into()),
        ),
    });

    let display = |p: &Path| config.display(p);
    match migrations::discover(&config.migrations, &display) {
        Ok(d) => {
            let r =
                crate::migrations::numbering::compute(&d, &display(&config.migrations), &display);
            checks.push(check(
                "migrations",
                r.warnings.is_empty(),
                format!(
                    "{} migrations in {}/, next number {}",
                    r.count, r.directory, r.next
                ),
                Some(
                    r.warnings
                        .iter()
                        .map(|w| format!("{}: {}", w.code, w.message))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            ));
        }
        Err(e) => checks.push(check("migrations", false, e.message, Some(e.hint))),
    }

    let agent_path = target.display(&target.agent);
    let installed = target.read_agent()?;
    let expected = rendered_agent(config)?;
    let (ok, detail) = match Installed::of(installed.as_deref(), &expected) {
        Installed::Missing => (false, format!("{agent_path} is not installed")),
        Installed::Current => (true, format!("{agent_path} is current")),
        Installed::Outdated => (false, format!("{agent_path} is outdated")),
        Installed::Modified => (false, format!("{agent_path} has been edited")),
    };
    checks.push(check(
        "agent",
        ok,
        detail,
        Some("migration-creator install (an edited agent needs --force; your version is kept as .bak)".into()),
    ));
    let rule = settings::rule_status(&target.settings)?;
    checks.push(check(
        "permission",
        rule == RuleStatus::Present,
        format!(
            "`{PERMISSION_RULE}` is {} {}",
            if rule == RuleStatus::Present {
                "in"
            } else {
                "not in"
            },
            target.display(&target.settings)
        ),
        Some(
            "migration-creator install (it adds the rule), then trust the workspace in Claude Code"
                .into(),
        ),
    ));

    let report = DoctorReport {
        ok: checks.iter().all(|c| c.ok),
        checks,
    };
    if printer.format == Format::Json {
        printer.json(&report);
    } else {
        let mut out = String::new();
        for c in &report.checks {
            let mark = if c.ok {
                printer.paint(Style::Hint, "ok  ")
            } else {
                printer.paint(Style::Error, "FIX ")
            };
            out.push_str(&format!("{mark} {}: {}\n", c.name, c.detail));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("     fix: {fix}\n"));
            }
        }
        printer.out(&out);
    }
    Ok(if report.ok {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
