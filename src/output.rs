//! The one place that writes to stdout and stderr. A command computes a typed
//! report; this module prints it as JSON (one document with `"ok"`) or as
//! text, and prints errors in the same envelope.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::cli::{ColorChoice, Format};
use crate::error::{AppError, ExitStatus};

/// A command's result, which renders itself: as JSON (its serde form), as
/// text, or as GitHub annotations where it has them. `commands::run` holds
/// the one `match` on the format.
pub trait Report: Serialize {
    /// The text rendering (stdout).
    fn text(&self, printer: &Printer) -> String;
    /// The exit status the result means.
    fn status(&self) -> ExitStatus;
    /// GitHub Actions annotations, for the commands that have them.
    fn github(&self) -> Option<String> {
        None
    }
    /// A SARIF 2.1.0 log, for the commands that have one.
    fn sarif(&self) -> Option<String> {
        None
    }
    /// A line for stderr after the annotations (a summary).
    fn github_log(&self) -> Option<String> {
        None
    }
    /// An error the command found while still reporting (a refusal), shown
    /// after the text.
    fn refusal(&self) -> Option<&AppError> {
        None
    }
}

/// Print `result` in the printer's format; the exit status it means.
pub fn emit<R: Report>(printer: &Printer, result: Result<R, AppError>) -> ExitStatus {
    let report = match result {
        Ok(r) => r,
        Err(err) => {
            printer.error(&err);
            return err.status;
        }
    };
    match printer.format {
        Format::Json => printer.json(&report),
        Format::Text => {
            printer.out(&report.text(printer));
            if let Some(err) = report.refusal() {
                printer.error(err);
            }
        }
        Format::Github => match report.github() {
            Some(annotations) => {
                printer.out(&annotations);
                if let Some(line) = report.github_log() {
                    printer.log(&line);
                }
            }
            None => return unsupported(printer, "github"),
        },
        Format::Sarif => match report.sarif() {
            Some(log) => {
                printer.out(&log);
                if let Some(line) = report.github_log() {
                    printer.log(&line);
                }
            }
            None => return unsupported(printer, "sarif"),
        },
    }
    report.status()
}

fn unsupported(printer: &Printer, format: &str) -> ExitStatus {
    let err = AppError::env(
        "unsupported_format",
        format!("--format {format} is only for validate and lint"),
        "use --format json or --format text",
    );
    printer.error(&err);
    err.status
}

/// The first failure to write to stdout, if any.
static WRITE_FAILED: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// Why writing to stdout failed, if it did.
pub fn write_failure() -> Option<String> {
    WRITE_FAILED
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
}

/// Say on stderr that the output could not be written.
pub fn report_write_failure(why: &str) {
    eprintln!("error[output_failed]: cannot write the output to stdout: {why}");
    eprintln!(
        "  hint: check the disk or the program reading the output; the command may have done its work already (scaffold writes its file first), so look before running it again"
    );
}

/// How a report is printed.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: Format,
    pub color: bool,
}

impl Printer {
    pub fn new(format: Format, color: ColorChoice) -> Self {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        Printer { format, color }
    }

    /// Write `text` to stdout as it is. A failed write (a full disk, a
    /// closed pipe) is remembered, and the process then exits 2.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        if let Err(e) = stdout
            .write_all(text.as_bytes())
            .and_then(|_| stdout.flush())
        {
            let mut failed = WRITE_FAILED.lock().unwrap_or_else(|e| e.into_inner());
            failed.get_or_insert_with(|| e.to_string());
        }
    }

    /// Write a log line to stderr.
    pub fn log(&self, text: &str) {
        eprintln!("{text}");
    }

    /// Print `value` as one pretty JSON document with a trailing newline.
    pub fn json<T: Serialize>(&self, value: &T) {
        let mut text = serde_json::to_string_pretty(value).expect("reports serialize");
        text.push('\n');
        self.out(&text);
    }

    /// Print an error in the current format.
    pub fn error(&self, err: &AppError) {
        match self.format {
            Format::Json => self.json(&ErrorEnvelope {
                ok: false,
                error: err,
            }),
            Format::Text | Format::Github | Format::Sarif => {
                let label = self.paint(Style::Error, "error");
                eprintln!("{label}[{}]: {}", err.code, err.message);
                if !err.hint.is_empty() {
                    eprintln!("  {}: {}", self.paint(Style::Hint, "hint"), err.hint);
                }
            }
        }
    }

    /// Wrap `text` in ANSI colour codes when colour is on.
    pub fn paint(&self, style: Style, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match style {
            Style::Error => "1;31",
            Style::Warning => "1;33",
            Style::Note => "1;36",
            Style::Hint => "1;32",
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Added => "32",
            Style::Removed => "31",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }
}

/// Text styles used by the renderers.
#[derive(Debug, Clone, Copy)]
pub enum Style {
    Error,
    Warning,
    Note,
    Hint,
    Bold,
    Dim,
    Added,
    Removed,
}

/// The JSON envelope for a command line clap rejected.
pub fn usage_error_json(message: &str, command: Option<&str>) {
    let err = AppError::env(
        "usage",
        message,
        match command {
            Some(c) => format!("run `migration-creator {c} --help`"),
            None => {
                "run `migration-creator --help` or `migration-creator COMMAND --help`".to_string()
            }
        },
    );
    Printer {
        format: crate::cli::Format::Json,
        color: false,
    }
    .error(&err);
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    ok: bool,
    error: &'a AppError,
}

/// Colour a unified diff's lines for the terminal.
pub fn paint_diff(printer: &Printer, diff: &str) -> String {
    if !printer.color {
        return diff.to_string();
    }
    let mut out = String::with_capacity(diff.len() + 64);
    for line in diff.split_inclusive('\n') {
        let style = if line.starts_with("+++") || line.starts_with("---") {
            Some(Style::Bold)
        } else if line.starts_with('+') {
            Some(Style::Added)
        } else if line.starts_with('-') {
            Some(Style::Removed)
        } else if line.starts_with("@@") {
            Some(Style::Note)
        } else {
            None
        };
        match style {
            Some(style) => {
                let body = line.trim_end_matches('\n');
                out.push_str(&printer.paint(style, body));
                if line.ends_with('\n') {
                    out.push('\n');
                }
            }
            None => out.push_str(line),
        }
    }
    out
}
