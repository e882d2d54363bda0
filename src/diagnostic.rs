//! Diagnostics as data (severity, code, message, position, hint) and their
//! renderings: compiler-style text with the source line and a caret, GitHub
//! Actions annotations and SARIF. JSON is the serde form of the same structs.
//! `validate` (agent files) and `lint` (migrations) both report through it.

use serde::Serialize;

use crate::output::{Printer, Style};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Claude Code will not load the agent, or will refuse to spawn it.
    Error,
    /// It loads, but part of the file is ignored or will fail later.
    Warning,
    /// It works, but breaks a convention.
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One finding in one file. `line` and `column` are 1-based; findings about
/// the whole file point at line 1, column 1. The finding spans from `column`
/// to `end_column` (exclusive, on the same line, in characters).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    pub end_column: usize,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            line: 1,
            column: 1,
            end_column: 2,
            hint: None,
        }
    }

    pub fn at(mut self, line: usize, column: usize) -> Self {
        let len = self.end_column.saturating_sub(self.column).max(1);
        self.line = line.max(1);
        self.column = column.max(1);
        self.end_column = self.column + len;
        self
    }

    /// How many characters, from `column`, the finding covers.
    pub fn len(mut self, chars: usize) -> Self {
        self.end_column = self.column + chars.max(1);
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// Byte offsets of line starts, to turn offsets into line and column.
#[derive(Debug, Clone)]
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { starts }
    }

    /// 1-based line and character column of byte `offset`.
    pub fn position(&self, text: &str, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts[line - 1];
        let column = text.get(start..offset).map_or(1, |s| s.chars().count() + 1);
        (line, column)
    }

    /// Byte offset of 1-based `line` and character `column` (clamped to the line).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let start = self
            .starts
            .get(line.saturating_sub(1))
            .copied()
            .unwrap_or(0);
        let end = self.starts.get(line).copied().unwrap_or(usize::MAX);
        start + column.saturating_sub(1).min(end.saturating_sub(start))
    }

    /// 1-based line number of byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&s| s <= offset).max(1)
    }

    /// The text of 1-based `line`, without its line break.
    pub fn line_text<'a>(&self, text: &'a str, line: usize) -> Option<&'a str> {
        let start = *self.starts.get(line.checked_sub(1)?)?;
        let end = self
            .starts
            .get(line)
            .map_or(text.len(), |&e| e.saturating_sub(1));
        text.get(start..end.max(start))
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }
}

/// Render one diagnostic like a compiler: `path:line:col: severity[code]: message`,
/// the source line, a caret under the column, and the hint.
pub fn render_text(printer: &Printer, path: &str, source: Option<&str>, d: &Diagnostic) -> String {
    let style = match d.severity {
        Severity::Error => Style::Error,
        Severity::Warning => Style::Warning,
        Severity::Note => Style::Note,
    };
    let mut out = format!(
        "{}: {}: {}\n",
        printer.paint(Style::Bold, &format!("{path}:{}:{}", d.line, d.column)),
        printer.paint(style, &format!("{}[{}]", d.severity.as_str(), d.code)),
        d.message
    );
    if let Some(source) = source {
        let index = LineIndex::new(source);
        if let Some(text) = index.line_text(source, d.line) {
            // Columns are characters; the caret goes where the terminal
            // shows them (a wide character takes two cells, a tab one).
            let cells = |s: &str| -> usize {
                s.chars()
                    .map(|c| {
                        if c == '\t' {
                            1
                        } else {
                            unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)
                        }
                    })
                    .sum()
            };
            let shown: String = text
                .chars()
                .take(200)
                .map(|c| if c == '\t' { ' ' } else { c })
                .collect();
            let gutter = d.line.to_string();
            let pad = " ".repeat(gutter.len());
            let before: String = shown.chars().take(d.column.saturating_sub(1)).collect();
            let covered: String = shown
                .chars()
                .skip(d.column.saturating_sub(1))
                .take(d.end_column.saturating_sub(d.column).max(1))
                .collect();
            out.push_str(&format!("{pad} {}\n", printer.paint(Style::Dim, "|")));
            out.push_str(&format!(
                "{} {} {shown}\n",
                printer.paint(Style::Dim, &gutter),
                printer.paint(Style::Dim, "|")
            ));
            out.push_str(&format!(
                "{pad} {} {}{}\n",
                printer.paint(Style::Dim, "|"),
                " ".repeat(cells(&before)),
                printer.paint(style, &"^".repeat(cells(&covered).max(1)))
            ));
        }
    }
    if let Some(hint) = &d.hint {
        out.push_str(&format!(
            "  = {}: {hint}\n",
            printer.paint(Style::Hint, "hint")
        ));
    }
    out
}

/// Render one diagnostic as a GitHub Actions workflow command.
pub fn render_github(path: &str, d: &Diagnostic) -> String {
    let level = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let mut message = d.message.clone();
    if let Some(hint) = &d.hint {
        message.push_str("\nhint: ");
        message.push_str(hint);
    }
    format!(
        "::{level} file={},line={},col={},title={}::{}\n",
        escape_property(path),
        d.line,
        d.column,
        escape_property(d.code),
        escape_data(&message)
    )
}

/// A rule as SARIF describes it: its code, default severity and doc.
pub struct SarifRule<'a> {
    pub code: &'a str,
    pub severity: Severity,
    /// One line of Markdown.
    pub doc: &'a str,
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// A relative path as a URI reference: `/` separators, everything but
/// unreserved characters percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A SARIF artifact location: a path relative to the project root against
/// `%SRCROOT%`, an absolute one as a `file://` URI.
fn artifact(path: &str) -> serde_json::Value {
    let slashed = path.replace('\\', "/");
    let drive = slashed.as_bytes().get(1) == Some(&b':');
    if slashed.starts_with('/') || drive {
        let sep = if drive { "/" } else { "" };
        serde_json::json!({ "uri": format!("file://{sep}{}", uri(&slashed).replacen("%3A", ":", 1)) })
    } else {
        serde_json::json!({ "uri": uri(path), "uriBaseId": "%SRCROOT%" })
    }
}

/// A SARIF 2.1.0 log of one run: the tool with its rules, and one result
/// per diagnostic (`(path relative to the project root, diagnostic)`).
pub fn render_sarif(rules: &[SarifRule], results: &[(&str, &Diagnostic)]) -> String {
    use serde_json::json;
    let index = |code: &str| rules.iter().position(|r| r.code == code);
    let rules_json: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.code,
                "shortDescription": { "text": r.doc.replace('`', "") },
                "help": { "text": r.doc.replace('`', ""), "markdown": r.doc },
                "defaultConfiguration": { "level": sarif_level(r.severity) },
            })
        })
        .collect();
    let results_json: Vec<serde_json::Value> = results
        .iter()
        .map(|(path, d)| {
            let mut text = d.message.clone();
            if let Some(hint) = &d.hint {
                text.push_str("\nhint: ");
                text.push_str(hint);
            }
            let mut r = json!({
                "ruleId": d.code,
                "level": sarif_level(d.severity),
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": artifact(path),
                        "region": {
                            "startLine": d.line.max(1),
                            "startColumn": d.column.max(1),
                            "endColumn": d.end_column.max(d.column + 1),
                        }
                    }
                }],
            });
            if let Some(i) = index(d.code) {
                r["ruleIndex"] = json!(i);
            }
            r
        })
        .collect();
    let log = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "migration-creator",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules_json,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results_json,
        }]
    });
    let mut text = serde_json::to_string_pretty(&log).expect("a SARIF log serializes");
    text.push('\n');
    text
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Format;

    #[test]
    fn sarif_locations_are_relative_or_file_uris() {
        let rel = artifact("migrations/0001 a.py");
        assert_eq!(rel["uri"], "migrations/0001%20a.py");
        assert_eq!(rel["uriBaseId"], "%SRCROOT%");
        let abs = artifact("/srv/db/0001 a.py");
        assert_eq!(abs["uri"], "file:///srv/db/0001%20a.py");
        assert!(abs.get("uriBaseId").is_none(), "{abs}");
        assert_eq!(artifact("C:\\db\\0001.py")["uri"], "file:///C:/db/0001.py");
        let root = std::path::Path::new("/srv/app");
        assert_eq!(
            crate::config::relative_from(root, std::path::Path::new("/srv/db/m/0001.py"))
                .as_deref(),
            Some("../db/m/0001.py")
        );
        assert_eq!(
            crate::config::relative_from(root, std::path::Path::new("/srv/app/m/0001.py"))
                .as_deref(),
            Some("m/0001.py")
        );
    }

    #[test]
    fn text_rendering_points_at_the_column() {
        let printer = Printer {
            format: Format::Text,
            color: false,
        };
        let d = Diagnostic::new(Severity::Error, "yaml_syntax", "bad")
            .at(2, 7)
            .hint("quote it");
        let text = render_text(&printer, "a.md", Some("---\nname: a: b\n---\n"), &d);
        assert_eq!(text, "a.md:2:7: error[yaml_syntax]: bad\n  |\n2 | name: a: b\n  |       ^\n  = hint: quote it\n");
    }

    #[test]
    fn the_caret_sits_under_wide_characters_where_the_terminal_shows_them() {
        let printer = Printer {
            format: Format::Text,
            color: false,
        };
        let d = Diagnostic::new(Severity::Warning, "unknown_tool", "no")
            .at(2, 12)
            .len(3);
        let text = render_text(&printer, "a.md", Some("---\ntools: 読む, Nope\n---\n"), &d);
        // `tools: 読む, ` is 11 characters and 13 cells wide.
        let caret = format!("  | {}^^^\n", " ".repeat(13));
        assert!(text.contains(&caret), "{text}");
    }

    #[test]
    fn github_annotations_escape_their_fields() {
        let d = Diagnostic::new(Severity::Warning, "unknown_key", "50% of\nit").at(3, 1);
        assert_eq!(
            render_github("a,b.md", &d),
            "::warning file=a%2Cb.md,line=3,col=1,title=unknown_key::50%25 of%0Ait\n"
        );
    }
}
