//! migration-creator: deterministic helpers for the `migration-creator` Claude
//! Code subagent, which writes yoyo-migrations for SQLite projects.
//!
//! All logic lives in this library so that the binary, the tests and the
//! benchmarks call the same code. `main_entry` parses the command line, runs
//! the command, renders its report and maps the outcome to an exit code.

pub mod assets;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnostic;
pub mod error;
pub mod fsutil;
pub mod output;
pub mod rules;
pub mod settings;
pub mod tools;
pub mod yaml;

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
            // to stderr with exit 2; both match SPEC.md.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    let status = commands::run(&cli);
    ExitCode::from(status as u8)
}
