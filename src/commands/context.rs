//! `context`: the project as migration-creator sees it, in one JSON document,
//! so an agent that has no paths written into it (the plugin's agent) learns
//! the migrations folder, the database, yoyo, the engine `test-apply` would
//! pick, the pending migrations and the agent's install state in one call.
//! What cannot be known (a missing folder, an unreadable database) is a
//! warning with a code and a hint, never a failure of the whole command.

use std::path::Path;

use serde::Serialize;

use crate::agent::{self, Target};
use crate::cli::{ContextArgs, Scope};
use crate::config::{Origin, ProjectConfig};
use crate::engine;
use crate::error::{AppError, ExitStatus};
use crate::migrations::{self, Migration};
use crate::output::{Printer, Report};
use crate::settings::{self, RuleStatus};

#[derive(Debug, Serialize)]
pub struct ContextReport {
    pub ok: bool,
    /// migration-creator's own version.
    pub version: &'static str,
    /// The project root (absolute).
    pub project: String,
    /// The `yoyo.ini` in use, or null.
    pub config_file: Option<String>,
    pub migrations: MigrationsInfo,
    pub database: DatabaseInfo,
    pub yoyo: YoyoInfo,
    /// The engine `test-apply --engine auto` picks: `yoyo` or `native`.
    pub engine: &'static str,
    /// Migrations not recorded in the database's `_yoyo_migration`, in
    /// yoyo's order (all of them when there is no database yet); null when
    /// they cannot be known (see `warnings`).
    pub pending: Option<Vec<String>>,
    pub agent: AgentInfo,
    pub warnings: Vec<ContextWarning>,
}

#[derive(Debug, Serialize)]
pub struct MigrationsInfo {
    /// The folder, relative to the project root when inside it (no trailing `/`).
    pub dir: String,
    /// `flag`, `yoyo.ini` or `default`.
    pub origin: &'static str,
    pub exists: bool,
    /// How many migrations the folder holds.
    pub count: usize,
    /// The number `next-number` would give, or null without a folder.
    pub next: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct DatabaseInfo {
    /// The database URL, or null when none is configured.
    pub url: Option<String>,
    pub origin: &'static str,
    /// The SQLite file the URL names, or null.
    pub path: Option<String>,
    pub exists: bool,
}

#[derive(Debug, Serialize)]
pub struct YoyoInfo {
    pub found: bool,
    /// `--yoyo`, else `.venv/bin/yoyo`, else `yoyo` on PATH; null when none.
    pub path: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AgentInfo {
    /// The project's installed agent.
    pub project: AgentScope,
    /// The user's (`~/.claude/agents/`), or null when HOME is not set.
    pub user: Option<AgentScope>,
    /// Whether `.claude/settings.json` allows `Bash(migration-creator *)`;
    /// null when the file cannot be read.
    pub permission: Option<bool>,
}

#[derive(Debug, Serialize)]
pub struct AgentScope {
    pub path: String,
    /// `missing`, `current`, `outdated`, `modified`, or `unreadable`.
    pub state: &'static str,
}

#[derive(Debug, Serialize)]
pub struct ContextWarning {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
}

impl From<AppError> for ContextWarning {
    fn from(e: AppError) -> Self {
        ContextWarning {
            code: e.code,
            message: e.message,
            hint: e.hint,
        }
    }
}

fn origin(o: Origin) -> &'static str {
    match o {
        Origin::Flag => "flag",
        Origin::YoyoIni => "yoyo.ini",
        Origin::Default => "default",
    }
}

/// The migrations in yoyo's order; a file the reader refuses (a Python
/// callable) stands in empty, with a warning: its `__depends__` is unknown.
/// A file that cannot be read or imported is a warning: yoyo fails on it too.
fn ordered_ids(
    config: &ProjectConfig,
    warnings: &mut Vec<ContextWarning>,
) -> Result<Vec<String>, AppError> {
    let display = |p: &Path| config.display(p);
    let unreadable = std::cell::RefCell::new(Vec::new());
    let ordered = migrations::read_folder(&config.migrations, &display, |file, e| {
        // A file yoyo cannot import either is worth saying; one the reader
        // does not model (a Python callable, a computed `__depends__`) stays
        // in file-name order, which its `__depends__` may change.
        let unsupported = e.code == "unsupported_step";
        let mut w = ContextWarning::from(e.into_app_error(&display(&file.path)));
        if unsupported {
            w.message.push_str(
                "; `pending` keeps it in file-name order, which its `__depends__` may change",
            );
            w.hint = "`test-apply --engine yoyo` lets yoyo read and order it".into();
        }
        unreadable.borrow_mut().push(w);
        Ok(Migration::stand_in(file))
    })?;
    warnings.extend(unreadable.into_inner());
    Ok(ordered.into_iter().map(|m| m.file.id).collect())
}

fn scope_state(target: &Target, warnings: &mut Vec<ContextWarning>) -> AgentScope {
    let state = match agent::installed_state(target) {
        Ok(s) => s.as_str(),
        Err(mut e) => {
            e.message = e.message.replace(
                &target.agent.display().to_string(),
                &target.display(&target.agent),
            );
            warnings.push(e.into());
            "unreadable"
        }
    };
    AgentScope {
        path: target.display(&target.agent),
        state,
    }
}

pub fn run(args: &ContextArgs, root: &Path) -> Result<ContextReport, AppError> {
    let config = ProjectConfig::load(root, args.dir.as_deref(), args.database.as_deref())?;
    let mut warnings: Vec<ContextWarning> = Vec::new();
    let display = |p: &Path| config.display(p);

    let discovery = match migrations::discover(&config.migrations, &display) {
        Ok(d) => Some(d),
        Err(e) => {
            warnings.push(e.into());
            None
        }
    };
    let numbering = discovery
        .as_ref()
        .map(|d| migrations::numbering::compute(d, &display(&config.migrations), &display));
    let ordered = match discovery {
        Some(_) => match ordered_ids(&config, &mut warnings) {
            Ok(ids) => Some(ids),
            Err(e) => {
                warnings.push(e.into());
                None
            }
        },
        None => None,
    };

    let db_file = match config.database_file() {
        Ok(f) => f,
        Err(e) => {
            warnings.push(e.into());
            None
        }
    };
    let db_exists = db_file.as_deref().is_some_and(Path::is_file);
    let applied: Option<engine::Applied> = match (&config.database, &db_file) {
        // No database configured, or not created yet: every migration is pending.
        (None, _) => Some(engine::Applied::default()),
        (Some(_), Some(path)) if !path.exists() => Some(engine::Applied::default()),
        (Some(_), Some(path)) if path.is_file() => match crate::sqlite::open::open_source(path)
            .and_then(|conn| engine::Applied::read(&conn))
        {
            Ok(applied) => Some(applied),
            Err(mut e) => {
                e.message = e
                    .message
                    .replace(&path.display().to_string(), &display(path));
                warnings.push(e.into());
                None
            }
        },
        (Some(_), Some(path)) => {
            warnings.push(ContextWarning {
                code: "database_not_a_file",
                message: format!("database {} is not a SQLite file", display(path)),
                hint: "point --database (or yoyo.ini's `database`) at a SQLite database file"
                    .into(),
            });
            None
        }
        // A URL that names no SQLite file: already a warning.
        (Some(_), None) => None,
    };
    let pending = match (&ordered, &applied) {
        (Some(ids), Some(done)) => Some(
            ids.iter()
                .filter(|id| !done.contains(id))
                .cloned()
                .collect(),
        ),
        _ => None,
    };

    let yoyo = engine::find_yoyo(args.yoyo.as_deref(), &config.root);
    let chosen = engine::auto_engine(yoyo.clone());

    let project_target = Target::for_config(Scope::Project, config.clone())?;
    let project = scope_state(&project_target, &mut warnings);
    // Without HOME there is no user scope to report.
    let user = Target::for_config(Scope::User, config.clone())
        .ok()
        .map(|t| scope_state(&t, &mut warnings));
    let permission = match settings::rule_status(&project_target.settings) {
        Ok(s) => Some(s == RuleStatus::Present),
        Err(mut e) => {
            let settings = &project_target.settings;
            e.message = e
                .message
                .replace(&settings.display().to_string(), &display(settings));
            warnings.push(e.into());
            None
        }
    };

    Ok(ContextReport {
        ok: true,
        version: env!("CARGO_PKG_VERSION"),
        project: config.root.display().to_string(),
        config_file: config.ini.as_deref().map(display),
        migrations: MigrationsInfo {
            dir: display(&config.migrations)
                .trim_end_matches('/')
                .to_string(),
            origin: origin(config.migrations_origin),
            exists: config.migrations.is_dir(),
            count: numbering.as_ref().map_or(0, |n| n.count),
            next: numbering.map(|n| n.next),
        },
        database: DatabaseInfo {
            url: config.database.clone(),
            origin: origin(config.database_origin),
            path: db_file.as_deref().map(display),
            exists: db_exists,
        },
        yoyo: YoyoInfo {
            found: yoyo.as_deref().is_some_and(Path::is_file),
            path: yoyo.as_deref().filter(|p| p.is_file()).map(display),
        },
        engine: chosen.name(),
        pending,
        agent: AgentInfo {
            project,
            user,
            permission,
        },
        warnings,
    })
}

impl Report for ContextReport {
    fn text(&self, _printer: &Printer) -> String {
        let m = &self.migrations;
        let d = &self.database;
        let mut out = format!(
            "project: {}\nconfig: {}\nmigrations: {}/ ({}){}\n",
            self.project,
            self.config_file.as_deref().unwrap_or("none (no yoyo.ini)"),
            m.dir,
            m.origin,
            if m.exists {
                format!(
                    ", {} migrations, next {}",
                    m.count,
                    m.next.as_deref().unwrap_or("?")
                )
            } else {
                ", missing".to_string()
            }
        );
        out.push_str(&match &d.url {
            Some(url) => format!(
                "database: {url} ({}), {}\n",
                d.origin,
                if d.exists {
                    "exists"
                } else {
                    "does not exist yet"
                }
            ),
            None => "database: none configured\n".to_string(),
        });
        out.push_str(&format!(
            "yoyo: {}\nengine (test-apply --engine auto): {}\n",
            self.yoyo.path.as_deref().unwrap_or("not found"),
            self.engine
        ));
        out.push_str(&match &self.pending {
            Some(p) if p.is_empty() => "pending: none\n".to_string(),
            Some(p) => format!("pending: {}\n", p.join(", ")),
            None => "pending: unknown (see the warnings)\n".to_string(),
        });
        let a = &self.agent;
        out.push_str(&format!("agent: {} {}", a.project.path, a.project.state));
        if let Some(u) = &a.user {
            out.push_str(&format!("; {} {}", u.path, u.state));
        }
        out.push('\n');
        out.push_str(&format!(
            "permission: {}\n",
            match a.permission {
                Some(true) => "allowed in .claude/settings.json",
                Some(false) => "not in .claude/settings.json",
                None => "unknown (see the warnings)",
            }
        ));
        for w in &self.warnings {
            out.push_str(&format!(
                "warning[{}]: {}\n  hint: {}\n",
                w.code, w.message, w.hint
            ));
        }
        out
    }

    fn status(&self) -> ExitStatus {
        ExitStatus::Success
    }
}
