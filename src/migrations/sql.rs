//! `.sql` migrations as yoyo 9.0.0 reads them: the file split into statements
//! as `sqlparse.split` does, `-- depends:` / `-- transactional:` directives
//! taken from the leading comments of the first statement.

/// Split SQL into statements on `;` outside strings, comments and the
/// `BEGIN ... END` body of a `CREATE` statement (a trigger). Each statement
/// keeps its `;` and is trimmed; empty statements are dropped.
pub fn split_statements(sql: &str) -> Vec<(String, usize)> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let mut begin_depth = 0usize;
    let mut is_create = false;
    let mut first_word = true;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'\'' | b'"' | b'`' => {
                let q = c;
                i += 1;
                while i < bytes.len() {
                    if bytes[i] == q {
                        if bytes.get(i + 1) == Some(&q) {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
                first_word = false;
            }
            b'[' => {
                while i < bytes.len() && bytes[i] != b']' {
                    i += 1;
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b';' if begin_depth == 0 || !is_create => {
                i += 1;
                push_statement(sql, start, i, &mut out);
                start = i;
                begin_depth = 0;
                is_create = false;
                first_word = true;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let s = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                let word = sql[s..i].to_ascii_uppercase();
                if first_word {
                    is_create = word == "CREATE";
                    first_word = false;
                }
                match word.as_str() {
                    "BEGIN" | "CASE" => begin_depth += 1,
                    "END" => begin_depth = begin_depth.saturating_sub(1),
                    _ => {}
                }
            }
            _ => i += 1,
        }
    }
    push_statement(sql, start, sql.len(), &mut out);
    out
}

fn push_statement(sql: &str, start: usize, end: usize, out: &mut Vec<(String, usize)>) {
    let end = end.min(sql.len());
    let text = &sql[start..end];
    let trimmed = text.trim();
    if !trimmed.is_empty() {
        let lead = text.len() - text.trim_start().len();
        let line = sql[..start + lead].matches('\n').count() + 1;
        out.push((trimmed.to_string(), line));
    }
}

/// yoyo's `parse_metadata_from_sql_comments`: directives and leading comments
/// come off the front of the first statement.
pub fn directives(first: &str) -> (Vec<(String, String)>, String, String) {
    let mut directives: Vec<(String, String)> = Vec::new();
    let mut comments = Vec::new();
    let mut lines = first.split('\n');
    let mut sql = Vec::new();
    for line in lines.by_ref() {
        let line = line.trim_end_matches('\r');
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("--") {
            let rest = rest.trim_start();
            let directive = ["transactional", "depends"].into_iter().find_map(|name| {
                let after = rest.strip_prefix(name)?.trim_start();
                after
                    .strip_prefix(':')
                    .map(|v| (name.to_string(), v.trim().to_string()))
            });
            match directive {
                Some((k, v)) => match directives.iter_mut().find(|(n, _)| *n == k) {
                    Some((_, existing)) => {
                        existing.push(' ');
                        existing.push_str(&v);
                    }
                    None => directives.push((k, v)),
                },
                None => comments.push(t.trim_start_matches('-').trim().to_string()),
            }
        } else if t.is_empty() {
            comments.push(String::new());
        } else {
            sql.push(line);
            break;
        }
    }
    sql.extend(lines);
    (
        directives,
        comments.join("\n").trim().to_string(),
        sql.join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_like_sqlparse() {
        let sql = "-- depends: 0001_a\nCREATE TABLE a (x TEXT DEFAULT ';');\n/* ; */ INSERT INTO a VALUES ('it''s;');\n\
                   CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET x = 1; DELETE FROM a; END;\nBEGIN TRANSACTION;\nCOMMIT;";
        let s: Vec<String> = split_statements(sql).into_iter().map(|(s, _)| s).collect();
        assert_eq!(s.len(), 5, "{s:#?}");
        assert!(s[2].starts_with("CREATE TRIGGER") && s[2].ends_with("END;"));
        assert_eq!(s[3], "BEGIN TRANSACTION;");
        let (d, _, rest) = directives(&s[0]);
        assert_eq!(d, vec![("depends".to_string(), "0001_a".to_string())]);
        assert!(rest.starts_with("CREATE TABLE a"));
    }
}
