//! Every code `lint` reports, with its default severity and what it means:
//! one table (as squawk's `Rule` enum), which the README's rules table and
//! every finding the checks make are tested against.

use crate::diagnostic::Severity;

/// A rule: its stable code, its default severity, and a one-line doc (Markdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub doc: &'static str,
}

const fn rule(code: &'static str, severity: Severity, doc: &'static str) -> Rule {
    Rule {
        code,
        severity,
        doc,
    }
}

use Severity::{Error, Note, Warning};

pub const RULES: &[Rule] = &[
    rule("multiple_statements_in_step", Error, "more than one statement in one `.py` step string: Python's sqlite3 runs only one, so yoyo fails"),
    rule("transaction_control", Error, "`BEGIN`, `COMMIT`, `END`, `ROLLBACK`, `VACUUM` or `PRAGMA journal_mode = ...` in a transactional migration: a `COMMIT` splits it (earlier steps persist, the migration stays unrecorded)"),
    rule("duplicate_migration_id", Error, "two files with one id (`0001_a.py` and `0001_a.sql`): yoyo loads both under one id"),
    rule("add_column_unsupported", Error, "`ADD COLUMN` with `PRIMARY KEY` or `UNIQUE`: SQLite refuses it (rebuild the table, or add the column and a UNIQUE index)"),
    rule("add_column_fails_on_data", Error, "`ADD COLUMN` on an existing table that fails once it has rows: `NOT NULL` without a non-NULL default, a non-constant default, a `STORED` generated column, a `CHECK` its default breaks"),
    rule("drop_column_blocked", Error, "`DROP COLUMN` of a column SQLite will not drop: a primary key, `UNIQUE`, indexed, in a `CHECK`, a foreign key, a view, a trigger or a generated column"),
    rule("rebuild_renames_old_table", Error, "`ALTER TABLE T RENAME TO old` then `CREATE TABLE T`: other tables' foreign keys and views follow the rename and dangle once `old` is dropped"),
    rule("migration_fails", Error, "the migration fails on the schema the earlier migrations build, before any row is involved (SQLite's message says why)"),
    rule("python_syntax_error", Error, "the `.py` file is not Python that yoyo can import"),
    rule("migration_unreadable", Error, "the file cannot be read (permissions, not UTF-8)"),
    rule("dependency_error", Error, "`__depends__` names a migration that does not exist, or the dependencies form a cycle: yoyo refuses the folder"),
    rule("rollback_missing", Warning, "a step without a rollback, a `.sql` without a `.rollback.sql`, or apply and rollback statement counts that differ: `yoyo rollback` does nothing for it"),
    rule("rollback_noop", Warning, "a rollback that does nothing: a step's that is only a comment or a `SELECT`, a `.rollback.sql` that is empty, only comments or a `SELECT`, or one of its statements that is"),
    rule("foreign_keys_pragma_ignored", Warning, "`PRAGMA foreign_keys` in a transactional migration: SQLite ignores it inside a transaction"),
    rule("ignore_errors", Warning, "`ignore_errors=` on a step or group: failures are swallowed and the migration is recorded as applied"),
    rule("empty_step", Warning, "a step whose apply SQL is empty or only comments"),
    rule("directive_after_sql", Warning, "`-- depends:` or `-- transactional:` after the first SQL line of a `.sql` file: yoyo ignores it"),
    rule("non_migration_file", Warning, "a file yoyo will apply that is not a migration: a `.py` with no steps (a helper, `__init__.py`), or a name starting with `_` or `.`"),
    rule("orphan_rollback", Warning, "a `NAME.rollback.sql` with no `NAME.sql`: yoyo ignores it"),
    rule("ambiguous_order", Warning, "two migrations with one number, or numbers of mixed widths that sort out of numeric order, with no `__depends__` between them: the order is an accident of their names"),
    rule("unique_index_on_existing_table", Warning, "a `UNIQUE` index on a table an earlier migration created: it fails where the rows hold duplicates"),
    rule("rebuild_loses_objects", Warning, "a table rebuild (`DROP TABLE T` and `T` made again) that does not make T's indexes and triggers again, or leaves a view on T"),
    rule("rebuild_changes_column", Warning, "a table rebuild that drops a column, changes a column's type, or makes a nullable column `NOT NULL` without a default"),
    rule("insert_select_star", Warning, "`INSERT INTO new SELECT * FROM old`: columns are matched by position, not by name"),
    rule("foreign_key_target_invalid", Warning, "`REFERENCES` a table that does not exist, or columns that are not its primary key or `UNIQUE`: every write to the child fails once foreign keys are on"),
    rule("double_quoted_string", Warning, "a `\"...\"` that names no column, which SQLite reads as a string (a typo'd column name passes silently)"),
    rule("drops_table", Warning, "`DROP TABLE` of a table an earlier migration created: its rows are gone, and no rollback brings them back"),
    rule("drops_column", Warning, "`DROP COLUMN` of a column an earlier migration created: its values are gone, and no rollback brings them back"),
    rule("applied_migration_modified", Warning, "with `--since REF`: a migration that existed at REF was edited or renamed; databases that applied it will not run it again"),
    rule("unused_ignore", Warning, "a `migration-creator: ignore` comment that suppresses nothing"),
    rule("ignore_without_reason", Warning, "a `migration-creator: ignore` comment with no `-- reason`"),
    rule("renames_table", Note, "`ALTER TABLE T RENAME TO U`: running code that still uses `T` breaks"),
    rule("renames_column", Note, "`ALTER TABLE T RENAME COLUMN a TO b`: running code that still uses `a` breaks"),
    rule("unsupported_step", Note, "a step lint cannot read (a Python callable, SQL built at import): it is not checked, and later migrations are checked against a schema without it"),
    rule("schema_incomplete", Note, "a migration fails on the schema lint built, but an earlier migration could not be read, so the schema may be the cause"),
];

/// The rule with `code`.
pub fn rule_for(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "{} twice", r.code);
            assert!(
                r.code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{}",
                r.code
            );
        }
    }

    /// Every code the checks report is in the table (so in the README).
    #[test]
    fn every_code_in_the_source_is_in_the_table() {
        let sources = [
            include_str!("mod.rs"),
            include_str!("checks.rs"),
            include_str!("suppress.rs"),
            include_str!("config.rs"),
        ];
        for src in sources {
            for (i, _) in src.match_indices("finding(\"") {
                let rest = &src[i + 9..];
                let code = &rest[..rest.find('"').unwrap()];
                assert!(rule_for(code).is_some(), "`{code}` is not in RULES");
            }
        }
    }
}
