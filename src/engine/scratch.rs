//! The scratch copy `test-apply` works on. The source database is opened
//! read-only (its `-shm` too) and copied as a file under SQLite's shared lock,
//! or with SQLite's online backup API when it is a WAL database held open
//! elsewhere (frames still in its WAL are copied too); `--schema-only` copies
//! the schema and yoyo's bookkeeping rows. The copy lives in a private
//! temporary folder (0700, files 0600) that is removed unless kept.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::error::AppError;
use crate::sqlite::open::{open_source_inner, sqlite_error};
use crate::sqlite::schema::YOYO_TABLES;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Full,
    SchemaOnly,
    Empty,
}

/// A scratch database in a temporary folder.
pub struct Scratch {
    dir: Option<tempfile::TempDir>,
    pub path: PathBuf,
    pub mode: Mode,
    /// Size of the source database file, when there is one.
    pub bytes: u64,
    /// How long the copy took.
    pub copy_duration_ms: u128,
}

impl Scratch {
    /// Keep the folder after the process ends, under a name later runs leave
    /// alone; returns the database path.
    pub fn keep(&mut self) -> PathBuf {
        if let Some(dir) = self.dir.take() {
            let old = dir.keep();
            let name = old
                .file_name()
                .map(|n| n.to_string_lossy().replace(PREFIX, KEPT_PREFIX))
                .unwrap_or_default();
            let new = old.with_file_name(name);
            if std::fs::rename(&old, &new).is_ok() {
                self.path = new.join("scratch.db");
            }
        }
        self.path.clone()
    }
}

const PREFIX: &str = "migration-creator-test-apply-";
const KEPT_PREFIX: &str = "migration-creator-kept-";

/// Remove scratch folders left by runs that were killed (their process is gone).
fn remove_stale(tmp: &Path) {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(PREFIX)
            .and_then(|rest| rest.split('-').next())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid).exists();
        if Path::new("/proc/self").exists() && !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Make the scratch copy of `source` (None or a missing file: an empty database).
pub fn make(source: Option<&Path>, schema_only: bool) -> Result<Scratch, AppError> {
    remove_stale(&std::env::temp_dir());
    let dir = tempfile::Builder::new()
        .prefix(&format!("{PREFIX}{}-", std::process::id()))
        .tempdir()
        .map_err(|e| AppError::io("create a temporary folder in", &std::env::temp_dir(), &e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| AppError::io("make private", dir.path(), &e))?;
    }
    let path = dir.path().join("scratch.db");
    let started = std::time::Instant::now();
    let existing = source.filter(|p| p.is_file());
    let (mode, bytes) = match existing {
        None => {
            Connection::open(&path)
                .map_err(|e| sqlite_error("creating the scratch database", e))?;
            (Mode::Empty, 0)
        }
        Some(src_path) => {
            let bytes = std::fs::metadata(src_path).map(|m| m.len()).unwrap_or(0);
            let (src, immutable) = open_source_inner(src_path)?;
            let journal: String = src
                .query_row("PRAGMA journal_mode", [], |r| r.get(0))
                .map_err(|e| sqlite_error(&format!("reading {}", src_path.display()), e))?;
            if schema_only {
                let dst = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_WRITE
                        | OpenFlags::SQLITE_OPEN_CREATE
                        | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(|e| sqlite_error("creating the scratch database", e))?;
                copy_schema(&src, &dst)?;
                (Mode::SchemaOnly, bytes)
            } else if journal.eq_ignore_ascii_case("wal") && !immutable {
                backup(&src, &path, src_path)?;
                (Mode::Full, bytes)
            } else {
                // Rollback-journal mode: while this connection holds SQLite's
                // shared lock no writer can change the file, so a plain copy
                // (the kernel's, without a page-by-page round trip) is a
                // consistent snapshot. A closed WAL database (no -shm, no WAL
                // content) is its file alone, copied the same way.
                src.execute_batch("BEGIN")
                    .and_then(|_| {
                        src.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
                    })
                    .map_err(|e| sqlite_error(&format!("locking {}", src_path.display()), e))?;
                std::fs::copy(src_path, &path).map_err(|e| AppError::io("copy", src_path, &e))?;
                let _ = src.execute_batch("COMMIT");
                (Mode::Full, bytes)
            }
        }
    };
    // The copy is thrown away: no journal to keep, no fsync to wait for.
    let conn =
        Connection::open(&path).map_err(|e| sqlite_error("opening the scratch database", e))?;
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;")
        .map_err(|e| sqlite_error("preparing the scratch database", e))?;
    drop(conn);
    private(&path)?;
    Ok(Scratch {
        dir: Some(dir),
        path,
        mode,
        bytes,
        copy_duration_ms: started.elapsed().as_millis(),
    })
}

/// Only the owner may read or write the scratch copy (journals SQLite makes
/// beside it take its mode).
fn private(path: &Path) -> Result<(), AppError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| AppError::io("make private", path, &e))?;
    }
    Ok(())
}

/// Copy a WAL-mode database with SQLite's online backup API: it reads through
/// the WAL, so frames not yet checkpointed are copied too.
fn backup(src: &Connection, path: &Path, src_path: &Path) -> Result<(), AppError> {
    // Read the source through a memory map: no read call per page.
    let _ = src.execute_batch("PRAGMA mmap_size = 1099511627776");
    let mut dst =
        Connection::open(path).map_err(|e| sqlite_error("creating the scratch database", e))?;
    // A scratch file needs neither a journal nor fsync.
    dst.execute_batch("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;")
        .map_err(|e| sqlite_error("preparing the scratch database", e))?;
    let backup = rusqlite::backup::Backup::new(src, &mut dst)
        .map_err(|e| sqlite_error("starting the backup", e))?;
    backup
        .run_to_completion(i32::MAX, std::time::Duration::ZERO, None)
        .map_err(|e| sqlite_error(&format!("copying {}", src_path.display()), e))?;
    Ok(())
}

fn copy_schema(src: &Connection, dst: &Connection) -> Result<(), AppError> {
    let e = |err| sqlite_error("copying the schema", err);
    let mut stmt = src
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        .map_err(e)?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
    // A virtual table (FTS, R*Tree) makes its shadow tables itself.
    let shadow: Vec<String> = src
        .prepare("SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'shadow'")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(e)?;
    let rows: Vec<(String, String, String)> = rows
        .into_iter()
        .filter(|(ty, name, _)| !(ty == "table" && shadow.contains(name)))
        .collect();
    dst.execute_batch("PRAGMA foreign_keys = OFF; BEGIN")
        .map_err(e)?;
    // Tables first, then what is built on them.
    for pass in ["table", "other"] {
        for (ty, _, sql) in &rows {
            if (pass == "table") == (ty == "table") {
                dst.execute_batch(sql).map_err(e)?;
            }
        }
    }
    dst.execute_batch("COMMIT").map_err(e)?;
    let yoyo_tables: Vec<&str> = rows
        .iter()
        .filter(|(ty, name, _)| ty == "table" && YOYO_TABLES.contains(&name.as_str()))
        .map(|(_, n, _)| n.as_str())
        .collect();
    // yoyo's rows go through the source connection already open (read-only,
    // immutable where that creates nothing), never a second open of the file.
    for t in yoyo_tables {
        let mut read = src.prepare(&format!("SELECT * FROM \"{t}\"")).map_err(e)?;
        let width = read.column_count();
        let placeholders = vec!["?"; width].join(", ");
        let mut write = dst
            .prepare(&format!("INSERT INTO main.\"{t}\" VALUES ({placeholders})"))
            .map_err(e)?;
        let mut rows = read.query([]).map_err(e)?;
        while let Some(row) = rows.next().map_err(e)? {
            let values: Vec<rusqlite::types::Value> = (0..width)
                .map(|i| row.get(i))
                .collect::<Result<_, _>>()
                .map_err(e)?;
            write
                .execute(rusqlite::params_from_iter(values))
                .map_err(e)?;
        }
    }
    Ok(())
}
