//! File writes that never leave a half-written file: a temporary file in the
//! same folder, synced, then renamed over the target; or an exclusive create.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::AppError;

/// Replace `path` with `bytes` atomically, creating parent folders. An
/// existing file keeps its permissions.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| AppError::io("create the folder", parent, &e))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".migration-creator-")
        .suffix(".tmp")
        .tempfile_in(parent)
        .map_err(|e| AppError::io("create a temporary file in", parent, &e))?;
    tmp.write_all(bytes)
        .map_err(|e| AppError::io("write", tmp.path(), &e))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| AppError::io("sync", tmp.path(), &e))?;
    if let Ok(meta) = fs::metadata(path) {
        let _ = fs::set_permissions(tmp.path(), meta.permissions());
    }
    tmp.persist(path)
        .map_err(|e| AppError::io("replace", path, &e.error))?;
    Ok(())
}

/// Copy `path` to a new backup file beside it (`NAME.bak`, else `NAME.bak.1`,
/// ...), created exclusively so that no earlier backup is overwritten.
pub fn backup(path: &Path) -> Result<PathBuf, AppError> {
    let bytes = fs::read(path).map_err(|e| AppError::io("read", path, &e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for i in 0..1000 {
        let candidate = if i == 0 {
            format!("{name}.bak")
        } else {
            format!("{name}.bak.{i}")
        };
        let target = path.with_file_name(candidate);
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
        {
            Ok(mut f) => {
                f.write_all(&bytes)
                    .and_then(|_| f.sync_all())
                    .map_err(|e| AppError::io("write", &target, &e))?;
                return Ok(target);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(AppError::io("create", &target, &e)),
        }
    }
    Err(AppError::env(
        "backup_failed",
        format!("too many backups of {} already exist", path.display()),
        "remove old .bak files beside it",
    ))
}
