//! The checks, by family: the folder (ids, names, order, `.sql` layout),
//! each step read alone (statements, rollbacks, transaction control), and
//! each migration against the schema the migrations before it build, applied
//! through the native engine (failures, rows, rebuilds, foreign keys,
//! double-quoted strings).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::sql::{self, classify, tokenize, top_level_has, Stmt};
use super::{finding, Pending};
use crate::engine::native::{has_statement, seed_table, Native};
use crate::engine::Phase;
use crate::error::AppError;
use crate::migrations::numbering::number_of;
use crate::migrations::{Kind, Migration, MigrationFile, ReadError};
use crate::sqlite::schema::{self, Schema, Table};

/// A migration file as the folder checks see it.
pub struct FileView<'a> {
    pub file: &'a MigrationFile,
    pub text: &'a str,
    /// `None` when the reader refused the file.
    pub migration: Option<&'a Migration>,
}

fn eq(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn one_line(sql: &str) -> String {
    let s = sql.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 70 {
        format!("{}...", s.chars().take(70).collect::<String>())
    } else {
        s
    }
}

/// A file the reader refused.
pub fn unreadable(e: &ReadError) -> Pending {
    let p = if e.code == "unsupported_step" && e.message.contains("ignore_errors") {
        finding(
            "ignore_errors",
            format!(
                "{}: yoyo swallows a failing step and records the migration as applied",
                e.message
            ),
            "remove ignore_errors=: let a failing step fail, and fix its SQL",
        )
    } else {
        match e.code {
            "python_syntax_error" => finding(
                "python_syntax_error",
                e.message.clone(),
                "fix the file so that Python can import it: yoyo cannot apply it either",
            ),
            "migration_unreadable" => finding(
                "migration_unreadable",
                e.message.clone(),
                "check that the file is readable and UTF-8 (its permissions, its encoding)",
            ),
            _ => finding(
                "unsupported_step",
                format!("not checked: {}", e.message),
                "lint reads plain data only (string literals, and names bound once to one); run `migration-creator test-apply --engine yoyo` to try it",
            ),
        }
    };
    p.line(e.line)
}

/// Checks over the whole folder: ids, file names, order, `.sql` layout.
pub fn folder(files: &[FileView]) -> Vec<(PathBuf, Vec<Pending>)> {
    let mut out: BTreeMap<PathBuf, Vec<Pending>> = BTreeMap::new();
    let mut push = |p: &PathBuf, f: Pending| out.entry(p.clone()).or_default().push(f);

    // One id, two files.
    let mut by_id: BTreeMap<&str, Vec<&FileView>> = BTreeMap::new();
    for f in files {
        by_id.entry(f.file.id.as_str()).or_default().push(f);
    }
    for (id, list) in &by_id {
        if list.len() > 1 {
            let names: Vec<&str> = list.iter().map(|f| f.file.file_name.as_str()).collect();
            for f in list {
                push(
                    &f.file.path,
                    finding(
                        "duplicate_migration_id",
                        format!("{} files have the id `{id}` ({}); yoyo loads both under one id and applies only one of them", list.len(), names.join(", ")),
                        "rename one of them: a migration id is its file name without the extension",
                    ),
                );
            }
        }
    }

    for f in files {
        let name = &f.file.file_name;
        if name.starts_with('_') || name.starts_with('.') {
            push(
                &f.file.path,
                finding(
                    "non_migration_file",
                    format!("{name} is a migration to yoyo, which will try to apply it"),
                    "move helpers out of the migrations folder, or rename the file if it is a migration",
                ),
            );
        } else if let Some(m) = f
            .migration
            .filter(|m| m.file.kind == Kind::Python && m.steps.is_empty())
        {
            push(
                &m.file.path,
                finding(
                    "non_migration_file",
                    format!("{name} has no steps; yoyo still records it as an applied migration"),
                    "move it out of the migrations folder if it is not a migration, or give it steps",
                ),
            );
        }
        if let Some(m) = f.migration.filter(|m| m.file.kind == Kind::Sql) {
            for p in sql_file(m, f.text) {
                push(&m.file.path, p);
            }
        }
    }

    // Order that is an accident of file names.
    let depends = |a: &FileView, b: &FileView| {
        let names = |x: &FileView, y: &FileView| {
            x.migration.is_some_and(|m| m.depends.contains(&y.file.id))
        };
        names(a, b) || names(b, a)
    };
    let numbered: Vec<(&FileView, u64, usize)> = files
        .iter()
        .filter_map(|f| number_of(&f.file.id).map(|(n, w)| (f, n, w)))
        .collect();
    let mut jumps: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    for (i, (a, na, _)) in numbered.iter().enumerate() {
        for (j, (b, nb, _)) in numbered[..i].iter().enumerate() {
            if a.file.id == b.file.id || depends(a, b) {
                continue;
            }
            if na == nb {
                push(
                    &a.file.path,
                    finding(
                        "ambiguous_order",
                        format!("{} and {} share the number {na}; yoyo applies them in name order, which nothing decided", b.file.file_name, a.file.file_name),
                        format!("renumber one (`migration-creator next-number`), or add `__depends__ = {{\"{}\"}}` to say which comes first", b.file.id),
                    ),
                );
            } else if nb > na {
                // `b` sorts first by name but has the higher number.
                jumps.entry(j).or_default().push(a.file.file_name.clone());
            }
        }
    }
    for (j, ahead_of) in jumps {
        let (b, nb, _) = &numbered[j];
        push(
            &b.file.path,
            finding(
                "ambiguous_order",
                format!("{} (number {nb}) sorts before {}: yoyo orders by name, so it runs first", b.file.file_name, list_some(&ahead_of)),
                "keep one number width in the folder: rename the file to the width in use, or add `__depends__`",
            ),
        );
    }
    out.into_iter().collect()
}

/// Checks of a `.sql` file's layout: directives, rollback file.
fn sql_file(m: &Migration, text: &str) -> Vec<Pending> {
    let mut out = Vec::new();
    let mut seen_sql = false;
    for (n, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(rest) = t.strip_prefix("--") {
            let key = rest.trim_start().split(':').next().unwrap_or("").trim();
            if seen_sql && rest.contains(':') && (key == "depends" || key == "transactional") {
                out.push(
                    finding(
                        "directive_after_sql",
                        format!("`{t}` comes after the first SQL line; yoyo reads directives only from the comments at the top of the file"),
                        "move it to the comment block at the top of the file",
                    )
                    .line(n + 1),
                );
            }
            continue;
        }
        seen_sql = true;
    }
    let rollback = m
        .file
        .path
        .with_file_name(format!("{}.rollback.sql", m.file.id));
    let applies = m.steps.iter().filter(|s| has_statement(&s.apply)).count();
    let rollbacks = m.steps.iter().filter(|s| s.rollback.is_some()).count();
    if !rollback.exists() {
        out.push(finding(
            "rollback_missing",
            format!(
                "{} has no {}.rollback.sql; `yoyo rollback` does nothing for it",
                m.file.file_name, m.file.id
            ),
            format!(
                "write {}.rollback.sql with statements that undo these, in reverse order",
                m.file.id
            ),
        ));
    } else if applies > 0 && std::fs::read_to_string(&rollback).is_ok_and(|t| is_noop(&t)) {
        out.push(finding(
            "rollback_noop",
            format!(
                "{}.rollback.sql does nothing (it is empty, or only comments or a SELECT): `yoyo rollback` leaves {} in place",
                m.file.id, m.file.file_name
            ),
            format!(
                "write statements in {}.rollback.sql that undo the migration's, in reverse order",
                m.file.id
            ),
        ));
    } else {
        if applies != rollbacks {
            out.push(finding(
                "rollback_missing",
                format!("{} has {applies} statement(s) and its rollback {rollbacks}; yoyo pairs them one to one, in reverse", m.file.file_name),
                "give the rollback file one statement per statement of the migration",
            ));
        }
        // yoyo pairs the statements in reverse: each statement's own undo.
        for (i, step) in m.steps.iter().enumerate() {
            if let Some(r) = step.rollback.as_deref() {
                if has_statement(&step.apply) && is_noop(r) {
                    out.push(
                        finding(
                            "rollback_noop",
                            format!(
                                "the statement {}.rollback.sql pairs with `{}` does nothing (`{}`)",
                                m.file.id,
                                one_line(&step.apply),
                                one_line(r)
                            ),
                            "give each statement a rollback statement that undoes it, in reverse order",
                        )
                        .step(i),
                    );
                }
            }
        }
    }
    out
}

/// One statement of a step.
struct Statement {
    step: usize,
    text: String,
    stmt: Stmt,
}

fn table_of<'a>(s: &'a Schema, name: &str) -> Option<&'a Table> {
    s.tables.iter().find(|t| eq(&t.name, name))
}

/// Check one migration, then apply it to `engine` (whose schema is
/// `previous`, when known). Returns the findings and the schema after.
pub fn migration(
    engine: &Native,
    m: &Migration,
    _text: &str,
    schema_complete: bool,
    previous: Option<Schema>,
) -> Result<(Vec<Pending>, Option<Schema>), AppError> {
    let conn = engine.conn();
    let mut out = Vec::new();
    let python = m.file.kind == Kind::Python;

    // Each step alone.
    let mut statements = Vec::new();
    // Steps already reported for what makes them fail.
    let mut flagged_steps: BTreeSet<usize> = BTreeSet::new();
    for (i, step) in m.steps.iter().enumerate() {
        if step.ignore_errors.is_some() {
            out.push(
                finding(
                    "ignore_errors",
                    "`ignore_errors=` on this step: yoyo swallows its failure and records the migration as applied",
                    "remove ignore_errors=: let a failing step fail, and fix its SQL",
                )
                .step(i),
            );
        }
        if python && !has_statement(&step.apply) {
            out.push(
                finding(
                    "empty_step",
                    "the step's apply SQL is empty or only comments",
                    "remove the step, or give it the statement it should run",
                )
                .step(i),
            );
        }
        if python && has_statement(&step.apply) {
            match step.rollback.as_deref() {
                None => out.push(
                    finding(
                        "rollback_missing",
                        format!(
                            "`{}` has no rollback; `yoyo rollback` leaves it in place",
                            one_line(&step.apply)
                        ),
                        "give step() a second argument that undoes it (DROP for CREATE, and so on)",
                    )
                    .step(i),
                ),
                Some(r) if is_noop(r) => out.push(
                    finding(
                        "rollback_noop",
                        format!(
                            "the rollback of `{}` does nothing (`{}`)",
                            one_line(&step.apply),
                            one_line(r)
                        ),
                        "write a rollback that undoes the step",
                    )
                    .step(i),
                ),
                Some(_) => {}
            }
        }
        let parts: Vec<String> = crate::migrations::sql::split_statements(&step.apply)
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| has_statement(s))
            .collect();
        if python && parts.len() > 1 {
            flagged_steps.insert(i);
            out.push(
                finding(
                    "multiple_statements_in_step",
                    format!("this step holds {} statements; Python's sqlite3 runs one statement per call, so yoyo fails", parts.len()),
                    "split it: one step() per statement",
                )
                .step(i),
            );
        }
        for part in parts {
            let tokens = tokenize(&part);
            let stmt = classify(&tokens);
            statements.push(Statement {
                step: i,
                text: part.clone(),
                stmt,
            });
        }
    }

    // The schema before the migration: whole when the migration drops or
    // renames a table (a rebuild, and what refers to the table, need all of
    // it), else only the tables its statements name.
    let key = |s: &str| s.to_ascii_lowercase();
    let named: BTreeSet<String> = statements
        .iter()
        .flat_map(|s| match &s.stmt {
            Stmt::CreateTable { name } | Stmt::DropTable { name } => vec![key(name)],
            Stmt::AddColumn { table, .. }
            | Stmt::DropColumn { table, .. }
            | Stmt::RenameColumn { table, .. }
            | Stmt::CreateIndex { table, .. }
            | Stmt::Insert { table, .. } => vec![key(table)],
            Stmt::RenameTable { table, to } => vec![key(table), key(to)],
            _ => Vec::new(),
        })
        .collect();
    let whole = statements
        .iter()
        .any(|s| matches!(s.stmt, Stmt::DropTable { .. } | Stmt::RenameTable { .. }));
    let before = match previous {
        Some(s) => s,
        None if whole => schema::introspect(conn)?,
        None => schema::introspect_tables(conn, &named)?,
    };

    // Statements against the schema before the migration.
    let existed = |t: &str| table_of(&before, t).is_some();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut probes: Vec<(usize, String, String)> = Vec::new();
    let mut dropped: Vec<(usize, String)> = Vec::new();
    let mut renamed_away: Vec<(usize, String, String)> = Vec::new();
    let mut dropped_columns: Vec<(usize, String, String)> = Vec::new();
    let mut dropped_views: BTreeSet<String> = BTreeSet::new();
    let mut created_views: BTreeSet<String> = BTreeSet::new();
    for st in &statements {
        let i = st.step;
        let old = |t: &str| existed(t) && !created.contains(&key(t));
        match &st.stmt {
            Stmt::Transaction { word } if m.transactional => {
                flagged_steps.insert(i);
                out.push(
                    finding(
                        "transaction_control",
                        format!("`{word}` in a transactional migration: yoyo runs the migration in one transaction, which this ends or breaks (earlier steps persist, the migration stays unrecorded)"),
                        "remove it: yoyo begins and commits the transaction; for statements that cannot run in one, set `__transactional__ = False` (or `-- transactional: false`)",
                    )
                    .step(i),
                );
            }
            Stmt::Pragma { name, sets: true } if m.transactional && name == "journal_mode" => {
                flagged_steps.insert(i);
                out.push(
                    finding(
                        "transaction_control",
                        "`PRAGMA journal_mode = ...` in a transactional migration: SQLite cannot change the journal mode inside a transaction",
                        "set the journal mode where the application opens the database, not in a migration",
                    )
                    .step(i),
                );
            }
            Stmt::Pragma { name, sets: true } if m.transactional && name == "foreign_keys" => {
                out.push(
                    finding(
                        "foreign_keys_pragma_ignored",
                        "`PRAGMA foreign_keys` inside a transaction is a no-op: SQLite ignores it",
                        "remove it (yoyo applies with foreign keys off); to check them, run `PRAGMA foreign_key_check` in a step",
                    )
                    .step(i),
                );
            }
            Stmt::CreateTable { name } => {
                created.insert(key(name));
            }
            Stmt::CreateView { name } => {
                created_views.insert(key(name));
            }
            Stmt::DropView { name } => {
                dropped_views.insert(key(name));
            }
            Stmt::RenameTable { table, to } => {
                if created.contains(&key(table)) {
                    created.insert(key(to));
                } else if existed(table) {
                    renamed_away.push((i, table.clone(), to.clone()));
                    // A table created again after the rename is a rebuild
                    // that leaves the old name's referrers behind.
                    let recreated = statements.iter().any(|later| {
                        later.step >= i
                            && matches!(&later.stmt, Stmt::CreateTable { name } if eq(name, table))
                    });
                    let referrers: Vec<String> = before
                        .tables
                        .iter()
                        .filter(|t| !eq(&t.name, table))
                        .filter(|t| {
                            t.foreign_keys
                                .iter()
                                .any(|fk| eq(&fk.references_table, table))
                        })
                        .map(|t| format!("table {}", t.name))
                        .chain(
                            before
                                .views
                                .iter()
                                .filter(|v| sql::mentions(&tokenize(&v.sql), table))
                                .map(|v| format!("view {}", v.name)),
                        )
                        .collect();
                    if recreated && !referrers.is_empty() {
                        flagged_steps.insert(i);
                        out.push(
                            finding(
                                "rebuild_renames_old_table",
                                format!("`{}` renames {table} away before making it again: {} follow(s) the rename to {to} and dangle(s) once it is dropped", one_line(&st.text), referrers.join(", ")),
                                format!("rebuild the other way round: CREATE TABLE {table}__new, copy the rows, DROP TABLE {table}, ALTER TABLE {table}__new RENAME TO {table} (`migration-creator scaffold rebuild-table` writes it)"),
                            )
                            .step(i),
                        );
                    }
                }
            }
            Stmt::AddColumn { table, column, def } => {
                if let Some(kw) = [&["PRIMARY", "KEY"][..], &["UNIQUE"][..]]
                    .iter()
                    .find(|kw| top_level_has(def, kw).is_some())
                {
                    flagged_steps.insert(i);
                    out.push(
                        finding(
                            "add_column_unsupported",
                            format!("SQLite cannot add a {} column: `ADD COLUMN {column}` fails", kw.join(" ")),
                            if kw.len() == 1 {
                                format!("add the column without UNIQUE, then `CREATE UNIQUE INDEX ... ON {table}({column})` in another step (or rebuild the table)")
                            } else {
                                format!("rebuild {table} with the new key (`migration-creator scaffold rebuild-table`)")
                            },
                        )
                        .step(i),
                    );
                } else if old(table) {
                    let not_null = top_level_has(def, &["NOT", "NULL"]).is_some();
                    let default = top_level_has(def, &["DEFAULT"]);
                    let null_default =
                        default.is_some_and(|d| def.get(d + 1).is_some_and(|t| t.is("NULL")));
                    if not_null
                        && (default.is_none() || null_default)
                        && top_level_has(def, &["AS"]).is_none()
                    {
                        flagged_steps.insert(i);
                        out.push(
                            finding(
                                "add_column_fails_on_data",
                                format!("`ADD COLUMN {column}` is NOT NULL without a default: SQLite refuses it once {table} has rows"),
                                "give it a non-NULL DEFAULT, or add it nullable, fill it with UPDATE, and rebuild the table with NOT NULL",
                            )
                            .step(i),
                        );
                    } else {
                        match constant_default_check(conn, &st.text, column, def) {
                            Quick::Fine => {}
                            Quick::Breaks(check) => {
                                flagged_steps.insert(i);
                                out.push(
                                    finding(
                                        "add_column_fails_on_data",
                                        format!("`ADD COLUMN {column}`: its default breaks `{check}`, and every existing row of {table} gets the default, so SQLite refuses it once the table has rows"),
                                        "choose a default the CHECK accepts, or add the column without the CHECK and rebuild the table with it once the values are right",
                                    )
                                    .step(i),
                                );
                            }
                            Quick::Unknown => probes.push((i, table.clone(), st.text.clone())),
                        }
                    }
                }
            }
            Stmt::DropColumn { table, column } if old(table) => {
                dropped_columns.push((i, table.clone(), column.clone()));
            }
            Stmt::DropTable { name } => {
                if old(name) {
                    dropped.push((i, name.clone()));
                }
                created.remove(&key(name));
            }
            Stmt::CreateIndex {
                name,
                table,
                unique: true,
            } => {
                let had_it = before
                    .indexes
                    .iter()
                    .any(|x| x.unique && eq(&x.name, name) && eq(&x.table, table));
                if old(table) && !had_it {
                    out.push(
                        finding(
                            "unique_index_on_existing_table",
                            format!("UNIQUE index {name} on {table}, a table an earlier migration made: it fails where the rows hold duplicates"),
                            format!("check the data first (`migration-creator test-apply` on a copy of the database), or remove duplicates in a step before it: SELECT ... FROM {table} GROUP BY ... HAVING count(*) > 1"),
                        )
                        .step(i),
                    );
                }
            }
            Stmt::Insert {
                table,
                select_star: true,
            } => {
                out.push(
                    finding(
                        "insert_select_star",
                        format!("`INSERT INTO {table} SELECT * ...` matches columns by position, not by name"),
                        "name the columns on both sides: INSERT INTO new (a, b) SELECT a, b FROM old",
                    )
                    .step(i),
                );
            }
            Stmt::RenameColumn { table, from, to } if old(table) => {
                out.push(
                    finding(
                        "renames_column",
                        format!("renames {table}.{from} to {to}: running code that still uses {from} breaks"),
                        "deploy code that reads both names first, or add the new column and copy the values",
                    )
                    .step(i),
                );
            }
            _ => {}
        }
    }

    // What only rows show: try each ADD COLUMN on a table with a made-up row.
    if !probes.is_empty() {
        conn.execute_batch("SAVEPOINT lint_probe")
            .map_err(|e| AppError::env("sqlite_error", e.to_string(), "report this as a bug"))?;
        for (i, table, sql) in &probes {
            for variant in 0..2 {
                let seeded = seed_table(conn, table, variant);
                let failure = engine.execute_step(sql).err();
                let _ = conn.execute_batch("ROLLBACK TO lint_probe");
                if !seeded {
                    break;
                }
                let Some(e) = failure else {
                    break;
                };
                let lower = e.message.to_ascii_lowercase();
                let why = if lower.contains("non-constant default") {
                    "its default is not a constant, which SQLite refuses once the table has rows"
                } else if lower.contains("stored column") {
                    "SQLite cannot add a STORED generated column to a table with rows"
                } else if lower.contains("not null column with default value null") {
                    "it is NOT NULL with a NULL default"
                } else {
                    // A CHECK that reads other columns (the made-up row's
                    // values decide, not the user's rows), a foreign key
                    // (off under yoyo): what the rows hold settles it, and
                    // test-apply on a copy of the database reads them.
                    continue;
                };
                flagged_steps.insert(*i);
                out.push(
                    finding(
                        "add_column_fails_on_data",
                        format!("`{}` fails once {table} has rows: {why} ({})", one_line(sql), e.message),
                        "give the column a constant default that meets its constraints, or add it plainly and fill it with UPDATE (a STORED column needs a table rebuild)",
                    )
                    .step(*i),
                );
                break;
            }
        }
        let _ = conn.execute_batch("RELEASE lint_probe");
    }

    // Apply it, as yoyo would, on the schema so far.
    engine.take_quoted();
    engine.watch_quotes(true);
    let applied = engine.run_migration(m, Phase::Apply, false);
    engine.watch_quotes(false);
    engine.reset_session();
    for (sql, name) in engine.take_quoted() {
        let step = m.steps.iter().position(|s| s.apply.contains(sql.trim()));
        let mut p = finding(
            "double_quoted_string",
            format!("\"{name}\" names no column here, so SQLite reads it as the string '{name}'"),
            format!(
                "write a string in single quotes ('{name}'); if a column was meant, check its name"
            ),
        );
        if let Some(i) = step {
            p = p.step(i);
        }
        out.push(p);
    }
    if let Err(f) = applied {
        let index = f.step.map(|n| n - 1);
        let known = index.is_some_and(|i| flagged_steps.contains(&i));
        if !known {
            let drop_column = index.and_then(|i| {
                statements
                    .iter()
                    .find(|s| s.step == i && matches!(s.stmt, Stmt::DropColumn { .. }))
            });
            // sqlparse, which yoyo splits `.sql` files with, reads a word
            // BEGIN or CASE inside a CREATE statement (a column named
            // `begin`) as the start of a trigger body and joins the
            // statements that follow into one.
            let joined = (m.file.kind == Kind::Sql)
                .then(|| index.and_then(|i| m.steps.get(i)))
                .flatten()
                .filter(|st| {
                    let t = tokenize(&st.apply);
                    let trigger = t.iter().take(4).any(|x| x.is("TRIGGER"));
                    !trigger
                        && t.first().is_some_and(|x| x.is("CREATE"))
                        && t.iter()
                            .enumerate()
                            .any(|(k, x)| x.is_punct(';') && k + 1 < t.len())
                });
            let mut p = if let Some(st) = joined {
                let word = tokenize(&st.apply)
                    .into_iter()
                    .find(|x| x.is("BEGIN") || x.is("CASE"))
                    .map_or("BEGIN".to_string(), |x| x.text);
                finding(
                    "multiple_statements_in_step",
                    format!("yoyo's SQL splitter (sqlparse) reads `{word}` in this CREATE statement as the start of a block and joins it with the statements after it into one, which SQLite refuses: {}", f.error),
                    format!("quote the word (\"{word}\"), or rename the column"),
                )
            } else if let Some(Statement {
                stmt: Stmt::DropColumn { table, column },
                ..
            }) = drop_column
            {
                finding(
                    "drop_column_blocked",
                    format!("SQLite will not drop {table}.{column}: {}", f.error),
                    format!("drop what uses {column} first (index, view, trigger), or rebuild {table} without it (`migration-creator scaffold rebuild-table`)"),
                )
            } else if !schema_complete {
                finding(
                    "schema_incomplete",
                    format!("fails on the schema lint could build: {} (an earlier migration could not be read, so this may not fail for real)", f.error),
                    "run `migration-creator test-apply --engine yoyo` to apply it for real",
                )
            } else if f.error == "interrupted" {
                finding(
                    "migration_fails",
                    "did not finish within the time given (--timeout): a statement that never ends, such as a recursive query without a stopping condition, hangs yoyo too",
                    "give the recursive query a stopping condition or a LIMIT",
                )
            } else {
                finding(
                    "migration_fails",
                    format!(
                        "fails on the schema the earlier migrations build, with no rows at all: {}",
                        f.error
                    ),
                    if f.hint.is_empty() {
                        "fix the step's SQL: SQLite's message says what is wrong".to_string()
                    } else {
                        f.hint.clone()
                    },
                )
            };
            if let Some(i) = index {
                p = p.step(i);
            }
            out.push(p);
        }
        return Ok((out, None));
    }
    for p in quoted_in_bodies(conn, &statements) {
        if !out.iter().any(|q| q.code == p.code && q.step == p.step) {
            out.push(p);
        }
    }
    let after = if whole {
        schema::introspect_reusing(conn, Some(&before))?
    } else {
        // The named tables and the tables their foreign keys name.
        let first = schema::introspect_tables(conn, &named)?;
        let parents: BTreeSet<String> = first
            .tables
            .iter()
            .flat_map(|t| t.foreign_keys.iter().map(|fk| key(&fk.references_table)))
            .filter(|p| !named.contains(p))
            .collect();
        let mut after = first;
        let more = schema::introspect_tables(conn, &parents)?;
        after.tables.extend(more.tables);
        after.indexes.extend(more.indexes);
        after.triggers.extend(more.triggers);
        after
    };

    // Rebuilds: a table that existed, was dropped or renamed away, and is back.
    let rebuilt: BTreeMap<String, usize> = dropped
        .iter()
        .map(|(i, t)| (*i, t))
        .chain(renamed_away.iter().map(|(i, t, _)| (*i, t)))
        .filter(|(_, t)| table_of(&after, t).is_some())
        .map(|(i, t)| (key(t), i))
        .collect();
    for (t, &i) in &rebuilt {
        let (Some(old_t), Some(new_t)) = (table_of(&before, t), table_of(&after, t)) else {
            continue;
        };
        let name = &old_t.name;
        let mut lost: Vec<String> = Vec::new();
        for x in before
            .indexes
            .iter()
            .filter(|x| eq(&x.table, t) && x.sql.is_some())
        {
            if !after
                .indexes
                .iter()
                .any(|y| eq(&y.name, &x.name) && eq(&y.table, t))
            {
                lost.push(format!("index {}", x.name));
            }
        }
        for x in before.triggers.iter().filter(|x| eq(&x.table, t)) {
            if !after
                .triggers
                .iter()
                .any(|y| eq(&y.name, &x.name) && eq(&y.table, t))
            {
                lost.push(format!("trigger {}", x.name));
            }
        }
        for v in before
            .views
            .iter()
            .filter(|v| sql::mentions(&tokenize(&v.sql), t))
        {
            let kept = after
                .views
                .iter()
                .any(|w| eq(&w.name, &v.name) && w.sql == v.sql);
            if !kept && !created_views.contains(&key(&v.name)) {
                lost.push(format!("view {}", v.name));
            }
        }
        if !lost.is_empty() {
            out.push(
                finding(
                    "rebuild_loses_objects",
                    format!("the rebuild of {name} loses its {}", lost.join(", ")),
                    format!("make them again after the new {name} takes its name (`migration-creator scaffold rebuild-table` keeps them)"),
                )
                .step(i),
            );
        }
        let mut changes: Vec<String> = Vec::new();
        for c in &old_t.columns {
            match new_t.columns.iter().find(|n| eq(&n.name, &c.name)) {
                None => changes.push(format!("drops column {}", c.name)),
                Some(n) => {
                    if !eq(n.ty.trim(), c.ty.trim()) {
                        changes.push(format!(
                            "changes {} from {} to {}",
                            c.name,
                            shown_type(&c.ty),
                            shown_type(&n.ty)
                        ));
                    }
                    if !c.not_null && n.not_null && n.default.is_none() && c.primary_key == 0 {
                        changes.push(format!("makes {} NOT NULL without a default", c.name));
                    }
                }
            }
        }
        if !changes.is_empty() {
            out.push(
                finding(
                    "rebuild_changes_column",
                    format!("the rebuild of {name} {}: rows that do not fit fail the copy or lose values", changes.join(", ")),
                    "check the rows first (`migration-creator test-apply` on a copy of the database); map values explicitly in the INSERT ... SELECT",
                )
                .step(i),
            );
        }
    }
    for (i, t) in &dropped {
        if !rebuilt.contains_key(&key(t)) {
            out.push(
                finding(
                    "drops_table",
                    format!("drops {t}, which an earlier migration made: its rows are gone, and its rollback cannot bring them back"),
                    "make sure no data is needed (copy it elsewhere first), then suppress this with a reason",
                )
                .step(*i),
            );
        }
    }
    for (i, t, c) in &dropped_columns {
        if !rebuilt.contains_key(&key(t)) {
            out.push(
                finding(
                    "drops_column",
                    format!("drops {t}.{c}: its values are gone, and its rollback cannot bring them back"),
                    "make sure no data is needed (copy it elsewhere first), then suppress this with a reason",
                )
                .step(*i),
            );
        }
    }
    for (i, t, to) in &renamed_away {
        if table_of(&after, t).is_none() {
            out.push(
                finding(
                    "renames_table",
                    format!("renames {t} to {to}: running code that still uses {t} breaks"),
                    format!("deploy code that uses {to} first, or leave a view named {t} behind for a while"),
                )
                .step(*i),
            );
        }
    }

    // Foreign keys of the tables this migration made or changed.
    let before_sql: std::collections::HashMap<String, &str> = before
        .tables
        .iter()
        .map(|t| (key(&t.name), t.sql.as_str()))
        .collect();
    let after_tables: std::collections::HashMap<String, &Table> =
        after.tables.iter().map(|t| (key(&t.name), t)).collect();
    for t in &after.tables {
        let changed = before_sql.get(&key(&t.name)) != Some(&t.sql.as_str())
            && (whole || named.contains(&key(&t.name)));
        if !changed {
            continue;
        }
        let step = statements
            .iter()
            .find(|s| match &s.stmt {
                Stmt::CreateTable { name } => eq(name, &t.name),
                Stmt::AddColumn { table, .. } => eq(table, &t.name),
                _ => false,
            })
            .map(|s| s.step);
        for fk in &t.foreign_keys {
            let problem = match after_tables.get(&key(&fk.references_table)).copied() {
                None => Some(format!(
                    "references {}, which does not exist",
                    fk.references_table
                )),
                Some(parent) => {
                    let pk: Vec<&str> = {
                        let mut cols: Vec<(u32, &str)> = parent
                            .columns
                            .iter()
                            .filter(|c| c.primary_key > 0)
                            .map(|c| (c.primary_key, c.name.as_str()))
                            .collect();
                        cols.sort();
                        cols.into_iter().map(|(_, n)| n).collect()
                    };
                    if fk.references_columns.is_empty() {
                        (pk.is_empty() || pk.len() != fk.columns.len()).then(|| {
                            format!("references {} without naming columns, and {} has no primary key of {} column(s)", parent.name, parent.name, fk.columns.len())
                        })
                    } else {
                        let wanted: BTreeSet<String> =
                            fk.references_columns.iter().map(|c| key(c)).collect();
                        let is_pk = pk.iter().map(|c| key(c)).collect::<BTreeSet<_>>() == wanted;
                        let is_unique = after.indexes.iter().any(|x| {
                            eq(&x.table, &parent.name)
                                && x.unique
                                && !x.partial
                                && x.columns.iter().map(|c| key(c)).collect::<BTreeSet<_>>()
                                    == wanted
                        });
                        (!is_pk && !is_unique).then(|| {
                            format!(
                                "references {}({}), which is neither its primary key nor UNIQUE",
                                parent.name,
                                fk.references_columns.join(", ")
                            )
                        })
                    }
                }
            };
            if let Some(problem) = problem {
                let mut p = finding(
                    "foreign_key_target_invalid",
                    format!("{}({}) {problem}: once foreign keys are on, every write to {} fails (\"foreign key mismatch\")", t.name, fk.columns.join(", "), t.name),
                    "reference an existing table's primary key, or a column with a UNIQUE constraint or index",
                );
                if let Some(i) = step {
                    p = p.step(i);
                }
                out.push(p);
            }
        }
    }
    Ok((out, whole.then_some(after)))
}

/// What a look at an added column's definition settles without trying it.
enum Quick {
    /// Nothing in it depends on rows.
    Fine,
    /// Its constant default breaks this CHECK.
    Breaks(String),
    /// Try it on a made-up row.
    Unknown,
}

/// Settle an `ADD COLUMN` quickly where it can be: a constant default (or
/// none) with CHECKs that read only the column is evaluated directly; an
/// expression default or a generated column needs a try on a row. (A
/// REFERENCES default matters only with foreign keys on, which yoyo leaves off.)
fn constant_default_check(
    conn: &rusqlite::Connection,
    text: &str,
    column: &str,
    def: &[sql::Token],
) -> Quick {
    if top_level_has(def, &["AS"]).is_some() {
        return Quick::Unknown;
    }
    let mut expression = false;
    let default = match top_level_has(def, &["DEFAULT"]) {
        None => "NULL".to_string(),
        Some(d) => {
            let (first, second) = (def.get(d + 1), def.get(d + 2));
            match (first, second) {
                (Some(open), _) if open.is_punct('(') => {
                    // `DEFAULT (expr)`: its value against the CHECKs here;
                    // whether SQLite takes it as constant, on a made-up row.
                    let mut depth = 0i32;
                    let Some(close) = def[d + 1..].iter().find(|t| {
                        if t.is_punct('(') {
                            depth += 1;
                        } else if t.is_punct(')') {
                            depth -= 1;
                        }
                        depth == 0
                    }) else {
                        return Quick::Unknown;
                    };
                    expression = true;
                    text[open.start..close.start + 1].to_string()
                }
                (Some(t), _) if matches!(t.kind, sql::TokKind::String | sql::TokKind::Number) => {
                    t.text.clone()
                }
                (Some(t), _) if t.is("NULL") || t.is("TRUE") || t.is("FALSE") => t.text.clone(),
                (Some(sign), Some(n))
                    if (sign.is_punct('-') || sign.is_punct('+'))
                        && n.kind == sql::TokKind::Number =>
                {
                    format!("{}{}", sign.text, n.text)
                }
                _ => return Quick::Unknown,
            }
        }
    };
    // Each top-level CHECK (...) of the definition, from the statement's text.
    let mut depth = 0i32;
    for (k, tok) in def.iter().enumerate() {
        if tok.is_punct('(') {
            depth += 1;
        } else if tok.is_punct(')') {
            depth -= 1;
        } else if depth == 0 && tok.is("CHECK") {
            let Some(open) = def.get(k + 1).filter(|t| t.is_punct('(')) else {
                return Quick::Unknown;
            };
            let mut d = 0i32;
            let close = def[k + 1..].iter().find(|t| {
                if t.is_punct('(') {
                    d += 1;
                } else if t.is_punct(')') {
                    d -= 1;
                }
                d == 0
            });
            let Some(close) = close else {
                return Quick::Unknown;
            };
            let check = &text[open.start..close.start + 1];
            let sql = format!(
                "SELECT NOT coalesce({check}, 1) FROM (SELECT {default} AS \"{}\")",
                column.replace('"', "\"\"")
            );
            match conn.query_row(&sql, [], |r| r.get::<_, bool>(0)) {
                Ok(true) => return Quick::Breaks(format!("CHECK {check}")),
                Ok(false) => {}
                Err(_) => return Quick::Unknown,
            }
        }
    }
    if expression {
        Quick::Unknown
    } else {
        Quick::Fine
    }
}

/// `a, b and 3 more`.
fn list_some(names: &[String]) -> String {
    if names.len() <= 3 {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..3].join(", "), names.len() - 3)
    }
}

fn shown_type(ty: &str) -> String {
    if ty.trim().is_empty() {
        "no type".into()
    } else {
        ty.trim().to_string()
    }
}

/// `"..."` in the body of a view or trigger the migration made: SQLite
/// resolves those names only when the view is read or the trigger fires, so
/// applying the migration cannot show them. Prepare (never run) a statement
/// that reads the view or fires the trigger, with double-quoted strings off.
fn quoted_in_bodies(conn: &rusqlite::Connection, statements: &[Statement]) -> Vec<Pending> {
    use rusqlite::config::DbConfig;
    let quote = |n: &str| format!("\"{}\"", n.replace('"', "\"\""));
    let set_dqs = |on: bool| {
        let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DDL, on);
        let _ = conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DQS_DML, on);
    };
    let mut out = Vec::new();
    for st in statements {
        let (kind, name) = match &st.stmt {
            Stmt::CreateView { name } => ("view", name),
            Stmt::CreateTrigger { name } => ("trigger", name),
            _ => continue,
        };
        let Ok((table, sql)) = conn.query_row(
            "SELECT tbl_name, sql FROM sqlite_master WHERE type = ?1 AND name = ?2 COLLATE NOCASE",
            [kind, name.as_str()],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        ) else {
            continue;
        };
        let probe = if kind == "view" {
            format!("SELECT * FROM {}", quote(name))
        } else {
            let tokens = tokenize(&sql);
            let on = tokens
                .iter()
                .position(|t| t.is("ON"))
                .unwrap_or(tokens.len());
            let event = tokens[..on]
                .iter()
                .position(|t| t.is("INSERT") || t.is("UPDATE") || t.is("DELETE"));
            match event.map(|e| (e, &tokens[e])) {
                Some((_, t)) if t.is("INSERT") => {
                    format!("INSERT INTO {} DEFAULT VALUES", quote(&table))
                }
                Some((_, t)) if t.is("DELETE") => format!("DELETE FROM {}", quote(&table)),
                Some((e, _)) => {
                    let of = tokens
                        .get(e + 1)
                        .filter(|t| t.is("OF"))
                        .and_then(|_| tokens.get(e + 2))
                        .map(|t| t.name());
                    let column = of.or_else(|| {
                        conn.query_row(
                            &format!(
                                "SELECT name FROM pragma_table_xinfo({})",
                                quote(&table).replace('"', "'")
                            ),
                            [],
                            |r| r.get::<_, String>(0),
                        )
                        .ok()
                    });
                    let Some(column) = column else {
                        continue;
                    };
                    format!("UPDATE {} SET {c} = {c}", quote(&table), c = quote(&column))
                }
                None => continue,
            }
        };
        set_dqs(false);
        let strict = conn.prepare(&probe).err().map(|e| e.to_string());
        set_dqs(true);
        let Some(message) = strict else {
            continue;
        };
        if conn.prepare(&probe).is_err() {
            continue;
        }
        // `no such column: x`, or (SQLite 3.45 and later)
        // `no such column: "x" - should this be a string literal in single-quotes?`
        let Some(rest) = message.strip_prefix("no such column: ") else {
            continue;
        };
        let word = match rest.strip_prefix('"') {
            Some(r) => r.split("\" - ").next().unwrap_or(r).trim_end_matches('"'),
            None => rest,
        };
        if !sql.contains(&quote(word)) {
            continue;
        }
        let when = if kind == "view" {
            "each time the view is read"
        } else {
            "each time the trigger fires"
        };
        out.push(
            finding(
                "double_quoted_string",
                format!("\"{word}\" in {kind} {name} names no column, so SQLite reads it as the string '{word}' ({when})"),
                format!("write a string in single quotes ('{word}'); if a column was meant, check its name"),
            )
            .step(st.step),
        );
    }
    out
}

/// A rollback that does nothing: only comments, or only a SELECT.
fn is_noop(rollback: &str) -> bool {
    let parts: Vec<String> = crate::migrations::sql::split_statements(rollback)
        .into_iter()
        .map(|(s, _)| s)
        .filter(|s| has_statement(s))
        .collect();
    parts
        .iter()
        .all(|p| matches!(classify(&tokenize(p)), Stmt::Select))
}
