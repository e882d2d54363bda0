//! `scaffold KIND`: write a new migration from a template, checked against
//! the schema the migrations produce, numbered safely under concurrency.
//!
//! A request is checked before anything is written: identifiers are plain
//! (`[A-Za-z_][A-Za-z0-9_]*`, not an SQLite keyword), tables and columns
//! exist or do not as the kind needs, foreign keys point at existing tables
//! and columns, and every generated statement is applied and rolled back on
//! an in-memory copy of the schema, which must come back unchanged. The file
//! is then written under a cross-process lock, with a number nobody else
//! holds, atomically and without overwriting, and read back by our reader.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use minijinja::{context, Environment, Value};
use serde::{Deserialize, Serialize};

use crate::cli::{Format, ScaffoldArgs, ScaffoldKind};
use crate::commands::next_number;
use crate::config::ProjectConfig;
use crate::engine::native::Native;
use crate::error::{AppError, ExitStatus};
use crate::migrations;
use crate::output::Printer;
use crate::sqlite::schema::{self, Schema};

/// Templates shipped in the binary, one per kind; a project overrides one by
/// putting a file of the same name in `.migration-creator/templates/`.
pub const TEMPLATES: &[(&str, &str)] = &[
    (
        "create_table.py.j2",
        include_str!("../../templates/create_table.py.j2"),
    ),
    (
        "add_column.py.j2",
        include_str!("../../templates/add_column.py.j2"),
    ),
    (
        "create_index.py.j2",
        include_str!("../../templates/create_index.py.j2"),
    ),
    (
        "drop_index.py.j2",
        include_str!("../../templates/drop_index.py.j2"),
    ),
    (
        "rename_column.py.j2",
        include_str!("../../templates/rename_column.py.j2"),
    ),
    (
        "rename_table.py.j2",
        include_str!("../../templates/rename_table.py.j2"),
    ),
    ("sql.py.j2", include_str!("../../templates/sql.py.j2")),
];

const TIMESTAMP_DEFAULT: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

/// A scaffold request: the flags of a kind, or the same fields as JSON on
/// stdin with `--spec -`.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    pub kind: String,
    #[serde(default)]
    pub table: Option<String>,
    /// Column definitions (create-table, add-column) or names (create-index).
    #[serde(default, alias = "column", deserialize_with = "one_or_many")]
    pub columns: Vec<String>,
    #[serde(default)]
    pub no_timestamps: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub apply: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub rollback: Vec<String>,
    #[serde(default)]
    pub no_depends: bool,
    #[serde(default)]
    pub dry_run: bool,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

#[derive(Debug, Serialize)]
pub struct ScaffoldReport {
    pub ok: bool,
    /// The migration file, relative to the project root.
    pub path: String,
    pub id: String,
    pub number: u64,
    pub kind: String,
    /// The apply SQL of each step, in order.
    pub apply: Vec<String>,
    /// The rollback SQL of each step, in order.
    pub rollback: Vec<String>,
    /// The migration this one depends on, or null.
    pub depends: Option<String>,
    pub dry_run: bool,
    /// The file's text.
    pub content: String,
    pub warnings: Vec<next_number::Warning>,
}

fn refuse(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> AppError {
    AppError::problem(code, message, hint)
}

/// SQLite's keywords (https://sqlite.org/lang_keywords.html): never used as bare identifiers.
const SQLITE_KEYWORDS: &[&str] = &[
    "ABORT",
    "ACTION",
    "ADD",
    "AFTER",
    "ALL",
    "ALTER",
    "ALWAYS",
    "ANALYZE",
    "AND",
    "AS",
    "ASC",
    "ATTACH",
    "AUTOINCREMENT",
    "BEFORE",
    "BEGIN",
    "BETWEEN",
    "BY",
    "CASCADE",
    "CASE",
    "CAST",
    "CHECK",
    "COLLATE",
    "COLUMN",
    "COMMIT",
    "CONFLICT",
    "CONSTRAINT",
    "CREATE",
    "CROSS",
    "CURRENT",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DATABASE",
    "DEFAULT",
    "DEFERRABLE",
    "DEFERRED",
    "DELETE",
    "DESC",
    "DETACH",
    "DISTINCT",
    "DO",
    "DROP",
    "EACH",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXCLUDE",
    "EXCLUSIVE",
    "EXISTS",
    "EXPLAIN",
    "FAIL",
    "FILTER",
    "FIRST",
    "FOLLOWING",
    "FOR",
    "FOREIGN",
    "FROM",
    "FULL",
    "GENERATED",
    "GLOB",
    "GROUP",
    "GROUPS",
    "HAVING",
    "IF",
    "IGNORE",
    "IMMEDIATE",
    "IN",
    "INDEX",
    "INDEXED",
    "INITIALLY",
    "INNER",
    "INSERT",
    "INSTEAD",
    "INTERSECT",
    "INTO",
    "IS",
    "ISNULL",
    "JOIN",
    "KEY",
    "LAST",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "MATERIALIZED",
    "NATURAL",
    "NO",
    "NOT",
    "NOTHING",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OF",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OTHERS",
    "OUTER",
    "OVER",
    "PARTITION",
    "PLAN",
    "PRAGMA",
    "PRECEDING",
    "PRIMARY",
    "QUERY",
    "RAISE",
    "RANGE",
    "RECURSIVE",
    "REFERENCES",
    "REGEXP",
    "REINDEX",
    "RELEASE",
    "RENAME",
    "REPLACE",
    "RESTRICT",
    "RETURNING",
    "RIGHT",
    "ROLLBACK",
    "ROW",
    "ROWS",
    "SAVEPOINT",
    "SELECT",
    "SET",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "THEN",
    "TIES",
    "TO",
    "TRANSACTION",
    "TRIGGER",
    "UNBOUNDED",
    "UNION",
    "UNIQUE",
    "UPDATE",
    "USING",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
    "WITHOUT",
];

/// Check that `name` is a plain identifier we can interpolate.
pub fn identifier(name: &str, what: &str) -> Result<String, AppError> {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return Err(refuse(
            "invalid_identifier",
            format!("{what} `{name}` is not a plain identifier"),
            "use letters, digits and `_`, starting with a letter or `_` (for example user_settings)",
        ));
    }
    if SQLITE_KEYWORDS.contains(&name.to_ascii_uppercase().as_str()) {
        return Err(refuse(
            "invalid_identifier",
            format!("{what} `{name}` is an SQLite keyword"),
            format!(
                "choose another name, for example `{}_value`",
                name.to_ascii_lowercase()
            ),
        ));
    }
    if name.to_ascii_lowercase().starts_with("sqlite_") {
        return Err(refuse(
            "invalid_identifier",
            format!("{what} `{name}` starts with sqlite_, which SQLite reserves"),
            "choose another name",
        ));
    }
    if crate::sqlite::schema::YOYO_TABLES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(name))
    {
        return Err(refuse(
            "reserved_name",
            format!("{what} `{name}` is one of yoyo's own tables"),
            "choose another name: yoyo keeps its bookkeeping in _yoyo_migration, _yoyo_log, _yoyo_version and yoyo_lock",
        ));
    }
    Ok(name.to_string())
}

/// The slug of a description: `[a-z0-9_]`, no repeated or edge underscores.
pub fn slug(description: &str) -> String {
    let mut out = String::new();
    for c in description.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let s = out.trim_matches('_');
    let s: String = s.chars().take(80).collect();
    s.trim_end_matches('_').to_string()
}

/// The column name at the start of a column definition, checked.
fn column_name(def: &str) -> Result<String, AppError> {
    let first = def.split_whitespace().next().unwrap_or("");
    identifier(first, "column")
}

/// `REFERENCES table(columns)` clauses in a column definition.
fn references(def: &str) -> Vec<(String, Vec<String>)> {
    let upper = def.to_ascii_uppercase();
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = upper[from..].find("REFERENCES") {
        let start = from + i + "REFERENCES".len();
        let rest = def[start..].trim_start();
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '"')
            .collect();
        let after = rest[name.len()..].trim_start();
        let cols = after
            .strip_prefix('(')
            .and_then(|a| {
                a.find(')').map(|e| {
                    a[..e]
                        .split(',')
                        .map(|c| c.trim().trim_matches('"').to_string())
                        .collect()
                })
            })
            .unwrap_or_default();
        out.push((name.trim_matches('"').to_string(), cols));
        from = start;
    }
    out
}

struct Plan {
    kind: &'static str,
    template: &'static str,
    description: String,
    docstring: String,
    steps: Vec<(String, String)>,
}

fn need<'a>(v: &'a Option<String>, flag: &str, kind: &str) -> Result<&'a str, AppError> {
    v.as_deref().ok_or_else(|| {
        refuse(
            "missing_argument",
            format!("{kind} needs {flag}"),
            format!("run `migration-creator scaffold {kind} --help`"),
        )
    })
}

fn plan(req: &Request, schema: &Schema) -> Result<Plan, AppError> {
    let kind = req.kind.as_str();
    let table_exists = |t: &str| schema.table(t).is_some();
    let name_taken = |n: &str| {
        let n = n.to_ascii_lowercase();
        schema
            .tables
            .iter()
            .any(|t| t.name.to_ascii_lowercase() == n)
            || schema
                .indexes
                .iter()
                .any(|i| i.name.to_ascii_lowercase() == n)
            || schema
                .views
                .iter()
                .any(|v| v.name.to_ascii_lowercase() == n)
            || schema
                .triggers
                .iter()
                .any(|t| t.name.to_ascii_lowercase() == n)
    };
    let existing_table = |t: &str| -> Result<String, AppError> {
        let t = identifier(t, "table")?;
        if !table_exists(&t) {
            let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
            return Err(refuse(
                "table_not_found",
                format!("table `{t}` does not exist in the schema the migrations produce"),
                if names.is_empty() {
                    "the schema has no tables yet".to_string()
                } else {
                    format!("tables: {}", names.join(", "))
                },
            ));
        }
        Ok(t)
    };
    let has_column = |t: &str, c: &str| {
        schema
            .table(t)
            .is_some_and(|t| t.columns.iter().any(|col| col.name.eq_ignore_ascii_case(c)))
    };
    let check_references = |def: &str,
                            own_table: &str,
                            own_columns: &[String]|
     -> Result<(), AppError> {
        for (t, cols) in references(def) {
            if t == own_table {
                if let Some(c) = cols
                    .iter()
                    .find(|c| !own_columns.iter().any(|o| o.eq_ignore_ascii_case(c)))
                {
                    return Err(refuse(
                        "foreign_key_target_missing",
                        format!("`{def}` references {t}({c}), a column this table does not have"),
                        "reference an existing column",
                    ));
                }
                continue;
            }
            if !table_exists(&t) {
                return Err(refuse(
                    "foreign_key_target_missing",
                    format!("`{def}` references table `{t}`, which does not exist"),
                    "create the referenced table first, or fix the name (see `migration-creator schema`)",
                ));
            }
            if let Some(c) = cols.iter().find(|c| !has_column(&t, c)) {
                return Err(refuse(
                    "foreign_key_target_missing",
                    format!("`{def}` references {t}({c}), but `{t}` has no column `{c}`"),
                    format!("see `migration-creator schema --table {t}`"),
                ));
            }
        }
        Ok(())
    };

    let (kind, template, description, docstring, steps) = match kind {
        "create-table" => {
            let t = identifier(need(&req.table, "--table", kind)?, "table")?;
            if name_taken(&t) {
                return Err(refuse("table_exists", format!("`{t}` already exists in the schema"), "choose another name, or use add-column to change the table"));
            }
            let mut defs = vec!["id TEXT PRIMARY KEY".to_string()];
            defs.extend(req.columns.iter().map(|c| c.trim().to_string()));
            if !req.no_timestamps {
                defs.push(format!("created_at {TIMESTAMP_DEFAULT}"));
                defs.push(format!("updated_at {TIMESTAMP_DEFAULT}"));
            }
            let mut names: Vec<String> = Vec::new();
            for d in &defs {
                let n = column_name(d)?;
                if names.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                    return Err(refuse("duplicate_column", format!("column `{n}` is defined twice"), "id, created_at and updated_at are added for you (--no-timestamps leaves the last two out)"));
                }
                names.push(n);
            }
            for d in &defs {
                check_references(d, &t, &names)?;
            }
            let body = defs.iter().map(|d| format!("    {d}")).collect::<Vec<_>>().join(",\n");
            let apply = format!("CREATE TABLE IF NOT EXISTS {t} (\n{body}\n)");
            ("create-table", "create_table.py.j2", format!("create_{t}"), format!("Create the {t} table"), vec![(apply, format!("DROP TABLE IF EXISTS {t}"))])
        }
        "add-column" => {
            let t = existing_table(need(&req.table, "--table", kind)?)?;
            let [def] = req.columns.as_slice() else {
                return Err(refuse("missing_argument", "add-column needs exactly one --column \"NAME TYPE ...\"", "for example --column \"archived INTEGER NOT NULL DEFAULT 0\""));
            };
            let def = def.trim();
            let c = column_name(def)?;
            if has_column(&t, &c) {
                return Err(refuse("column_exists", format!("`{t}` already has a column `{c}`"), format!("see `migration-creator schema --table {t}`")));
            }
            let upper = def.to_ascii_uppercase();
            if upper.contains("NOT NULL") && !upper.contains("DEFAULT") {
                return Err(refuse(
                    "not_null_without_default",
                    format!("`{def}` is NOT NULL without a DEFAULT; SQLite cannot add it to a table that has rows"),
                    "add a DEFAULT (for example DEFAULT 0 or DEFAULT ''), or drop NOT NULL",
                ));
            }
            let columns: Vec<String> = schema.table(&t).map(|x| x.columns.iter().map(|c| c.name.clone()).chain([c.clone()]).collect()).unwrap_or_default();
            check_references(def, &t, &columns)?;
            (
                "add-column",
                "add_column.py.j2",
                format!("add_{c}_to_{t}"),
                format!("Add {c} to {t}"),
                vec![(format!("ALTER TABLE {t} ADD COLUMN {def}"), format!("ALTER TABLE {t} DROP COLUMN {c}"))],
            )
        }
        "create-index" => {
            let t = existing_table(need(&req.table, "--table", kind)?)?;
            let cols: Vec<String> = req.columns.iter().flat_map(|c| c.split(',')).map(|c| c.trim().to_string()).filter(|c| !c.is_empty()).collect();
            if cols.is_empty() {
                return Err(refuse("missing_argument", "create-index needs --columns a,b", "name the columns to index"));
            }
            for c in &cols {
                identifier(c, "column")?;
                if !has_column(&t, c) {
                    return Err(refuse("column_not_found", format!("`{t}` has no column `{c}`"), format!("see `migration-creator schema --table {t}`")));
                }
            }
            let name = match &req.name {
                Some(n) => identifier(n, "index")?,
                None => format!("idx_{t}_{}", cols.join("_")),
            };
            if name_taken(&name) {
                return Err(refuse("index_exists", format!("the name `{name}` is already taken in the schema"), "pass --name with a free name"));
            }
            let unique = if req.unique { "UNIQUE " } else { "" };
            (
                "create-index",
                "create_index.py.j2",
                if req.unique { format!("add_unique_index_{name}") } else { format!("add_index_{name}") },
                format!("Create the {}index {name} on {t}({})", unique.to_lowercase(), cols.join(", ")),
                vec![(format!("CREATE {unique}INDEX IF NOT EXISTS {name} ON {t}({})", cols.join(", ")), format!("DROP INDEX IF EXISTS {name}"))],
            )
        }
        "drop-index" => {
            let name = identifier(need(&req.name, "--name", kind)?, "index")?;
            let Some(index) = schema.indexes.iter().find(|i| i.name == name) else {
                return Err(refuse("index_not_found", format!("there is no index `{name}`"), "see the indexes in `migration-creator schema`"));
            };
            let Some(sql) = index.sql.clone() else {
                return Err(refuse("index_not_droppable", format!("`{name}` belongs to a UNIQUE or PRIMARY KEY constraint; SQLite cannot drop it"), "change the table instead"));
            };
            (
                "drop-index",
                "drop_index.py.j2",
                format!("drop_index_{name}"),
                format!("Drop the index {name} on {}", index.table),
                vec![(format!("DROP INDEX IF EXISTS {name}"), sql)],
            )
        }
        "rename-column" => {
            let t = existing_table(need(&req.table, "--table", kind)?)?;
            let from = identifier(need(&req.from, "--from", kind)?, "column")?;
            let to = identifier(need(&req.to, "--to", kind)?, "column")?;
            if !has_column(&t, &from) {
                return Err(refuse("column_not_found", format!("`{t}` has no column `{from}`"), format!("see `migration-creator schema --table {t}`")));
            }
            if has_column(&t, &to) {
                return Err(refuse("column_exists", format!("`{t}` already has a column `{to}`"), "choose another name"));
            }
            (
                "rename-column",
                "rename_column.py.j2",
                format!("rename_{t}_{from}_to_{to}"),
                format!("Rename {t}.{from} to {to}"),
                vec![(format!("ALTER TABLE {t} RENAME COLUMN {from} TO {to}"), format!("ALTER TABLE {t} RENAME COLUMN {to} TO {from}"))],
            )
        }
        "rename-table" => {
            let from = existing_table(need(&req.from, "--from", kind)?)?;
            let to = identifier(need(&req.to, "--to", kind)?, "table")?;
            if name_taken(&to) {
                return Err(refuse("table_exists", format!("`{to}` already exists in the schema"), "choose another name"));
            }
            (
                "rename-table",
                "rename_table.py.j2",
                format!("rename_{from}_to_{to}"),
                format!("Rename the table {from} to {to}"),
                vec![(format!("ALTER TABLE {from} RENAME TO {to}"), format!("ALTER TABLE {to} RENAME TO {from}"))],
            )
        }
        "sql" => {
            let description = need(&req.description, "--description", kind)?;
            if req.apply.is_empty() || req.apply.len() != req.rollback.len() {
                return Err(refuse(
                    "unpaired_steps",
                    format!("{} --apply and {} --rollback given; each step needs both", req.apply.len(), req.rollback.len()),
                    "repeat --apply SQL --rollback SQL once per step, one statement each",
                ));
            }
            let steps = req.apply.iter().zip(&req.rollback).map(|(a, r)| (a.trim().to_string(), r.trim().to_string())).collect();
            ("sql", "sql.py.j2", description.to_string(), description.to_string(), steps)
        }
        other => {
            return Err(AppError::env(
                "unknown_kind",
                format!("`{other}` is not a scaffold kind"),
                "kinds: create-table, add-column, create-index, drop-index, rename-column, rename-table, sql",
            ))
        }
    };
    let description = slug(req.description.as_deref().unwrap_or(&description));
    if description.is_empty() {
        return Err(refuse(
            "invalid_description",
            "the description has no letters or digits",
            "describe the change, for example add_archived_to_conversations",
        ));
    }
    Ok(Plan {
        kind,
        template,
        description,
        docstring,
        steps,
    })
}

/// Apply and roll back the plan on the in-memory schema: every statement must
/// run, and the rollback must restore the schema exactly.
fn rehearse(engine: &Native, plan: &Plan) -> Result<(), AppError> {
    let conn = engine.conn();
    let before = schema::introspect(conn)?.normalized();
    conn.execute_batch("SAVEPOINT scaffold")
        .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
    let result = (|| {
        for (apply, _) in &plan.steps {
            engine.execute_step(apply).map_err(|e| match e.refused {
                Some(what) => refuse(
                    "outside_scratch",
                    format!("`{}` reaches outside the database ({what})", one_line(apply)),
                    "a migration may only change its own database: remove the ATTACH, VACUUM INTO or extension loading",
                ),
                None => {
                    let data_only = fails_on_rows(apply, &e.message, &[]);
                    if data_only.code != "fails_on_existing_rows" {
                        return data_only;
                    }
                    refuse(
                        "sql_error",
                        format!("SQLite rejects `{}`: {}", one_line(apply), e.message),
                        "fix the column definition or SQL; SQLite's message says what is wrong",
                    )
                }
            })?;
        }
        for (_, rollback) in plan.steps.iter().rev() {
            engine.execute_step(rollback).map_err(|e| {
                refuse(
                    if e.refused.is_some() {
                        "outside_scratch"
                    } else {
                        "rollback_error"
                    },
                    format!("the rollback `{}` fails: {}", one_line(rollback), e.message),
                    "give each step a rollback that undoes it",
                )
            })?;
        }
        let after = schema::introspect(conn)?.normalized();
        if after != before {
            return Err(refuse(
                "rollback_incomplete",
                "rolling the steps back does not restore the schema",
                "give each step a rollback that undoes it exactly",
            ));
        }
        Ok(())
    })();
    let _ = conn.execute_batch("ROLLBACK TO scaffold; RELEASE scaffold");
    result?;
    let touched = engine.seal().take_touched();
    if let Some(t) = touched.iter().find(|t| {
        crate::sqlite::schema::YOYO_TABLES
            .iter()
            .any(|y| y.eq_ignore_ascii_case(t))
    }) {
        return Err(refuse(
            "reserved_name",
            format!("the migration writes `{t}`, one of yoyo's own tables"),
            "leave _yoyo_migration, _yoyo_log, _yoyo_version and yoyo_lock to yoyo; choose another name",
        ));
    }
    rehearse_on_rows(engine, plan)
}

/// Apply and roll back the plan again with a row in every table, so what
/// SQLite refuses only on a table that has rows is refused here, not on the
/// developer's database.
fn rehearse_on_rows(engine: &Native, plan: &Plan) -> Result<(), AppError> {
    let conn = engine.conn();
    conn.execute_batch("SAVEPOINT scaffold_rows")
        .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
    let result = (|| {
        let seeded = crate::engine::native::seed_rows(conn);
        for (apply, _) in &plan.steps {
            if let Err(e) = engine.execute_step(apply) {
                return Err(fails_on_rows(apply, &e.message, &seeded));
            }
        }
        for (apply, rollback) in plan.steps.iter().rev() {
            if let Err(e) = engine.execute_step(rollback) {
                return Err(refuse(
                    "rollback_error",
                    format!(
                        "the rollback `{}` of `{}` fails once the table has rows: {}",
                        one_line(rollback),
                        one_line(apply),
                        e.message
                    ),
                    "give each step a rollback that works on a table with rows",
                ));
            }
        }
        Ok(())
    })();
    let _ = conn.execute_batch("ROLLBACK TO scaffold_rows; RELEASE scaffold_rows");
    result
}

/// The refusal for a step that works on empty tables and fails with rows.
fn fails_on_rows(sql: &str, message: &str, seeded: &[String]) -> AppError {
    let lower = message.to_ascii_lowercase();
    let (code, hint) = if lower.contains("non-constant default") && lower.contains("add") {
        (
            "non_constant_default",
            "SQLite adds a column to a table with rows only with a constant default: give a constant DEFAULT, or add the column without one and fill it in a second step (UPDATE ... SET), or rebuild the table",
        )
    } else if lower.contains("stored column") {
        (
            "stored_generated_column",
            "SQLite cannot add a STORED generated column to a table with rows: make it VIRTUAL, or rebuild the table with the column",
        )
    } else if lower.contains("not null column with default value null") {
        (
            "not_null_without_default",
            "a NOT NULL column needs a non-NULL DEFAULT to be added to a table with rows: give it one, or add it nullable, fill it, and rebuild the table with NOT NULL",
        )
    } else if lower.contains("check constraint failed")
        && sql.to_ascii_uppercase().contains("ADD COLUMN")
    {
        (
            "check_fails_on_default",
            "existing rows would get the column's default, and the default breaks its CHECK: choose a default the CHECK accepts",
        )
    } else {
        (
            "fails_on_existing_rows",
            "the statement works on an empty table only: change it so that it also works on rows (SQLite's message says why)",
        )
    };
    refuse(
        code,
        format!(
            "`{}` fails where the table has rows: {message}{}",
            one_line(sql),
            if seeded.is_empty() {
                String::new()
            } else {
                format!(" (rehearsed with a row in {})", seeded.join(", "))
            }
        ),
        hint,
    )
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A Python string literal holding `s` exactly. A statement that spans lines
/// becomes one literal per line, joined by Python's implicit concatenation and
/// indented by `indent` outside the quotes, so no indentation ever enters the
/// SQL (a newline inside an SQL string literal stays exactly as given).
fn py_literal(s: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let mut pieces: Vec<String> = Vec::new();
    let mut rest = s;
    while let Some(i) = rest.find('\n') {
        pieces.push(quote_py(&rest[..=i]));
        rest = &rest[i + 1..];
    }
    if !rest.is_empty() || pieces.is_empty() {
        pieces.push(quote_py(rest));
    }
    pieces.join(&format!("\n{pad}"))
}

/// `s` as one double-quoted Python literal: backslashes, quotes and control
/// characters escaped, everything else as it is.
fn quote_py(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if matches!(c, '\u{2028}' | '\u{2029}' | '\u{85}' | '\u{feff}') => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Text for the inside of a `"""` docstring that Python reads back as `s`.
fn docstring_text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

fn template_source(root: &Path, name: &str) -> Result<String, AppError> {
    let custom = root.join(".migration-creator").join("templates").join(name);
    match std::fs::read_to_string(&custom) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TEMPLATES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.to_string())
            .unwrap_or_default()),
        Err(e) => Err(AppError::io("read the template", &custom, &e)),
    }
}

fn render(root: &Path, plan: &Plan, depends: Option<&str>) -> Result<String, AppError> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_filter("py", |v: String, indent: Option<usize>| {
        py_literal(&v, indent.unwrap_or(8))
    });
    let source = template_source(root, plan.template)?;
    let err = |e: minijinja::Error| {
        AppError::env(
            "template_error",
            format!("template {}: {e}", plan.template),
            "fix .migration-creator/templates/ or remove the override",
        )
    };
    env.add_template_owned(plan.template.to_string(), source)
        .map_err(err)?;
    let steps: Vec<HashMap<&str, Value>> = plan
        .steps
        .iter()
        .map(|(a, r)| {
            HashMap::from([
                ("apply", Value::from(a.clone())),
                ("rollback", Value::from(r.clone())),
            ])
        })
        .collect();
    let text = env
        .get_template(plan.template)
        .and_then(|t| t.render(context! { docstring => docstring_text(&plan.docstring), depends => depends, steps => steps, kind => plan.kind }))
        .map_err(err)?;
    Ok(text)
}

/// A cross-process lock on the migrations folder, held while a number is chosen and the file written.
struct FolderLock {
    _file: std::fs::File,
}

impl FolderLock {
    fn acquire(dir: &Path) -> Result<Self, AppError> {
        let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let hash = crate::assets::checksum(canonical.to_string_lossy().as_bytes());
        let path = std::env::temp_dir().join(format!("migration-creator-{hash:016x}.lock"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| AppError::io("open the lock file", &path, &e))?;
        file.lock().map_err(|e| AppError::io("lock", &path, &e))?;
        Ok(FolderLock { _file: file })
    }
}

/// Write `text` to `path` atomically and only if nothing is there: a temporary
/// file in the same folder, hard-linked into place (which fails if the name is taken).
fn create_exclusive(path: &Path, text: &str) -> Result<bool, AppError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".migration-creator-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| AppError::io("create a temporary file in", dir, &e))?;
    tmp.write_all(text.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| AppError::io("write", tmp.path(), &e))?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(AppError::io("create", path, &e)),
    }
}

pub fn run(args: &ScaffoldArgs, root: &Path, printer: &Printer) -> Result<ExitStatus, AppError> {
    let mut req = match (&args.spec, &args.kind) {
        (Some(spec), None) => read_spec(spec)?,
        (None, Some(kind)) => request_from_flags(kind),
        (Some(_), Some(_)) => {
            return Err(AppError::env(
                "usage",
                "give a KIND or --spec, not both",
                "run `migration-creator scaffold --help`",
            ));
        }
        (None, None) => {
            return Err(AppError::env(
                "usage",
                "scaffold needs a KIND or --spec -",
                "run `migration-creator scaffold --help`",
            ))
        }
    };
    if let Some(d) = &args.description {
        req.description = Some(d.clone());
    }
    req.no_depends |= args.no_depends;
    req.dry_run |= args.dry_run;
    let dir_flag = args.dir.clone();
    let config = ProjectConfig::load(root, dir_flag.as_deref(), None)?;
    let crate::engine::native::Built { schema, engine, .. } =
        crate::engine::native::build(&config)?;
    let plan = plan(&req, &schema)?;
    rehearse(&engine, &plan)?;

    let display = |p: &Path| config.display(p);
    let _lock = if req.dry_run {
        None
    } else {
        Some(FolderLock::acquire(&config.migrations)?)
    };
    let mut attempts = 0;
    loop {
        attempts += 1;
        let discovery = migrations::discover(&config.migrations, &display)?;
        let numbers = next_number::compute(&discovery, &display(&config.migrations), &display);
        let depends = if req.no_depends {
            None
        } else {
            numbers.latest.as_ref().map(|l| l.id.clone())
        };
        let id = format!("{}_{}", numbers.next, plan.description);
        let path: PathBuf = config.migrations.join(format!("{id}.py"));
        let text = render(&config.root, &plan, depends.as_deref())?;
        verify(&text, &plan, depends.as_deref())?;
        compile_check(&config.root, &text)?;
        let warnings: Vec<next_number::Warning> = numbers
            .warnings
            .into_iter()
            .filter(|w| w.code == "width_overflow" || w.code == "duplicate_number")
            .collect();
        let report = ScaffoldReport {
            ok: true,
            path: display(&path),
            id,
            number: numbers.number,
            kind: plan.kind.to_string(),
            apply: plan.steps.iter().map(|(a, _)| a.clone()).collect(),
            rollback: plan.steps.iter().map(|(_, r)| r.clone()).collect(),
            depends,
            dry_run: req.dry_run,
            content: text.clone(),
            warnings,
        };
        if !req.dry_run && !create_exclusive(&path, &text)? {
            if attempts > 100 {
                return Err(AppError::env(
                    "number_unavailable",
                    "could not find a free migration number",
                    "check the migrations folder",
                ));
            }
            continue;
        }
        match printer.format {
            Format::Json => printer.json(&report),
            _ => {
                let verb = if req.dry_run { "would write" } else { "wrote" };
                printer.out(&format!("{verb} {}\n\n{}", report.path, report.content));
            }
        }
        return Ok(ExitStatus::Success);
    }
}

/// Compile the file with the project's Python (the interpreter of the yoyo
/// test-apply would use), so a file Python rejects is never written. Without
/// a Python, the read-back by our reader is the check.
fn compile_check(root: &Path, text: &str) -> Result<(), AppError> {
    use std::io::Write;
    let Some(python) =
        crate::engine::find_yoyo(None, root).and_then(|y| crate::engine::yoyo::python_of(&y).ok())
    else {
        return Ok(());
    };
    const CHECK: &str = "import sys\nsrc = sys.stdin.buffer.read()\ntry:\n    compile(src, 'migration', 'exec')\nexcept (SyntaxError, ValueError) as e:\n    print('line %s: %s' % (getattr(e, 'lineno', '?'), getattr(e, 'msg', e)))\n    sys.exit(1)\n";
    let child = std::process::Command::new(&python[0])
        .args(&python[1..])
        .args(["-c", CHECK])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return Ok(());
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(text.as_bytes());
    }
    let Ok(out) = child.wait_with_output() else {
        return Ok(());
    };
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(refuse(
            "generated_file_invalid",
            format!(
                "Python cannot compile the migration scaffold would write ({})",
                String::from_utf8_lossy(&out.stdout).trim()
            ),
            "remove the characters Python rejects from the description or the SQL (or fix the template override in .migration-creator/templates/, if there is one), and run again",
        )),
        // A Python that cannot run the check is no verdict; the read-back stands.
        _ => Ok(()),
    }
}

/// Read the rendered file back with our own reader: it must hold exactly the
/// planned steps and dependency.
fn verify(text: &str, plan: &Plan, depends: Option<&str>) -> Result<(), AppError> {
    let read = migrations::python::read(text).map_err(|e| {
        AppError::env(
            "template_error",
            format!(
                "the generated file does not read back: line {}: {}",
                e.line, e.message
            ),
            "check the template override in .migration-creator/templates/",
        )
    })?;
    let want: Vec<(String, Option<String>)> = plan
        .steps
        .iter()
        .map(|(a, r)| (a.clone(), Some(r.clone())))
        .collect();
    let got: Vec<(String, Option<String>)> = read
        .steps
        .iter()
        .map(|s| (s.apply.clone(), s.rollback.clone()))
        .collect();
    let deps_ok = read.depends == depends.map(|d| vec![d.to_string()]).unwrap_or_default();
    // A template override may leave the docstring out; one it keeps must read back as given.
    let doc_ok = read
        .docstring
        .as_deref()
        .is_none_or(|d| d.trim() == plan.docstring.trim());
    if want != got || !deps_ok || !doc_ok {
        return Err(AppError::env(
            "template_error",
            "the generated file does not hold the planned steps when read back",
            "check the template override in .migration-creator/templates/",
        ));
    }
    Ok(())
}

fn read_spec(spec: &str) -> Result<Request, AppError> {
    let text = if spec == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| AppError::io("read", Path::new("stdin"), &e))?;
        s
    } else {
        std::fs::read_to_string(spec).map_err(|e| AppError::io("read", Path::new(spec), &e))?
    };
    serde_json::from_str(&text).map_err(|e| AppError::env("invalid_spec", format!("the spec is not a valid request: {e}"), "send a JSON object such as {\"kind\": \"add-column\", \"table\": \"t\", \"column\": \"c INTEGER\"}"))
}

fn request_from_flags(kind: &ScaffoldKind) -> Request {
    match kind {
        ScaffoldKind::CreateTable(a) => Request {
            kind: "create-table".into(),
            table: Some(a.table.clone()),
            columns: a.column.clone(),
            no_timestamps: a.no_timestamps,
            ..Request::default()
        },
        ScaffoldKind::AddColumn(a) => Request {
            kind: "add-column".into(),
            table: Some(a.table.clone()),
            columns: vec![a.column.clone()],
            ..Request::default()
        },
        ScaffoldKind::CreateIndex(a) => Request {
            kind: "create-index".into(),
            table: Some(a.table.clone()),
            columns: vec![a.columns.clone()],
            unique: a.unique,
            name: a.name.clone(),
            ..Request::default()
        },
        ScaffoldKind::DropIndex(a) => Request {
            kind: "drop-index".into(),
            name: Some(a.name.clone()),
            ..Request::default()
        },
        ScaffoldKind::RenameColumn(a) => Request {
            kind: "rename-column".into(),
            table: Some(a.table.clone()),
            from: Some(a.from.clone()),
            to: Some(a.to.clone()),
            ..Request::default()
        },
        ScaffoldKind::RenameTable(a) => Request {
            kind: "rename-table".into(),
            from: Some(a.from.clone()),
            to: Some(a.to.clone()),
            ..Request::default()
        },
        ScaffoldKind::Sql(a) => Request {
            kind: "sql".into(),
            apply: a.apply.clone(),
            rollback: a.rollback.clone(),
            ..Request::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_identifiers() {
        assert_eq!(
            slug("Add archived to Conversations!"),
            "add_archived_to_conversations"
        );
        assert!(identifier("users; DROP TABLE x", "table").is_err());
        assert!(identifier("select", "table").is_err());
        assert!(identifier("user_settings", "table").is_ok());
    }

    #[test]
    fn python_literals_round_trip_through_the_reader() {
        for sql in [
            "DROP TABLE \"a\\b\"",
            "CREATE TABLE t (\n    a TEXT DEFAULT '\"\"\"'\n)",
            "x\ny\"",
            "INSERT INTO t VALUES ('line1\nline2\n\tindented\r\n')\n",
            "\\N{bogus} \u{2028} \u{7}",
            "",
        ] {
            let src = format!(
                "from yoyo import step\nstep({}, None)\n",
                py_literal(sql, 8)
            );
            let m = crate::migrations::python::read(&src).unwrap();
            assert_eq!(m.steps[0].apply, sql, "{src}");
        }
    }
}
