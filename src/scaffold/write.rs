//! Placing the file: a lock per migrations folder while the number is chosen,
//! and a create that never overwrites.

use std::io::Write;
use std::path::Path;

use crate::error::AppError;

/// A cross-process lock on the migrations folder, held while a number is chosen and the file written.
pub struct FolderLock {
    _file: std::fs::File,
}

impl FolderLock {
    pub fn acquire(dir: &Path) -> Result<Self, AppError> {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let hash = crate::assets::checksum(canonical.to_string_lossy().as_bytes());
        let path = std::env::temp_dir().join(format!("migration-creator-{hash:016x}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| AppError::io("open the lock file", &path, &e))?;
        file.lock().map_err(|e| AppError::io("lock", &path, &e))?;
        Ok(FolderLock { _file: file })
    }
}

/// Write `text` to `path` atomically and only if nothing is there: a temporary
/// file in the same folder, hard-linked into place (which fails if the name is taken).
pub fn create_exclusive(path: &Path, text: &str) -> Result<bool, AppError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".migration-creator-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| AppError::io("create a temporary file in", dir, &e))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| AppError::io("write", tmp.path(), &e))?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(AppError::io("create", path, &e)),
    }
}
