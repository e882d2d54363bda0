//! migration-creator: deterministic helpers for the `migration-creator` Claude
//! Code subagent, which writes yoyo-migrations for SQLite projects.
//!
//! All logic lives in this library so that the binary, the tests and the
//! benchmarks call the same code. `main_entry` parses the command line, runs
//! the command, renders its report and maps the outcome to an exit code.

pub mod agent;
pub mod agent_file;
pub mod assets;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod lint;
pub mod migrations;
pub mod output;
pub mod scaffold;
pub mod settings;
pub mod sqlite;
pub mod suggest;

use std::process::ExitCode;

pub use cli::{Cli, Command};
pub use error::{AppError, ExitStatus};

/// Parse `std::env::args`, run the command, print its report and return the
/// process exit code.
pub fn main_entry() -> ExitCode {
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|m| <Cli as clap::FromArgMatches>::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout with exit 0, usage errors
            // to stderr with exit 2. A caller that asked for JSON also gets
            // the error as JSON on stdout.
            let args: Vec<String> = std::env::args().collect();
            if !err.use_stderr() {
                // --help and --version: through the printer, so a stdout that
                // cannot be written is noticed.
                output::Printer::new(cli::Format::Text, cli::ColorChoice::Never)
                    .out(&err.render().to_string());
                return finish(ExitStatus::Success);
            }
            if wants_json(&args) {
                // A helper the agent calls (JSON by default), or --format
                // json: the error is JSON on stdout, with the whole message.
                let rendered = err.render().to_string();
                let message = rendered
                    .lines()
                    .map(str::trim)
                    .take_while(|l| {
                        !l.starts_with("Usage:") && !l.starts_with("For more information")
                    })
                    .filter(|l| !l.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                let message = message
                    .strip_prefix("error: ")
                    .unwrap_or(&message)
                    .to_string();
                output::usage_error_json(&message, subcommand(&args));
            } else {
                let _ = err.print();
            }
            return finish(ExitStatus::Error);
        }
    };
    finish(commands::run(&cli))
}

/// The exit code for `status`, unless writing the output failed (exit 2).
fn finish(status: ExitStatus) -> ExitCode {
    if let Some(why) = output::write_failure() {
        output::report_write_failure(&why);
        return ExitCode::from(ExitStatus::Error as u8);
    }
    ExitCode::from(status as u8)
}

/// The subcommand a raw command line names, if any.
fn subcommand(args: &[String]) -> Option<&str> {
    const COMMANDS: &[&str] = &[
        "validate",
        "install",
        "uninstall",
        "next-number",
        "schema",
        "scaffold",
        "test-apply",
        "doctor",
    ];
    args.iter()
        .skip(1)
        .map(String::as_str)
        .find(|a| COMMANDS.contains(a))
}

/// Whether a rejected command line should get its error as JSON: it asks
/// for `--format json`, or names a helper whose output is JSON by default
/// and does not ask for text.
fn wants_json(args: &[String]) -> bool {
    let format = args
        .iter()
        .position(|a| a == "--format")
        .and_then(|i| args.get(i + 1).map(String::as_str))
        .or_else(|| args.iter().find_map(|a| a.strip_prefix("--format=")));
    let json_by_default = matches!(
        subcommand(args),
        Some("next-number" | "schema" | "scaffold" | "test-apply")
    );
    match format {
        Some("json") => true,
        Some("text" | "github") => false,
        // No format, or one clap rejects: the command's own default.
        _ => json_by_default,
    }
}
