//! One module per subcommand, and the one `match` that dispatches to them.

pub mod context;
pub mod doctor;
pub mod install;
pub mod lint;
pub mod next_number;
pub mod scaffold;
pub mod schema;
pub mod test_apply;
pub mod uninstall;
pub mod validate;

use std::path::PathBuf;

use crate::cli::{Cli, Command};
use crate::error::ExitStatus;
use crate::output::{emit, Printer, Report};

/// Run the parsed command line and return the exit status. Every byte of
/// output goes through `printer`.
pub fn run(cli: &Cli) -> ExitStatus {
    let format = cli
        .global
        .format
        .unwrap_or_else(|| cli.command.default_format());
    // --format github and sarif are validate's and lint's; anyone else
    // answers the refusal in its own default format.
    let annotations = matches!(
        format,
        crate::cli::Format::Github | crate::cli::Format::Sarif
    );
    if annotations && !matches!(cli.command, Command::Validate(_) | Command::Lint(_)) {
        let printer = Printer::new(cli.command.default_format(), cli.global.color);
        let name = if format == crate::cli::Format::Github {
            "github"
        } else {
            "sarif"
        };
        printer.error(&crate::error::AppError::env(
            "unsupported_format",
            format!("--format {name} is only for validate and lint"),
            "use --format json or --format text",
        ));
        return ExitStatus::Error;
    }
    let printer = Printer::new(format, cli.global.color);
    let root = match &cli.global.project_dir {
        Some(dir) => dir.clone(),
        None => {
            let found = project_root();
            if found != std::path::Path::new(".") {
                if let Ok(cwd) = std::env::current_dir() {
                    crate::config::set_flag_base(cwd);
                }
            }
            found
        }
    };
    // The one place that turns a report into output: `output::emit`.
    match &cli.command {
        Command::Validate(args) => emit(&printer, validate::run(args, &root, &printer)),
        Command::Lint(args) => emit(&printer, lint::run(args, &root)),
        Command::Install(args) => emit(&printer, install::run(args, &root, &printer)),
        Command::Uninstall(args) => emit(&printer, uninstall::run(args, &root)),
        Command::NextNumber(args) => emit(&printer, next_number::run(args, &root)),
        Command::Schema(args) => emit(&printer, schema::run(args, &root)),
        Command::Scaffold(args) => emit(&printer, scaffold::run(args, &root)),
        Command::TestApply(args) => emit(&printer, test_apply::run(args, &root)),
        Command::Doctor(args) => emit(&printer, doctor::run(args, &root)),
        Command::Context(args) => emit(&printer, context::run(args, &root)),
        Command::Completions(args) => emit(&printer, Ok(completions(args.shell))),
    }
}

/// A shell completion script, as text (there is no JSON form).
#[derive(serde::Serialize)]
struct Completions {
    ok: bool,
    script: String,
}

fn completions(shell: clap_complete::Shell) -> Completions {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut crate::cli::command(),
        "migration-creator",
        &mut out,
    );
    let mut script = String::from_utf8_lossy(&out).into_owned();
    if shell == clap_complete::Shell::Bash {
        // clap_complete spells the hyphenated name two ways in its bash
        // script, so nothing past the command name would complete.
        script = script.replace("migration__subcmd__creator", "migration__creator");
    }
    Completions { ok: true, script }
}

impl Report for Completions {
    fn text(&self, _printer: &Printer) -> String {
        self.script.clone()
    }

    fn status(&self) -> ExitStatus {
        ExitStatus::Success
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
            ("context", include_str!("context.rs")),
            ("doctor", include_str!("doctor.rs")),
            ("install", include_str!("install.rs")),
            ("lint", include_str!("lint.rs")),
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
