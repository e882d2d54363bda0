//! migration-creator: deterministic helpers for the `migration-creator` Claude
//! Code subagent, which writes yoyo-migrations for SQLite projects.
//!
//! All logic lives in this library so that the binary, the tests and the
//! benchmarks call the same code. `main_entry` parses the command line, runs
//! the command, renders its report and maps the outcome to an exit code.

pub mod agent_file;
pub mod assets;
pub mod cli;
pub mod commands;
pub mod config;
pub mod engine;
pub mod error;
pub mod fsutil;
pub mod migrations;
pub mod output;
pub mod scaffold;
pub mod settings;
pub mod sqlite;

use std::process::ExitCode;

use clap::Parser;

pub use cli::{Cli, Command};
pub use error::{AppError, ExitStatus};

/// Parse `std::env::args`, run the command, print its report and return the
/// process exit code.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help and version to stdout with exit 0, usage errors
            // to stderr with exit 2. A caller that asked for JSON also gets
            // the error as JSON on stdout.
            let _ = err.print();
            if !err.use_stderr() {
                return ExitCode::from(0);
            }
            if wants_json(std::env::args()) {
                let rendered = err.render().to_string();
                let first = rendered.lines().next().unwrap_or("invalid command line");
                let message = first.strip_prefix("error: ").unwrap_or(first).to_string();
                output::usage_error_json(&message);
            }
            return ExitCode::from(2);
        }
    };
    let status = commands::run(&cli);
    ExitCode::from(status as u8)
}

/// Whether the raw command line asks for `--format json`.
fn wants_json(args: impl Iterator<Item = String>) -> bool {
    let args: Vec<String> = args.collect();
    args.iter().any(|a| a == "--format=json")
        || args
            .windows(2)
            .any(|w| w[0] == "--format" && w[1] == "json")
}
