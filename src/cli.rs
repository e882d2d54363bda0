//! The command line: one `Cli` struct, the shared flags defined once and
//! flattened into every subcommand, and one typed argument struct per command.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Deterministic helpers for the migration-creator Claude Code agent.
///
/// The agent writes yoyo-migrations for SQLite projects. This binary installs
/// it, validates agent files exactly as Claude Code loads them, and gives the
/// agent commands that print one JSON document each.
#[derive(Debug, Parser)]
#[command(name = "migration-creator", version, propagate_version = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 a problem was found, 2 usage or environment error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check agent files exactly as Claude Code 2.1.332 loads them.
    #[command(after_help = VALIDATE_EXAMPLES)]
    Validate(ValidateArgs),
    /// Install the migration-creator agent into .claude/agents/.
    #[command(after_help = INSTALL_EXAMPLES)]
    Install(InstallArgs),
    /// Remove the installed agent and the permission rule install added.
    #[command(after_help = UNINSTALL_EXAMPLES)]
    Uninstall(UninstallArgs),
    /// The next migration number, with duplicates, gaps and files yoyo would trip on.
    #[command(after_help = NEXT_NUMBER_EXAMPLES)]
    NextNumber(NextNumberArgs),
    /// The schema the migrations produce, or a database's schema (read-only).
    #[command(after_help = SCHEMA_EXAMPLES)]
    Schema(SchemaArgs),
    /// Write a new migration from a template, checked against the schema.
    #[command(after_help = SCAFFOLD_EXAMPLES)]
    Scaffold(ScaffoldArgs),
    /// Apply, roll back and re-apply pending migrations on a scratch copy of the database.
    #[command(after_help = TEST_APPLY_EXAMPLES)]
    TestApply(TestApplyArgs),
    /// Lint migrations for the SQLite + yoyo hazards a test on an empty database cannot show.
    #[command(after_help = LINT_HELP)]
    Lint(LintArgs),
    /// The project's configuration as the agent needs it: folders, database, yoyo, pending migrations.
    #[command(after_help = CONTEXT_EXAMPLES)]
    Context(ContextArgs),
    /// Check the set-up: yoyo, SQLite versions, configuration, migrations, agent, permission.
    #[command(
        after_help = "Examples:\n  migration-creator doctor\n  migration-creator doctor --format json\n\nExit 1 when something needs fixing; each problem comes with its fix."
    )]
    Doctor(DoctorArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(
        after_help = "Examples:\n  migration-creator completions bash > migration-creator.bash\n  migration-creator completions zsh > ~/.zfunc/_migration-creator"
    )]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const CONTEXT_EXAMPLES: &str = "\
Examples:
  migration-creator context                  # JSON, for the agent
  migration-creator context --format text

Reads the configuration, the migrations folder and the database's
_yoyo_migration (read-only); changes nothing. What it cannot find is a
warning in the report, not an error.";

/// The project as `context` and `doctor` read it: where the migrations, the
/// database and yoyo are, when not where the configuration says.
#[derive(Debug, Args)]
pub struct ProjectArgs {
    /// Migrations folder (default: yoyo.ini's `sources`, else migrations/).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Database URL (default: yoyo.ini's `database`).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// The yoyo executable (default: .venv/bin/yoyo in the project, else yoyo on PATH).
    #[arg(long, value_name = "PATH")]
    pub yoyo: Option<PathBuf>,
}

pub type ContextArgs = ProjectArgs;
pub type DoctorArgs = ProjectArgs;

const TEST_APPLY_EXAMPLES: &str = "\
Examples:
  migration-creator test-apply               # yoyo.ini's database, any engine
  migration-creator test-apply --engine native       # no Python needed
  migration-creator test-apply --schema-only \\
      --database sqlite:///instance/app.db
  migration-creator test-apply --keep        # keep the copy, print its path
  migration-creator test-apply --only 0007_backfill_slugs \\
      --query \"SELECT slug FROM posts LIMIT 5\"

The database is opened read-only and copied into a private temporary folder;
the copy is thrown away unless --keep. Migrations run sealed: ATTACH, VACUUM
INTO and extension loading are refused (code outside_scratch). Exit 1 when a
step fails, a rollback does not restore the schema or the row counts, a
re-apply differs, or a check finds a problem; every failure has a hint.";

/// Which engine runs the migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum EngineChoice {
    /// yoyo when one is found, else native.
    #[default]
    Auto,
    /// Our reader and SQLite, with yoyo's semantics.
    Native,
    /// The real yoyo.
    Yoyo,
}

#[derive(Debug, Args)]
pub struct TestApplyArgs {
    /// The database to copy (default: yoyo.ini's `database`; none: an empty database).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Migrations folder (default: yoyo.ini's `sources`, else migrations/).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Which engine runs the migrations.
    #[arg(long, value_enum, default_value_t = EngineChoice::Auto)]
    pub engine: EngineChoice,
    /// The yoyo executable (default: .venv/bin/yoyo in the project, else yoyo on PATH).
    #[arg(long, value_name = "PATH")]
    pub yoyo: Option<PathBuf>,
    /// Keep the scratch copy and print its path.
    #[arg(long)]
    pub keep: bool,
    /// Copy the schema and yoyo's bookkeeping, not the rows.
    #[arg(long)]
    pub schema_only: bool,
    /// Test only this pending migration (and the pending ones it depends on).
    #[arg(long, value_name = "ID")]
    pub only: Option<String>,
    /// A read-only query to run on the scratch copy after the apply; its rows
    /// go in the report (repeatable).
    #[arg(long, value_name = "SQL")]
    pub query: Vec<String>,
    /// Stop a run (either engine) that takes longer than this.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

const SCAFFOLD_EXAMPLES: &str = "\
Examples:
  migration-creator scaffold create-table --table preferences \\
      --column \"user_id TEXT NOT NULL REFERENCES users(id)\"
  migration-creator scaffold create-table --table memberships \\
      --primary-key user_id,team_id --without-rowid \\
      --column \"user_id TEXT NOT NULL\" --column \"team_id TEXT NOT NULL\"
  migration-creator scaffold add-column --table conversations \\
      --column \"archived INTEGER NOT NULL DEFAULT 0\"
  migration-creator scaffold create-index --table messages \\
      --columns conversation_id,created_at
  migration-creator scaffold rebuild-table --table users \\
      --definition \"CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT UNIQUE)\"
  migration-creator scaffold insert-rows --table themes \\
      --rows '[{\"id\": \"light\"}]'
  migration-creator scaffold sql --description \"backfill titles\" \\
      --apply \"UPDATE t SET title = 'Untitled' WHERE title IS NULL\" \\
      --rollback \"UPDATE t SET title = NULL WHERE title = 'Untitled'\"
  migration-creator scaffold --spec ops.json   # a list of operations, one file

Conventions (the key column, timestamps, IF NOT EXISTS) come from
pyproject.toml [tool.migration-creator.conventions], else this tool's
defaults. The request is checked against the schema the migrations produce
and rehearsed (applied and rolled back, on empty tables and on a row in every
table) in memory; the project's database, when it exists, is read for rows
the migration would break (--no-data skips that). The file is compiled by the
project's Python, numbered under a lock, and never overwrites anything.";

#[derive(Debug, Args)]
pub struct ScaffoldArgs {
    #[command(subcommand)]
    pub kind: Option<ScaffoldKind>,
    /// Read the request as JSON from a file, or from stdin with `-`.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<String>,
    /// Describe the change; slugged into the file name (default: one per kind).
    #[arg(long, global = true)]
    pub description: Option<String>,
    /// The migration's docstring (default: a sentence made from the request).
    #[arg(long, global = true, value_name = "TEXT")]
    pub summary: Option<String>,
    /// Do not read the project's database for rows the migration would break.
    #[arg(long, global = true)]
    pub no_data: bool,
    /// Migrations folder (default: yoyo.ini's `sources`, else migrations/).
    #[arg(long, value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    /// Print the migration; write nothing.
    #[arg(long, global = true)]
    pub dry_run: bool,
    /// Do not set __depends__ to the latest migration.
    #[arg(long, global = true)]
    pub no_depends: bool,
}

#[derive(Debug, Subcommand)]
pub enum ScaffoldKind {
    /// A new table: id TEXT PRIMARY KEY, your columns, created_at and updated_at.
    CreateTable(CreateTableArgs),
    /// A new column; the rollback drops it (SQLite 3.35+).
    AddColumn(AddColumnArgs),
    /// A new index (default name idx_TABLE_COLUMNS).
    CreateIndex(CreateIndexArgs),
    /// Drop an index; the rollback recreates it as the schema has it.
    DropIndex(DropIndexArgs),
    /// Rename a column.
    RenameColumn(RenameColumnArgs),
    /// Rename a table.
    RenameTable(RenameTableArgs),
    /// Drop a table; the rollback recreates it, its indexes and triggers (not its rows).
    DropTable(DropTableArgs),
    /// Insert rows given as JSON; the rollback deletes exactly them by primary key.
    InsertRows(InsertRowsArgs),
    /// Change a table's definition by SQLite's table rebuild (a CHECK, a type,
    /// a NOT NULL, a default, a foreign key, a dropped column), rows, indexes,
    /// triggers and views kept; the rollback is the reverse rebuild.
    RebuildTable(RebuildTableArgs),
    /// Raw SQL steps, for what the other kinds do not cover (triggers, views,
    /// full-text search, backfills).
    Sql(SqlArgs),
}

#[derive(Debug, Args)]
pub struct DropTableArgs {
    /// The table to drop.
    #[arg(long)]
    pub table: String,
}

#[derive(Debug, Args)]
pub struct InsertRowsArgs {
    /// The table to insert into (it needs a primary key).
    #[arg(long)]
    pub table: String,
    /// The rows: a JSON list of objects, each with the primary key.
    #[arg(long, value_name = "JSON")]
    pub rows: String,
}

#[derive(Debug, Args)]
pub struct RebuildTableArgs {
    /// The existing table to rebuild.
    #[arg(long)]
    pub table: String,
    /// The table's complete new CREATE TABLE statement (same name).
    #[arg(long, value_name = "SQL")]
    pub definition: String,
    /// COLUMN=SQL_EXPR: fill a column of the new table from the old one (repeatable).
    #[arg(long, value_name = "COLUMN=EXPR")]
    pub map: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateTableArgs {
    /// The table's name (optional with --definition).
    #[arg(long)]
    pub table: Option<String>,
    /// A column definition, for example "title TEXT NOT NULL" (repeatable).
    #[arg(long, value_name = "DEF")]
    pub column: Vec<String>,
    /// Leave out created_at and updated_at.
    #[arg(long)]
    pub no_timestamps: bool,
    /// The key: columns for a (composite) PRIMARY KEY, or `none` for no key
    /// column beyond what the columns declare (default: the conventions' id).
    #[arg(long, value_name = "A,B|none")]
    pub primary_key: Option<String>,
    /// Make the table WITHOUT ROWID.
    #[arg(long)]
    pub without_rowid: bool,
    /// A table constraint: "UNIQUE (a, b)", "CHECK (...)", "FOREIGN KEY (a) REFERENCES t(id) ON DELETE CASCADE" (repeatable).
    #[arg(long, value_name = "SQL")]
    pub constraint: Vec<String>,
    /// The complete CREATE TABLE statement, instead of the flags above.
    #[arg(long, value_name = "SQL")]
    pub definition: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddColumnArgs {
    /// The existing table to add the columns to.
    #[arg(long)]
    pub table: String,
    /// A column definition, for example "archived INTEGER NOT NULL DEFAULT 0" (repeatable).
    #[arg(long, value_name = "DEF", required = true)]
    pub column: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CreateIndexArgs {
    /// The table to index.
    #[arg(long)]
    pub table: String,
    /// Comma-separated column names.
    #[arg(long, value_name = "A,B")]
    pub columns: String,
    /// Make it a UNIQUE index (the database is read for duplicates).
    #[arg(long)]
    pub unique: bool,
    /// Index name (default idx_TABLE_A_B).
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct DropIndexArgs {
    /// The index to drop (the rollback recreates it as the schema has it).
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct RenameColumnArgs {
    /// The table that has the column.
    #[arg(long)]
    pub table: String,
    /// The column's current name.
    #[arg(long)]
    pub from: String,
    /// Its new name.
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct RenameTableArgs {
    /// The table's current name.
    #[arg(long)]
    pub from: String,
    /// Its new name.
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    /// One SQL statement to apply (repeatable; pairs with --rollback in order).
    #[arg(long, value_name = "SQL")]
    pub apply: Vec<String>,
    /// The statement that undoes the matching --apply.
    #[arg(long, value_name = "SQL")]
    pub rollback: Vec<String>,
}

const SCHEMA_EXAMPLES: &str = "\
Examples:
  migration-creator schema                  # what the migrations produce
  migration-creator schema --table conversations
  migration-creator schema --database sqlite:///instance/app.db  # read-only

Without --database, the migrations are applied in yoyo's order to an in-memory
database; the project's database is not opened.";

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Migrations folder (default: yoyo.ini's `sources`, else migrations/).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Read this database file instead (sqlite:///PATH), opened read-only.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Only this table (or view), with its indexes and triggers.
    #[arg(long, value_name = "NAME")]
    pub table: Option<String>,
}

const NEXT_NUMBER_EXAMPLES: &str = "\
Examples:
  migration-creator next-number          # JSON: next, number, width, warnings
  migration-creator next-number --dir db/migrations --format text

The migrations folder comes from --dir, else yoyo.ini's `sources`, else
migrations/.";

#[derive(Debug, Args)]
pub struct NextNumberArgs {
    /// Migrations folder (default: yoyo.ini's `sources`, else migrations/).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const VALIDATE_EXAMPLES: &str = "\
Examples:
  migration-creator validate                      # .claude/agents/ and agents/
  migration-creator validate .claude/agents/db.md
  migration-creator validate --format json ~/.claude/agents
  migration-creator validate --strict             # warnings fail too

Exit codes: 0 no errors, 1 errors (or warnings with --strict),
2 usage or I/O error.";

const INSTALL_EXAMPLES: &str = "\
Examples:
  migration-creator install              # into the project's .claude/agents/
  migration-creator install -C path/to/project --dry-run
  migration-creator install --check          # exit 1 when missing or stale (CI)
  migration-creator install --scope user     # into ~/.claude/agents/

An agent file you have edited is never overwritten unless you pass --force,
which keeps your version in a .bak file beside it.";

const UNINSTALL_EXAMPLES: &str = "\
Examples:
  migration-creator uninstall
  migration-creator uninstall --force   # an edited agent too (kept as .bak)";

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON document on stdout.
    Json,
    /// Human-readable text.
    Text,
    /// GitHub Actions workflow annotations (validate and lint).
    Github,
    /// SARIF 2.1.0, for code-scanning tools (validate and lint).
    Sarif,
}

/// When to colour text output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    #[default]
    Auto,
    Always,
    Never,
}

/// Flags every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format [default: text for validate, install, uninstall and
    /// doctor; json for next-number, schema, scaffold, test-apply and context]
    #[arg(long, value_enum, global = true)]
    pub format: Option<Format>,
    /// Colour text output.
    #[arg(long, value_enum, global = true, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Project root (default: the nearest folder up from here that holds
    /// yoyo.ini, .claude/ or .git; else the working directory).
    #[arg(short = 'C', long = "project-dir", value_name = "DIR", global = true)]
    pub project_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// Migration files to report on, each checked against the schema the migrations before it build [default: every migration in the folder]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// The migrations folder [default: `sources` in yoyo.ini, else migrations/]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Report only migrations added or changed since this git revision (a branch, tag or commit), and edits to migrations that existed there.
    #[arg(long, value_name = "REV")]
    pub since: Option<String>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Stop a statement still running after this many seconds in all (a recursive query that never ends); the migration is then reported as failing.
    #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub timeout: u64,
}

const LINT_HELP: &str = "\
Examples:
  migration-creator lint
  migration-creator lint migrations/0012_add_email.py
  migration-creator lint --since origin/main --format github
  migration-creator lint --format sarif > lint.sarif

Suppress a finding with a reason, before a statement or on a step line:
  -- migration-creator: ignore drops_table -- archived in 0011
  # migration-creator: ignore rollback_missing -- data fix, nothing to undo
(`ignore-file CODE -- reason` anywhere in the file covers the whole file.)
Settings: [tool.migration-creator.lint] in pyproject.toml, with
skip = [CODE, ...] and severity = { CODE = \"error\" | \"warning\" | \"note\" }.

Exit 1 when an error is found (with --strict, a warning too).";

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Agent files or folders to check [default: .claude/agents/ and agents/ in the project]
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,
}

/// Where the agent goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Scope {
    /// <project>/.claude/agents/
    #[default]
    Project,
    /// ~/.claude/agents/
    User,
}

/// Flags that choose what the installed agent says about the project.
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectConfigArgs {
    /// Migrations folder, overriding yoyo.ini's `sources` (default: migrations/).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// Database URL, overriding yoyo.ini's `database` (for example sqlite:///instance/app.db).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Install for this project or for the user.
    #[arg(long, value_enum, default_value_t = Scope::Project)]
    pub scope: Scope,
    /// Overwrite an agent file you have edited (your version is kept as .bak).
    #[arg(long)]
    pub force: bool,
    /// Show what would change; write nothing.
    #[arg(long, conflicts_with = "check")]
    pub dry_run: bool,
    /// Exit 1 when the installed agent is missing or differs from what install would write.
    #[arg(long)]
    pub check: bool,
    /// Do not add the `Bash(migration-creator *)` rule to .claude/settings.json.
    #[arg(long)]
    pub no_permissions: bool,
    #[command(flatten)]
    pub config: ProjectConfigArgs,
}

#[derive(Debug, Args)]
pub struct UninstallArgs {
    /// Remove the agent from this project or from the user's folder.
    #[arg(long, value_enum, default_value_t = Scope::Project)]
    pub scope: Scope,
    /// Remove the agent even if you have edited it (your version is kept as .bak).
    #[arg(long)]
    pub force: bool,
    /// Show what would be removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

impl Command {
    /// The format a command uses when `--format` is not given (SPEC.md: text
    /// for the commands people run, JSON for the agent's helpers).
    pub fn default_format(&self) -> Format {
        match self {
            Command::Validate(_)
            | Command::Lint(_)
            | Command::Install(_)
            | Command::Uninstall(_)
            | Command::Doctor(_)
            | Command::Completions(_) => Format::Text,
            Command::NextNumber(_)
            | Command::Schema(_)
            | Command::Scaffold(_)
            | Command::TestApply(_)
            | Command::Context(_) => Format::Json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_configuration_is_consistent() {
        Cli::command().debug_assert();
        super::command().debug_assert();
    }
}

/// The command line, with each subcommand's `--format` help naming that
/// subcommand's own default.
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let format = cmd
        .get_arguments()
        .find(|a| a.get_id() == "format")
        .cloned()
        .expect("the global --format");
    let defaults = [
        ("validate", "text"),
        ("install", "text"),
        ("uninstall", "text"),
        ("doctor", "text"),
        ("next-number", "json"),
        ("schema", "json"),
        ("scaffold", "json"),
        ("test-apply", "json"),
        ("context", "json"),
    ];
    for (name, default) in defaults {
        // A subcommand's own copy of the global argument is kept as it is
        // when clap propagates the global one.
        let own = format
            .clone()
            .help(format!("Output format [default: {default}]"));
        cmd = cmd.mut_subcommand(name, |sub| sub.arg(own));
    }
    cmd
}

#[cfg(test)]
mod help_tests {
    /// Every flag says what it does, and examples fit an 80-column terminal
    /// (clap would otherwise wrap them mid-command).
    #[test]
    fn every_flag_is_described_and_examples_fit() {
        let cmd = super::command();
        let mut problems = Vec::new();
        for sub in cmd.get_subcommands() {
            let mut all = vec![sub.clone()];
            all.extend(sub.get_subcommands().cloned());
            for c in &all {
                for arg in c.get_arguments() {
                    if arg.is_positional() || ["help", "version"].contains(&arg.get_id().as_str()) {
                        continue;
                    }
                    if arg.get_help().is_none() && arg.get_long_help().is_none() {
                        problems.push(format!(
                            "{} --{} has no description",
                            c.get_name(),
                            arg.get_id()
                        ));
                    }
                }
                if let Some(after) = c.get_after_help() {
                    for line in after.to_string().lines() {
                        if line.chars().count() > 80 {
                            problems.push(format!("{}: `{line}` is wider than 80", c.get_name()));
                        }
                    }
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
