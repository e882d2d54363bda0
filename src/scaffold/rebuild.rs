//! `rebuild-table`: the change SQLite can only make by building the table
//! anew (a CHECK, a type, a NOT NULL, a default, a foreign key, a dropped
//! column an index uses). The steps follow SQLite's own procedure (create
//! the new shape under a temporary name, copy by column name, drop, rename),
//! with the table's indexes, triggers and views dropped first and made again
//! after, and a rollback that is the exact reverse rebuild. No step ever
//! renames the table itself away, so the foreign keys of other tables, which
//! SQLite rewrites when their target is renamed, keep pointing at it.

use serde::Serialize;

use super::ident::{create_table_name, identifier, quoted};
use super::plan::{check_foreign_keys, existing_table, mentions, name_taken, Ctx, Note, Operation};
use super::rehearse::one_line;
use super::{refuse, Request};
use crate::error::AppError;
use crate::sqlite::schema;

/// What a rebuild changes, for the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rebuild {
    pub table: String,
    pub columns_added: Vec<String>,
    pub columns_dropped: Vec<String>,
    /// Columns filled by a --map expression.
    pub columns_mapped: Vec<String>,
    /// Data a rollback cannot bring back.
    pub rollback_loses: Vec<String>,
    /// Indexes, triggers and views dropped and made again around the rebuild.
    pub recreated: Vec<String>,
    /// The new definition, under the temporary name `T__new`.
    #[serde(skip)]
    pub new_definition: String,
    /// Each copied column of the new table and the expression over the old
    /// table that fills it.
    #[serde(skip)]
    pub copy: Vec<(String, String)>,
}

/// `def` with the table name it creates replaced by `name`.
pub fn renamed(def: &str, name: &str) -> Option<String> {
    let (_, range) = create_table_name(def)?;
    Some(format!(
        "{}{}{}",
        &def[..range.start],
        quoted(name),
        &def[range.end..]
    ))
}

/// (name, declared type, not null, has default, hidden) of each column of
/// `table` on `conn`, generated columns included.
fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<(String, String, bool, bool, bool)> {
    conn.prepare(&format!("PRAGMA table_xinfo({})", quoted(table)))
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<String>>(2)?.unwrap_or_default(),
                    r.get::<_, i64>(3)? != 0,
                    r.get::<_, Option<String>>(4)?.is_some(),
                    r.get::<_, i64>(6)? != 0,
                ))
            })
            .map(|rows| rows.flatten().collect())
        })
        .unwrap_or_default()
}

/// A value of a column's type, for a NOT NULL column the rollback must fill.
fn filler(ty: &str) -> &'static str {
    let ty = ty.to_ascii_uppercase();
    if ty.contains("INT")
        || ty.contains("REAL")
        || ty.contains("FLOA")
        || ty.contains("DOUB")
        || ty.contains("NUM")
        || ty.contains("DEC")
    {
        "0"
    } else if ty.contains("BLOB") {
        "x''"
    } else {
        "''"
    }
}

pub fn plan(req: &Request, ctx: &Ctx<'_>) -> Result<Operation, AppError> {
    let Some(given) = req.table.as_deref() else {
        return Err(AppError::env(
            "missing_argument",
            "rebuild-table needs --table",
            "run `migration-creator scaffold rebuild-table --help`",
        ));
    };
    let t = existing_table(ctx.schema, given)?;
    let Some(def) = req
        .definition
        .as_deref()
        .map(|d| d.trim().trim_end_matches(';').trim_end())
    else {
        return Err(AppError::env(
            "missing_argument",
            "rebuild-table needs --definition \"CREATE TABLE ... (...)\", the table's complete new definition",
            format!("start from the current one: `migration-creator schema --table {t}` shows it under tables[0].sql"),
        ));
    };
    match create_table_name(def) {
        Some((name, _)) if name.eq_ignore_ascii_case(&t) => {}
        Some((name, _)) => {
            return Err(refuse(
                "invalid_definition",
                format!("the definition creates `{name}`, not `{t}`"),
                "keep the table's name in the definition; to rename the table use rename-table",
            ))
        }
        None => {
            return Err(refuse(
                "invalid_definition",
                format!("`{}` is not a CREATE TABLE statement", one_line(def)),
                "give the complete statement, for example --definition \"CREATE TABLE users (id TEXT PRIMARY KEY, age INTEGER CHECK (age >= 0))\"",
            ))
        }
    }
    let old = ctx.schema.table(&t).expect("checked above").clone();
    let new_name = format!("{t}__new");
    let old_name = format!("{t}__old");
    for n in [&new_name, &old_name] {
        if name_taken(ctx.schema, n) {
            return Err(refuse(
                "table_exists",
                format!("`{n}` already exists; the rebuild needs that name for a moment"),
                format!("drop or rename `{n}` first"),
            ));
        }
    }
    let new_def = renamed(def, &new_name).expect("parsed above");
    let old_def = renamed(&old.sql, &old_name).ok_or_else(|| {
        refuse(
            "invalid_definition",
            format!("the current definition of `{t}` cannot be read back"),
            "report this as a bug, with `migration-creator schema --table` output",
        )
    })?;
    check_foreign_keys(ctx, &new_name, &[new_def.as_str()], None)?;

    // The new table's columns, asked of SQLite.
    let conn = ctx.engine.conn();
    let bug =
        |e: rusqlite::Error| AppError::env("sqlite_error", e.to_string(), "report this as a bug");
    conn.execute_batch("SAVEPOINT rebuild_probe").map_err(bug)?;
    let made = ctx.engine.execute_step(&new_def);
    let new_cols = columns(conn, &new_name);
    let _ = conn.execute_batch("ROLLBACK TO rebuild_probe; RELEASE rebuild_probe");
    if let Err(e) = made {
        return Err(refuse(
            "sql_error",
            format!("SQLite rejects the definition: {}", e.message),
            "fix the definition; SQLite's message says what is wrong",
        ));
    }
    let old_cols = columns(conn, &t);
    let in_old = |c: &str| old_cols.iter().find(|o| o.0.eq_ignore_ascii_case(c));
    let in_new = |c: &str| new_cols.iter().find(|o| o.0.eq_ignore_ascii_case(c));

    // --map COLUMN=EXPR.
    let mut maps: Vec<(String, String)> = Vec::new();
    for m in &req.map {
        let Some((c, expr)) = m.split_once('=') else {
            return Err(refuse(
                "invalid_map",
                format!("`{m}` is not COLUMN=SQL_EXPRESSION"),
                "for example --map \"age=CAST(age_text AS INTEGER)\"",
            ));
        };
        let c = identifier(c.trim(), "column")?;
        let Some(col) = in_new(&c) else {
            return Err(refuse(
                "column_not_found",
                format!("--map names `{c}`, which the new definition does not have"),
                "map columns of the new definition",
            ));
        };
        if col.4 {
            return Err(refuse(
                "invalid_map",
                format!("`{c}` is a generated column; SQLite computes it"),
                "leave it out of --map",
            ));
        }
        if expr.trim().is_empty() {
            return Err(refuse(
                "invalid_map",
                format!("--map {c}= has no expression"),
                "for example --map \"age=CAST(age_text AS INTEGER)\"",
            ));
        }
        maps.push((col.0.clone(), expr.trim().to_string()));
    }

    // The copy, forward and back.
    let mut into = Vec::new();
    let mut select = Vec::new();
    let mut copy = Vec::new();
    let mut added = Vec::new();
    for (name, _, not_null, has_default, hidden) in &new_cols {
        if *hidden {
            continue;
        }
        if let Some((_, expr)) = maps.iter().find(|(c, _)| c == name) {
            into.push(quoted(name));
            select.push(format!("({expr})"));
            copy.push((name.clone(), format!("({expr})")));
        } else if let Some(o) = in_old(name) {
            into.push(quoted(name));
            select.push(quoted(&o.0));
            copy.push((name.clone(), quoted(&o.0)));
        } else {
            added.push(name.clone());
            if *not_null && !*has_default {
                return Err(refuse(
                    "not_null_without_value",
                    format!("the new column `{name}` is NOT NULL without a DEFAULT, and nothing fills it"),
                    format!("give it a DEFAULT, or fill it from the old columns with --map \"{name}=SQL_EXPRESSION\""),
                ));
            }
        }
    }
    // Every column the old table lacks is added, filled by --map or not.
    let added: Vec<String> = new_cols
        .iter()
        .filter(|c| in_old(&c.0).is_none())
        .map(|c| c.0.clone())
        .collect();
    let mut back_into = Vec::new();
    let mut back_select = Vec::new();
    let mut dropped = Vec::new();
    let mut loses = Vec::new();
    for (name, ty, not_null, has_default, hidden) in &old_cols {
        if *hidden {
            continue;
        }
        match in_new(name).filter(|n| !n.4) {
            Some(n) => {
                back_into.push(quoted(name));
                back_select.push(quoted(&n.0));
                if maps.iter().any(|(c, _)| c.eq_ignore_ascii_case(name)) {
                    loses.push(format!("{t}.{name} as it was before the --map expression"));
                }
            }
            None => {
                dropped.push(name.clone());
                if *not_null && !*has_default {
                    back_into.push(quoted(name));
                    back_select.push(filler(ty).to_string());
                    loses.push(format!(
                        "the values of {t}.{name} (the rollback fills it with {})",
                        filler(ty)
                    ));
                } else {
                    loses.push(format!("the values of {t}.{name}"));
                }
            }
        }
    }
    for (name, ..) in old_cols.iter().filter(|c| c.4 && in_new(&c.0).is_none()) {
        dropped.push(name.clone());
    }

    // What depends on the table: its indexes, and triggers and views that name it.
    let fresh = schema::introspect(conn)?;
    let indexes: Vec<&schema::Index> = fresh
        .indexes
        .iter()
        .filter(|i| i.table.eq_ignore_ascii_case(&t) && i.sql.is_some())
        .collect();
    // Views that name the table, and views that name those, in the order they
    // can be made (each after the views it names); triggers that name the
    // table or one of those views.
    let mut views: Vec<&schema::View> = Vec::new();
    loop {
        let more: Vec<&schema::View> = fresh
            .views
            .iter()
            .filter(|v| !views.iter().any(|w| w.name == v.name))
            .filter(|v| mentions(&v.sql, &t) || views.iter().any(|w| mentions(&v.sql, &w.name)))
            .collect();
        if more.is_empty() {
            break;
        }
        views.extend(more);
    }
    let mut ordered: Vec<&schema::View> = Vec::new();
    while ordered.len() < views.len() {
        let next = views
            .iter()
            .find(|v| {
                !ordered.iter().any(|o| o.name == v.name)
                    && views
                        .iter()
                        .filter(|w| w.name != v.name && !ordered.iter().any(|o| o.name == w.name))
                        .all(|w| !mentions(&v.sql, &w.name))
            })
            .or_else(|| {
                views
                    .iter()
                    .find(|v| !ordered.iter().any(|o| o.name == v.name))
            })
            .copied()
            .expect("one is left");
        ordered.push(next);
    }
    let views = ordered;
    let triggers: Vec<&schema::Trigger> = fresh
        .triggers
        .iter()
        .filter(|tr| {
            tr.table.eq_ignore_ascii_case(&t)
                || mentions(&tr.sql, &t)
                || views.iter().any(|v| mentions(&tr.sql, &v.name))
        })
        .collect();
    // A dependent that names a column the new shape drops cannot be made again.
    for c in &dropped {
        let broken = indexes
            .iter()
            .filter(|ix| ix.columns.iter().any(|x| x.eq_ignore_ascii_case(c)) || mentions(ix.sql.as_deref().unwrap_or(""), c))
            .map(|ix| (format!("the index {}", ix.name), format!("drop-index --name {}", ix.name)))
            .chain(triggers.iter().filter(|tr| mentions(&tr.sql, c)).map(|tr| {
                (format!("the trigger {}", tr.name), format!("scaffold sql --apply \"DROP TRIGGER {}\" with its CREATE TRIGGER as rollback", tr.name))
            }))
            .chain(views.iter().filter(|v| mentions(&v.sql, c)).map(|v| {
                (format!("the view {}", v.name), format!("scaffold sql --apply \"DROP VIEW {}\" with its CREATE VIEW as rollback", v.name))
            }))
            .next();
        if let Some((what, how)) = broken {
            return Err(refuse(
                "dependent_breaks",
                format!("{what} uses {t}.{c}, which the new definition does not have"),
                format!("remove or change it in an earlier operation of the same --spec ({how}), or keep the column"),
            ));
        }
    }
    // The rowid of a rowid table is copied too: other things (an FTS index's
    // content_rowid, a cache) may hold it, and a plain copy renumbers it.
    let without_rowid = |sql: &str| {
        let upper = sql.to_ascii_uppercase();
        upper.contains("WITHOUT ROWID") || upper.contains("WITHOUT  ROWID")
    };
    let rowid_alias = |cols: &[(String, String, bool, bool, bool)], pk: &[String]| {
        pk.len() == 1
            && cols
                .iter()
                .any(|c| c.0.eq_ignore_ascii_case(&pk[0]) && c.1.eq_ignore_ascii_case("INTEGER"))
    };
    let old_pk: Vec<String> = old
        .columns
        .iter()
        .filter(|c| c.primary_key > 0)
        .map(|c| c.name.clone())
        .collect();
    let new_pk: Vec<String> = {
        let bug = |e: rusqlite::Error| {
            AppError::env("sqlite_error", e.to_string(), "report this as a bug")
        };
        conn.execute_batch("SAVEPOINT rebuild_pk").map_err(bug)?;
        let _ = ctx.engine.execute_step(&new_def);
        let pk: Vec<String> = conn
            .prepare(&format!("PRAGMA table_info({})", quoted(&new_name)))
            .and_then(|mut st| {
                st.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))
                    .map(|rows| {
                        rows.flatten()
                            .filter(|(_, k)| *k > 0)
                            .map(|(n, _)| n)
                            .collect()
                    })
            })
            .unwrap_or_default();
        let _ = conn.execute_batch("ROLLBACK TO rebuild_pk; RELEASE rebuild_pk");
        pk
    };
    let keep_rowid = !without_rowid(&old.sql)
        && !without_rowid(def)
        && !rowid_alias(&old_cols, &old_pk)
        && !rowid_alias(&new_cols, &new_pk);
    if keep_rowid {
        into.insert(0, "rowid".to_string());
        select.insert(0, "rowid".to_string());
        back_into.insert(0, "rowid".to_string());
        back_select.insert(0, "rowid".to_string());
    }
    let autoincrement = |sql: &str| sql.to_ascii_uppercase().contains("AUTOINCREMENT");
    let keep_sequence = autoincrement(&old.sql) && autoincrement(def);
    let drop = ctx.conventions.drop();
    let qt = quoted(&t);
    let qnew = quoted(&new_name);
    let qold = quoted(&old_name);
    let mut steps: Vec<(String, String)> = Vec::new();
    for v in views.iter().rev() {
        steps.push((
            format!("DROP VIEW{drop} {}", quoted(&v.name)),
            v.sql.clone(),
        ));
    }
    for tr in &triggers {
        steps.push((
            format!("DROP TRIGGER{drop} {}", quoted(&tr.name)),
            tr.sql.clone(),
        ));
    }
    for ix in &indexes {
        steps.push((
            format!("DROP INDEX{drop} {}", quoted(&ix.name)),
            ix.sql.clone().unwrap_or_default(),
        ));
    }
    // The rollback of these four, run newest first, is the reverse rebuild:
    // create the old shape as T__old, copy back, drop T, rename T__old to T.
    steps.push((
        new_def.clone(),
        format!("ALTER TABLE {qold} RENAME TO {qt}"),
    ));
    steps.push((
        format!(
            "INSERT INTO {qnew} ({}) SELECT {} FROM {qt}",
            into.join(", "),
            select.join(", ")
        ),
        format!("DROP TABLE {qt}"),
    ));
    if keep_sequence {
        // AUTOINCREMENT's counter goes with the table both ways, so ids once
        // used are never handed out again.
        let lit = |n: &str| format!("'{}'", n.replace('\'', "''"));
        steps.push((
            format!("DELETE FROM sqlite_sequence WHERE name = {}", lit(&new_name)),
            format!(
                "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
                lit(&old_name),
                lit(&t)
            ),
        ));
        steps.push((
            format!(
                "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
                lit(&new_name),
                lit(&t)
            ),
            format!("DELETE FROM sqlite_sequence WHERE name = {}", lit(&old_name)),
        ));
    }
    steps.push((
        format!("DROP TABLE {qt}"),
        format!(
            "INSERT INTO {qold} ({}) SELECT {} FROM {qt}",
            back_into.join(", "),
            back_select.join(", ")
        ),
    ));
    steps.push((
        format!("ALTER TABLE {qnew} RENAME TO {qt}"),
        old_def.clone(),
    ));
    for ix in &indexes {
        steps.push((
            ix.sql.clone().unwrap_or_default(),
            format!("DROP INDEX{drop} {}", quoted(&ix.name)),
        ));
    }
    for tr in &triggers {
        steps.push((
            tr.sql.clone(),
            format!("DROP TRIGGER{drop} {}", quoted(&tr.name)),
        ));
    }
    for v in &views {
        steps.push((
            v.sql.clone(),
            format!("DROP VIEW{drop} {}", quoted(&v.name)),
        ));
    }
    // Run the rebuild on the in-memory schema: every view made again must
    // still read, and every foreign key that points at the table must still
    // find a PRIMARY KEY or UNIQUE column there.
    {
        let bug = |e: rusqlite::Error| {
            AppError::env("sqlite_error", e.to_string(), "report this as a bug")
        };
        conn.execute_batch("SAVEPOINT rebuild_check").map_err(bug)?;
        let checked = (|| {
            for (apply, _) in &steps {
                if let Err(e) = ctx.engine.execute_step(apply) {
                    return Err(refuse(
                        "dependent_breaks",
                        format!("`{}` fails after the rebuild: {}", one_line(apply), e.message),
                        "remove or change that index, trigger or view in an earlier operation of the same --spec, or keep what it needs",
                    ));
                }
            }
            for v in &views {
                if let Err(e) = conn.prepare(&format!("SELECT * FROM {} LIMIT 0", quoted(&v.name)))
                {
                    return Err(refuse(
                        "dependent_breaks",
                        format!("the view {} no longer reads after the rebuild: {e}", v.name),
                        "change the view in an earlier operation of the same --spec, or keep what it needs",
                    ));
                }
            }
            let mismatch = |e: rusqlite::Error| {
                let text = e.to_string();
                text.contains("foreign key mismatch").then(|| {
                    refuse(
                        "foreign_key_mismatch",
                        format!("after the rebuild, {text}: the columns other tables reference in {t} are no longer its PRIMARY KEY or UNIQUE"),
                        "keep the referenced columns as the PRIMARY KEY (or UNIQUE) of the new definition, or rebuild the referencing tables first",
                    )
                })
            };
            let checked: Result<(), rusqlite::Error> = (|| {
                let mut fk = conn.prepare("PRAGMA foreign_key_check")?;
                let mut rows = fk.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            })();
            if let Err(e) = checked {
                if let Some(refusal) = mismatch(e) {
                    return Err(refusal);
                }
            }
            Ok(())
        })();
        let _ = conn.execute_batch("ROLLBACK TO rebuild_check; RELEASE rebuild_check");
        checked?;
    }
    if copy.is_empty() {
        return Err(refuse(
            "invalid_definition",
            format!("the new definition keeps none of {t}'s columns and --map fills none: every row would be lost"),
            "keep the columns whose data matters, or fill them with --map",
        ));
    }
    let recreated: Vec<String> = indexes
        .iter()
        .map(|i| format!("index {}", i.name))
        .chain(triggers.iter().map(|tr| format!("trigger {}", tr.name)))
        .chain(views.iter().map(|v| format!("view {}", v.name)))
        .collect();
    let referrers: Vec<String> = fresh
        .tables
        .iter()
        .filter(|x| {
            !x.name.eq_ignore_ascii_case(&t)
                && x.foreign_keys
                    .iter()
                    .any(|fk| fk.references_table.eq_ignore_ascii_case(&t))
        })
        .map(|x| format!("table {}", x.name))
        .collect();
    let mut notes = Vec::new();
    if !loses.is_empty() {
        notes.push(Note {
            code: "rollback_loses_data",
            message: format!("the rollback cannot bring back {}", loses.join("; ")),
            hint: Some(
                "if that data matters, copy it elsewhere in an earlier step, or ask the developer"
                    .into(),
            ),
        });
    }
    let mut what = Vec::new();
    if !added.is_empty() {
        what.push(format!("adds {}", added.join(", ")));
    }
    if !dropped.is_empty() {
        what.push(format!("drops {}", dropped.join(", ")));
    }
    if !maps.is_empty() {
        what.push(format!(
            "fills {} from the old columns",
            maps.iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let summary = format!(
        "Rebuild the table {t} with a new definition{}{}, keeping its rows{}.",
        if what.is_empty() { "" } else { ": it " },
        what.join(", "),
        if recreated.is_empty() {
            String::new()
        } else {
            format!(" and making {} again", recreated.join(", "))
        }
    );
    Ok(Operation {
        kind: "rebuild-table",
        template: "rebuild_table.py.j2",
        description: format!("rebuild_{t}"),
        summary,
        steps,
        touches: std::iter::once(format!("table {t}"))
            .chain(recreated.iter().cloned())
            .chain(referrers)
            .collect(),
        rebuild: Some(Rebuild {
            table: t,
            columns_added: added,
            columns_dropped: dropped,
            columns_mapped: maps.into_iter().map(|(c, _)| c).collect(),
            rollback_loses: loses,
            recreated,
            new_definition: new_def,
            copy,
        }),
        notes,
    })
}
