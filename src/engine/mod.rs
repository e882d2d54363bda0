//! Running migrations, with yoyo's rules, on a database we own. Three callers
//! share this one apply path: `schema` (building the schema in memory),
//! `scaffold`'s rehearsal, and `test-apply`, which runs the pending
//! migrations on a scratch copy with either engine:
//!
//! - `native`: our reader and rusqlite, one sealed connection for the run;
//! - `yoyo`: one Python process that drives yoyo's own API (`driver.py`).
//!
//! Both report the same [`Failure`]s and the tables they wrote, so the round
//! trip (`round_trip`) cannot tell them apart except by their verdicts.

// A `Failure` is the report an agent reads, not a fast-path error: it is made
// once per run at most, so it travels unboxed.
#![allow(clippy::result_large_err)]

pub mod diagnose;
pub mod native;
pub mod round_trip;
pub mod scratch;
pub mod yoyo;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rusqlite::Connection;
use serde::Serialize;

use crate::migrations::Migration;

/// Where in the round trip a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Apply,
    Rollback,
    Reapply,
}

impl Phase {
    /// Whether the phase runs the apply side of each step.
    pub fn applies(self) -> bool {
        !matches!(self, Phase::Rollback)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Apply => "apply",
            Phase::Rollback => "rollback",
            Phase::Reapply => "reapply",
        }
    }
}

/// A migration (or post-apply hook) that failed, with what an agent needs to
/// act: where, which SQL, SQLite's or yoyo's message, and a next step.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub migration: String,
    pub phase: Phase,
    /// 1-based step number (groups flattened, in the order yoyo runs them), when known.
    pub step: Option<usize>,
    /// The step's SQL, when the step is SQL.
    pub sql: Option<String>,
    /// `step_failed`, `constraint`, `outside_scratch`, `not_recorded`,
    /// `migration_import`, `timeout` or `yoyo_failed`.
    pub code: &'static str,
    pub error: String,
    pub hint: String,
}

impl Failure {
    pub fn new(
        migration: &str,
        phase: Phase,
        code: &'static str,
        error: impl Into<String>,
    ) -> Self {
        Failure {
            migration: migration.to_string(),
            phase,
            step: None,
            sql: None,
            code,
            error: error.into(),
            hint: String::new(),
        }
    }
}

/// An engine at work on one scratch database.
pub trait Runner {
    fn name(&self) -> &'static str;
    /// Apply (`Apply`, `Reapply`) or roll back (`Rollback`) one migration.
    fn run(&mut self, m: &Migration, phase: Phase) -> Result<(), Failure>;
    /// Run the post-apply hooks, as yoyo does after applying migrations.
    fn hooks(&mut self, phase: Phase) -> Result<(), Failure>;
    /// Tables of the main database written since the last call.
    fn take_touched(&mut self) -> BTreeSet<String>;
    /// A sealed connection on the scratch database, for reading it between runs.
    fn reader(&self) -> &Connection;
}

/// The engine `test-apply` was asked for (or `auto` picked).
#[derive(Debug, Clone)]
pub enum Engine {
    Native,
    Yoyo(PathBuf),
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Native => "native",
            Engine::Yoyo(_) => "yoyo",
        }
    }
}

/// What a database's `_yoyo_migration` records as applied, keyed the way
/// yoyo 9.0.0 keys it (`is_applied`: the SHA-256 of the id, in
/// `migration_hash`), so a row whose `migration_id` was edited by hand means
/// to us what it means to yoyo.
#[derive(Debug, Default)]
pub struct Applied {
    /// `migration_hash` to `migration_id` (as recorded, maybe null).
    hashes: std::collections::HashMap<String, Option<String>>,
}

impl Applied {
    /// Read `conn`'s bookkeeping. A database without `_yoyo_migration` has
    /// nothing applied; a table yoyo could not read either (another shape,
    /// a damaged file, a hash that is not text) is an error, never "nothing
    /// applied", which would send every migration at a live database again.
    pub fn read(conn: &Connection) -> Result<Self, crate::error::AppError> {
        let unreadable = |e: String| {
            crate::error::AppError::env(
                "yoyo_state_unreadable",
                format!("cannot read which migrations are applied (_yoyo_migration): {e}"),
                "check the database with `sqlite3 DB 'PRAGMA integrity_check; SELECT * FROM _yoyo_migration'`; yoyo cannot read it either",
            )
        };
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
            .map_err(|e| unreadable(e.to_string()))?;
        let has = |t: &str| tables.iter().any(|n| n == t);
        if !has("_yoyo_migration") {
            return Ok(Applied::default());
        }
        let hashes = if has("_yoyo_version") {
            conn.prepare("SELECT migration_hash, migration_id FROM _yoyo_migration")
                .and_then(|mut stmt| {
                    // yoyo only compares hashes: a NULL one matches nothing.
                    stmt.query_map([], |r| Ok((r.get::<_, Option<String>>(0)?, r.get(1)?)))?
                        .filter_map(|row| match row {
                            Ok((Some(hash), id)) => Some(Ok((hash, id))),
                            Ok((None, _)) => None,
                            Err(e) => Some(Err(e)),
                        })
                        .collect::<Result<_, _>>()
                })
                .map_err(|e| unreadable(e.to_string()))?
        } else {
            // No _yoyo_version: yoyo takes the table for its first schema
            // (`id`, `ctime`) and upgrades it, creating _yoyo_log.
            if has("_yoyo_log") {
                return Err(unreadable(
                    "_yoyo_version is missing but _yoyo_log exists, so yoyo's upgrade of its tables fails creating _yoyo_log".into(),
                ));
            }
            conn.prepare("SELECT id, ctime FROM _yoyo_migration")
                .and_then(|mut stmt| {
                    stmt.query_map([], |r| {
                        let id: String = r.get(0)?;
                        Ok((migration_hash(&id), Some(id)))
                    })?
                    .collect::<Result<_, _>>()
                })
                .map_err(|e| unreadable(e.to_string()))?
        };
        Ok(Applied { hashes })
    }

    /// Whether yoyo counts migration `id` as applied.
    pub fn contains(&self, id: &str) -> bool {
        self.hashes.contains_key(&migration_hash(id))
    }

    /// The ids `before` recorded that `self` no longer does.
    pub fn lost_since(&self, before: &Applied) -> Vec<String> {
        let mut lost: Vec<String> = before
            .hashes
            .iter()
            .filter(|(hash, _)| !self.hashes.contains_key(*hash))
            .map(|(hash, id)| id.clone().unwrap_or_else(|| hash.clone()))
            .collect();
        lost.sort();
        lost
    }
}

/// yoyo's `get_migration_hash`: the hex SHA-256 of the id.
pub fn migration_hash(id: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The engine `test-apply --engine auto` runs: yoyo when `found` (from
/// `find_yoyo`) is a file, else the native engine.
pub fn auto_engine(found: Option<PathBuf>) -> Engine {
    found
        .filter(|p| p.is_file())
        .map(Engine::Yoyo)
        .unwrap_or(Engine::Native)
}

/// The yoyo to use: `--yoyo`, else `.venv/bin/yoyo` in the project, else `yoyo` on PATH.
pub fn find_yoyo(flag: Option<&Path>, root: &Path) -> Option<PathBuf> {
    if let Some(p) = flag {
        return Some(p.to_path_buf());
    }
    let venv = root.join(".venv").join("bin").join("yoyo");
    if venv.is_file() {
        return Some(venv);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("yoyo"))
            .find(|p| p.is_file())
    })
}
