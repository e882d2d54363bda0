//! Requests checked against the schema the migrations produce and turned
//! into steps (one SQL statement and the statement that undoes it, each),
//! one function per kind. Several requests make one migration: each is
//! planned against the schema the ones before it leave.

use serde::Serialize;

use super::conventions::Conventions;
use super::ident::{column_name, create_table_name, identifier, quoted, slug};
use super::rebuild::{self, Rebuild};
use super::rehearse::one_line;
use super::{refuse, Request};
use crate::engine::native::Native;
use crate::error::AppError;
use crate::sqlite::schema::{self, Schema};

/// Something worth knowing about a migration that does not stop it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    pub code: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// One request, planned.
#[derive(Debug, Clone)]
pub struct Operation {
    pub kind: &'static str,
    pub template: &'static str,
    /// The default description (slugged into the file name).
    pub description: String,
    /// A sentence saying what the operation does.
    pub summary: String,
    pub steps: Vec<(String, String)>,
    /// Existing objects the operation changes or depends on (`table users`).
    pub touches: Vec<String>,
    pub rebuild: Option<Rebuild>,
    pub notes: Vec<Note>,
}

/// A whole migration, planned.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The kind, or the kinds joined by `+` for several operations.
    pub kind: String,
    pub template: &'static str,
    pub description: String,
    pub docstring: String,
    pub steps: Vec<(String, String)>,
    pub touches: Vec<String>,
    pub rebuild: Option<Rebuild>,
    pub notes: Vec<Note>,
    pub operations: Vec<Operation>,
}

/// What planning reads: the schema now, the project's conventions, and the
/// in-memory engine that holds the schema (for checks that ask SQLite).
pub struct Ctx<'a> {
    pub schema: &'a Schema,
    pub conventions: &'a Conventions,
    pub engine: &'a Native,
}

const KINDS: &str = "create-table, add-column, create-index, drop-index, rename-column, rename-table, drop-table, insert-rows, rebuild-table, sql";

fn need<'a>(v: &'a Option<String>, flag: &str, kind: &str) -> Result<&'a str, AppError> {
    v.as_deref().ok_or_else(|| {
        AppError::env(
            "missing_argument",
            format!("{kind} needs {flag}"),
            format!("run `migration-creator scaffold {kind} --help`"),
        )
    })
}

/// Plan `requests` as one migration.
pub fn plan(
    requests: &[Request],
    engine: &Native,
    conventions: &Conventions,
) -> Result<Plan, AppError> {
    let conn = engine.conn();
    let bug =
        |e: rusqlite::Error| AppError::env("sqlite_error", e.to_string(), "report this as a bug");
    conn.execute_batch("SAVEPOINT plan").map_err(bug)?;
    let several = requests.len() > 1;
    let result = (|| {
        let mut ops = Vec::new();
        for (i, req) in requests.iter().enumerate() {
            let schema = schema::introspect(conn)?;
            let ctx = Ctx {
                schema: &schema,
                conventions,
                engine,
            };
            let op = operation(req, &ctx).map_err(|mut e| {
                if several {
                    e.message = format!("operation {} ({}): {}", i + 1, req.kind, e.message);
                }
                e
            })?;
            for (apply, rollback) in &op.steps {
                for t in crate::sqlite::schema::YOYO_TABLES {
                    if mentions(apply, t) || mentions(rollback, t) {
                        return Err(refuse(
                            "reserved_name",
                            format!("`{}` names {t}, one of yoyo's own tables", one_line(apply)),
                            "leave _yoyo_migration, _yoyo_log, _yoyo_version and yoyo_lock to yoyo; choose another name",
                        ));
                    }
                }
            }
            // The next operation is planned against the schema this one leaves.
            for (apply, _) in &op.steps {
                engine.execute_step(apply).map_err(|e| {
                    refuse(
                        "sql_error",
                        format!("SQLite rejects `{}`: {}", one_line(apply), e.message),
                        "fix the definition or SQL; SQLite's message says what is wrong",
                    )
                })?;
            }
            ops.push(op);
        }
        Ok(ops)
    })();
    let _ = conn.execute_batch("ROLLBACK TO plan; RELEASE plan");
    let ops: Vec<Operation> = result?;
    combine(requests, ops)
}

fn combine(requests: &[Request], ops: Vec<Operation>) -> Result<Plan, AppError> {
    let first = &requests[0];
    let given = |f: fn(&Request) -> Option<&String>| requests.iter().find_map(f).cloned();
    let description = given(|r| r.description.as_ref()).unwrap_or_else(|| {
        ops.iter()
            .map(|o| o.description.as_str())
            .collect::<Vec<_>>()
            .join("_and_")
    });
    let description = slug(&description);
    if description.is_empty() {
        return Err(refuse(
            "invalid_description",
            "the description has no letters or digits",
            "describe the change, for example add_archived_to_conversations",
        ));
    }
    let docstring = given(|r| r.summary.as_ref())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            ops.iter()
                .map(|o| o.summary.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        });
    let kind = ops.iter().map(|o| o.kind).collect::<Vec<_>>().join("+");
    let template = if ops.len() == 1 {
        ops[0].template
    } else {
        "sql.py.j2"
    };
    let mut touches: Vec<String> = Vec::new();
    for t in ops.iter().flat_map(|o| &o.touches) {
        if !touches.contains(t) {
            touches.push(t.clone());
        }
    }
    let _ = first;
    Ok(Plan {
        kind,
        template,
        description,
        docstring,
        steps: ops.iter().flat_map(|o| o.steps.clone()).collect(),
        touches,
        rebuild: ops.iter().find_map(|o| o.rebuild.clone()),
        notes: ops.iter().flat_map(|o| o.notes.clone()).collect(),
        operations: ops,
    })
}

/// Plan one request against `ctx.schema`.
pub fn operation(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    match req.kind.as_str() {
        "create-table" => create_table(req, ctx),
        "add-column" => add_column(req, ctx),
        "create-index" => create_index(req, ctx),
        "drop-index" => drop_index(req, ctx),
        "rename-column" => rename_column(req, ctx),
        "rename-table" => rename_table(req, ctx),
        "drop-table" => drop_table(req, ctx),
        "insert-rows" => insert_rows(req, ctx),
        "rebuild-table" => rebuild::plan(req, ctx),
        "sql" => sql(req),
        other => Err(AppError::env(
            "unknown_kind",
            format!("`{other}` is not a scaffold kind"),
            format!("kinds: {KINDS}"),
        )),
    }
}

/// Whether `name` is taken by any table, index, view or trigger.
pub fn name_taken(schema: &Schema, name: &str) -> bool {
    let n = name.to_ascii_lowercase();
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
}

/// `t`, checked and existing.
pub fn existing_table(schema: &Schema, t: &str) -> Result<String, AppError> {
    // Any name the schema holds is fine, however it must be quoted; only a
    // name that does not exist yet is held to `identifier`'s rules.
    let bare = t
        .trim()
        .trim_start_matches(['"', '`', '['])
        .trim_end_matches(['"', '`', ']']);
    if let Some(x) = schema
        .tables
        .iter()
        .find(|x| x.name.eq_ignore_ascii_case(bare))
    {
        return Ok(x.name.clone());
    }
    let t = identifier(t, "table")?;
    match schema
        .tables
        .iter()
        .find(|x| x.name.eq_ignore_ascii_case(&t))
    {
        Some(x) => Ok(x.name.clone()),
        None => {
            let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
            Err(refuse(
                "table_not_found",
                format!("table `{t}` does not exist in the schema the migrations produce"),
                if names.is_empty() {
                    "the schema has no tables yet".to_string()
                } else {
                    format!("tables: {}", names.join(", "))
                },
            ))
        }
    }
}

fn has_column(schema: &Schema, t: &str, c: &str) -> bool {
    schema
        .table(t)
        .is_some_and(|t| t.columns.iter().any(|col| col.name.eq_ignore_ascii_case(c)))
}

/// Whether `sql` holds `--` or `/*` outside quotes.
fn has_sql_comment(sql: &str) -> bool {
    let mut quote: Option<char> = None;
    let mut prev = '\0';
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if matches!(c, '\'' | '"' | '`' | '[') => {
                quote = Some(if c == '[' { ']' } else { c })
            }
            None if (prev == '-' && c == '-') || (prev == '/' && c == '*') => return true,
            None => {}
        }
        prev = if quote.is_some() { '\0' } else { c };
    }
    false
}

/// The table `apply` creates has exactly the columns asked for, in order: a
/// `--` comment in a --column swallows the comma after it (and the column
/// after that), a comma inside one adds a column; SQLite accepts both.
fn check_columns_as_asked(
    ctx: &Ctx<'_>,
    table: &str,
    apply: &str,
    asked: &[String],
) -> Result<(), AppError> {
    let conn = ctx.engine.conn();
    let bug =
        |e: rusqlite::Error| AppError::env("sqlite_error", e.to_string(), "report this as a bug");
    conn.execute_batch("SAVEPOINT columns_check").map_err(bug)?;
    // table_xinfo: generated columns count; the hidden columns of a
    // virtual table (hidden = 1) are not the request's.
    let got: Option<Vec<String>> = ctx.engine.execute_step(apply).ok().map(|_| {
        conn.prepare("SELECT name FROM pragma_table_xinfo(?1) WHERE hidden <> 1")
            .and_then(|mut stmt| {
                stmt.query_map([table], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .unwrap_or_default()
    });
    let _ = conn.execute_batch("ROLLBACK TO columns_check; RELEASE columns_check");
    let Some(got) = got else {
        // SQLite's own refusal is reported where the statement is checked.
        return Ok(());
    };
    let same = got.len() == asked.len()
        && got
            .iter()
            .zip(asked)
            .all(|(g, a)| g.eq_ignore_ascii_case(a));
    if same {
        return Ok(());
    }
    Err(refuse(
        "columns_mismatch",
        format!(
            "SQLite reads the columns ({}) from this request, not the ones asked for ({})",
            got.join(", "),
            asked.join(", ")
        ),
        "give one column per --column, without SQL comments (`--` runs to the end of the line and swallows the comma after it) or commas between columns",
    ))
}

/// Every foreign key of `table`, once `statements` have run (in a savepoint
/// that is rolled back), points at a table and columns that exist (or at the
/// table itself). With `only`, just the keys on those columns are checked.
pub fn check_foreign_keys(
    ctx: &Ctx<'_>,
    table: &str,
    statements: &[&str],
    only: Option<&[String]>,
) -> Result<(), AppError> {
    let conn = ctx.engine.conn();
    let bug =
        |e: rusqlite::Error| AppError::env("sqlite_error", e.to_string(), "report this as a bug");
    conn.execute_batch("SAVEPOINT fk_check").map_err(bug)?;
    let result = (|| {
        for sql in statements {
            ctx.engine.execute_step(sql).map_err(|e| {
                refuse(
                    "sql_error",
                    format!("SQLite rejects `{}`: {}", one_line(sql), e.message),
                    "fix the column definitions or constraints; SQLite's message says what is wrong",
                )
            })?;
        }
        let made = schema::introspect(conn)?;
        let Some(t) = made.table(table) else {
            return Ok(());
        };
        for fk in &t.foreign_keys {
            let checked = only.is_none_or(|cols| {
                fk.columns
                    .iter()
                    .any(|c| cols.iter().any(|n| n.eq_ignore_ascii_case(c)))
            });
            if !checked {
                continue;
            }
            let target = &fk.references_table;
            let own = target.eq_ignore_ascii_case(table);
            let Some(parent) = made
                .table(target)
                .filter(|_| own || ctx.schema.table(target).is_some())
            else {
                return Err(refuse(
                    "foreign_key_target_missing",
                    format!("{table}({}) references table `{target}`, which does not exist", fk.columns.join(", ")),
                    "create the referenced table first (in an earlier operation or migration), or fix the name (see `migration-creator schema`)",
                ));
            };
            if let Some(c) = fk.references_columns.iter().find(|c| {
                !parent
                    .columns
                    .iter()
                    .any(|p| p.name.eq_ignore_ascii_case(c))
            }) {
                return Err(refuse(
                    "foreign_key_target_missing",
                    format!(
                        "{table}({}) references {target}({c}), but `{target}` has no column `{c}`",
                        fk.columns.join(", ")
                    ),
                    format!("see `migration-creator schema --table {target}`"),
                ));
            }
        }
        Ok(())
    })();
    let _ = conn.execute_batch("ROLLBACK TO fk_check; RELEASE fk_check");
    result
}

fn create_table(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let c = ctx.conventions;
    let (t, apply, asked) = if let Some(def) = &req.definition {
        if !req.columns.is_empty()
            || !req.constraints.is_empty()
            || req.primary_key.is_some()
            || req.without_rowid
        {
            return Err(AppError::env(
            "conflicting_arguments",
                "--definition is the whole CREATE TABLE statement; it cannot be combined with --column, --constraint, --primary-key or --without-rowid",
                "put everything in the definition, or leave it out",
            ));
        }
        let Some((name, _)) = create_table_name(def) else {
            return Err(refuse(
                "invalid_definition",
                format!("`{}` is not a CREATE TABLE statement", one_line(def)),
                "give the complete statement, for example --definition \"CREATE TABLE tags (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)\"",
            ));
        };
        let t = identifier(&name, "table")?;
        if let Some(given) = &req.table {
            if !given.eq_ignore_ascii_case(&t) {
                return Err(refuse(
                    "invalid_definition",
                    format!("--table is `{given}` but the definition creates `{t}`"),
                    "leave --table out, or make the two agree",
                ));
            }
        }
        (
            t,
            def.trim().trim_end_matches(';').trim_end().to_string(),
            None,
        )
    } else {
        let t = identifier(need(&req.table, "--table", "create-table")?, "table")?;
        let mut defs: Vec<String> = Vec::new();
        let declares_key = req
            .columns
            .iter()
            .chain(&req.constraints)
            .any(|d| d.to_ascii_uppercase().contains("PRIMARY KEY"));
        let mut constraints: Vec<String> = Vec::new();
        match req.primary_key.as_deref().map(str::trim) {
            Some(k) if k.eq_ignore_ascii_case("none") => {}
            Some(k) => {
                let cols: Vec<String> = k
                    .split(',')
                    .map(|c| identifier(c.trim(), "column"))
                    .collect::<Result<_, _>>()?;
                if declares_key {
                    return Err(refuse(
                        "duplicate_primary_key",
                        "--primary-key is given and a column or constraint declares a PRIMARY KEY too",
                        "keep one of them",
                    ));
                }
                constraints.push(format!("PRIMARY KEY ({})", cols.join(", ")));
            }
            None if declares_key || c.id_column.trim().is_empty() => {}
            None => defs.push(c.id_column.trim().to_string()),
        }
        defs.extend(req.columns.iter().map(|d| d.trim().to_string()));
        if c.timestamps && !req.no_timestamps {
            defs.push(format!("created_at {}", c.timestamp_column_type));
            defs.push(format!("updated_at {}", c.timestamp_column_type));
        }
        let mut names: Vec<String> = Vec::new();
        for d in &defs {
            let n = column_name(d)?;
            if names.iter().any(|x| x.eq_ignore_ascii_case(&n)) {
                return Err(refuse(
                    "duplicate_column",
                    format!("column `{n}` is defined twice"),
                    "the key column and created_at/updated_at are added by the conventions: --primary-key none or a column of your own with PRIMARY KEY replaces the key, --no-timestamps leaves the timestamps out",
                ));
            }
            names.push(n);
        }
        if defs.is_empty() {
            return Err(AppError::env(
                "missing_argument",
                "create-table needs at least one --column",
                "for example --column \"name TEXT NOT NULL\"",
            ));
        }
        for k in &req.constraints {
            let upper = k.trim_start().to_ascii_uppercase();
            if !["UNIQUE", "CHECK", "FOREIGN", "PRIMARY", "CONSTRAINT"]
                .iter()
                .any(|w| upper.starts_with(w))
            {
                return Err(refuse(
                    "invalid_constraint",
                    format!("`{}` is not a table constraint", one_line(k)),
                    "a constraint starts with UNIQUE, CHECK, FOREIGN KEY, PRIMARY KEY or CONSTRAINT name",
                ));
            }
        }
        // One line each in the statement: a comment in one runs on into the
        // separator and the definition after it.
        for d in req.columns.iter().chain(&req.constraints) {
            if has_sql_comment(d) {
                return Err(refuse(
                    "sql_comment_in_definition",
                    format!("`{}` holds an SQL comment", one_line(d)),
                    "leave comments out of --column and --constraint (`--` runs to the end of the line and swallows what follows); say why in --summary",
                ));
            }
        }
        constraints.extend(req.constraints.iter().map(|k| k.trim().to_string()));
        let body = defs
            .iter()
            .chain(&constraints)
            .map(|d| format!("    {d}"))
            .collect::<Vec<_>>()
            .join(",\n");
        let rowid = if req.without_rowid {
            " WITHOUT ROWID"
        } else {
            ""
        };
        (
            t.clone(),
            format!(
                "CREATE TABLE{} {} (\n{body}\n){rowid}",
                c.create(),
                quoted(&t)
            ),
            Some(names),
        )
    };
    if name_taken(ctx.schema, &t) {
        return Err(refuse(
            "table_exists",
            format!("`{t}` already exists in the schema"),
            "choose another name; to change the table use add-column, or rebuild-table for any other change",
        ));
    }
    check_foreign_keys(ctx, &t, &[apply.as_str()], None)?;
    if let Some(asked) = &asked {
        check_columns_as_asked(ctx, &t, &apply, asked)?;
    }
    Ok(Operation {
        kind: "create-table",
        template: "create_table.py.j2",
        description: format!("create_{t}"),
        summary: format!("Create the {t} table."),
        steps: vec![(apply, format!("DROP TABLE{} {}", c.drop(), quoted(&t)))],
        touches: Vec::new(),
        rebuild: None,
        notes: Vec::new(),
    })
}

fn add_column(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let t = existing_table(ctx.schema, need(&req.table, "--table", "add-column")?)?;
    if req.columns.is_empty() {
        return Err(AppError::env(
            "missing_argument",
            "add-column needs --column \"NAME TYPE ...\" (repeatable)",
            "for example --column \"archived INTEGER NOT NULL DEFAULT 0\"",
        ));
    }
    let mut steps = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for def in &req.columns {
        let def = def.trim();
        let c = column_name(def)?;
        if has_column(ctx.schema, &t, &c) || names.iter().any(|n| n.eq_ignore_ascii_case(&c)) {
            return Err(refuse(
                "column_exists",
                format!("`{t}` already has a column `{c}`"),
                format!("see `migration-creator schema --table {t}`; to change the column use rebuild-table"),
            ));
        }
        let upper = def.to_ascii_uppercase();
        if upper.contains("PRIMARY KEY") || upper.split_whitespace().any(|w| w == "UNIQUE") {
            return Err(refuse(
                "add_column_unsupported",
                format!("SQLite cannot add a column with PRIMARY KEY or UNIQUE (`{def}`)"),
                "add the column without it and then a unique index (create-index --unique), or use rebuild-table to change the table's definition",
            ));
        }
        if upper.contains("NOT NULL") && !upper.contains("DEFAULT") {
            return Err(refuse(
                "not_null_without_default",
                format!("`{def}` is NOT NULL without a DEFAULT; SQLite cannot add it to a table that has rows"),
                "add a DEFAULT (for example DEFAULT 0 or DEFAULT ''), or drop NOT NULL; rebuild-table with --map can fill it from other columns",
            ));
        }
        steps.push((
            format!("ALTER TABLE {} ADD COLUMN {def}", quoted(&t)),
            format!("ALTER TABLE {} DROP COLUMN {}", quoted(&t), quoted(&c)),
        ));
        names.push(c);
    }
    // Foreign keys in the new columns point at tables and columns that exist.
    let statements: Vec<&str> = steps.iter().map(|(a, _)| a.as_str()).collect();
    check_foreign_keys(ctx, &t, &statements, Some(&names))?;
    let (description, summary) = match names.as_slice() {
        [c] => (
            format!("add_{c}_to_{t}"),
            format!("Add the column {} to {t}.", req.columns[0].trim()),
        ),
        _ => (
            format!("add_{}_to_{t}", names.join("_")),
            format!(
                "Add the columns {} to {t}.",
                req.columns
                    .iter()
                    .map(|c| c.trim())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
    };
    Ok(Operation {
        kind: "add-column",
        template: "add_column.py.j2",
        description,
        summary,
        steps,
        touches: vec![format!("table {t}")],
        rebuild: None,
        notes: Vec::new(),
    })
}

fn create_index(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let t = existing_table(ctx.schema, need(&req.table, "--table", "create-index")?)?;
    let cols: Vec<String> = req
        .columns
        .iter()
        .flat_map(|c| c.split(','))
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if cols.is_empty() {
        return Err(AppError::env(
            "missing_argument",
            "create-index needs --columns a,b",
            "name the columns to index",
        ));
    }
    for c in &cols {
        identifier(c, "column")?;
        if !has_column(ctx.schema, &t, c) {
            return Err(refuse(
                "column_not_found",
                format!("`{t}` has no column `{c}`"),
                format!("see `migration-creator schema --table {t}`"),
            ));
        }
    }
    let name = match &req.name {
        Some(n) => identifier(n, "index")?,
        None => format!("idx_{t}_{}", cols.join("_")),
    };
    if name_taken(ctx.schema, &name) {
        return Err(refuse(
            "index_exists",
            format!("the name `{name}` is already taken in the schema"),
            "pass --name with a free name",
        ));
    }
    let c = ctx.conventions;
    let unique = if req.unique { "UNIQUE " } else { "" };
    let list = cols
        .iter()
        .map(|c| quoted(c))
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Operation {
        kind: "create-index",
        template: "create_index.py.j2",
        description: format!(
            "{}index_{t}_{}",
            if req.unique { "unique_" } else { "" },
            cols.join("_")
        ),
        summary: format!(
            "Create the {}index {name} on {t}({}).",
            unique.to_lowercase(),
            cols.join(", ")
        ),
        steps: vec![(
            format!(
                "CREATE {unique}INDEX{} {} ON {}({list})",
                c.create(),
                quoted(&name),
                quoted(&t)
            ),
            format!("DROP INDEX{} {}", c.drop(), quoted(&name)),
        )],
        touches: vec![format!("table {t}")],
        rebuild: None,
        notes: Vec::new(),
    })
}

fn drop_index(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let name = identifier(need(&req.name, "--name", "drop-index")?, "index")?;
    let Some(index) = ctx
        .schema
        .indexes
        .iter()
        .find(|i| i.name.eq_ignore_ascii_case(&name))
    else {
        return Err(refuse(
            "index_not_found",
            format!("there is no index `{name}`"),
            "see the indexes in `migration-creator schema`",
        ));
    };
    let Some(sql) = index.sql.clone() else {
        return Err(refuse(
            "index_not_droppable",
            format!(
                "`{name}` belongs to a UNIQUE or PRIMARY KEY constraint; SQLite cannot drop it"
            ),
            "change the table's definition with rebuild-table instead",
        ));
    };
    Ok(Operation {
        kind: "drop-index",
        template: "drop_index.py.j2",
        description: format!("drop_{}", index.name),
        summary: format!("Drop the index {} on {}.", index.name, index.table),
        steps: vec![(
            format!(
                "DROP INDEX{} {}",
                ctx.conventions.drop(),
                quoted(&index.name)
            ),
            sql,
        )],
        touches: vec![
            format!("index {}", index.name),
            format!("table {}", index.table),
        ],
        rebuild: None,
        notes: Vec::new(),
    })
}

fn rename_column(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let t = existing_table(ctx.schema, need(&req.table, "--table", "rename-column")?)?;
    let from = identifier(need(&req.from, "--from", "rename-column")?, "column")?;
    let to = identifier(need(&req.to, "--to", "rename-column")?, "column")?;
    if !has_column(ctx.schema, &t, &from) {
        return Err(refuse(
            "column_not_found",
            format!("`{t}` has no column `{from}`"),
            format!("see `migration-creator schema --table {t}`"),
        ));
    }
    if has_column(ctx.schema, &t, &to) {
        return Err(refuse(
            "column_exists",
            format!("`{t}` already has a column `{to}`"),
            "choose another name",
        ));
    }
    let qt = quoted(&t);
    Ok(Operation {
        kind: "rename-column",
        template: "rename_column.py.j2",
        description: format!("rename_{t}_{from}_to_{to}"),
        summary: format!("Rename the column {t}.{from} to {to}."),
        steps: vec![(
            format!(
                "ALTER TABLE {qt} RENAME COLUMN {} TO {}",
                quoted(&from),
                quoted(&to)
            ),
            format!(
                "ALTER TABLE {qt} RENAME COLUMN {} TO {}",
                quoted(&to),
                quoted(&from)
            ),
        )],
        touches: vec![format!("table {t}")],
        rebuild: None,
        notes: Vec::new(),
    })
}

fn rename_table(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let from = existing_table(ctx.schema, need(&req.from, "--from", "rename-table")?)?;
    let to = identifier(need(&req.to, "--to", "rename-table")?, "table")?;
    if name_taken(ctx.schema, &to) {
        return Err(refuse(
            "table_exists",
            format!("`{to}` already exists in the schema"),
            "choose another name",
        ));
    }
    let referrers: Vec<String> = ctx
        .schema
        .tables
        .iter()
        .filter(|t| {
            t.name != from
                && t.foreign_keys
                    .iter()
                    .any(|fk| fk.references_table.eq_ignore_ascii_case(&from))
        })
        .map(|t| format!("table {}", t.name))
        .collect();
    Ok(Operation {
        kind: "rename-table",
        template: "rename_table.py.j2",
        description: format!("rename_{from}_to_{to}"),
        summary: format!("Rename the table {from} to {to}."),
        steps: vec![(
            format!("ALTER TABLE {} RENAME TO {}", quoted(&from), quoted(&to)),
            format!("ALTER TABLE {} RENAME TO {}", quoted(&to), quoted(&from)),
        )],
        touches: std::iter::once(format!("table {from}"))
            .chain(referrers)
            .collect(),
        rebuild: None,
        notes: Vec::new(),
    })
}

/// Views whose SQL names `table` (as a whole word).
pub fn views_using<'s>(schema: &'s Schema, table: &str) -> Vec<&'s crate::sqlite::schema::View> {
    schema
        .views
        .iter()
        .filter(|v| mentions(&v.sql, table))
        .collect()
}

/// Whether `sql` names `word` as a whole identifier (case-insensitive).
pub fn mentions(sql: &str, word: &str) -> bool {
    let lower = sql.to_ascii_lowercase();
    let w = word.to_ascii_lowercase();
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    lower.match_indices(&w).any(|(i, _)| {
        let before = lower[..i].chars().next_back();
        let after = lower[i + w.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

fn drop_table(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let t = existing_table(ctx.schema, need(&req.table, "--table", "drop-table")?)?;
    let table = ctx.schema.table(&t).expect("checked above");
    let views = views_using(ctx.schema, &t);
    if !views.is_empty() {
        return Err(refuse(
            "table_in_use",
            format!(
                "the views {} use `{t}`",
                views.iter().map(|v| v.name.as_str()).collect::<Vec<_>>().join(", ")
            ),
            "drop or change those views first (scaffold sql, with the CREATE VIEW as rollback), then drop the table",
        ));
    }
    let mut steps = Vec::new();
    for tr in ctx
        .schema
        .triggers
        .iter()
        .filter(|tr| tr.table.eq_ignore_ascii_case(&t))
    {
        steps.push((
            format!(
                "DROP TRIGGER{} {}",
                ctx.conventions.drop(),
                quoted(&tr.name)
            ),
            tr.sql.clone(),
        ));
    }
    for ix in ctx
        .schema
        .indexes
        .iter()
        .filter(|i| i.table.eq_ignore_ascii_case(&t))
    {
        if let Some(sql) = &ix.sql {
            steps.push((
                format!("DROP INDEX{} {}", ctx.conventions.drop(), quoted(&ix.name)),
                sql.clone(),
            ));
        }
    }
    steps.push((
        format!("DROP TABLE{} {}", ctx.conventions.drop(), quoted(&t)),
        table.sql.clone(),
    ));
    let mut notes = vec![Note {
        code: "rollback_loses_rows",
        message: format!("the rollback recreates {t} with its indexes and triggers, but empty: its rows are not restored"),
        hint: Some("if the rows matter, copy them to another table in an earlier step, or keep the table".into()),
    }];
    let referrers: Vec<&str> = ctx
        .schema
        .tables
        .iter()
        .filter(|x| {
            x.name != t
                && x.foreign_keys
                    .iter()
                    .any(|fk| fk.references_table.eq_ignore_ascii_case(&t))
        })
        .map(|x| x.name.as_str())
        .collect();
    if !referrers.is_empty() {
        notes.push(Note {
            code: "referenced_table",
            message: format!(
                "{} reference {t} with foreign keys; after the drop those keys point at nothing",
                referrers.join(", ")
            ),
            hint: Some("drop or rebuild the referencing tables first (rebuild-table)".into()),
        });
    }
    Ok(Operation {
        kind: "drop-table",
        template: "sql.py.j2",
        description: format!("drop_{t}"),
        summary: format!("Drop the table {t} (the rollback recreates it empty)."),
        steps,
        touches: std::iter::once(format!("table {t}"))
            .chain(referrers.iter().map(|r| format!("table {r}")))
            .collect(),
        rebuild: None,
        notes,
    })
}

/// A JSON value as an SQL literal.
fn sql_literal(v: &serde_json::Value) -> Option<String> {
    Some(match v {
        serde_json::Value::Null => "NULL".into(),
        serde_json::Value::Bool(b) => if *b { "1" } else { "0" }.into(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        _ => return None,
    })
}

fn insert_rows(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let t = existing_table(ctx.schema, need(&req.table, "--table", "insert-rows")?)?;
    let table = ctx.schema.table(&t).expect("checked above");
    let rows = match &req.rows {
        Some(serde_json::Value::Array(rows)) if !rows.is_empty() => rows,
        _ => {
            return Err(AppError::env(
                "missing_argument",
                "insert-rows needs --rows with a JSON list of objects",
                "for example --rows '[{\"id\": \"light\", \"label\": \"Light\"}]'",
            ))
        }
    };
    let mut key: Vec<(u32, &str)> = table
        .columns
        .iter()
        .filter(|c| c.primary_key > 0)
        .map(|c| (c.primary_key, c.name.as_str()))
        .collect();
    key.sort();
    let key: Vec<&str> = key.into_iter().map(|(_, c)| c).collect();
    if key.is_empty() {
        return Err(refuse(
            "no_primary_key",
            format!("`{t}` has no PRIMARY KEY, so a rollback cannot delete exactly the rows it added"),
            "use scaffold sql with a rollback that names the rows, or give the table a primary key (rebuild-table)",
        ));
    }
    let mut steps = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let Some(obj) = row.as_object() else {
            return Err(refuse(
                "invalid_rows",
                format!("row {} is not a JSON object", i + 1),
                "give each row as {\"column\": value, ...}",
            ));
        };
        let mut cols = Vec::new();
        let mut values = Vec::new();
        for (c, v) in obj {
            let Some(col) = table
                .columns
                .iter()
                .find(|x| x.name.eq_ignore_ascii_case(c))
            else {
                return Err(refuse(
                    "column_not_found",
                    format!("row {}: `{t}` has no column `{c}`", i + 1),
                    format!("see `migration-creator schema --table {t}`"),
                ));
            };
            let Some(lit) = sql_literal(v) else {
                return Err(refuse(
                    "invalid_rows",
                    format!("row {}: the value of `{c}` is a list or an object", i + 1),
                    "values are strings, numbers, booleans or null (store JSON as a string)",
                ));
            };
            cols.push(quoted(&col.name));
            values.push((col.name.clone(), lit));
        }
        let mut where_ = Vec::new();
        for k in &key {
            let Some((_, lit)) = values.iter().find(|(c, _)| c.eq_ignore_ascii_case(k)) else {
                return Err(refuse(
                    "missing_primary_key",
                    format!(
                        "row {} has no value for the primary key column `{k}`",
                        i + 1
                    ),
                    "give every row its primary key, so the rollback deletes exactly that row",
                ));
            };
            if lit == "NULL" {
                return Err(refuse(
                    "missing_primary_key",
                    format!("row {} has NULL for the primary key column `{k}`", i + 1),
                    "give every row its primary key, so the rollback deletes exactly that row",
                ));
            }
            where_.push(format!("{} = {lit}", quoted(k)));
        }
        steps.push((
            format!(
                "INSERT INTO {} ({}) VALUES ({})",
                quoted(&t),
                cols.join(", "),
                values
                    .iter()
                    .map(|(_, l)| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            format!("DELETE FROM {} WHERE {}", quoted(&t), where_.join(" AND ")),
        ));
    }
    let n = steps.len();
    Ok(Operation {
        kind: "insert-rows",
        template: "sql.py.j2",
        description: format!("seed_{t}"),
        summary: format!(
            "Insert {n} row{} into {t}; the rollback deletes them by primary key.",
            if n == 1 { "" } else { "s" }
        ),
        steps,
        touches: vec![format!("table {t}")],
        rebuild: None,
        notes: Vec::new(),
    })
}

fn sql(req: &Request) -> Result<Operation, AppError> {
    let description = need(&req.description, "--description", "sql")?;
    if req.apply.is_empty() || req.apply.len() != req.rollback.len() {
        return Err(AppError::env(
            "unpaired_steps",
            format!(
                "{} --apply and {} --rollback given; each step needs both",
                req.apply.len(),
                req.rollback.len()
            ),
            "repeat --apply SQL --rollback SQL once per step, one statement each",
        ));
    }
    let steps = req
        .apply
        .iter()
        .zip(&req.rollback)
        .map(|(a, r)| (a.trim().to_string(), r.trim().to_string()))
        .collect();
    let summary = description.trim().to_string();
    Ok(Operation {
        kind: "sql",
        template: "sql.py.j2",
        description: description.to_string(),
        summary: if summary.ends_with('.') {
            summary
        } else {
            format!("{summary}.")
        },
        steps,
        touches: Vec::new(),
        rebuild: None,
        notes: Vec::new(),
    })
}
