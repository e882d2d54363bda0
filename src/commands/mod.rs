//! One module per subcommand, and the one `match` that dispatches to them.

pub mod doctor;
pub mod install;
pub mod next_number;
pub mod scaffold;
pub mod schema;
pub mod test_apply;
pub mod uninstall;
pub mod validate;

use std::path::PathBuf;

use crate::cli::{Cli, Command, Format};
use crate::error::{AppError, ExitStatus};
use crate::output::Printer;

/// Run the parsed command line and return the exit status. Every byte of
/// output goes through `printer`.
pub fn run(cli: &Cli) -> ExitStatus {
    let format = cli
        .global
        .format
        .unwrap_or_else(|| cli.command.default_format());
    let printer = Printer::new(format, cli.global.color);
    let root = cli.global.project_dir.clone().unwrap_or_else(project_root);
    let result = if format == Format::Github && !matches!(cli.command, Command::Validate(_)) {
        Err(AppError::env(
            "unsupported_format",
            "--format github is only for validate",
            "use --format json or --format text",
        ))
    } else {
        match &cli.command {
            Command::Validate(args) => validate::run(args, &root, &printer),
            Command::Install(args) => install::run(args, &root, &printer),
            Command::Uninstall(args) => uninstall::run(args, &root, &printer),
            Command::NextNumber(args) => next_number::run(args, &root, &printer),
            Command::Schema(args) => schema::run(args, &root, &printer),
            Command::Scaffold(args) => scaffold::run(args, &root, &printer),
            Command::TestApply(args) => test_apply::run(args, &root, &printer),
            Command::Doctor(args) => doctor::run(args, &root, &printer),
            Command::Completions(args) => {
                let mut out = Vec::new();
                clap_complete::generate(
                    args.shell,
                    &mut crate::cli::command(),
                    "migration-creator",
                    &mut out,
                );
                printer.out(&String::from_utf8_lossy(&out));
                Ok(ExitStatus::Success)
            }
        }
    };
    match result {
        Ok(status) => status,
        Err(err) => {
            printer.error(&err);
            err.status
        }
    }
}

/// The project the working directory belongs to: the nearest folder, from
/// the working directory up, that holds `yoyo.ini`, `.claude/` or `.git`;
/// the working directory itself when none does. So a command run from a
/// subfolder works on the project, not on the subfolder.
fn project_root() -> PathBuf {
    let Ok(cwd) = std::env::current_dir() else {
        return PathBuf::from(".");
    };
    let home = std::env::var_os("HOME").map(PathBuf::from);
    for dir in cwd.ancestors() {
        // The home folder's .claude/ is the user's, not a project's.
        if home.as_deref() == Some(dir) {
            break;
        }
        if dir.join("yoyo.ini").is_file()
            || dir.join(".claude").is_dir()
            || dir.join(".git").exists()
        {
            return if dir == cwd {
                PathBuf::from(".")
            } else {
                dir.to_path_buf()
            };
        }
    }
    PathBuf::from(".")
}

#[cfg(test)]
mod tests {
    /// A command never imports another: what two commands share lives below them.
    #[test]
    fn no_command_imports_another() {
        let sources = [
            ("doctor", include_str!("doctor.rs")),
            ("install", include_str!("install.rs")),
            ("next_number", include_str!("next_number.rs")),
            ("scaffold", include_str!("scaffold.rs")),
            ("schema", include_str!("schema.rs")),
            ("test_apply", include_str!("test_apply.rs")),
            ("uninstall", include_str!("uninstall.rs")),
            ("validate", include_str!("validate.rs")),
        ];
        for (name, src) in sources {
            for line in src.lines().filter(|l| l.trim_start().starts_with("use ")) {
                assert!(
                    !line.contains("crate::commands") && !line.contains("super::"),
                    "commands/{name}.rs imports another command: {line}"
                );
            }
            assert!(
                !src.contains("crate::commands::"),
                "commands/{name}.rs reaches into another command"
            );
        }
    }
}
