//! A request checked against the schema the migrations produce and turned
//! into steps (one SQL statement and the statement that undoes it, each).

use super::ident::{column_name, identifier, references, slug};
use super::{refuse, Request};
use crate::error::AppError;
use crate::sqlite::schema::Schema;

const TIMESTAMP_DEFAULT: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

pub struct Plan {
    pub kind: &'static str,
    pub template: &'static str,
    pub description: String,
    pub docstring: String,
    pub steps: Vec<(String, String)>,
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

pub fn plan(req: &Request, schema: &Schema) -> Result<Plan, AppError> {
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
