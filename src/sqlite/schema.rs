//! A SQLite schema as data: tables with their columns and foreign keys,
//! indexes, views and triggers, read from a connection with SQLite's own
//! pragmas. yoyo's bookkeeping tables and SQLite's internal ones are left out.

use rusqlite::Connection;
use serde::Serialize;

use crate::error::AppError;

/// Tables yoyo creates; never part of a project's schema.
pub const YOYO_TABLES: &[&str] = &["_yoyo_migration", "_yoyo_log", "_yoyo_version", "yoyo_lock"];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Schema {
    pub tables: Vec<Table>,
    pub indexes: Vec<Index>,
    pub views: Vec<View>,
    pub triggers: Vec<Trigger>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub foreign_keys: Vec<ForeignKey>,
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub name: String,
    /// The declared type, as written (`TEXT`, `INTEGER`, or empty).
    #[serde(rename = "type")]
    pub ty: String,
    pub not_null: bool,
    /// The default expression as written, or null.
    pub default: Option<String>,
    /// Position in the primary key (1-based), or 0 when not part of it.
    pub primary_key: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForeignKey {
    pub columns: Vec<String>,
    pub references_table: String,
    /// Empty when the reference names no columns (the parent's primary key).
    pub references_columns: Vec<String>,
    pub on_update: String,
    pub on_delete: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Index {
    pub name: String,
    pub table: String,
    /// Column names; an expression shows as `<expression>`.
    pub columns: Vec<String>,
    pub unique: bool,
    /// `create_index`, `unique_constraint` or `primary_key`.
    pub origin: &'static str,
    pub partial: bool,
    /// The CREATE INDEX statement (null for indexes SQLite made for a constraint).
    pub sql: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct View {
    pub name: String,
    pub sql: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Trigger {
    pub name: String,
    pub table: String,
    pub sql: String,
}

fn sqlite_error(context: &str, e: rusqlite::Error) -> AppError {
    AppError::problem(
        "sqlite_error",
        format!("{context}: {e}"),
        "check the database file and the SQL",
    )
}

fn is_project_object(name: &str) -> bool {
    !name.starts_with("sqlite_") && !YOYO_TABLES.contains(&name)
}

/// Read the schema of `conn`.
pub fn introspect(conn: &Connection) -> Result<Schema, AppError> {
    introspect_reusing(conn, None)
}

/// Read the schema of `conn`, reusing from `previous` every table whose
/// definition and indexes (as `sqlite_master` holds them) are unchanged: what
/// SQLite's pragmas say of a table follows from those texts alone, so a
/// snapshot after each of many migrations costs one query per unchanged table
/// less than three.
pub fn introspect_reusing(
    conn: &Connection,
    previous: Option<&Schema>,
) -> Result<Schema, AppError> {
    let e = |err| sqlite_error("reading the schema", err);
    let mut stmt = conn
        .prepare_cached("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
        .map_err(e)?;
    let rows: Vec<(String, String, String, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let mut schema = Schema {
        tables: Vec::new(),
        indexes: Vec::new(),
        views: Vec::new(),
        triggers: Vec::new(),
    };
    // A table's indexes as sqlite_master lists them: (name, sql), by name;
    // and the previous snapshot by table, so that a schema of n tables is
    // read in O(n), not O(n^2).
    let mut index_rows: std::collections::HashMap<&str, Vec<(&str, Option<&str>)>> =
        std::collections::HashMap::new();
    for (ty, n, t, sql) in &rows {
        if ty == "index" {
            index_rows
                .entry(t.as_str())
                .or_default()
                .push((n.as_str(), sql.as_deref()));
        }
    }
    let index_rows = |table: &str| index_rows.get(table).cloned().unwrap_or_default();
    let mut previous_tables: std::collections::HashMap<&str, &Table> =
        std::collections::HashMap::new();
    let mut previous_indexes: std::collections::HashMap<&str, Vec<&Index>> =
        std::collections::HashMap::new();
    if let Some(p) = previous {
        for t in &p.tables {
            previous_tables.insert(t.name.as_str(), t);
        }
        for i in &p.indexes {
            previous_indexes
                .entry(i.table.as_str())
                .or_default()
                .push(i);
        }
    }
    for (ty, name, table, sql) in &rows {
        if !is_project_object(name) || !is_project_object(table) {
            continue;
        }
        let sql = sql.clone().unwrap_or_default();
        match ty.as_str() {
            "table" => {
                let kept = previous.and_then(|_| {
                    let t = previous_tables
                        .get(name.as_str())
                        .filter(|t| t.sql == sql)?;
                    let mut before: Vec<&Index> = previous_indexes
                        .get(name.as_str())
                        .cloned()
                        .unwrap_or_default();
                    before.sort_by(|a, b| a.name.cmp(&b.name));
                    let now = index_rows(name);
                    let same = before.len() == now.len()
                        && before
                            .iter()
                            .zip(&now)
                            .all(|(a, (n, s))| a.name == *n && a.sql.as_deref() == *s);
                    same.then(|| {
                        (
                            (*t).clone(),
                            before.into_iter().cloned().collect::<Vec<_>>(),
                        )
                    })
                });
                match kept {
                    Some((t, indexes)) => {
                        schema.tables.push(t);
                        schema.indexes.extend(indexes);
                    }
                    None => {
                        schema.tables.push(read_table(conn, name, sql)?);
                        schema.indexes.extend(read_indexes(conn, name)?);
                    }
                }
            }
            "view" => schema.views.push(View {
                name: name.clone(),
                sql,
            }),
            "trigger" => schema.triggers.push(Trigger {
                name: name.clone(),
                table: table.clone(),
                sql,
            }),
            _ => {}
        }
    }
    schema.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(schema)
}

/// Read only the tables named (in any case), with their indexes and
/// triggers; no views. For a look at the few tables one migration names,
/// without reading a large schema whole.
pub fn introspect_tables<'a>(
    conn: &Connection,
    names: impl IntoIterator<Item = &'a String>,
) -> Result<Schema, AppError> {
    let e = |err| sqlite_error("reading the schema", err);
    let mut schema = Schema {
        tables: Vec::new(),
        indexes: Vec::new(),
        views: Vec::new(),
        triggers: Vec::new(),
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name = ?1 COLLATE NOCASE ORDER BY name",
        )
        .map_err(e)?;
    for wanted in names {
        let rows: Vec<(String, String, String, Option<String>)> = stmt
            .query_map([wanted], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .map_err(e)?
            .collect::<Result<_, _>>()
            .map_err(e)?;
        for (ty, name, table, sql) in rows {
            if !is_project_object(&name) || !is_project_object(&table) {
                continue;
            }
            let sql = sql.unwrap_or_default();
            match ty.as_str() {
                "table" => {
                    schema.tables.push(read_table(conn, &name, sql)?);
                    schema.indexes.extend(read_indexes(conn, &name)?);
                }
                "trigger" => schema.triggers.push(Trigger { name, table, sql }),
                _ => {}
            }
        }
    }
    schema.indexes.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(schema)
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn read_table(conn: &Connection, name: &str, sql: String) -> Result<Table, AppError> {
    let e = |err| sqlite_error(&format!("reading table {name}"), err);
    let mut stmt = conn
        .prepare(&format!("PRAGMA table_info({})", quote(name)))
        .map_err(e)?;
    let columns = stmt
        .query_map([], |r| {
            Ok(Column {
                name: r.get(1)?,
                ty: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                not_null: r.get::<_, i64>(3)? != 0,
                default: r.get(4)?,
                primary_key: r.get::<_, i64>(5)?.try_into().unwrap_or(0),
            })
        })
        .map_err(e)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(e)?;
    let mut stmt = conn
        .prepare(&format!("PRAGMA foreign_key_list({})", quote(name)))
        .map_err(e)?;
    let rows: Vec<(i64, String, String, Option<String>, String, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let mut foreign_keys: Vec<(i64, ForeignKey)> = Vec::new();
    for (id, table, from, to, on_update, on_delete) in rows {
        match foreign_keys.iter_mut().find(|(i, _)| *i == id) {
            Some((_, fk)) => {
                fk.columns.push(from);
                fk.references_columns.extend(to);
            }
            None => foreign_keys.push((
                id,
                ForeignKey {
                    columns: vec![from],
                    references_table: table,
                    references_columns: to.into_iter().collect(),
                    on_update,
                    on_delete,
                },
            )),
        }
    }
    foreign_keys.sort_by_key(|(id, _)| -id);
    Ok(Table {
        name: name.to_string(),
        columns,
        foreign_keys: foreign_keys.into_iter().map(|(_, f)| f).collect(),
        sql,
    })
}

fn read_indexes(conn: &Connection, table: &str) -> Result<Vec<Index>, AppError> {
    let e = |err| sqlite_error(&format!("reading the indexes of {table}"), err);
    let mut stmt = conn
        .prepare(&format!("PRAGMA index_list({})", quote(table)))
        .map_err(e)?;
    let list: Vec<(String, bool, String, bool)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(1)?,
                r.get::<_, i64>(2)? != 0,
                r.get(3)?,
                r.get::<_, i64>(4)? != 0,
            ))
        })
        .map_err(e)?
        .collect::<Result<_, _>>()
        .map_err(e)?;
    let mut out = Vec::new();
    for (name, unique, origin, partial) in list {
        let mut stmt = conn
            .prepare(&format!("PRAGMA index_info({})", quote(&name)))
            .map_err(e)?;
        let columns = stmt
            .query_map([], |r| {
                Ok(r.get::<_, Option<String>>(2)?
                    .unwrap_or_else(|| "<expression>".into()))
            })
            .map_err(e)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(e)?;
        let sql: Option<String> = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                [&name],
                |r| r.get(0),
            )
            .unwrap_or(None);
        let origin = match origin.as_str() {
            "u" => "unique_constraint",
            "pk" => "primary_key",
            _ => "create_index",
        };
        out.push(Index {
            name,
            table: table.to_string(),
            columns,
            unique,
            origin,
            partial,
            sql,
        });
    }
    Ok(out)
}

impl Schema {
    /// Only `table`, its indexes and triggers. None when there is no such table or view.
    pub fn narrow(self, table: &str) -> Option<Schema> {
        let known = self.tables.iter().any(|t| t.name == table)
            || self.views.iter().any(|v| v.name == table);
        known.then(|| Schema {
            tables: self
                .tables
                .into_iter()
                .filter(|t| t.name == table)
                .collect(),
            indexes: self
                .indexes
                .into_iter()
                .filter(|i| i.table == table)
                .collect(),
            views: self.views.into_iter().filter(|v| v.name == table).collect(),
            triggers: self
                .triggers
                .into_iter()
                .filter(|t| t.table == table)
                .collect(),
        })
    }

    /// The same schema with every SQL text normalised, for comparisons:
    /// whitespace and identifier quoting alone are no difference (SQLite
    /// rewrites `REFERENCES t` to `REFERENCES "t"` when a table is renamed).
    pub fn normalized(&self) -> Schema {
        let mut s = self.clone();
        for t in &mut s.tables {
            t.sql = normalize_sql(&t.sql);
        }
        for i in &mut s.indexes {
            i.sql = i.sql.as_deref().map(normalize_sql);
        }
        for v in &mut s.views {
            v.sql = normalize_sql(&v.sql);
        }
        for t in &mut s.triggers {
            t.sql = normalize_sql(&t.sql);
        }
        s
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.name == name)
    }
}

/// SQL with runs of whitespace collapsed to one space, no space next to
/// punctuation, and identifier quotes (`"`, backticks) removed outside string literals.
pub fn normalize_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_string = false;
    let mut pending_space = false;
    for c in sql.trim().chars() {
        if in_string {
            out.push(c);
            if c == '\'' {
                in_string = false;
            }
            continue;
        }
        match c {
            '\'' => {
                if pending_space && !out.is_empty() && !out.ends_with(['(', ',']) {
                    out.push(' ');
                }
                pending_space = false;
                in_string = true;
                out.push(c);
            }
            '"' | '`' => {}
            c if c.is_whitespace() => pending_space = true,
            '(' | ')' | ',' | ';' => {
                pending_space = false;
                out.push(c);
            }
            c => {
                if pending_space && !out.is_empty() && !out.ends_with(['(', ',']) {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize_sql;

    #[test]
    fn normalisation_ignores_whitespace_and_quotes_only() {
        assert_eq!(
            normalize_sql("CREATE TABLE \"a\" (\n  x TEXT REFERENCES \"b\"(id) ,\n y TEXT)"),
            "CREATE TABLE a(x TEXT REFERENCES b(id),y TEXT)"
        );
        assert_eq!(
            normalize_sql("CREATE TABLE a(x TEXT REFERENCES b(id), y TEXT)"),
            normalize_sql("CREATE TABLE a (x TEXT REFERENCES b (id),y TEXT)")
        );
        assert_ne!(
            normalize_sql("DEFAULT 'a  \"b\"'"),
            normalize_sql("DEFAULT 'a \"b\"'")
        );
    }
}

/// What changed between two schemas.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    pub tables_added: Vec<String>,
    pub tables_dropped: Vec<String>,
    pub tables_altered: Vec<TableChange>,
    pub indexes_added: Vec<String>,
    pub indexes_dropped: Vec<String>,
    pub indexes_altered: Vec<String>,
    pub views_added: Vec<String>,
    pub views_dropped: Vec<String>,
    pub views_altered: Vec<String>,
    pub triggers_added: Vec<String>,
    pub triggers_dropped: Vec<String>,
    pub triggers_altered: Vec<String>,
}

/// How one table changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TableChange {
    pub table: String,
    pub columns_added: Vec<String>,
    pub columns_dropped: Vec<String>,
    /// Columns whose type, NOT NULL, default or primary key changed.
    pub columns_altered: Vec<String>,
    /// Foreign keys or other parts of the definition changed.
    pub definition_changed: bool,
}

fn named_diff<T>(
    before: &[T],
    after: &[T],
    name: impl Fn(&T) -> &str,
    same: impl Fn(&T, &T) -> bool,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut added = Vec::new();
    let mut dropped = Vec::new();
    let mut altered = Vec::new();
    for a in after {
        match before.iter().find(|b| name(b) == name(a)) {
            None => added.push(name(a).to_string()),
            Some(b) if !same(b, a) => altered.push(name(a).to_string()),
            Some(_) => {}
        }
    }
    for b in before {
        if !after.iter().any(|a| name(a) == name(b)) {
            dropped.push(name(b).to_string());
        }
    }
    (added, dropped, altered)
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        *self == Changes::default()
    }

    /// One line per difference, for reports.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |what: &str, verb: &str, names: &[String]| {
            for n in names {
                out.push(format!("{what} {n} {verb}"));
            }
        };
        push("table", "added", &self.tables_added);
        push("table", "dropped", &self.tables_dropped);
        push("index", "added", &self.indexes_added);
        push("index", "dropped", &self.indexes_dropped);
        push("index", "altered", &self.indexes_altered);
        push("view", "added", &self.views_added);
        push("view", "dropped", &self.views_dropped);
        push("view", "altered", &self.views_altered);
        push("trigger", "added", &self.triggers_added);
        push("trigger", "dropped", &self.triggers_dropped);
        push("trigger", "altered", &self.triggers_altered);
        for t in &self.tables_altered {
            for c in &t.columns_added {
                out.push(format!("column {}.{c} added", t.table));
            }
            for c in &t.columns_dropped {
                out.push(format!("column {}.{c} dropped", t.table));
            }
            for c in &t.columns_altered {
                out.push(format!("column {}.{c} altered", t.table));
            }
            if t.definition_changed
                && t.columns_added.is_empty()
                && t.columns_dropped.is_empty()
                && t.columns_altered.is_empty()
            {
                out.push(format!("table {} definition altered", t.table));
            }
        }
        out
    }
}

/// The changes from `before` to `after`, comparing normalised SQL.
pub fn diff(before: &Schema, after: &Schema) -> Changes {
    let (b, a) = (before.normalized(), after.normalized());
    let (tables_added, tables_dropped, _) =
        named_diff(&b.tables, &a.tables, |t| &t.name, |x, y| x == y);
    let mut tables_altered = Vec::new();
    for t in &a.tables {
        let Some(old) = b.tables.iter().find(|o| o.name == t.name) else {
            continue;
        };
        if old == t {
            continue;
        }
        let (columns_added, columns_dropped, columns_altered) =
            named_diff(&old.columns, &t.columns, |c| &c.name, |x, y| x == y);
        tables_altered.push(TableChange {
            table: t.name.clone(),
            columns_added,
            columns_dropped,
            columns_altered,
            definition_changed: old.foreign_keys != t.foreign_keys || old.sql != t.sql,
        });
    }
    let user_indexes = |s: &Schema| {
        s.indexes
            .iter()
            .filter(|i| i.sql.is_some())
            .cloned()
            .collect::<Vec<_>>()
    };
    let (indexes_added, indexes_dropped, indexes_altered) = named_diff(
        &user_indexes(&b),
        &user_indexes(&a),
        |i| &i.name,
        |x, y| x == y,
    );
    let (views_added, views_dropped, views_altered) =
        named_diff(&b.views, &a.views, |v| &v.name, |x, y| x == y);
    let (triggers_added, triggers_dropped, triggers_altered) =
        named_diff(&b.triggers, &a.triggers, |t| &t.name, |x, y| x == y);
    Changes {
        tables_added,
        tables_dropped,
        tables_altered,
        indexes_added,
        indexes_dropped,
        indexes_altered,
        views_added,
        views_dropped,
        views_altered,
        triggers_added,
        triggers_dropped,
        triggers_altered,
    }
}
