//! `lint`: the SQLite + yoyo hazards that a test on an empty database cannot
//! show. The folder is read with the same reader and applied, migration by
//! migration, through the same native engine as `schema` and `test-apply`
//! (on a database in memory), so each migration is checked against the
//! schema every migration before it builds. The rules are one table
//! (`rules`), the checks one module per family (`checks`), suppression
//! comments (`suppress`) and `pyproject.toml` settings (`config`) apply
//! after, and `--since` (`since`) narrows what is reported to what changed.

pub mod checks;
pub mod config;
pub mod rules;
pub mod since;
pub mod sql;
pub mod suppress;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::ProjectConfig;
use crate::diagnostic::{Diagnostic, Severity};
use crate::engine::native::Native;
use crate::error::AppError;
use crate::migrations::{self, Kind, Migration, MigrationFile, ReadError};

pub use config::LintConfig;

/// One finding in one migration file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The file, relative to the project root when inside it.
    pub file: String,
    /// The migration id (the file name without its extension).
    pub migration: String,
    /// 1-based step (or statement of a `.sql` file), when the finding is about one.
    pub step: Option<usize>,
    #[serde(flatten)]
    pub diagnostic: Diagnostic,
    #[serde(skip)]
    pub path: PathBuf,
    /// About the whole file (no step, no line of its own): at 1:1.
    #[serde(skip)]
    pub whole_file: bool,
}

/// A finding before it has a place and a severity: what a check returns.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    /// 0-based step index.
    pub step: Option<usize>,
    /// A line of the file, when the finding is about one line.
    pub line: Option<usize>,
}

/// A finding with `code` (a code of `rules::RULES`).
pub fn finding(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Pending {
    Pending {
        code,
        message: message.into(),
        hint: hint.into(),
        step: None,
        line: None,
    }
}

impl Pending {
    pub fn step(mut self, index: usize) -> Self {
        self.step = Some(index);
        self
    }

    pub fn line(mut self, line: usize) -> Self {
        self.line = Some(line);
        self
    }
}

/// What to lint and how.
#[derive(Debug, Default)]
pub struct Options {
    /// Files whose findings are reported (absolute paths); `None`: every migration.
    pub only: Option<Vec<PathBuf>>,
    /// Report only migrations added or changed since this git revision.
    pub since: Option<String>,
    /// Files not on disk (or to be read from here instead): a migration
    /// `scaffold` is about to write, with its text.
    pub virtual_files: Vec<(PathBuf, String)>,
    /// When a statement still running is interrupted (a recursive CTE that
    /// never ends); it is then reported as `migration_fails`.
    pub deadline: Option<std::time::Instant>,
}

/// What `lint` found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The files whose findings are reported, in yoyo's order.
    pub linted: Vec<String>,
    pub findings: Vec<Finding>,
    /// Findings a `migration-creator: ignore` comment or the configuration hid.
    pub suppressed: usize,
    /// `only` paths that are not migrations in the folder, and why.
    pub skipped: Vec<(String, String)>,
}

/// A migration file with its text and what the reader made of it.
struct Source {
    file: MigrationFile,
    text: String,
    read: Result<Migration, ReadError>,
}

/// Lint the project's migrations folder.
pub fn lint_project(
    config: &ProjectConfig,
    settings: &LintConfig,
    opts: &Options,
) -> Result<Outcome, AppError> {
    let display = |p: &Path| config.display(p);
    let discovery = migrations::discover(&config.migrations, &display)?;
    let mut files = discovery.migrations.clone();
    for (path, _) in &opts.virtual_files {
        if !files.iter().any(|f| f.path == *path) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let (id, kind) = match name.strip_suffix(".py") {
                Some(id) => (id.to_string(), Kind::Python),
                None => (name.trim_end_matches(".sql").to_string(), Kind::Sql),
            };
            files.push(MigrationFile {
                id,
                path: path.clone(),
                file_name: name,
                kind,
            });
        }
    }
    files.sort_by(|a, b| a.file_name.cmp(&b.file_name));

    let mut sources: Vec<Source> = files
        .into_iter()
        .map(|file| {
            let virtual_text = opts
                .virtual_files
                .iter()
                .find(|(p, _)| *p == file.path)
                .map(|(_, t)| t.clone());
            let (text, read) = match virtual_text {
                Some(text) => {
                    let read = read_text(&file, &text);
                    (text, read)
                }
                None => {
                    let text = std::fs::read_to_string(&file.path).unwrap_or_default();
                    (text, migrations::read(&file))
                }
            };
            Source { file, text, read }
        })
        .collect();

    // Which files are reported.
    let mut reported: BTreeSet<PathBuf> = match &opts.only {
        Some(only) => only.iter().cloned().collect(),
        None => sources.iter().map(|s| s.file.path.clone()).collect(),
    };
    let mut outcome = Outcome::default();
    let mut changed: BTreeMap<PathBuf, Vec<Pending>> = BTreeMap::new();
    if let Some(rev) = &opts.since {
        let changes = since::changes(&config.root, &config.migrations, rev)?;
        reported.retain(|p| changes.contains_key(p));
        changed = changes;
    }
    // `only` may name rollback files (their migration is meant) and files
    // that are not migrations of this folder.
    if let Some(only) = &opts.only {
        let mut once = BTreeSet::new();
        for p in only.iter().filter(|p| once.insert(*p)) {
            if sources.iter().any(|s| s.file.path == *p) {
                continue;
            }
            reported.remove(p);
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            let base = name
                .as_deref()
                .and_then(|n| n.strip_suffix(".rollback.sql"));
            if let Some(s) = base.and_then(|b| {
                sources
                    .iter()
                    .find(|s| s.file.id == b && s.file.kind == Kind::Sql)
            }) {
                if opts.since.is_none()
                    || changed.contains_key(p)
                    || changed.contains_key(&s.file.path)
                {
                    reported.insert(s.file.path.clone());
                }
                continue;
            }
            if discovery.hooks.iter().any(|h| h.path == *p) {
                outcome
                    .skipped
                    .push((display(p), "a post-apply hook, not a migration".into()));
            } else if discovery.orphan_rollbacks.contains(p) {
                outcome
                    .skipped
                    .push((display(p), "a rollback file with no .sql migration".into()));
            } else if p.parent() != Some(config.migrations.as_path()) {
                outcome.skipped.push((
                    display(p),
                    format!(
                        "not in the migrations folder {}",
                        display(&config.migrations)
                    ),
                ));
            } else {
                outcome.skipped.push((
                    display(p),
                    "not a migration (yoyo reads only .py and .sql files)".into(),
                ));
            }
        }
    }

    let mut pending: BTreeMap<PathBuf, Vec<Pending>> = BTreeMap::new();
    for (path, list) in changed {
        pending.entry(path).or_default().extend(list);
    }
    for p in &discovery.orphan_rollbacks {
        pending.entry(p.clone()).or_default().push(finding(
            "orphan_rollback",
            format!(
                "{} has no matching .sql migration; yoyo ignores it",
                display(p)
            ),
            "rename it to match its migration (NAME.sql and NAME.rollback.sql), or delete it",
        ));
        if opts.only.is_none() && opts.since.is_none() {
            reported.insert(p.clone());
        }
    }
    for (path, list) in checks::folder(&sources_view(&sources)) {
        pending.entry(path).or_default().extend(list);
    }

    // Apply every readable migration in yoyo's order, checking each.
    let mut readable = Vec::new();
    let mut schema_complete = true;
    for s in &mut sources {
        match &s.read {
            Ok(m) => readable.push(m.clone()),
            Err(e) => {
                schema_complete = false;
                pending
                    .entry(s.file.path.clone())
                    .or_default()
                    .push(checks::unreadable(e));
            }
        }
    }
    let ordered = match migrations::order(readable.clone(), &display) {
        Ok(o) => o,
        Err(e) => {
            // yoyo refuses the folder; lint the files in name order.
            let first = readable.first().map(|m| m.file.path.clone());
            if let Some(p) = first {
                pending.entry(p).or_default().push(finding(
                    "dependency_error",
                    e.message.clone(),
                    e.hint.clone(),
                ));
            }
            readable
        }
    };
    let mut engine = Native::in_memory()?;
    engine.set_deadline(
        opts.deadline
            .unwrap_or_else(|| std::time::Instant::now() + std::time::Duration::from_secs(300)),
    );
    let mut previous = None;
    let by_path: std::collections::HashMap<&Path, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.file.path.as_path(), i))
        .collect();
    for m in &ordered {
        let text = by_path
            .get(m.file.path.as_path())
            .map_or("", |&i| sources[i].text.as_str());
        let (found, schema_after) =
            checks::migration(&engine, m, text, schema_complete, previous.take())?;
        previous = schema_after;
        if found
            .iter()
            .any(|p| p.code == "migration_fails" || p.code == "schema_incomplete")
        {
            schema_complete = false;
        }
        pending
            .entry(m.file.path.clone())
            .or_default()
            .extend(found);
    }

    // Place, suppress, configure, keep what is reported.
    let order: Vec<PathBuf> = ordered
        .iter()
        .map(|m| m.file.path.clone())
        .chain(sources.iter().map(|s| s.file.path.clone()))
        .chain(pending.keys().cloned())
        .collect();
    let mut seen = BTreeSet::new();
    for path in order {
        if !seen.insert(path.clone()) || !reported.contains(&path) {
            continue;
        }
        let source = by_path.get(path.as_path()).map(|&i| &sources[i]);
        let text = source.map_or("", |s| s.text.as_str());
        let m = source.and_then(|s| s.read.as_ref().ok());
        let id = source.map_or_else(
            || {
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            },
            |s| s.file.id.clone(),
        );
        let list = pending.remove(&path).unwrap_or_default();
        let shown = display(&path);
        let place_here = |p: Pending| place(&shown, &path, &id, text, m, p);
        let placed: Vec<Finding> = list.into_iter().map(place_here).collect();
        let kind = source.map(|s| s.file.kind);
        let (kept, hidden) = suppress::apply(text, kind, m, placed, settings, &place_here);
        outcome.suppressed += hidden;
        outcome.linted.push(display(&path));
        outcome.findings.extend(kept);
    }
    Ok(outcome)
}

/// Read a migration's text that is not (yet) on disk.
fn read_text(file: &MigrationFile, text: &str) -> Result<Migration, ReadError> {
    match file.kind {
        Kind::Python => migrations::python::read(text).map(|m| Migration {
            file: file.clone(),
            docstring: m.docstring,
            depends: m.depends,
            transactional: m.transactional,
            steps: m.steps,
        }),
        Kind::Sql => migrations::read(file),
    }
}

/// The view of the sources the folder checks need.
fn sources_view(sources: &[Source]) -> Vec<checks::FileView<'_>> {
    sources
        .iter()
        .map(|s| checks::FileView {
            file: &s.file,
            text: &s.text,
            migration: s.read.as_ref().ok(),
        })
        .collect()
}

/// Give a pending finding its position and default severity.
fn place(
    display: &str,
    path: &Path,
    id: &str,
    text: &str,
    m: Option<&Migration>,
    p: Pending,
) -> Finding {
    let severity = rules::rule_for(p.code).map_or(Severity::Warning, |r| r.severity);
    let step_line = p
        .step
        .and_then(|i| m.and_then(|m| m.steps.get(i)))
        .map(|s| s.line);
    let lines: Vec<&str> = text.lines().collect();
    let mut line = p.line.or(step_line).unwrap_or(1);
    let sql = m.is_some_and(|m| m.file.kind == Kind::Sql);
    if sql && p.line.is_none() && step_line.is_some() {
        // A statement's text starts with the comments before it.
        while lines.get(line - 1).is_some_and(|l| {
            let t = l.trim();
            t.is_empty() || t.starts_with("--")
        }) && line < lines.len()
        {
            line += 1;
        }
    }
    let line_text = lines.get(line.saturating_sub(1)).copied().unwrap_or("");
    // Point at `step(` on a step's line, at the statement or line otherwise,
    // at the file's start for the whole file.
    let (column, len) = match line_text.find("step(") {
        Some(i) if p.line.is_none() && m.is_some_and(|m| m.file.kind == Kind::Python) => {
            (line_text[..i].chars().count() + 1, 4)
        }
        _ if p.line.is_none() && step_line.is_none() => (1, 1),
        _ => {
            let indent = line_text.len() - line_text.trim_start().len();
            let body = line_text.trim().chars().count();
            (line_text[..indent].chars().count() + 1, body.max(1))
        }
    };
    let diagnostic = Diagnostic::new(severity, p.code, p.message)
        .at(line, column)
        .len(len)
        .hint(p.hint);
    Finding {
        file: display.to_string(),
        migration: id.to_string(),
        step: p.step.map(|i| i + 1),
        whole_file: p.step.is_none() && p.line.is_none(),
        diagnostic,
        path: path.to_path_buf(),
    }
}
