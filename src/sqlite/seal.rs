//! The wall around a scratch connection. An SQLite authorizer refuses every
//! statement that would reach a file other than the connection's own database
//! (`ATTACH` of a file, which `VACUUM INTO` also asks for, and
//! `load_extension()`), and notes each table a statement writes, so a run
//! knows which tables its migrations touched without reading the others.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::Connection;

/// What the authorizer saw since it was last cleared.
#[derive(Debug, Default)]
pub struct SealLog {
    /// The last statement refused, described (`ATTACH of 'x.db'`).
    pub refused: Option<String>,
    /// Tables of the main database that statements wrote (created, altered,
    /// dropped, inserted into, updated, deleted from, indexed, triggered).
    pub touched: BTreeSet<String>,
}

/// A handle on a sealed connection's log.
#[derive(Debug, Clone, Default)]
pub struct Seal(Arc<Mutex<SealLog>>);

impl Seal {
    pub fn log(&self) -> MutexGuard<'_, SealLog> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The refusal noted since the last call, if any.
    pub fn take_refused(&self) -> Option<String> {
        self.log().refused.take()
    }

    /// The tables written since the last call.
    pub fn take_touched(&self) -> BTreeSet<String> {
        std::mem::take(&mut self.log().touched)
    }
}

/// Seal `conn`: nothing it runs may open another file.
pub fn seal(conn: &Connection) -> Seal {
    let seal = Seal::default();
    let log = seal.clone();
    conn.authorizer(Some(move |ctx: AuthContext<'_>| {
        let main = !matches!(ctx.database_name, Some(d) if d != "main");
        let table = match ctx.action {
            // `VACUUM` attaches an empty name for its temporary copy.
            AuthAction::Attach { filename } if filename.is_empty() || filename == ":memory:" => {
                None
            }
            AuthAction::Attach { filename } => {
                log.log().refused = Some(format!("ATTACH of '{filename}'"));
                return Authorization::Deny;
            }
            AuthAction::Unknown { code: 24, .. } => {
                log.log().refused = Some("ATTACH of a computed file name".into());
                return Authorization::Deny;
            }
            AuthAction::Function { function_name }
                if function_name.eq_ignore_ascii_case("load_extension") =>
            {
                log.log().refused = Some("load_extension()".into());
                return Authorization::Deny;
            }
            AuthAction::Insert { table_name }
            | AuthAction::Update { table_name, .. }
            | AuthAction::Delete { table_name }
            | AuthAction::CreateTable { table_name }
            | AuthAction::DropTable { table_name }
            | AuthAction::CreateIndex { table_name, .. }
            | AuthAction::DropIndex { table_name, .. }
            | AuthAction::CreateTrigger { table_name, .. }
            | AuthAction::DropTrigger { table_name, .. }
                if main =>
            {
                Some(table_name)
            }
            AuthAction::AlterTable {
                database_name: "main",
                table_name,
            } => Some(table_name),
            _ => None,
        };
        if let Some(t) = table.filter(|t| !t.starts_with("sqlite_")) {
            log.log().touched.insert(t.to_string());
        }
        Authorization::Allow
    }));
    seal
}

#[cfg(test)]
mod tests {
    #[test]
    fn attach_and_vacuum_into_are_refused_and_writes_noted() {
        let dir = tempfile::tempdir().unwrap();
        let conn = rusqlite::Connection::open(dir.path().join("a.db")).unwrap();
        let seal = super::seal(&conn);
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1)")
            .unwrap();
        assert_eq!(seal.take_touched().into_iter().collect::<Vec<_>>(), ["t"]);
        for sql in [
            "ATTACH DATABASE 'other.db' AS o",
            "ATTACH DATABASE 'oth' || 'er.db' AS o",
            "VACUUM INTO 'copy.db'",
            "SELECT load_extension('x')",
        ] {
            assert!(conn.execute_batch(sql).is_err(), "{sql}");
            assert!(seal.take_refused().is_some(), "{sql}");
        }
        // A plain VACUUM attaches nothing the user names.
        conn.execute_batch("VACUUM").unwrap();
        assert!(seal.take_refused().is_none());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["a.db"]);
    }
}
