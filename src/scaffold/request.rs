//! A scaffold request: the flags of a kind, or the same fields as JSON.

use std::io::Read;
use std::path::Path;

use serde::Deserialize;

use crate::error::AppError;

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

pub fn read_spec(spec: &str) -> Result<Request, AppError> {
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
