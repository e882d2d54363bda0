//! Reading rows for a finding: the duplicate keys under a would-be unique
//! index, and values written as SQL would write them. `test-apply`'s hints
//! and `scaffold`'s data warnings ask the same questions.

use rusqlite::types::ValueRef;
use rusqlite::Connection;

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Groups of rows of `table` equal on `exprs` (NULLs never collide): how many
/// keys, how many rows, up to five keys with their counts.
pub fn duplicates(
    db: &Connection,
    table: &str,
    exprs: &[String],
) -> Option<(i64, i64, Vec<String>)> {
    let list = exprs.join(", ");
    let not_null = exprs
        .iter()
        .map(|c| format!("({c}) IS NOT NULL"))
        .collect::<Vec<_>>()
        .join(" AND ");
    let groups = format!(
        "SELECT {list}, count(*) AS n FROM {} WHERE {not_null} GROUP BY {list} HAVING count(*) > 1",
        quote(table)
    );
    let (keys, rows): (i64, i64) = db
        .query_row(
            &format!("SELECT count(*), COALESCE(sum(n), 0) FROM ({groups})"),
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()?;
    if keys == 0 {
        return None;
    }
    let width = exprs.len();
    let mut stmt = db
        .prepare(&format!("{groups} ORDER BY n DESC LIMIT 5"))
        .ok()?;
    let sample = stmt
        .query_map([], |r| {
            let values: Vec<String> = (0..width).map(|i| show(r.get_ref(i))).collect();
            let n: i64 = r.get(width)?;
            Ok(if width == 1 {
                format!("{} ({n} rows)", values[0])
            } else {
                format!("({}) ({n} rows)", values.join(", "))
            })
        })
        .ok()?
        .flatten()
        .collect();
    Some((keys, rows, sample))
}

/// A value as SQL would write it, cut short when long.
pub fn show(v: rusqlite::Result<ValueRef<'_>>) -> String {
    match v {
        Ok(ValueRef::Null) | Err(_) => "NULL".into(),
        Ok(ValueRef::Integer(i)) => i.to_string(),
        Ok(ValueRef::Real(f)) => f.to_string(),
        Ok(ValueRef::Text(t)) => {
            let s = String::from_utf8_lossy(t);
            let cut: String = s.chars().take(40).collect();
            let more = if cut.len() < s.len() { "..." } else { "" };
            format!("'{}{more}'", cut.replace('\'', "''"))
        }
        Ok(ValueRef::Blob(b)) => {
            let hex: String = b.iter().take(16).map(|x| format!("{x:02x}")).collect();
            format!("x'{hex}{}'", if b.len() > 16 { "..." } else { "" })
        }
    }
}
