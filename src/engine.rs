//! The two ways `test-apply` runs migrations on the scratch copy: the real
//! yoyo (a subprocess), or the native engine (our reader and rusqlite, with
//! yoyo's semantics and the same bookkeeping rows, so a database touched by
//! either looks the same).

use std::path::{Path, PathBuf};
use std::process::Command;

use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::migrations::Migration;
use crate::schema;

/// A step that failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub migration: String,
    /// 1-based step number, when known.
    pub step: Option<usize>,
    /// `apply` or `rollback`.
    pub phase: &'static str,
    pub sql: Option<String>,
    pub error: String,
}

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

/// yoyo's bookkeeping tables, exactly as yoyo 9.0.0 creates them on SQLite.
const YOYO_DDL: &[(&str, &str)] = &[
    (
        "_yoyo_migration",
        "CREATE TABLE \"_yoyo_migration\" (\n            \"migration_hash\" VARCHAR(64),\n            \"migration_id\" VARCHAR(255),\n            \"applied_at_utc\" TIMESTAMP,\n            PRIMARY KEY (\"migration_hash\")\n        )",
    ),
    (
        "_yoyo_log",
        "CREATE TABLE \"_yoyo_log\" (\n            \"id\" VARCHAR(36),\n            \"migration_hash\" VARCHAR(64),\n            \"migration_id\" VARCHAR(255),\n            \"operation\" VARCHAR(10),\n            \"username\" VARCHAR(255),\n            \"hostname\" VARCHAR(255),\n            \"comment\" VARCHAR(255),\n            \"created_at_utc\" TIMESTAMP,\n            PRIMARY KEY (\"id\")\n        )",
    ),
    (
        "_yoyo_version",
        "CREATE TABLE \"_yoyo_version\" (\n            \"version\" INT NOT NULL PRIMARY KEY,\n            \"installed_at_utc\" TIMESTAMP\n        )",
    ),
    ("yoyo_lock", "CREATE TABLE \"yoyo_lock\" (\"locked\" INT DEFAULT 1, \"ctime\" TIMESTAMP,\"pid\" INT NOT NULL,PRIMARY KEY (\"locked\"))"),
];

/// Migration ids recorded as applied in `conn`.
pub fn applied_ids(conn: &Connection) -> Vec<String> {
    let Ok(mut stmt) = conn.prepare("SELECT migration_id FROM _yoyo_migration") else {
        return Vec::new();
    };
    stmt.query_map([], |r| r.get::<_, String>(0))
        .map(|rows| rows.flatten().collect())
        .unwrap_or_default()
}

fn sha256_hex(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// UTC now as `YYYY-MM-DD`, `HH:MM:SS.ffffff`.
fn utc_now() -> (String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!(
            "{:02}:{:02}:{:02}.{:06}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            now.subsec_micros()
        ),
    )
}

/// A version-1 UUID string, as yoyo writes into `_yoyo_log.id`.
fn uuid1() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let ticks = (now.as_nanos() / 100) as u64 + 0x01b2_1dd2_1381_4000;
    let random = {
        let mut h = Sha256::new();
        h.update(now.as_nanos().to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        h.finalize()
    };
    format!(
        "{:08x}-{:04x}-1{:03x}-{:02x}{:02x}-{}",
        ticks & 0xffff_ffff,
        (ticks >> 32) & 0xffff,
        (ticks >> 48) & 0x0fff,
        (random[0] & 0x3f) | 0x80,
        random[1],
        random[2..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    )
}

fn ensure_bookkeeping(conn: &Connection) -> rusqlite::Result<()> {
    let existing: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let fresh = !existing.iter().any(|t| t == "_yoyo_migration");
    for (name, ddl) in YOYO_DDL {
        if !existing.iter().any(|t| t == name) {
            conn.execute_batch(ddl)?;
        }
    }
    if fresh {
        let (date, time) = utc_now();
        conn.execute(
            "INSERT INTO _yoyo_version (version, installed_at_utc) VALUES (2, ?1)",
            [format!("{date} {time}")],
        )?;
    }
    Ok(())
}

fn log(conn: &Connection, id: &str, operation: &str) -> rusqlite::Result<()> {
    let (date, time) = utc_now();
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "root".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    conn.execute(
        "INSERT INTO _yoyo_log (id, migration_hash, migration_id, operation, username, hostname, comment, created_at_utc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, ?7)",
        rusqlite::params![uuid1(), sha256_hex(id), id, operation, user, host, format!("{date}T{time}")],
    )?;
    Ok(())
}

fn native_run(conn: &Connection, m: &Migration, phase: &'static str) -> Result<(), Failure> {
    let fail = |step: Option<usize>, sql: Option<String>, error: String| Failure {
        migration: m.file.id.clone(),
        step,
        phase,
        sql,
        error,
    };
    ensure_bookkeeping(conn).map_err(|e| fail(None, None, e.to_string()))?;
    if m.transactional {
        conn.execute_batch("BEGIN")
            .map_err(|e| fail(None, None, e.to_string()))?;
    }
    let order: Vec<usize> = if phase == "apply" {
        (0..m.steps.len()).collect()
    } else {
        (0..m.steps.len()).rev().collect()
    };
    for i in order {
        let step = &m.steps[i];
        let sql = if phase == "apply" {
            Some(step.apply.as_str())
        } else {
            step.rollback.as_deref()
        };
        let Some(sql) = sql else { continue };
        let savepoint = m.transactional && conn.execute_batch("SAVEPOINT step").is_ok();
        if let Err(error) = schema::execute_step(conn, sql) {
            let ignored = matches!(
                (step.ignore_errors.as_deref(), phase),
                (Some("all"), _) | (Some("apply"), "apply") | (Some("rollback"), "rollback")
            );
            if savepoint {
                let _ = conn.execute_batch("ROLLBACK TO step; RELEASE step");
            }
            if ignored {
                continue;
            }
            if m.transactional {
                let _ = conn.execute_batch("ROLLBACK");
            }
            return Err(fail(Some(i + 1), Some(sql.trim().to_string()), error));
        }
        if savepoint {
            let _ = conn.execute_batch("RELEASE step");
        }
    }
    let record = || -> rusqlite::Result<()> {
        if phase == "apply" {
            let (date, time) = utc_now();
            conn.execute(
                "INSERT INTO _yoyo_migration (migration_hash, migration_id, applied_at_utc) VALUES (?1, ?2, ?3)",
                rusqlite::params![sha256_hex(&m.file.id), m.file.id, format!("{date}T{time}")],
            )?;
        } else {
            conn.execute(
                "DELETE FROM _yoyo_migration WHERE migration_hash = ?1",
                [sha256_hex(&m.file.id)],
            )?;
        }
        log(conn, &m.file.id, phase)
    };
    record().map_err(|e| fail(None, None, e.to_string()))?;
    if m.transactional {
        conn.execute_batch("COMMIT")
            .map_err(|e| fail(None, None, e.to_string()))?;
    }
    Ok(())
}

/// yoyo's message for a failure: the last line of its traceback.
fn yoyo_error(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("yoyo failed")
        .trim()
        .to_string()
}

fn yoyo_run(
    yoyo: &Path,
    db: &Path,
    dir: &Path,
    m: &Migration,
    phase: &'static str,
) -> Result<(), Failure> {
    let out = Command::new(yoyo)
        .arg(phase)
        .args(["--batch", "--no-config-file", "--database"])
        .arg(format!("sqlite:///{}", db.display()))
        .args(["-r", &m.file.id])
        .arg(dir)
        .output()
        .map_err(|e| Failure {
            migration: m.file.id.clone(),
            step: None,
            phase,
            sql: None,
            error: format!("cannot run {}: {e}", yoyo.display()),
        })?;
    if out.status.success() {
        return Ok(());
    }
    Err(Failure {
        migration: m.file.id.clone(),
        step: None,
        phase,
        sql: None,
        error: yoyo_error(&String::from_utf8_lossy(&out.stderr)),
    })
}

/// Apply (or roll back) one migration on the scratch database.
pub fn run(
    engine: &Engine,
    db: &Path,
    dir: &Path,
    m: &Migration,
    phase: &'static str,
) -> Result<(), Failure> {
    match engine {
        Engine::Native => {
            let conn = Connection::open(db).map_err(|e| Failure {
                migration: m.file.id.clone(),
                step: None,
                phase,
                sql: None,
                error: e.to_string(),
            })?;
            let _ = conn.execute_batch("PRAGMA foreign_keys = OFF");
            native_run(&conn, m, phase)
        }
        Engine::Yoyo(yoyo) => yoyo_run(yoyo, db, dir, m, phase),
    }
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

#[cfg(test)]
mod tests {
    #[test]
    fn ids_hash_like_yoyo() {
        assert_eq!(
            super::sha256_hex("0001_create_users"),
            "f35c1922f2d725a5a9b51be3112173a73e3f7857d1d64fcd06edcfab4c728754"
        );
        let u = super::uuid1();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "1");
    }
}
