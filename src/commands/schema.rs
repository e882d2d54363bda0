//! `schema`: the schema the migrations produce (applied in yoyo's order to an
//! in-memory database), or with `--database` the schema of a database file
//! opened read-only.

use std::path::Path;

use serde::Serialize;

use crate::cli::SchemaArgs;
use crate::config::ProjectConfig;
use crate::engine::native;
use crate::error::{AppError, ExitStatus};
use crate::output::{Printer, Report};
use crate::sqlite::schema::{self, Schema};

#[derive(Debug, Serialize)]
pub struct SchemaReport {
    pub ok: bool,
    /// `migrations` or `database`.
    pub source: &'static str,
    /// The migrations folder (when the source is the migrations).
    pub directory: Option<String>,
    /// The database file (when the source is a database).
    pub database: Option<String>,
    /// How many migrations were applied to build the schema.
    pub applied: Option<usize>,
    #[serde(flatten)]
    pub schema: Schema,
}

pub fn run(args: &SchemaArgs, root: &Path) -> Result<SchemaReport, AppError> {
    let config = ProjectConfig::load(root, args.dir.as_deref(), args.database.as_deref())?;
    // Only --database reads a database; yoyo.ini's alone does not.
    let file = if args.database.is_some() {
        config.database_file()?
    } else {
        None
    };
    let mut report = match file {
        Some(path) => {
            let conn = crate::sqlite::open::open_existing(&path)?;
            SchemaReport {
                ok: true,
                source: "database",
                directory: None,
                database: Some(config.display(&path)),
                applied: None,
                schema: schema::introspect(&conn)?,
            }
        }
        None => {
            let native::Built {
                schema, applied, ..
            } = native::build(&config)?;
            SchemaReport {
                ok: true,
                source: "migrations",
                directory: Some(config.display(&config.migrations)),
                database: None,
                applied: Some(applied.len()),
                schema,
            }
        }
    };
    if let Some(table) = &args.table {
        let names: Vec<String> = report
            .schema
            .tables
            .iter()
            .map(|t| t.name.clone())
            .collect();
        report.schema = report.schema.narrow(table).ok_or_else(|| {
            AppError::problem(
                "table_not_found",
                format!("there is no table or view `{table}`"),
                if names.is_empty() {
                    "the schema has no tables yet".to_string()
                } else {
                    format!("tables: {}", names.join(", "))
                },
            )
        })?;
    }
    Ok(report)
}

impl Report for SchemaReport {
    fn text(&self, _printer: &Printer) -> String {
        render_text(&self.schema)
    }

    fn status(&self) -> ExitStatus {
        ExitStatus::Success
    }
}

fn render_text(s: &Schema) -> String {
    let mut out = String::new();
    for t in &s.tables {
        out.push_str(&format!("table {}\n", t.name));
        for c in &t.columns {
            let mut line = format!("  {} {}", c.name, c.ty);
            if c.primary_key > 0 {
                line.push_str(" PRIMARY KEY");
            }
            if c.not_null {
                line.push_str(" NOT NULL");
            }
            if let Some(d) = &c.default {
                line.push_str(&format!(" DEFAULT {}", default_sql(d)));
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        for check in checks(&t.sql) {
            out.push_str(&format!("  CHECK ({check})\n"));
        }
        for fk in &t.foreign_keys {
            out.push_str(&format!(
                "  FOREIGN KEY ({}) REFERENCES {}({})\n",
                fk.columns.join(", "),
                fk.references_table,
                fk.references_columns.join(", ")
            ));
        }
    }
    for i in &s.indexes {
        let unique = if i.unique { "unique " } else { "" };
        out.push_str(&format!(
            "{unique}index {} ON {}({})\n",
            i.name,
            i.table,
            i.columns.join(", ")
        ));
    }
    for v in &s.views {
        out.push_str(&format!("view {}\n", v.name));
    }
    for t in &s.triggers {
        out.push_str(&format!("trigger {} ON {}\n", t.name, t.table));
    }
    out
}

/// A default as it must be written in SQL: SQLite's pragma drops the
/// parentheses an expression default needs (`DEFAULT (strftime(...))`).
fn default_sql(d: &str) -> String {
    let t = d.trim();
    let upper = t.to_ascii_uppercase();
    let literal = t.starts_with('\'')
        || t.starts_with('"')
        || t.starts_with(['x', 'X']) && t[1..].starts_with('\'')
        || t.trim_start_matches(['+', '-']).parse::<f64>().is_ok()
        || matches!(
            upper.as_str(),
            "NULL" | "TRUE" | "FALSE" | "CURRENT_TIME" | "CURRENT_DATE" | "CURRENT_TIMESTAMP"
        );
    if literal || (t.starts_with('(') && t.ends_with(')')) {
        t.to_string()
    } else {
        format!("({t})")
    }
}

/// The CHECK expressions of a CREATE TABLE statement, column and table ones.
fn checks(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = sql.as_bytes();
    let upper = sql.to_ascii_uppercase();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    while i < bytes.len() {
        let b = bytes[i];
        if let Some(q) = quote {
            if b == q {
                quote = None;
            }
            i += 1;
            continue;
        }
        if matches!(b, b'\'' | b'"' | b'`') {
            quote = Some(b);
            i += 1;
            continue;
        }
        let word_start = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        if word_start && upper[i..].starts_with("CHECK") {
            let rest = &sql[i + 5..];
            let Some(open) = rest.find('(') else { break };
            if !rest[..open].trim().is_empty() {
                i += 5;
                continue;
            }
            let mut depth = 0;
            let mut q: Option<char> = None;
            for (j, c) in rest[open..].char_indices() {
                match (q, c) {
                    (Some(x), c) if c == x => q = None,
                    (Some(_), _) => {}
                    (None, '\'' | '"') => q = Some(c),
                    (None, '(') => depth += 1,
                    (None, ')') => {
                        depth -= 1;
                        if depth == 0 {
                            out.push(rest[open + 1..open + j].trim().to_string());
                            i += 5 + open + j;
                            break;
                        }
                    }
                    _ => {}
                }
            }
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn defaults_keep_their_parentheses_and_checks_are_listed() {
        assert_eq!(
            super::default_sql("strftime('%s', 'now')"),
            "(strftime('%s', 'now'))"
        );
        assert_eq!(super::default_sql("'light'"), "'light'");
        assert_eq!(super::default_sql("-1.5"), "-1.5");
        assert_eq!(super::default_sql("CURRENT_TIMESTAMP"), "CURRENT_TIMESTAMP");
        assert_eq!(
            super::checks("CREATE TABLE t (a INTEGER CHECK (a > 0), b TEXT, CONSTRAINT c CHECK (length(b) < 10 AND b != ')'))"),
            ["a > 0", "length(b) < 10 AND b != ')'"]
        );
    }
}
