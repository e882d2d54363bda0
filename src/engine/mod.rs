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

/// Migration ids recorded as applied in `conn`.
pub fn applied_ids(conn: &Connection) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare("SELECT migration_id FROM _yoyo_migration") else {
        return Vec::new();
    };
    stmt.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
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
