//! Opening a user's database read-only: the file, its `-wal` and `-shm` are
//! never written, and nothing is created beside a closed WAL database.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use crate::error::AppError;

/// An error from SQLite while reading a user's database.
pub fn sqlite_error(context: &str, e: rusqlite::Error) -> AppError {
    let text = e.to_string();
    let hint = if text.contains("locked") || text.contains("busy") {
        "another process holds a write lock on the database; wait for it to finish and run again"
    } else if text.contains("not a database") || text.contains("malformed") {
        "the file is not a SQLite database, or it is damaged: check the path in --database or yoyo.ini"
    } else {
        "check that the database is a SQLite file you can read"
    };
    AppError::env("sqlite_error", format!("{context}: {text}"), hint)
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
pub fn open_source_inner(path: &Path) -> Result<(Connection, bool), AppError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // SQLite follows a symbolic link and keeps the -wal, -shm and -journal
    // beside the file it points at: look for them there too, or a WAL
    // database behind a link reads as closed and its frames are skipped.
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = read_only_uri(&real);
    // A WAL database nobody has open has no -shm, and opening it even
    // read-only would create files beside it. With no -wal content, the file
    // alone is the database: read it as immutable, which creates nothing.
    // With no -wal at all (a -shm left by a crash, a -wal removed by hand)
    // SQLite would create the -wal even on a read-only connection: the file
    // is the whole database then too.
    let side = |s: &str| PathBuf::from(format!("{}{s}", real.display()));
    let mut header = [0u8; 20];
    let is_wal = std::fs::File::open(&real)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header))
        .is_ok()
        && header[18] == 2;
    let wal = std::fs::metadata(side("-wal")).ok();
    let wal_empty = wal.as_ref().is_none_or(|m| m.len() == 0);
    let immutable = is_wal && (wal.is_none() || (wal_empty && !side("-shm").exists()));
    if immutable {
        uri = uri.replace("readonly_shm=1", "immutable=1");
    }
    Connection::open_with_flags(&uri, flags)
        .and_then(|c| {
            c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
                .map(|_| (c, immutable))
        })
        .map_err(|e| {
            let non_empty = |s: &str| std::fs::metadata(side(s)).is_ok_and(|m| m.len() > 0);
            let locked = e.to_string().contains("locked") || e.to_string().contains("busy");
            let leftover = if locked {
                None
            } else if non_empty("-journal") {
                Some("-journal")
            } else if is_wal && non_empty("-wal") && !side("-shm").exists() {
                Some("-wal")
            } else {
                None
            };
            match leftover {
                Some("-journal") => AppError::env(
                    "hot_journal",
                    format!(
                        "{} has a -journal left by a write that did not finish ({e}); reading it means rolling that write back, which writes the database",
                        path.display()
                    ),
                    "let the application (or `sqlite3 DATABASE 'PRAGMA quick_check'`) open the database once so SQLite recovers it, then run again",
                ),
                Some(_) => AppError::env(
                    "wal_without_shm",
                    format!(
                        "{} has a -wal with content but no -shm ({e}); reading it means rebuilding the -shm beside your database",
                        path.display()
                    ),
                    "let the application (or `sqlite3 DATABASE 'PRAGMA quick_check'`) open the database once, then run again",
                ),
                None if locked => AppError::env(
                    "database_locked",
                    format!("{} is locked by another process ({e})", path.display()),
                    "wait for the other process (a migration, a long write) to finish, then run again",
                ),
                None => sqlite_error(&format!("opening {}", path.display()), e),
            }
        })
}

/// Open a database file the user named, read-only; it must exist.
pub fn open_existing(path: &Path) -> Result<Connection, AppError> {
    if !path.is_file() {
        return Err(AppError::env(
            "database_not_found",
            format!("database {} does not exist", path.display()),
            "check --database or yoyo.ini's `database`; without --database, schema shows what the migrations produce",
        ));
    }
    open_source(path)
}
