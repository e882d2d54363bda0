//! File writes that never leave a half-written file: a temporary file in the
//! same folder, synced, then renamed over the target; or an exclusive create.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::AppError;

/// A temporary file beside `path`, created with the mode a plain new file
/// would get (0666 less the umask), not tempfile's private 0600.
pub fn temp_beside(dir: &Path) -> Result<tempfile::NamedTempFile, AppError> {
    remove_stale_temps(dir);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".migration-creator-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(fs::Permissions::from_mode(0o666));
    }
    builder
        .tempfile_in(dir)
        .map_err(|e| AppError::io("create a temporary file in", dir, &e))
}

/// A temporary file of ours lives for the moment between its write and its
/// rename; one an hour old was left by a process that was killed (a kill -9
/// mid-write), and would otherwise be committed with the migrations.
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let hour = std::time::Duration::from_secs(3600);
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(".migration-creator-") && name.ends_with(".tmp")) {
            continue;
        }
        let old = entry
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .and_then(|m| m.modified().ok())
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > hour);
        if old {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Replace `path` with `bytes` atomically, creating parent folders. A new
/// file gets the umask's mode; an existing one keeps its mode. A symbolic
/// link is written through (the file it points at is replaced, the link
/// stays); a file the user cannot write is refused, not replaced.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), AppError> {
    // Follow a symbolic link to the file it names, so the link survives. A
    // link to nothing is refused: a planted one could aim anywhere.
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).map_err(|_| {
            AppError::env(
                "dangling_link",
                format!("{} is a symbolic link to nothing", path.display()),
                "remove the link (or point it at a real file), then run again",
            )
        })?,
        _ => path.to_path_buf(),
    };
    let path = target.as_path();
    if let Ok(meta) = fs::metadata(path) {
        if meta.permissions().readonly() {
            return Err(AppError::env(
                "file_read_only",
                format!("{} is read-only", path.display()),
                "make it writable (chmod u+w) if it should change, or leave it as it is",
            ));
        }
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(|e| AppError::io("create the folder", parent, &e))?;
    let mut tmp = temp_beside(parent)?;
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
                // The backup is as private as the file it keeps.
                if let Ok(meta) = fs::metadata(path) {
                    let _ = fs::set_permissions(&target, meta.permissions());
                }
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

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn new_files_get_the_umask_mode_and_links_are_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let probe = dir.path().join("probe");
        fs::write(&probe, b"x").unwrap();
        let plain = fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        let new = dir.path().join("new.json");
        write_atomic(&new, b"{}").unwrap();
        assert_eq!(
            fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            plain
        );
        // An existing file keeps its mode.
        fs::set_permissions(&new, fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&new, b"{\"a\": 1}").unwrap();
        assert_eq!(
            fs::metadata(&new).unwrap().permissions().mode() & 0o777,
            0o640
        );
        // A link stays a link; its target gets the new text.
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&new, &link).unwrap();
        write_atomic(&link, b"{\"b\": 2}").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&new).unwrap(), "{\"b\": 2}");
        // A read-only file is refused and unchanged.
        fs::set_permissions(&new, fs::Permissions::from_mode(0o444)).unwrap();
        let e = write_atomic(&new, b"{}").unwrap_err();
        assert_eq!(e.code, "file_read_only");
        assert_eq!(fs::read_to_string(&new).unwrap(), "{\"b\": 2}");
    }
}

/// Refuse early when `path` exists and cannot be written, so a command that
/// writes it last does not stop half-way.
pub fn check_writable(path: &Path, hint: &str) -> Result<(), AppError> {
    match fs::metadata(path) {
        Ok(meta) if meta.permissions().readonly() => Err(AppError::env(
            "file_read_only",
            format!("{} is read-only", path.display()),
            hint,
        )),
        _ => Ok(()),
    }
}
