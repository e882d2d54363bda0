//! `doctor`: what migration-creator finds in this project, and each problem
//! with its fix. A problem it can describe is a check that is not ok (exit 1),
//! never an error: only a bad flag or a project folder that cannot be read
//! stops it (exit 2).

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::agent::{rendered_agent, Installed, Target};
use crate::assets::AGENT_FILE;
use crate::cli::DoctorArgs;
use crate::config::{self, Origin, ProjectConfig};
use crate::engine;
use crate::error::{AppError, ExitStatus};
use crate::migrations::{self, Migration};
use crate::output::{Printer, Report, Style};
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

const INSTALL_YOYO: &str = "python3 -m venv .venv && .venv/bin/pip install yoyo-migrations==9.0.0";
const INSTALL: &str = "run `migration-creator install`";

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

/// The configuration; when yoyo.ini cannot be read, the flags and the
/// defaults, with the error. A project folder that does not exist (or a
/// working directory that cannot be read) is the only error.
fn load_config(
    args: &DoctorArgs,
    root: &Path,
) -> Result<(ProjectConfig, Option<AppError>), AppError> {
    let err = match ProjectConfig::load(root, args.dir.as_deref(), args.database.as_deref()) {
        Ok(c) => return Ok((c, None)),
        Err(e) => e,
    };
    let root = config::absolute(root)?;
    let Some(ini) = root
        .is_dir()
        .then(|| config::find_yoyo_ini(&root))
        .flatten()
    else {
        return Err(err);
    };
    let config = ProjectConfig {
        migrations: match &args.dir {
            Some(d) => config::normalize(&root.join(d)),
            None => root.join("migrations"),
        },
        migrations_origin: if args.dir.is_some() {
            Origin::Flag
        } else {
            Origin::Default
        },
        database: args
            .database
            .as_deref()
            .map(|u| config::rebase_sqlite_url(u, &root, &root)),
        database_origin: if args.database.is_some() {
            Origin::Flag
        } else {
            Origin::Default
        },
        ini: Some(ini),
        root,
    };
    Ok((config, Some(err)))
}

/// `message` with the absolute `path` in it shown as `shown`.
fn relative(message: &str, path: &Path, shown: &str) -> String {
    message.replace(&path.display().to_string(), shown)
}

/// Why a file under the project cannot be read, and its fix (ending with
/// `then`): a file where a folder belongs (`.claude/agents` as a file), a
/// folder where the file belongs, or the I/O error itself.
fn unreadable(target: &Target, path: &Path, err: &AppError, then: &str) -> (String, String) {
    let shown = target.display(path);
    let blocking = path
        .ancestors()
        .skip(1)
        .take_while(|a| a.starts_with(&target.base) && *a != target.base)
        .find(|a| a.exists() && !a.is_dir());
    if let Some(file) = blocking {
        let file = target.display(file);
        return (
            format!("{file} is a file, not a folder, so {shown} cannot be read"),
            format!("move {file} out of the way (rename or remove it), then {then}"),
        );
    }
    if path.is_dir() {
        return (
            format!("{shown} is a folder, not a file"),
            format!("move the folder {shown} out of the way, then {then}"),
        );
    }
    (
        relative(&err.message, path, &shown),
        format!("make {shown} readable (check its owner and permissions), then run `migration-creator doctor` again"),
    )
}

fn configuration_check(config: &ProjectConfig, ini_error: Option<&AppError>) -> Check {
    let ini = config
        .ini
        .as_deref()
        .map(|p| config.display(p))
        .unwrap_or_else(|| "none".into());
    let found = format!(
        "migrations: {} ({}); database: {} ({})",
        config.display(&config.migrations),
        origin(config.migrations_origin),
        config.database.as_deref().unwrap_or("none"),
        origin(config.database_origin)
    );
    match (ini_error, &config.ini) {
        (Some(e), Some(path)) => check(
            "configuration",
            false,
            format!(
                "{}; without it: {found}",
                relative(&e.message, path, &ini)
            ),
            Some(format!(
                "make {ini} a readable UTF-8 text file (yoyo reads it too), then run `migration-creator doctor` again"
            )),
        ),
        _ => check("configuration", true, format!("yoyo.ini: {ini}; {found}"), None),
    }
}

/// The migrations check, and the files (migrations and post-apply hooks)
/// with a Python step that test-apply's native engine cannot read.
fn migrations_check(config: &ProjectConfig) -> (Check, Vec<String>) {
    let display = |p: &Path| config.display(p);
    let found = match migrations::discover(&config.migrations, &display) {
        Ok(d) => d,
        Err(e) => {
            return (
                check(
                    "migrations",
                    false,
                    relative(&e.message, &config.migrations, &display(&config.migrations)),
                    Some(e.hint),
                ),
                Vec::new(),
            )
        }
    };
    let r = migrations::numbering::compute(&found, &display(&config.migrations), &display);
    let mut problems: Vec<String> = r
        .warnings
        .iter()
        .map(|w| format!("{}: {}", w.code, w.message))
        .collect();

    let callables = RefCell::new(Vec::new());
    let note = |file: &migrations::MigrationFile, e: &migrations::ReadError| {
        if e.code == "unsupported_step" {
            callables
                .borrow_mut()
                .push(format!("{}:{}:{}", display(&file.path), e.line, e.column));
        }
    };
    // Every file is read (the native engine reads the whole folder); a file
    // the reader refuses stands in empty, so the order is still checked.
    let ordered = migrations::read_folder(&config.migrations, &display, |file, e| {
        note(file, &e);
        Ok(Migration::stand_in(file))
    });
    if let Err(e) = ordered {
        problems.push(format!("{}: {}; {}", e.code, e.message, e.hint));
    }
    for hook in &found.hooks {
        if let Err(e) = migrations::read(hook) {
            note(hook, &e);
        }
    }
    let c = check(
        "migrations",
        problems.is_empty(),
        format!(
            "{} migrations in {}/, next number {}",
            r.count, r.directory, r.next
        ),
        Some(problems.join("; ")),
    );
    (c, callables.into_inner())
}

/// yoyo, found or not. Without one, test-apply falls back to its native
/// engine: a note, unless a file has a Python step that engine cannot read.
fn yoyo_check(yoyo: Option<&Path>, callables: Option<&[String]>) -> Check {
    let Some(p) = yoyo else {
        let missing = "not found in .venv/bin/ or on PATH";
        return match callables {
            Some([first, rest @ ..]) => check(
                "yoyo",
                false,
                format!(
                    "{missing}, and test-apply's native engine cannot read the Python step in {first}{}",
                    match rest.len() {
                        0 => String::new(),
                        n => format!(" (and {n} more)"),
                    }
                ),
                Some(format!(
                    "{INSTALL_YOYO} (test-apply needs yoyo for migrations with Python steps)"
                )),
            ),
            Some([]) => check(
                "yoyo",
                true,
                format!("{missing}: test-apply uses its native engine, which reads every migration here (install yoyo-migrations in .venv to test with yoyo itself)"),
                None,
            ),
            None => check(
                "yoyo",
                true,
                format!("{missing}: test-apply uses its native engine"),
                None,
            ),
        };
    };
    if !p.is_file() {
        return check(
            "yoyo",
            false,
            format!("{} (--yoyo) is not a file", p.display()),
            Some("pass --yoyo the path of a yoyo executable, or leave it out to use .venv/bin/yoyo or yoyo on PATH".into()),
        );
    }
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
    check(
        "yoyo",
        true,
        format!(
            "{} (yoyo-migrations {})",
            p.display(),
            version.as_deref().unwrap_or("version unknown")
        ),
        None,
    )
}

fn python_sqlite_check(yoyo: Option<&Path>) -> Check {
    let python = yoyo
        .map(|p| p.with_file_name("python"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "python3".into());
    let py_sqlite = Command::new(&python)
        .args(["-c", "import sqlite3; print(sqlite3.sqlite_version)"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match py_sqlite {
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
    }
}

fn agent_check(target: &Target) -> Check {
    let agent_path = target.display(&target.agent);
    let installed = match target.read_agent() {
        Ok(text) => text,
        Err(e) => {
            let (detail, fix) = unreadable(target, &target.agent, &e, INSTALL);
            return check("agent", false, detail, Some(fix));
        }
    };
    let expected = match rendered_agent(&target.config) {
        Ok(text) => text,
        Err(e) => return check("agent", false, e.message, Some(e.hint)),
    };
    let (ok, detail) = match Installed::of(installed.as_deref(), &expected) {
        Installed::Missing => (false, format!("{agent_path} is not installed")),
        Installed::Current => (true, format!("{agent_path} is current")),
        Installed::Outdated => (false, format!("{agent_path} is outdated")),
        Installed::Modified => (false, format!("{agent_path} has been edited")),
    };
    check(
        "agent",
        ok,
        detail,
        Some("migration-creator install (an edited agent needs --force; your version is kept as .bak)".into()),
    )
}

fn permission_check(target: &Target) -> Check {
    let shown = target.display(&target.settings);
    // A dry run of what install does: it reads the file as install would,
    // and changes nothing.
    match settings::add_rule(&target.settings, true) {
        Ok(rule) => {
            let present = rule == RuleStatus::Present;
            check(
                "permission",
                present,
                format!(
                    "`{PERMISSION_RULE}` is {} {shown}",
                    if present { "in" } else { "not in" },
                ),
                Some(
                    "migration-creator install (it adds the rule), then trust the workspace in Claude Code"
                        .into(),
                ),
            )
        }
        Err(e) if e.code == "settings_invalid" => check(
            "permission",
            false,
            relative(&e.message, &target.settings, &shown),
            Some(format!(
                "fix {shown} by hand (a JSON object, with `permissions.allow` a list if present), then {INSTALL}"
            )),
        ),
        Err(e) => {
            let (detail, fix) = unreadable(target, &target.settings, &e, INSTALL);
            check("permission", false, detail, Some(fix))
        }
    }
}

pub fn run(args: &DoctorArgs, root: &Path) -> Result<DoctorReport, AppError> {
    let (config, ini_error) = load_config(args, root)?;
    let claude_dir = config.root.join(".claude");
    let target = Target {
        base: config.root.clone(),
        agent: claude_dir.join("agents").join(AGENT_FILE),
        settings: claude_dir.join("settings.json"),
        config,
    };
    let config = &target.config;
    let mut checks = vec![configuration_check(config, ini_error.as_ref())];

    let (migrations, callables) = if ini_error.is_some() {
        let c = check(
            "migrations",
            false,
            "not checked: the migrations folder comes from yoyo.ini, which cannot be read",
            Some("fix yoyo.ini first (see the configuration check)".into()),
        );
        (c, None)
    } else {
        let (c, callables) = migrations_check(config);
        (c, Some(callables))
    };

    let yoyo: Option<PathBuf> = engine::find_yoyo(args.yoyo.as_deref(), &config.root);
    checks.push(yoyo_check(yoyo.as_deref(), callables.as_deref()));

    let bundled = rusqlite::version();
    checks.push(check(
        "sqlite (migration-creator)",
        at_least(bundled, (3, 35)),
        format!("SQLite {bundled}, bundled"),
        None,
    ));
    checks.push(python_sqlite_check(yoyo.as_deref()));
    checks.push(migrations);
    checks.push(if ini_error.is_some() {
        check(
            "agent",
            false,
            "not checked: the agent is rendered with yoyo.ini's settings, which cannot be read",
            Some("fix yoyo.ini first (see the configuration check)".into()),
        )
    } else {
        agent_check(&target)
    });
    checks.push(permission_check(&target));

    let report = DoctorReport {
        ok: checks.iter().all(|c| c.ok),
        checks,
    };
    Ok(report)
}

impl Report for DoctorReport {
    fn text(&self, printer: &Printer) -> String {
        let mut out = String::new();
        for c in &self.checks {
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
        out
    }

    fn status(&self) -> ExitStatus {
        if self.ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }
}
