//! Identifier rules, in one place: what a table, column or index name may be,
//! and the slug a description becomes in a file name.

use super::refuse;
use crate::error::AppError;

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
pub fn column_name(def: &str) -> Result<String, AppError> {
    let first = def.split_whitespace().next().unwrap_or("");
    identifier(first, "column")
}

/// `REFERENCES table(columns)` clauses in a column definition.
pub fn references(def: &str) -> Vec<(String, Vec<String>)> {
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

/// `name` quoted for SQL when it needs it (anything but a plain identifier
/// that is not a keyword).
pub fn quoted(name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !SQLITE_KEYWORDS.contains(&name.to_ascii_uppercase().as_str());
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The table a `CREATE TABLE` statement names, and the byte range of that
/// name in `sql`. None when `sql` is not a CREATE TABLE statement or names
/// a schema (`main.t`).
pub fn create_table_name(sql: &str) -> Option<(String, std::ops::Range<usize>)> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let skip_ws = |mut i: usize| loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if sql[i..].starts_with("--") {
            i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
        } else if sql[i..].starts_with("/*") {
            i = sql[i..].find("*/").map_or(bytes.len(), |n| i + n + 2);
        } else {
            return i;
        }
    };
    let word = |i: usize| -> (usize, String) {
        let end = (i..bytes.len())
            .find(|&j| !(bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_'))
            .unwrap_or(bytes.len());
        (end, sql[i..end].to_ascii_uppercase())
    };
    let expect = |i: &mut usize, options: &[&str]| -> Option<String> {
        *i = skip_ws(*i);
        let (end, w) = word(*i);
        options.contains(&w.as_str()).then(|| {
            *i = end;
            w
        })
    };
    expect(&mut i, &["CREATE"])?;
    let mut j = i;
    if expect(&mut j, &["TEMP", "TEMPORARY"]).is_some() {
        return None;
    }
    expect(&mut i, &["TABLE"])?;
    let mut j = i;
    if expect(&mut j, &["IF"]).is_some() {
        expect(&mut j, &["NOT"])?;
        expect(&mut j, &["EXISTS"])?;
        i = j;
    }
    let start = skip_ws(i);
    let (name, end) = match bytes.get(start)? {
        q @ (b'"' | b'`' | b'[') => {
            let close = match q {
                b'[' => b']',
                other => *other,
            };
            let mut k = start + 1;
            let mut name = String::new();
            loop {
                let c = *bytes.get(k)?;
                if c == close {
                    if close != b']' && bytes.get(k + 1) == Some(&close) {
                        name.push(close as char);
                        k += 2;
                        continue;
                    }
                    break;
                }
                let ch = sql[k..].chars().next()?;
                name.push(ch);
                k += ch.len_utf8();
            }
            (name, k + 1)
        }
        _ => {
            let (end, _) = word(start);
            (sql[start..end].to_string(), end)
        }
    };
    if name.is_empty() || sql[end..].trim_start().starts_with('.') {
        return None;
    }
    Some((name, start..end))
}
