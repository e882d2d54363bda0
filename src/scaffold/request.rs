//! A scaffold request: the flags of a kind, or the same fields as JSON
//! (`--spec FILE`, `--spec -` for stdin). A spec may be one request or a list
//! of them, which become one migration.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::error::AppError;

/// One operation of a migration.
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
    /// create-table: the key columns (`a,b`), or `none` for no key beyond
    /// what the columns declare.
    #[serde(default)]
    pub primary_key: Option<String>,
    #[serde(default)]
    pub without_rowid: bool,
    /// create-table: table constraints (`UNIQUE (a, b)`, `CHECK (...)`, ...).
    #[serde(default, alias = "constraint", deserialize_with = "one_or_many")]
    pub constraints: Vec<String>,
    /// create-table, rebuild-table: the complete CREATE TABLE statement.
    #[serde(default)]
    pub definition: Option<String>,
    /// rebuild-table: `COLUMN=SQL_EXPR`, how a column is filled from the old table.
    #[serde(default, deserialize_with = "one_or_many")]
    pub map: Vec<String>,
    /// insert-rows: the rows, as JSON objects.
    #[serde(default)]
    pub rows: Option<serde_json::Value>,
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
    /// The module docstring (default: a sentence made from the request).
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub apply: Vec<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    pub rollback: Vec<String>,
    #[serde(default)]
    pub no_depends: bool,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default)]
    pub no_data: bool,
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

/// Read a spec: one request, or a list of requests for one migration.
pub fn read_spec(spec: &str) -> Result<Vec<Request>, AppError> {
    let text = if spec == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| AppError::io("read", Path::new("stdin"), &e))?;
        s
    } else {
        std::fs::read_to_string(spec).map_err(|e| AppError::io("read", Path::new(spec), &e))?
    };
    let invalid = |e: String| {
        AppError::env(
            "invalid_spec",
            format!("the spec is not a valid request: {e}"),
            "send a JSON object such as {\"kind\": \"add-column\", \"table\": \"t\", \"column\": \"c INTEGER\"}, or a list of them for one migration",
        )
    };
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let requests: Vec<Request> = match value {
        serde_json::Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                serde_json::from_value(item)
                    .map_err(|e| invalid(format!("operation {}: {e}", i + 1)))
            })
            .collect::<Result<_, _>>()?,
        other => vec![serde_json::from_value(other).map_err(|e| invalid(e.to_string()))?],
    };
    if requests.is_empty() {
        return Err(invalid("the list of operations is empty".into()));
    }
    Ok(requests)
}
