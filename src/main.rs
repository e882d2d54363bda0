//! The `migration-creator` binary: parse the command line, run, exit.

use std::process::ExitCode;

fn main() -> ExitCode {
    migration_creator::main_entry()
}
