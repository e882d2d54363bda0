//! Writing a new migration from a request: what the agent asked for
//! (`request`), checked against the schema and turned into steps (`plan`,
//! `rebuild`), proven on an in-memory copy of the schema with and without rows
//! (`rehearse`), rendered from a template and proven again by reading it back
//! and compiling it (`render`), and placed under a lock without overwriting
//! anything (`write`). Identifier rules live in `ident`.

pub mod conventions;
pub mod data;
pub mod ident;
pub mod plan;
pub mod rebuild;
pub mod rehearse;
pub mod render;
pub mod request;
pub mod write;

use crate::error::AppError;

pub use conventions::Conventions;
pub use plan::{Note, Plan};
pub use request::Request;

/// A refusal: the request cannot become a migration as it stands (exit 1).
pub fn refuse(code: &'static str, message: impl Into<String>, hint: impl Into<String>) -> AppError {
    AppError::problem(code, message, hint)
}

#[cfg(test)]
mod tests {
    use super::ident::*;
    use super::render::*;

    #[test]
    fn slugs_and_identifiers() {
        assert_eq!(
            slug("Add archived to Conversations!"),
            "add_archived_to_conversations"
        );
        assert!(identifier("users; DROP TABLE x", "table").is_err());
        assert!(identifier("select", "table").is_err());
        assert!(identifier("user_settings", "table").is_ok());
    }

    #[test]
    fn python_literals_round_trip_through_the_reader() {
        for sql in [
            "DROP TABLE \"a\\b\"",
            "CREATE TABLE t (\n    a TEXT DEFAULT '\"\"\"'\n)",
            "x\ny\"",
            "INSERT INTO t VALUES ('line1\nline2\n\tindented\r\n')\n",
            "\\N{bogus} \u{2028} \u{7}",
            "",
        ] {
            let src = format!(
                "from yoyo import step\nstep({}, None)\n",
                py_literal(sql, 8)
            );
            let m = crate::migrations::python::read(&src).unwrap();
            assert_eq!(m.steps[0].apply, sql, "{src}");
        }
    }
}
