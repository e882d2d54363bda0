//! A project's conventions for new tables, from `pyproject.toml`:
//!
//! ```toml
//! [tool.migration-creator.conventions]
//! id_column = "id INTEGER PRIMARY KEY AUTOINCREMENT"   # "" for none
//! timestamps = false
//! timestamp_column_type = "TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP"
//! if_not_exists = true
//! ```
//!
//! Unset keys keep this tool's defaults (the conventions of the project it
//! was made for); a request's own flags win over both.

use std::path::Path;

use serde::Deserialize;

use crate::error::AppError;

/// The type and default of `created_at` and `updated_at`.
pub const TIMESTAMP_DEFAULT: &str = "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now'))";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Conventions {
    /// The key column create-table adds when the request names no key.
    pub id_column: String,
    /// Whether create-table adds created_at and updated_at.
    pub timestamps: bool,
    pub timestamp_column_type: String,
    /// `CREATE TABLE IF NOT EXISTS`, `CREATE INDEX IF NOT EXISTS`, `DROP ... IF EXISTS`.
    pub if_not_exists: bool,
    /// Where the conventions came from (`pyproject.toml`, or null for the defaults).
    #[serde(skip)]
    pub source: Option<String>,
}

impl Default for Conventions {
    fn default() -> Self {
        Conventions {
            id_column: "id TEXT PRIMARY KEY".into(),
            timestamps: true,
            timestamp_column_type: TIMESTAMP_DEFAULT.into(),
            if_not_exists: true,
            source: None,
        }
    }
}

impl Conventions {
    /// The conventions in `root/pyproject.toml`, or the defaults.
    pub fn load(root: &Path) -> Result<Conventions, AppError> {
        let invalid = |why: String| {
            AppError::env(
                "invalid_conventions",
                format!("pyproject.toml: {why}"),
                "fix [tool.migration-creator.conventions]: keys id_column (text), timestamps (true/false), timestamp_column_type (text), if_not_exists (true/false)",
            )
        };
        let Some(section) = crate::config::pyproject_section(root, "conventions", invalid)? else {
            return Ok(Conventions::default());
        };
        let mut c: Conventions = section
            .try_into()
            .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
        c.source = Some("pyproject.toml".into());
        if !c.id_column.trim().is_empty() {
            let name = c.id_column.split_whitespace().next().unwrap_or("");
            if !one_definition(&c.id_column) || c.id_column.split_whitespace().count() < 2 {
                return Err(invalid(format!(
                    "id_column `{}` is not one column definition (a name, a type, and PRIMARY KEY)",
                    c.id_column
                )));
            }
            super::ident::identifier(name, "id_column").map_err(|e| invalid(e.message))?;
        }
        if c.timestamp_column_type.trim().is_empty() || !one_definition(&c.timestamp_column_type) {
            return Err(invalid(format!(
                "timestamp_column_type `{}` is not one column type with its constraints",
                c.timestamp_column_type
            )));
        }
        Ok(c)
    }

    pub fn create(&self) -> &'static str {
        if self.if_not_exists {
            " IF NOT EXISTS"
        } else {
            ""
        }
    }

    pub fn drop(&self) -> &'static str {
        if self.if_not_exists {
            " IF EXISTS"
        } else {
            ""
        }
    }
}

/// Whether `s` is one column definition: parentheses balanced, no comma or
/// semicolon outside them or a string.
fn one_definition(s: &str) -> bool {
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    for c in s.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            (None, ',' | ';') if depth == 0 => return false,
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}
