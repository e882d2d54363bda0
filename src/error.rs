//! Errors as data: a stable code, a message, a hint that names the next step,
//! and the exit status they map to. Rendering happens in `output`.

use std::fmt;
use std::path::Path;

use serde::Serialize;

/// Process exit status (SPEC.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitStatus {
    /// The command ran and found nothing wrong.
    Success = 0,
    /// The command ran and found a problem (validation errors, a stale install
    /// under `--check`, an edited agent it refused to overwrite).
    Failure = 1,
    /// Usage or environment error: bad flag, missing folder, unreadable file.
    Error = 2,
}

/// An error that stops a command. `code` is a stable snake_case identifier.
#[derive(Debug, Clone, Serialize)]
pub struct AppError {
    pub code: &'static str,
    pub message: String,
    pub hint: String,
    #[serde(skip)]
    pub status: ExitStatus,
}

impl AppError {
    /// A usage or environment error (exit 2).
    pub fn env(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> Self {
        AppError {
            code,
            message: message.into(),
            hint: hint.into(),
            status: ExitStatus::Error,
        }
    }

    /// A problem the command found (exit 1).
    pub fn problem(
        code: &'static str,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        AppError {
            code,
            message: message.into(),
            hint: hint.into(),
            status: ExitStatus::Failure,
        }
    }

    /// An I/O error on `path`, with a hint that fits the error kind.
    pub fn io(action: &str, path: &Path, err: &std::io::Error) -> Self {
        let hint = match err.kind() {
            std::io::ErrorKind::NotFound => {
                "check the path, or pass -C/--project-dir to point at the project"
            }
            std::io::ErrorKind::PermissionDenied => "check the file's permissions",
            _ => "check the file and the disk, then run the command again",
        };
        AppError::env(
            "io_error",
            format!("cannot {action} {}: {err}", path.display()),
            hint,
        )
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}
