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
}

const MARK: &str = "migration-creator:";

/// The suppression comments in `text`.
pub fn parse(text: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let Some(at) = line.find(MARK) else {
            continue;
        };
        let before = line[..at].trim_end();
        let python_comment = before.ends_with('#');
        if !python_comment && !before.ends_with("--") {
            continue;
        }
        let rest = line[at + MARK.len()..].trim_start();
        let (whole_file, rest) = if let Some(r) = rest.strip_prefix("ignore-file") {
            (true, r)
        } else if let Some(r) = rest.strip_prefix("ignore") {
            (false, r)
        } else {
            continue;
        };
        if !rest.is_empty() && !rest.starts_with(char::is_whitespace) {
            continue;
        }
        let (codes, reason) = match rest.find("--") {
            Some(i) => (&rest[..i], rest[i + 2..].trim()),
            None => (rest, ""),
        };
        // A step string's closing quotes may follow the reason.
        let reason = reason
            .trim_end_matches(['"', '\'', ')', ','])
            .trim()
            .to_string();
        let codes: Vec<String> = codes
            .split([',', ' ', '\t'])
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(String::from)
            .collect();
        out.push(Suppression {
            line: n + 1,
            whole_file,
            python_comment,
            codes,
            reason,
        });
    }
    out
}

/// The 0-based step a line-level suppression stands for.
fn target_step(s: &Suppression, m: Option<&Migration>) -> Option<usize> {
    let m = m?;
    let lines: Vec<usize> = m.steps.iter().map(|st| st.line).collect();
    if s.python_comment && m.file.kind == Kind::Python {
        // On or above the `step(` line: the first step at or after it.
        lines.iter().position(|&l| l >= s.line)
    } else {
        // Inside a step string, or before a `.sql` statement: the step
        // whose text holds the comment.
        lines.iter().rposition(|&l| l <= s.line)
    }
}

/// Apply the configuration and the file's suppression comments to its
/// findings. Returns what is kept (with the suppressions' own findings) and
/// how many were hidden. `place` positions a finding in this file.
pub fn apply(
    text: &str,
    m: Option<&Migration>,
    findings: Vec<Finding>,
    config: &LintConfig,
    place: &dyn Fn(Pending) -> Finding,
) -> (Vec<Finding>, usize) {
    let mut hidden = 0;
    let suppressions = parse(text);
    let targets: Vec<Option<usize>> = suppressions.iter().map(|s| target_step(s, m)).collect();
    let mut used: Vec<Vec<bool>> = suppressions
        .iter()
        .map(|s| vec![false; s.codes.len()])
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
                    Some(step) => targets[k] == Some(step - 1),
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
            } else if !s.whole_file && targets[k].is_none() {
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
        let s = parse("x = 1\n    # migration-creator: ignore drops_table, drops_column -- archived in 0007\nstep(\"-- migration-creator: ignore-file insert_select_star -- same shape\")\n-- migration-creator:ignore\n# migration-creator: ignored x\n");
        assert_eq!(s.len(), 3, "{s:#?}");
        assert_eq!(s[0].codes, ["drops_table", "drops_column"]);
        assert_eq!(s[0].reason, "archived in 0007");
        assert!(s[0].python_comment && !s[0].whole_file);
        assert_eq!(s[0].line, 2);
        assert!(s[1].whole_file && !s[1].python_comment);
        assert_eq!(s[1].reason, "same shape");
        assert!(s[2].codes.is_empty() && s[2].reason.is_empty());
    }
}
