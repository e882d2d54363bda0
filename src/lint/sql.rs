//! Just enough of SQLite's grammar to know what a statement does: a lexer
//! (words, quoted names, strings, numbers, punctuation, with byte offsets)
//! and a reading of the statement kinds the rules care about. Everything the
//! lexer cannot place is `Stmt::Other`; SQLite itself, through the engine,
//! is the judge of whether a statement runs.

/// One token of a statement.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokKind,
    /// The text as written (quotes included for quoted names and strings).
    pub text: String,
    /// Byte offset in the statement.
    pub start: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// A bare word: a keyword or a name.
    Word,
    /// `"name"`, `` `name` `` or `[name]`.
    Quoted,
    /// `'text'`.
    String,
    Number,
    /// One punctuation character (`(`, `)`, `,`, `;`, `.`, `=`, ...).
    Punct,
}

impl Token {
    /// The name a word or quoted name stands for (quotes removed).
    pub fn name(&self) -> String {
        unquote(&self.text)
    }

    /// Whether the token is the keyword `kw` (case-insensitive).
    pub fn is(&self, kw: &str) -> bool {
        self.kind == TokKind::Word && self.text.eq_ignore_ascii_case(kw)
    }

    pub fn is_punct(&self, c: char) -> bool {
        self.kind == TokKind::Punct && self.text.starts_with(c)
    }

    fn is_name(&self) -> bool {
        matches!(self.kind, TokKind::Word | TokKind::Quoted | TokKind::String)
    }
}

/// A name without its quotes (`"a""b"` is `a"b`).
pub fn unquote(text: &str) -> String {
    let b = text.as_bytes();
    if b.len() >= 2 {
        let (first, last) = (b[0], b[b.len() - 1]);
        if (first == b'"' && last == b'"')
            || (first == b'`' && last == b'`')
            || (first == b'\'' && last == b'\'')
        {
            let q = first as char;
            return text[1..text.len() - 1].replace(&format!("{q}{q}"), &q.to_string());
        }
        if first == b'[' && last == b']' {
            return text[1..text.len() - 1].to_string();
        }
    }
    text.to_string()
}

/// The tokens of `sql`, comments and whitespace left out.
pub fn tokenize(sql: &str) -> Vec<Token> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            b if b.is_ascii_whitespace() => {
                i += 1;
                continue;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(bytes.len());
                continue;
            }
            b'\'' | b'"' | b'`' => {
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == c {
                        if bytes.get(i + 1) == Some(&c) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                let kind = if c == b'\'' {
                    TokKind::String
                } else {
                    TokKind::Quoted
                };
                out.push(Token {
                    kind,
                    text: sql[start..i].to_string(),
                    start,
                });
                continue;
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i = (i + 1).min(bytes.len());
                out.push(Token {
                    kind: TokKind::Quoted,
                    text: sql[start..i].to_string(),
                    start,
                });
                continue;
            }
            b if b.is_ascii_digit()
                || (b == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) =>
            {
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.') {
                    i += 1;
                }
                out.push(Token {
                    kind: TokKind::Number,
                    text: sql[start..i].to_string(),
                    start,
                });
                continue;
            }
            b if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                out.push(Token {
                    kind: TokKind::Word,
                    text: sql[start..i].to_string(),
                    start,
                });
                continue;
            }
            _ => {
                let len = sql[i..].chars().next().map_or(1, char::len_utf8);
                i += len;
                out.push(Token {
                    kind: TokKind::Punct,
                    text: sql[start..i].to_string(),
                    start,
                });
            }
        }
    }
    out
}

/// What a statement does, as far as the rules need to know.
#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    CreateTable {
        name: String,
    },
    /// `ALTER TABLE t ADD [COLUMN] def`: the column's name and the tokens of
    /// its definition after the name.
    AddColumn {
        table: String,
        column: String,
        def: Vec<Token>,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameTable {
        table: String,
        to: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    DropTable {
        name: String,
    },
    DropView {
        name: String,
    },
    DropIndex {
        name: String,
    },
    DropTrigger {
        name: String,
    },
    CreateIndex {
        name: String,
        table: String,
        unique: bool,
    },
    CreateView {
        name: String,
    },
    CreateTrigger {
        name: String,
    },
    /// `INSERT INTO t ... SELECT * ...` (`select_star`), or another INSERT.
    Insert {
        table: String,
        select_star: bool,
    },
    /// `BEGIN`, `COMMIT`, `END`, `ROLLBACK` (not `ROLLBACK TO`), `VACUUM`.
    Transaction {
        word: String,
    },
    Pragma {
        name: String,
        /// Whether the pragma sets a value (`= x` or `(x)`).
        sets: bool,
    },
    Select,
    Other,
}

/// Read the statement `tokens` (one statement, from `tokenize`).
pub fn classify(tokens: &[Token]) -> Stmt {
    let t = tokens;
    let word = |i: usize, kw: &str| t.get(i).is_some_and(|x| x.is(kw));
    let Some(first) = t.first() else {
        return Stmt::Other;
    };
    // A qualified name `schema.name` at `i`: the name and the index after it.
    let name_at = |i: usize| -> Option<(String, usize)> {
        let tok = t.get(i).filter(|x| x.is_name())?;
        if t.get(i + 1).is_some_and(|x| x.is_punct('.')) {
            let n = t.get(i + 2).filter(|x| x.is_name())?;
            return Some((n.name(), i + 3));
        }
        Some((tok.name(), i + 1))
    };
    let skip_if_exists = |mut i: usize| -> usize {
        if word(i, "IF") && word(i + 1, "NOT") && word(i + 2, "EXISTS") {
            i += 3;
        } else if word(i, "IF") && word(i + 1, "EXISTS") {
            i += 2;
        }
        i
    };
    if first.is("CREATE") {
        let mut i = 1;
        let mut unique = false;
        while word(i, "TEMP") || word(i, "TEMPORARY") || word(i, "UNIQUE") || word(i, "VIRTUAL") {
            unique |= word(i, "UNIQUE");
            i += 1;
        }
        if word(i, "TABLE") {
            return name_at(skip_if_exists(i + 1))
                .map_or(Stmt::Other, |(name, _)| Stmt::CreateTable { name });
        }
        if word(i, "VIEW") {
            return name_at(skip_if_exists(i + 1))
                .map_or(Stmt::Other, |(name, _)| Stmt::CreateView { name });
        }
        if word(i, "TRIGGER") {
            return name_at(skip_if_exists(i + 1))
                .map_or(Stmt::Other, |(name, _)| Stmt::CreateTrigger { name });
        }
        if word(i, "INDEX") {
            let Some((name, j)) = name_at(skip_if_exists(i + 1)) else {
                return Stmt::Other;
            };
            if !word(j, "ON") {
                return Stmt::Other;
            }
            return name_at(j + 1).map_or(Stmt::Other, |(table, _)| Stmt::CreateIndex {
                name,
                table,
                unique,
            });
        }
        return Stmt::Other;
    }
    if first.is("DROP") {
        let kind = t.get(1).map(|x| x.text.to_ascii_uppercase());
        let Some((name, _)) = name_at(skip_if_exists(2)) else {
            return Stmt::Other;
        };
        return match kind.as_deref() {
            Some("TABLE") => Stmt::DropTable { name },
            Some("VIEW") => Stmt::DropView { name },
            Some("INDEX") => Stmt::DropIndex { name },
            Some("TRIGGER") => Stmt::DropTrigger { name },
            _ => Stmt::Other,
        };
    }
    if first.is("ALTER") && word(1, "TABLE") {
        let Some((table, mut i)) = name_at(2) else {
            return Stmt::Other;
        };
        if word(i, "ADD") {
            i += 1;
            if word(i, "COLUMN") {
                i += 1;
            }
            let Some(col) = t.get(i).filter(|x| x.is_name()) else {
                return Stmt::Other;
            };
            let def: Vec<Token> = t[i + 1..]
                .iter()
                .filter(|x| !x.is_punct(';'))
                .cloned()
                .collect();
            return Stmt::AddColumn {
                table,
                column: col.name(),
                def,
            };
        }
        if word(i, "DROP") {
            i += 1;
            if word(i, "COLUMN") {
                i += 1;
            }
            return t
                .get(i)
                .filter(|x| x.is_name())
                .map_or(Stmt::Other, |c| Stmt::DropColumn {
                    table,
                    column: c.name(),
                });
        }
        if word(i, "RENAME") {
            i += 1;
            if word(i, "TO") {
                return t
                    .get(i + 1)
                    .filter(|x| x.is_name())
                    .map_or(Stmt::Other, |n| Stmt::RenameTable {
                        table,
                        to: n.name(),
                    });
            }
            if word(i, "COLUMN") {
                i += 1;
            }
            let from = t.get(i).filter(|x| x.is_name());
            let to = t.get(i + 2).filter(|x| x.is_name());
            return match (from, word(i + 1, "TO"), to) {
                (Some(f), true, Some(n)) => Stmt::RenameColumn {
                    table,
                    from: f.name(),
                    to: n.name(),
                },
                _ => Stmt::Other,
            };
        }
        return Stmt::Other;
    }
    if first.is("INSERT") || first.is("REPLACE") {
        let Some(into) = t.iter().position(|x| x.is("INTO")) else {
            return Stmt::Other;
        };
        let Some((table, j)) = name_at(into + 1) else {
            return Stmt::Other;
        };
        // `INSERT INTO t SELECT * FROM ...` with no column list.
        // `*`, or a qualified `u.*` / `main.u.*`, first in the select list.
        let star_at = |k: usize| {
            let mut k = k;
            while t.get(k).is_some_and(|x| x.is_name())
                && t.get(k + 1).is_some_and(|x| x.is_punct('.'))
            {
                k += 2;
            }
            t.get(k).is_some_and(|x| x.is_punct('*'))
        };
        let select_star = word(j, "SELECT")
            && (star_at(j + 1)
                || (word(j + 1, "DISTINCT") || word(j + 1, "ALL")) && star_at(j + 2));
        return Stmt::Insert { table, select_star };
    }
    if first.is("BEGIN") || first.is("COMMIT") || first.is("END") || first.is("VACUUM") {
        return Stmt::Transaction {
            word: first.text.to_ascii_uppercase(),
        };
    }
    if first.is("ROLLBACK") {
        // `ROLLBACK TO [SAVEPOINT] x` stays inside the transaction.
        let to = t.iter().skip(1).any(|x| x.is("TO"));
        return if to {
            Stmt::Other
        } else {
            Stmt::Transaction {
                word: "ROLLBACK".into(),
            }
        };
    }
    if first.is("PRAGMA") {
        let Some((name, j)) = name_at(1) else {
            return Stmt::Other;
        };
        let sets = t.get(j).is_some_and(|x| x.is_punct('=') || x.is_punct('('));
        return Stmt::Pragma {
            name: name.to_ascii_lowercase(),
            sets,
        };
    }
    if first.is("SELECT") || first.is("VALUES") {
        return Stmt::Select;
    }
    if first.is("WITH") {
        // A CTE ahead of an INSERT is still an insert; read from there.
        if let Some(p) = t
            .iter()
            .position(|x| x.is("INSERT") || x.is("REPLACE") || x.is("SELECT"))
        {
            if t[p].is("SELECT") && !t.iter().any(|x| x.is("INSERT")) {
                return Stmt::Select;
            }
        }
    }
    Stmt::Other
}

/// Whether a column definition (tokens after the name) holds `kw` at the top
/// level, outside any parentheses.
pub fn top_level_has(def: &[Token], kws: &[&str]) -> Option<usize> {
    let mut depth = 0i32;
    for (i, tok) in def.iter().enumerate() {
        if tok.is_punct('(') {
            depth += 1;
        } else if tok.is_punct(')') {
            depth -= 1;
        } else if depth == 0 && tok.kind == TokKind::Word {
            let matches = kws.len() <= def.len() - i
                && kws.iter().enumerate().all(|(k, kw)| def[i + k].is(kw));
            if matches {
                return Some(i);
            }
        }
    }
    None
}

/// Whether `sql` names `name` as a word or quoted name (case-insensitive).
pub fn mentions(tokens: &[Token], name: &str) -> bool {
    tokens.iter().any(|t| {
        matches!(t.kind, TokKind::Word | TokKind::Quoted) && t.name().eq_ignore_ascii_case(name)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(sql: &str) -> Stmt {
        classify(&tokenize(sql))
    }

    #[test]
    fn statements_are_read() {
        assert_eq!(
            stmt("create table if not exists main.\"a b\" (x)"),
            Stmt::CreateTable { name: "a b".into() }
        );
        assert!(matches!(
            stmt("ALTER TABLE t ADD c TEXT NOT NULL -- c\n;"),
            Stmt::AddColumn { ref table, ref column, ref def } if table == "t" && column == "c" && def.len() == 3
        ));
        assert_eq!(
            stmt("alter table [t] drop column `c`"),
            Stmt::DropColumn {
                table: "t".into(),
                column: "c".into()
            }
        );
        assert_eq!(
            stmt("ALTER TABLE t RENAME COLUMN a TO b"),
            Stmt::RenameColumn {
                table: "t".into(),
                from: "a".into(),
                to: "b".into()
            }
        );
        assert_eq!(
            stmt("ALTER TABLE t RENAME a TO b"),
            Stmt::RenameColumn {
                table: "t".into(),
                from: "a".into(),
                to: "b".into()
            }
        );
        assert_eq!(
            stmt("ALTER TABLE t RENAME TO u"),
            Stmt::RenameTable {
                table: "t".into(),
                to: "u".into()
            }
        );
        assert_eq!(
            stmt("CREATE UNIQUE INDEX IF NOT EXISTS i ON t (a)"),
            Stmt::CreateIndex {
                name: "i".into(),
                table: "t".into(),
                unique: true
            }
        );
        assert_eq!(
            stmt("INSERT INTO n SELECT o.* FROM o"),
            Stmt::Insert {
                table: "n".into(),
                select_star: true
            }
        );
        assert_eq!(
            stmt("INSERT INTO n SELECT o.a * 2 FROM o"),
            Stmt::Insert {
                table: "n".into(),
                select_star: false
            }
        );
        assert_eq!(
            stmt("INSERT INTO n SELECT * FROM o"),
            Stmt::Insert {
                table: "n".into(),
                select_star: true
            }
        );
        assert_eq!(
            stmt("INSERT INTO n (a) SELECT * FROM o"),
            Stmt::Insert {
                table: "n".into(),
                select_star: false
            }
        );
        assert_eq!(
            stmt("rollback to savepoint x"),
            Stmt::Other,
            "a savepoint rollback stays in the transaction"
        );
        assert_eq!(
            stmt("PRAGMA foreign_keys = ON"),
            Stmt::Pragma {
                name: "foreign_keys".into(),
                sets: true
            }
        );
        assert_eq!(stmt("-- only a comment"), Stmt::Other);
        assert_eq!(
            stmt("BEGIN TRANSACTION"),
            Stmt::Transaction {
                word: "BEGIN".into()
            }
        );
    }

    #[test]
    fn strings_and_comments_hide_keywords() {
        let def = tokenize("TEXT DEFAULT 'UNIQUE' CHECK (x <> 'PRIMARY KEY') /* UNIQUE */");
        assert_eq!(top_level_has(&def, &["UNIQUE"]), None);
        assert_eq!(top_level_has(&def, &["PRIMARY", "KEY"]), None);
        let def = tokenize("INTEGER CONSTRAINT u UNIQUE");
        assert_eq!(top_level_has(&def, &["UNIQUE"]), Some(3));
    }
}
