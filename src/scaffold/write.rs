//! Placing the file: a lock per migrations folder while the number is chosen,
//! and a create that never overwrites.

use std::io::Write;
use std::path::Path;

use crate::error::AppError;

/// A cross-process lock on the migrations folder itself (an advisory lock
/// on the folder, not a file in the temporary folder): every process that
/// writes into the folder meets the same lock whatever its TMPDIR or user,
/// and there is no lock file anyone could plant.
pub struct FolderLock {
    _dir: Option<std::fs::File>,
}

impl FolderLock {
    pub fn acquire(dir: &Path) -> Result<Self, AppError> {
        if !dir.is_dir() {
            // Nothing to write into; the caller reports the missing folder.
            return Ok(FolderLock { _dir: None });
        }
        let folder =
            std::fs::File::open(dir).map_err(|e| AppError::io("open the folder", dir, &e))?;
        folder
            .lock()
            .map_err(|e| AppError::io("lock the folder", dir, &e))?;
        Ok(FolderLock { _dir: Some(folder) })
    }
}

/// Write `text` to `path` atomically and only if nothing is there: a temporary
/// file in the same folder, hard-linked into place (which fails if the name is taken).
pub fn create_exclusive(path: &Path, text: &str) -> Result<bool, AppError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = crate::fsutil::temp_beside(dir)?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| AppError::io("write", tmp.path(), &e))?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(AppError::io("create", path, &e)),
    }
}
