//! The scratch copy `test-apply` works on. The source database is opened
//! read-only (its `-shm` too) and copied with SQLite's online backup API, so
//! frames still in the WAL of a database another process holds open are
//! copied too; `--schema-only` copies the schema and yoyo's bookkeeping rows.
//! The copy lives in a temporary folder that is removed unless kept.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};
use serde::Serialize;

use crate::error::AppError;
use crate::schema::YOYO_TABLES;

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

fn sqlite_error(context: &str, e: rusqlite::Error) -> AppError {
    AppError::env(
        "sqlite_error",
        format!("{context}: {e}"),
        "check that the database is a SQLite file you can read",
    )
}

/// A `file:` URI that opens `path` read-only, without writing its `-shm`.
pub fn read_only_uri(path: &Path) -> String {
    let mut out = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'%' | b'?' | b'#' | b' ' => out.push_str(&format!("%{b:02X}")),
            _ => out.push(b as char),
        }
    }
    out.push_str("?mode=ro&readonly_shm=1");
    out
}

/// Open `path` read-only; neither the file nor its `-wal` or `-shm` is written.
pub fn open_source(path: &Path) -> Result<Connection, AppError> {
    open_source_inner(path).map(|(c, _)| c)
}

/// The connection, and whether the file is read as immutable (a closed WAL database).
fn open_source_inner(path: &Path) -> Result<(Connection, bool), AppError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut uri = read_only_uri(path);
    // A WAL database nobody has open has no -shm, and opening it even
    // read-only would create files beside it. With no -wal content, the file
    // alone is the database: read it as immutable, which creates nothing.
    let side = |s: &str| std::path::PathBuf::from(format!("{}{s}", path.display()));
    let mut header = [0u8; 20];
    let is_wal = std::fs::File::open(path)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok()
        && header[18] == 2;
    let wal_empty = std::fs::metadata(side("-wal")).map_or(true, |m| m.len() == 0);
    let immutable = is_wal && !side("-shm").exists() && wal_empty;
    if immutable {
        uri = uri.replace("readonly_shm=1", "immutable=1");
    }
    Connection::open_with_flags(&uri, flags)
        .and_then(|c| {
            c.query_row("PRAGMA journal_mode", [], |_| Ok(()))
                .map(|_| (c, immutable))
        })
        .map_err(|e| sqlite_error(&format!("opening {}", path.display()), e))
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
                copy_schema(&src, &dst, src_path)?;
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
                let mut perms = std::fs::metadata(&path)
                    .map_err(|e| AppError::io("read", &path, &e))?
                    .permissions();
                #[allow(clippy::permissions_set_readonly_false)]
                perms.set_readonly(false);
                std::fs::set_permissions(&path, perms)
                    .map_err(|e| AppError::io("make writable", &path, &e))?;
                (Mode::Full, bytes)
            }
        }
    };
    // The copy is thrown away: no journal to keep, no fsync to wait for.
    let conn =
        Connection::open(&path).map_err(|e| sqlite_error("opening the scratch database", e))?;
    conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA synchronous = OFF;")
        .map_err(|e| sqlite_error("preparing the scratch database", e))?;
    Ok(Scratch {
        dir: Some(dir),
        path,
        mode,
        bytes,
        copy_duration_ms: started.elapsed().as_millis(),
    })
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

fn copy_schema(src: &Connection, dst: &Connection, src_path: &Path) -> Result<(), AppError> {
    let e = |err| sqlite_error("copying the schema", err);
    let mut stmt = src
        .prepare("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid")
        .map_err(e)?;
    let rows: Vec<(String, String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
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
    if !yoyo_tables.is_empty() {
        dst.execute("ATTACH DATABASE ?1 AS src", [read_only_uri(src_path)])
            .map_err(e)?;
        for t in yoyo_tables {
            dst.execute_batch(&format!(
                "INSERT INTO main.\"{t}\" SELECT * FROM src.\"{t}\""
            ))
            .map_err(e)?;
        }
        dst.execute_batch("DETACH DATABASE src").map_err(e)?;
    }
    Ok(())
}
