//! Suppression comments and the configuration's skips and severities.
//!
//! - `-- migration-creator: ignore CODE[, CODE] -- reason` before a statement
//!   (in a `.sql` file, or inside a step's SQL string);
//! - `# migration-creator: ignore CODE -- reason` on or above a `step(` line;
//! - `ignore-file` instead of `ignore` (either comment form, anywhere in the
//!   file) for the whole file.
//!
//! A suppression that hides nothing is reported (`unused_ignore`), and so is
//! one without a reason (`ignore_without_reason`).

use super::config::LintConfig;
use super::rules::rule_for;
use super::{finding, Finding, Pending};
use crate::migrations::{Kind, Migration};

/// One suppression comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Suppression {
    /// 1-based line of the comment.
    pub line: usize,
    pub whole_file: bool,
    /// `#` (a Python comment) or `--` (an SQL comment).
    pub python_comment: bool,
    pub codes: Vec<String>,
    pub reason: String,
    /// The 0-based steps a line-level suppression covers (none: no step
    /// follows it).
    pub steps: Vec<usize>,
}

const MARK: &str = "migration-creator:";

/// A comment: its line, its text after `#` or `--`, and whether code
/// stands before it on its line.
#[derive(Debug, Clone, PartialEq)]
struct Comment {
    line: usize,
    text: String,
    trailing: bool,
}

/// A comment's suppression, if it is one (its steps are left empty).
fn suppression(c: &Comment, python_comment: bool) -> Option<Suppression> {
    let rest = c.text.trim_start().strip_prefix(MARK)?.trim_start();
    let (whole_file, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix("ignore") {
        (false, r)
    } else {
        return None;
    };
    if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
        return None;
    }
    let (codes, reason) = match rest.find("--") {
        Some(i) => (&rest[..i], rest[i + 2..].trim()),
        None => (rest, ""),
    };
    let codes: Vec<String> = codes
        .split([',', ' ', '\t'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect();
    Some(Suppression {
        line: c.line,
        whole_file,
        python_comment,
        codes,
        reason: reason.to_string(),
        steps: Vec::new(),
    })
}

/// The `--` comments of SQL text, each character with its file line:
/// comments outside string literals, quoted names and `/* */` blocks.
fn sql_comments(chars: &[(char, usize)]) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut code_on_line = false;
    let at = |i: usize| chars.get(i).map(|&(c, _)| c);
    while let Some(c) = at(i) {
        match c {
            '\n' => {
                code_on_line = false;
                i += 1;
            }
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                i += 1;
                while let Some(d) = at(i) {
                    i += 1;
                    if d == close {
                        if at(i) == Some(close) && close != ']' {
                            i += 1;
                            continue;
                        }
                        break;
                    }
                }
                code_on_line = true;
            }
            '-' if at(i + 1) == Some('-') => {
                let line = chars[i].1;
                let start = i + 2;
                while at(i).is_some_and(|d| d != '\n') {
                    i += 1;
                }
                out.push(Comment {
                    line,
                    text: chars[start..i].iter().map(|&(c, _)| c).collect(),
                    trailing: code_on_line,
                });
            }
            '/' if at(i + 1) == Some('*') => {
                i += 2;
                while at(i).is_some() && !(at(i) == Some('*') && at(i + 1) == Some('/')) {
                    if at(i) == Some('\n') {
                        code_on_line = false;
                    }
                    i += 1;
                }
                i += 2;
            }
            c => {
                if !c.is_whitespace() {
                    code_on_line = true;
                }
                i += 1;
            }
        }
    }
    out
}

/// What a Python file holds that suppressions need: its `#` comments, the
/// lines each call spans (`name(` to its `)`), and its string literals
/// (adjacent ones joined, as Python joins them), decoded, each character
/// with its file line.
#[derive(Debug, Default)]
struct PyScan {
    comments: Vec<Comment>,
    calls: Vec<(usize, usize)>,
    strings: Vec<Vec<(char, usize)>>,
}

fn scan_python(text: &str) -> PyScan {
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| chars.get(i).copied();
    let mut scan = PyScan::default();
    let (mut i, mut line) = (0usize, 1usize);
    let mut code_on_line = false;
    // For each open bracket: the call it opens, if it does.
    let mut open: Vec<Option<usize>> = Vec::new();
    let mut name_line: Option<usize> = None;
    let mut string: Option<Vec<(char, usize)>> = None;
    let end_string = |string: &mut Option<Vec<(char, usize)>>, scan: &mut PyScan| {
        if let Some(s) = string.take() {
            scan.strings.push(s);
        }
    };
    while let Some(c) = at(i) {
        if c == '\n' {
            line += 1;
            code_on_line = false;
            i += 1;
            continue;
        }
        if c.is_whitespace() || (c == '\\' && at(i + 1) == Some('\n')) {
            i += 1;
            continue;
        }
        if c == '#' {
            let start = i + 1;
            while at(i).is_some_and(|d| d != '\n') {
                i += 1;
            }
            scan.comments.push(Comment {
                line,
                text: chars[start..i].iter().collect(),
                trailing: code_on_line,
            });
            continue;
        }
        code_on_line = true;
        // A name, or a string's prefix.
        let mut j = i;
        while at(j).is_some_and(|d| d.is_alphanumeric() || d == '_') {
            j += 1;
        }
        let word: String = chars[i..j].iter().collect();
        let quote = at(j).filter(|&q| q == '\'' || q == '"');
        let prefix = word.len() <= 2 && word.chars().all(|d| "rRbBuUfF".contains(d));
        if let (Some(q), true) = (quote, prefix) {
            let raw = word.contains(['r', 'R']);
            i = j;
            let triple = at(i + 1) == Some(q) && at(i + 2) == Some(q);
            let qlen = if triple { 3 } else { 1 };
            i += qlen;
            let value = string.get_or_insert_with(Vec::new);
            while let Some(d) = at(i) {
                if d == q && (!triple || (at(i + 1) == Some(q) && at(i + 2) == Some(q))) {
                    i += qlen;
                    break;
                }
                if d == '\n' && !triple {
                    break;
                }
                if d == '\\' {
                    let Some(e) = at(i + 1) else {
                        i += 1;
                        break;
                    };
                    if e == '\n' {
                        if raw {
                            value.extend([('\\', line), ('\n', line)]);
                        }
                        line += 1;
                        i += 2;
                        continue;
                    }
                    let decoded = match e {
                        _ if raw => None,
                        'n' => Some('\n'),
                        't' => Some('\t'),
                        'r' => Some('\r'),
                        '\\' | '\'' | '"' => Some(e),
                        _ => None,
                    };
                    match decoded {
                        Some(x) => value.push((x, line)),
                        None => value.extend([('\\', line), (e, line)]),
                    }
                    i += 2;
                    continue;
                }
                value.push((d, line));
                if d == '\n' {
                    line += 1;
                }
                i += 1;
            }
            name_line = None;
            continue;
        }
        end_string(&mut string, &mut scan);
        if j > i {
            name_line = Some(line);
            i = j;
            continue;
        }
        match c {
            '(' | '[' | '{' => {
                let call = name_line.filter(|_| c == '(').map(|l| {
                    scan.calls.push((l, usize::MAX));
                    scan.calls.len() - 1
                });
                open.push(call);
            }
            ')' | ']' | '}' => {
                if let Some(Some(k)) = open.pop() {
                    scan.calls[k].1 = line;
                }
            }
            _ => {}
        }
        name_line = None;
        i += 1;
    }
    end_string(&mut string, &mut scan);
    for call in &mut scan.calls {
        if call.1 == usize::MAX {
            call.1 = line;
        }
    }
    scan
}

/// The suppression comments of a file of this kind (`None`: not a
/// migration, no suppressions), each with the steps of `m` it covers.
pub fn parse(text: &str, kind: Option<Kind>, m: Option<&Migration>) -> Vec<Suppression> {
    match kind {
        Some(Kind::Python) => parse_python(text, m),
        Some(Kind::Sql) => parse_sql(text, m),
        None => Vec::new(),
    }
}

/// A `.sql` file: `--` comments outside string literals. One before a
/// statement (or inside it) covers that statement; one after a
/// statement's `;` on the same line covers the statement it follows.
fn parse_sql(text: &str, m: Option<&Migration>) -> Vec<Suppression> {
    let mut chars = Vec::new();
    let mut line = 1;
    for c in text.chars() {
        chars.push((c, line));
        if c == '\n' {
            line += 1;
        }
    }
    let steps = m.map_or(&[][..], |m| &m.steps[..]);
    sql_comments(&chars)
        .iter()
        .filter_map(|c| {
            let mut s = suppression(c, false)?;
            // The statement that starts with this very comment follows it.
            let target = steps.iter().rposition(|st| {
                st.line < c.line
                    || (st.line == c.line
                        && !(c.trailing && st.apply.trim_start().starts_with("--")))
            });
            s.steps.extend(target);
            Some(s)
        })
        .collect()
}

/// A `.py` file: `#` comments, and `--` comments inside the SQL of a step
/// (in its `step(...)` call, or in a string passed to it by name).
/// Suppression text in a docstring or any other string is not a comment.
fn parse_python(text: &str, m: Option<&Migration>) -> Vec<Suppression> {
    let scan = scan_python(text);
    let steps = m.map_or(&[][..], |m| &m.steps[..]);
    // The lines each step's call spans.
    let spans: Vec<(usize, usize)> = steps
        .iter()
        .map(|st| {
            let end = scan
                .calls
                .iter()
                .filter(|c| c.0 == st.line)
                .map(|c| c.1)
                .max()
                .unwrap_or(st.line);
            (st.line, end)
        })
        .collect();
    // The steps whose call holds `line` (the latest to start).
    let holding = |line: usize, own_line: bool| -> Vec<usize> {
        let inside = |&(s, e): &(usize, usize)| (s < line || (s == line && !own_line)) && line <= e;
        let start = spans.iter().filter(|sp| inside(sp)).map(|sp| sp.0).max();
        (0..spans.len())
            .filter(|&i| Some(spans[i].0) == start && inside(&spans[i]))
            .collect()
    };
    let mut out = Vec::new();
    for c in &scan.comments {
        let Some(mut s) = suppression(c, true) else {
            continue;
        };
        s.steps = holding(c.line, !c.trailing);
        if s.steps.is_empty() {
            // On or above a step: the first step at or after it.
            let next = spans.iter().map(|sp| sp.0).filter(|&l| l >= c.line).min();
            s.steps = (0..spans.len())
                .filter(|&i| Some(spans[i].0) == next)
                .collect();
        }
        out.push(s);
    }
    for string in &scan.strings {
        let comments = sql_comments(string);
        let (Some(first), Some(last)) = (string.first(), string.last()) else {
            continue;
        };
        if comments.is_empty() {
            continue;
        }
        let (first, last) = (first.1, last.1);
        let mut targets: Vec<usize> = holding(first, false)
            .into_iter()
            .filter(|&i| last <= spans[i].1)
            .collect();
        if targets.is_empty() {
            // SQL held in a name and passed to step() by it.
            let value: String = string.iter().map(|&(c, _)| c).collect();
            let value = value.trim();
            targets = (0..steps.len())
                .filter(|&i| {
                    steps[i].apply.contains(value)
                        || steps[i]
                            .rollback
                            .as_ref()
                            .is_some_and(|r| r.contains(value))
                })
                .collect();
        }
        // A file lint could not read: any string inside a call may be SQL.
        let in_call = scan.calls.iter().any(|&(s, e)| s <= first && last <= e);
        if targets.is_empty() && !(m.is_none() && in_call) {
            continue;
        }
        for c in &comments {
            if let Some(mut s) = suppression(c, false) {
                s.steps.clone_from(&targets);
                out.push(s);
            }
        }
    }
    out.sort_by_key(|s| s.line);
    out
}

/// Apply the configuration and the file's suppression comments to its
/// findings. Returns what is kept (with the suppressions' own findings) and
/// how many were hidden. `place` positions a finding in this file.
pub fn apply(
    text: &str,
    kind: Option<Kind>,
    m: Option<&Migration>,
    findings: Vec<Finding>,
    config: &LintConfig,
    place: &dyn Fn(Pending) -> Finding,
) -> (Vec<Finding>, usize) {
    let mut hidden = 0;
    let suppressions = parse(text, kind, m);
    let mut used: Vec<Vec<bool>> = suppressions
        .iter()
        .map(|s| vec![false; s.codes.len()])
        .collect();
    let whole_file_codes: Vec<&'static str> = findings
        .iter()
        .filter(|f| f.whole_file)
        .map(|f| f.diagnostic.code)
        .collect();
    let mut kept = Vec::new();
    for f in findings {
        if config.skip.iter().any(|c| c == f.diagnostic.code) {
            hidden += 1;
            continue;
        }
        let mut suppressed = false;
        for (k, s) in suppressions.iter().enumerate() {
            let Some(c) = s.codes.iter().position(|c| c == f.diagnostic.code) else {
                continue;
            };
            let applies = s.whole_file
                || match f.step {
                    Some(step) => s.steps.contains(&(step - 1)),
                    None => f.diagnostic.line == s.line || f.diagnostic.line == s.line + 1,
                };
            if applies {
                used[k][c] = true;
                suppressed = true;
            }
        }
        if suppressed {
            hidden += 1;
        } else {
            kept.push(f);
        }
    }
    for (k, s) in suppressions.iter().enumerate() {
        if s.reason.is_empty() {
            kept.push(place(
                finding(
                    "ignore_without_reason",
                    "this suppression gives no reason",
                    "say why after `--`: `migration-creator: ignore CODE -- why it is safe here`",
                )
                .line(s.line),
            ));
        }
        if s.codes.is_empty() {
            kept.push(place(
                finding(
                    "unused_ignore",
                    "this suppression names no code",
                    "name the codes to ignore: `migration-creator: ignore CODE -- reason`",
                )
                .line(s.line),
            ));
        }
        for (c, code) in s.codes.iter().enumerate() {
            if used[k][c] || config.skip.iter().any(|s| s == code) {
                continue;
            }
            let message = if rule_for(code).is_none() {
                format!("`{code}` is not a lint code")
            } else if !s.whole_file && whole_file_codes.contains(&code.as_str()) {
                format!("`{code}` is reported for the whole file (at 1:1), which a line's suppression does not cover: write `ignore-file {code} -- why`")
            } else if !s.whole_file && s.steps.is_empty() {
                format!("no step follows this suppression of `{code}`")
            } else {
                format!("nothing here is reported as `{code}`; the suppression can go")
            };
            kept.push(place(
                finding(
                    "unused_ignore",
                    message,
                    "remove the suppression (or fix its code: `migration-creator lint --help` lists them)",
                )
                .line(s.line),
            ));
        }
    }
    // Severities the configuration sets (the suppressions' own findings too).
    kept.retain(|f| !config.skip.iter().any(|c| c == f.diagnostic.code));
    for f in &mut kept {
        if let Some(sev) = config.severity.get(f.diagnostic.code) {
            f.diagnostic.severity = *sev;
        }
    }
    kept.sort_by_key(|f| (f.diagnostic.line, f.diagnostic.column));
    (kept, hidden)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_read_in_both_forms() {
        let py = "x = 1\n    # migration-creator: ignore drops_table, drops_column -- archived in 0007\nstep(\"-- migration-creator: ignore-file insert_select_star -- same shape (see 0003)\")\n# migration-creator: ignored x\n\"\"\"# migration-creator: ignore drops_table -- in a docstring\"\"\"\n";
        let s = parse(py, Some(Kind::Python), None);
        assert_eq!(s.len(), 2, "{s:#?}");
        assert_eq!(s[0].codes, ["drops_table", "drops_column"]);
        assert_eq!(s[0].reason, "archived in 0007");
        assert!(s[0].python_comment && !s[0].whole_file);
        assert_eq!(s[0].line, 2);
        assert!(s[1].whole_file && !s[1].python_comment);
        assert_eq!(s[1].reason, "same shape (see 0003)");
        let sql = "-- migration-creator:ignore\nSELECT '-- migration-creator: ignore x -- y'; /* -- migration-creator: ignore z -- w */\n";
        let s = parse(sql, Some(Kind::Sql), None);
        assert_eq!(s.len(), 1, "{s:#?}");
        assert!(s[0].codes.is_empty() && s[0].reason.is_empty());
        assert!(parse(py, None, None).is_empty());
    }
}
