//! `schema`: the schema the migrations produce (applied in yoyo's order to an
//! in-memory database), or with `--database` the schema of a database file
//! opened read-only.

use std::path::Path;

use serde::Serialize;

use crate::cli::{Format, SchemaArgs};
use crate::config::ProjectConfig;
use crate::engine::native;
use crate::error::{AppError, ExitStatus};
use crate::output::Printer;
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

pub fn run(args: &SchemaArgs, root: &Path, printer: &Printer) -> Result<ExitStatus, AppError> {
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
    match printer.format {
        Format::Json => printer.json(&report),
        _ => printer.out(&render_text(&report.schema)),
    }
    Ok(ExitStatus::Success)
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
                line.push_str(&format!(" DEFAULT {d}"));
            }
            out.push_str(line.trim_end());
            out.push('\n');
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
