//! Migrations as yoyo-migrations 9.0.0 finds, reads and orders them.
//!
//! Every regular file ending in `.py` or `.sql` directly in the sources
//! folder is a migration (yoyo's own `_tmp_yoyonew*` files aside), including
//! `__init__.py` and names starting with `_` or `.`; `NAME.rollback.sql` is
//! the rollback of `NAME.sql`; files starting with `post-apply` are hooks.
//! A migration's id is its file name without the last extension; the order is
//! a plain string sort of file names, then `__depends__` (yoyo's stable
//! topological sort).

pub mod numbering;
pub mod python;
pub mod sql;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::AppError;

/// A migration file found in the sources folder.
#[derive(Debug, Clone)]
pub struct MigrationFile {
    pub id: String,
    pub path: PathBuf,
    pub file_name: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Python,
    Sql,
}

/// What `discover` found in a sources folder.
#[derive(Debug, Default)]
pub struct Discovery {
    /// Migrations in yoyo's file-name order.
    pub migrations: Vec<MigrationFile>,
    /// `post-apply*` hooks.
    pub hooks: Vec<MigrationFile>,
    /// `NAME.rollback.sql` files with no `NAME.sql`.
    pub orphan_rollbacks: Vec<PathBuf>,
}

/// Find the migrations in `dir` as yoyo does.
pub fn discover(dir: &Path, display: &dyn Fn(&Path) -> String) -> Result<Discovery, AppError> {
    if !dir.is_dir() {
        return Err(AppError::env(
            "migrations_dir_not_found",
            format!("migrations folder {} does not exist", display(dir)),
            "pass --dir DIR, or set `sources` in the [DEFAULT] section of yoyo.ini",
        ));
    }
    let entries = std::fs::read_dir(dir).map_err(|e| AppError::io("read the folder", dir, &e))?;
    let mut names: Vec<(String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| AppError::io("read the folder", dir, &e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let is_migration =
            (name.ends_with(".py") || name.ends_with(".sql")) && !name.starts_with("_tmp_yoyonew");
        if !is_migration {
            continue;
        }
        // yoyo's `path.is_file()` follows symbolic links; the directory entry's
        // type answers without a stat for everything else.
        let path = entry.path();
        let is_file = match entry.file_type() {
            Ok(t) if t.is_symlink() => path.is_file(),
            Ok(t) => t.is_file(),
            Err(_) => path.is_file(),
        };
        if is_file {
            names.push((name, path));
        }
    }
    names.sort();
    let mut out = Discovery::default();
    let sql_ids: HashSet<String> = names
        .iter()
        .filter(|(n, _)| n.ends_with(".sql") && !n.ends_with(".rollback.sql"))
        .map(|(n, _)| n[..n.len() - 4].to_string())
        .collect();
    for (name, path) in names {
        if let Some(base) = name.strip_suffix(".rollback.sql") {
            if !sql_ids.contains(base) {
                out.orphan_rollbacks.push(path);
            }
            continue;
        }
        let (id, kind) = match name.strip_suffix(".py") {
            Some(id) => (id.to_string(), Kind::Python),
            None => (name[..name.len() - 4].to_string(), Kind::Sql),
        };
        let file = MigrationFile {
            id,
            path,
            file_name: name,
            kind,
        };
        if file.id.starts_with("post-apply") {
            out.hooks.push(file);
        } else {
            out.migrations.push(file);
        }
    }
    Ok(out)
}

/// One step: its apply SQL, its rollback SQL (None when it has none).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub apply: String,
    pub rollback: Option<String>,
    /// Line of the step in its file.
    pub line: usize,
    #[serde(skip)]
    pub ignore_errors: Option<String>,
}

/// A migration, read.
#[derive(Debug, Clone)]
pub struct Migration {
    pub file: MigrationFile,
    pub docstring: Option<String>,
    pub depends: Vec<String>,
    pub transactional: bool,
    pub steps: Vec<Step>,
}

impl Migration {
    /// A migration with no steps and no dependencies, standing in for a file
    /// the reader refused where only its id and place matter.
    pub fn stand_in(file: &MigrationFile) -> Self {
        Migration {
            file: file.clone(),
            docstring: None,
            depends: Vec::new(),
            transactional: true,
            steps: Vec::new(),
        }
    }
}

/// Why a migration file cannot be read.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    /// `unsupported_step`, `python_syntax_error` or `migration_unreadable`.
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
}

impl ReadError {
    pub fn unsupported(line: usize, column: usize, what: impl Into<String>) -> Self {
        ReadError {
            code: "unsupported_step",
            message: what.into(),
            line,
            column,
        }
    }
    pub fn syntax(line: usize, column: usize, what: impl Into<String>) -> Self {
        ReadError {
            code: "python_syntax_error",
            message: what.into(),
            line,
            column,
        }
    }

    /// As an application error naming the file.
    pub fn into_app_error(self, file: &str) -> AppError {
        let hint = match self.code {
            "unsupported_step" => "only plain data is read (string literals, and names bound once to one); for Python steps use `test-apply --engine yoyo`",
            "migration_unreadable" => "check that the file is readable and UTF-8 (its permissions, its encoding)",
            _ => "fix the file so that Python can import it: yoyo cannot apply it either",
        };
        AppError::problem(
            self.code,
            format!("{file}:{}:{}: {}", self.line, self.column, self.message),
            hint,
        )
    }
}

/// Read one migration file.
pub fn read(file: &MigrationFile) -> Result<Migration, ReadError> {
    let unreadable = |what: String| ReadError {
        code: "migration_unreadable",
        message: what,
        line: 1,
        column: 1,
    };
    let text =
        std::fs::read(&file.path).map_err(|e| unreadable(format!("cannot read the file: {e}")))?;
    let text = String::from_utf8(text).map_err(|_| unreadable("the file is not UTF-8".into()))?;
    match file.kind {
        Kind::Python => {
            let m = python::read(&text)?;
            Ok(Migration {
                file: file.clone(),
                docstring: m.docstring,
                depends: m.depends,
                transactional: m.transactional,
                steps: m.steps,
            })
        }
        Kind::Sql => {
            let mut statements = sql::split_statements(&text);
            let mut directives = Vec::new();
            let mut docstring = None;
            if let Some((first, _)) = statements.first_mut() {
                let (d, comment, rest) = sql::directives(first);
                directives = d;
                docstring = Some(comment).filter(|c| !c.is_empty());
                *first = rest.trim().to_string();
            }
            statements.retain(|(s, _)| !s.trim().is_empty());
            let rollback_path = file
                .path
                .with_file_name(format!("{}.rollback.sql", file.id));
            let mut rollbacks: Vec<String> = match std::fs::read_to_string(&rollback_path) {
                Ok(t) => {
                    let mut r = sql::split_statements(&t);
                    if let Some((first, _)) = r.first_mut() {
                        *first = sql::directives(first).2.trim().to_string();
                    }
                    r.into_iter()
                        .map(|(s, _)| s)
                        .filter(|s| !s.trim().is_empty())
                        .collect()
                }
                Err(_) => Vec::new(),
            };
            rollbacks.reverse();
            let n = statements.len().max(rollbacks.len());
            let steps = (0..n)
                .map(|i| {
                    let (apply, line) = statements.get(i).cloned().unwrap_or((String::new(), 1));
                    Step {
                        apply,
                        rollback: rollbacks.get(i).cloned(),
                        line,
                        ignore_errors: None,
                    }
                })
                .collect();
            let get = |k: &str| {
                directives
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
            };
            let transactional = match get("transactional").map(|v| v.to_lowercase()) {
                None => true,
                Some(v) if v == "true" => true,
                Some(v) if v == "false" => false,
                Some(v) => {
                    return Err(ReadError::syntax(
                        1,
                        1,
                        format!("`-- transactional: {v}` is neither true nor false"),
                    ))
                }
            };
            let depends = get("depends")
                .map(|v| v.split_whitespace().map(String::from).collect())
                .unwrap_or_default();
            Ok(Migration {
                file: file.clone(),
                docstring,
                depends,
                transactional,
                steps,
            })
        }
    }
}

/// Discover, read and order the migrations in `dir`. A file the reader
/// refuses goes to `unreadable`, which gives an error or a stand-in.
pub fn read_folder(
    dir: &Path,
    display: &dyn Fn(&Path) -> String,
    unreadable: impl Fn(&MigrationFile, ReadError) -> Result<Migration, AppError>,
) -> Result<Vec<Migration>, AppError> {
    let discovery = discover(dir, display)?;
    let mut read_all = Vec::with_capacity(discovery.migrations.len());
    for file in &discovery.migrations {
        read_all.push(match read(file) {
            Ok(m) => m,
            Err(e) => unreadable(file, e)?,
        });
    }
    order(read_all, display)
}

/// yoyo's order: the file-name order, then a stable topological sort on
/// `__depends__` (a migration waits for its dependencies, otherwise keeps its
/// place). Unknown dependencies and cycles are errors, as in yoyo.
pub fn order(
    migrations: Vec<Migration>,
    display: &dyn Fn(&Path) -> String,
) -> Result<Vec<Migration>, AppError> {
    let ids: BTreeMap<String, usize> = migrations
        .iter()
        .enumerate()
        .map(|(i, m)| (m.file.id.clone(), i))
        .collect();
    for m in &migrations {
        for d in &m.depends {
            if !ids.contains_key(d) {
                return Err(AppError::problem(
                    "unknown_dependency",
                    format!("{} depends on `{d}`, which is not a migration in this folder", display(&m.file.path)),
                    "fix __depends__ to name an existing migration id (a file name without its extension)",
                ));
            }
        }
    }
    let n = migrations.len();
    let mut done = vec![false; n];
    let mut order = Vec::with_capacity(n);
    while order.len() < n {
        let next = (0..n).find(|&i| !done[i] && migrations[i].depends.iter().all(|d| done[ids[d]]));
        match next {
            Some(i) => {
                done[i] = true;
                order.push(i);
            }
            None => {
                let stuck: Vec<&str> = (0..n)
                    .filter(|&i| !done[i])
                    .map(|i| migrations[i].file.id.as_str())
                    .collect();
                return Err(AppError::problem(
                    "dependency_cycle",
                    format!(
                        "circular dependencies among these migrations: {}",
                        stuck.join(", ")
                    ),
                    "remove one `__depends__` entry to break the cycle",
                ));
            }
        }
    }
    let mut slots: Vec<Option<Migration>> = migrations.into_iter().map(Some).collect();
    Ok(order.into_iter().filter_map(|i| slots[i].take()).collect())
}
