//! The rules of SPEC.md: what Claude Code 2.1.332 does with one agent file,
//! as diagnostics. `check` never panics and never fails: any bytes at all
//! give a report.

use crate::agent_file::client::{self, ToolSpec};
use crate::agent_file::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::agent_file::frontmatter::{self, Entry, Extracted, Parsed, Root, Yaml};

/// An agent file's bytes, or why they are not there: a file too large for
/// the client (its diagnostic), or an I/O error for the caller to judge.
pub enum AgentBytes {
    Read(Vec<u8>),
    TooLarge(Diagnostic),
    Failed(std::io::Error),
}

/// Read an agent file as the client does: over `MAX_AGENT_FILE_BYTES` it
/// is skipped unread.
pub fn read_agent_file(path: &std::path::Path) -> AgentBytes {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > frontmatter::MAX_AGENT_FILE_BYTES => {
            return AgentBytes::TooLarge(
                Diagnostic::new(
                    Severity::Error,
                    "file_too_large",
                    format!(
                        "the file is {} bytes; Claude Code skips agent files over {} bytes",
                        m.len(),
                        frontmatter::MAX_AGENT_FILE_BYTES
                    ),
                )
                .hint(
                    "move long reference material out of the agent file and have the agent Read it",
                ),
            )
        }
        _ => {}
    }
    match std::fs::read(path) {
        Ok(b) => AgentBytes::Read(b),
        Err(e) => AgentBytes::Failed(e),
    }
}

/// The diagnostic for an agent file that cannot be read.
pub fn unreadable(e: &std::io::Error) -> Diagnostic {
    Diagnostic::new(
        Severity::Error,
        "unreadable",
        format!("cannot read the file: {e}"),
    )
    .hint("check the file's permissions")
}

/// What `check` found in one file.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The agent's `name`, when it is a valid one.
    pub name: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// The decoded text, for rendering source lines.
    pub text: String,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

const FRONTMATTER_HINT: &str =
    "start the file with `---` on line 1, then the YAML frontmatter (name, description), then a line `---`";

/// Check one agent file. `stem` is the file name without `.md`.
pub fn check(stem: &str, bytes: &[u8]) -> Checked {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let index = LineIndex::new(&text);
    let mut out = Vec::new();
    if let Err(e) = std::str::from_utf8(bytes) {
        let (line, column) = index.position(&text, e.valid_up_to().min(text.len()));
        out.push(
            Diagnostic::new(
                Severity::Warning,
                "invalid_utf8",
                "the file is not valid UTF-8; Claude Code reads the bad bytes as U+FFFD",
            )
            .at(line, column)
            .hint("save the file as UTF-8"),
        );
    }
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut checker = Checker {
        stem,
        text: &text,
        index: &index,
        out,
        yaml_line: 1,
        yaml_end_line: 1,
    };
    let name = checker.run(bom);
    let diagnostics = checker.out;
    Checked {
        name,
        diagnostics,
        text,
    }
}

struct Checker<'a> {
    stem: &'a str,
    text: &'a str,
    index: &'a LineIndex,
    out: Vec<Diagnostic>,
    /// File line of the first YAML line.
    yaml_line: usize,
    /// File line of the closing `---`.
    yaml_end_line: usize,
}

impl Checker<'_> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    /// File position of an entry's value (or of the frontmatter start when unknown).
    fn value_pos(&self, e: &Entry) -> (usize, usize) {
        match e.line {
            Some(l) => (self.yaml_line + l - 1, e.value_column),
            None => (self.yaml_line, 1),
        }
    }

    /// How many characters a value starting at (`line`, `col`) covers on its
    /// line: up to a comment or the end of the line, trailing spaces aside.
    fn value_len(&self, line: usize, col: usize) -> usize {
        let text = self.index.line_text(self.text, line).unwrap_or("");
        let rest: String = text.chars().skip(col.saturating_sub(1)).collect();
        let cut = rest.find(" #").unwrap_or(rest.len());
        rest[..cut].trim_end().chars().count().max(1)
    }

    fn key_pos(&self, e: &Entry) -> (usize, usize) {
        match e.line {
            Some(l) => (self.yaml_line + l - 1, 1),
            None => (self.yaml_line, 1),
        }
    }

    fn run(&mut self, bom: usize) -> Option<String> {
        let body_text = &self.text[bom..];
        let (yaml_range, body_start) = match frontmatter::extract(body_text) {
            Extracted::Found { yaml, body } => (yaml.start + bom..yaml.end + bom, body + bom),
            Extracted::NoOpening => {
                let trimmed = body_text.trim_start();
                let message = if body_text.trim().is_empty() {
                    "the file is empty; Claude Code skips it".to_string()
                } else if trimmed.starts_with("---") && !body_text.starts_with("---") {
                    "`---` is not on line 1 (blank lines or spaces come first); Claude Code skips the file".to_string()
                } else {
                    "the file does not start with a `---` frontmatter line; Claude Code skips it"
                        .to_string()
                };
                let at = if trimmed.starts_with("---") {
                    self.index
                        .position(self.text, self.text.len() - trimmed.len())
                } else {
                    (1, 1)
                };
                self.push(
                    Diagnostic::new(Severity::Error, "missing_frontmatter", message)
                        .at(at.0, at.1)
                        .hint(FRONTMATTER_HINT),
                );
                return None;
            }
            Extracted::NoClosing => {
                self.push(
                    Diagnostic::new(
                        Severity::Error,
                        "unclosed_frontmatter",
                        "no `---` closes the frontmatter; Claude Code skips the file",
                    )
                    .hint("add a line `---` after the last frontmatter key"),
                );
                return None;
            }
        };
        self.yaml_line = self.index.line_of(yaml_range.start);
        self.yaml_end_line = self.index.line_of(yaml_range.end) + 1;
        let yaml_text = &self.text[yaml_range.clone()];
        self.check_closing_fence(yaml_range.end);

        let root = match frontmatter::parse_frontmatter(yaml_text) {
            Parsed::Strict(root) => root,
            Parsed::Lenient(root) => {
                self.report_lenient(yaml_text);
                root
            }
            Parsed::Failed(err) => {
                // The parser may count line breaks YAML does not (U+2028); stay inside the YAML.
                let yaml_lines = yaml_text.split('\n').count();
                let line = self.yaml_line + err.line.min(yaml_lines) - 1;
                self.push(
                    Diagnostic::new(
                        Severity::Error,
                        "yaml_syntax",
                        format!("the frontmatter is not valid YAML, even after Claude Code's lenient retry: {}", err.message),
                    )
                    .at(line, err.column)
                    .hint("quote values that contain `: `, `#` or start with a YAML indicator, and indent with spaces"),
                );
                return None;
            }
        };
        let pairs = match root {
            Root::Empty => Vec::new(),
            Root::Mapping(pairs) => pairs,
            Root::NotMapping(kind) => {
                self.push(
                    Diagnostic::new(
                        Severity::Error,
                        "frontmatter_not_mapping",
                        format!("the frontmatter is {kind}, not a mapping of keys to values; Claude Code drops the agent"),
                    )
                    .at(self.yaml_line, 1)
                    .hint("write the frontmatter as `key: value` lines: name, description, tools, model"),
                );
                return None;
            }
        };
        let (entries, duplicates) = frontmatter::entries(yaml_text, pairs);
        for key in duplicates {
            let e = entries
                .iter()
                .find(|e| e.key == key)
                .expect("duplicate keys are entries");
            let (line, col) = self.key_pos(e);
            self.push(
                Diagnostic::new(
                    Severity::Warning,
                    "duplicate_key",
                    format!("`{key}` is set more than once; Claude Code uses the last value and other YAML tools reject the file"),
                )
                .at(line, col)
                .hint(format!("keep one `{key}`")),
            );
        }
        self.check_keys(&entries);
        let name = self.check_name(&entries);
        self.check_description(&entries);
        self.check_tools(&entries, "tools");
        self.check_tools(&entries, "disallowedTools");
        self.check_model(&entries);
        self.check_enums(&entries);
        self.check_hooks(&entries);
        if self.text[body_start..].trim().is_empty() {
            let (line, col) = self.index.position(self.text, body_start);
            self.push(
                Diagnostic::new(
                    Severity::Warning,
                    "empty_body",
                    "the body is empty, so the agent has no system prompt",
                )
                .at(line, col)
                .hint("write the agent's instructions below the closing `---`"),
            );
        }
        name
    }

    /// The closing `---` ends the frontmatter wherever it stands; warn when it
    /// is not alone on its line (a value holding `---` cut the frontmatter short).
    fn check_closing_fence(&mut self, close: usize) {
        let line_start = self.text[..close].rfind('\n').map_or(0, |i| i + 1);
        let before = &self.text[line_start..close];
        let line_end = self.text[close..]
            .find('\n')
            .map_or(self.text.len(), |i| close + i);
        let after = self.text[close + 3..line_end].trim_end_matches('\r');
        if !before.is_empty() || !after.trim().is_empty() {
            let (line, col) = self.index.position(self.text, close);
            self.push(
                Diagnostic::new(
                    Severity::Warning,
                    "frontmatter_cut_short",
                    "this `---` ends the frontmatter even though it is not alone on its line; the rest of the line and what follows are body",
                )
                .at(line, col)
                .hint("avoid `---` inside frontmatter values, or put the closing `---` on a line of its own"),
            );
        }
    }

    fn report_lenient(&mut self, yaml_text: &str) {
        let rewritten = frontmatter::lenient_rewrite(yaml_text);
        let mut tabs_reported = false;
        for (i, (orig, new)) in yaml_text.split('\n').zip(rewritten.split('\n')).enumerate() {
            if orig == new {
                continue;
            }
            let line = self.yaml_line + i;
            if orig.starts_with('\t')
                && orig.trim_start_matches('\t') == new.trim_start_matches(' ')
            {
                if !tabs_reported {
                    tabs_reported = true;
                    self.push(
                        Diagnostic::new(
                            Severity::Warning,
                            "lenient_yaml",
                            "tabs indent this line; YAML forbids them and only Claude Code's lenient retry accepts the file",
                        )
                        .at(line, 1)
                        .hint("indent with spaces"),
                    );
                }
                continue;
            }
            let key = orig.split(':').next().unwrap_or_default();
            let column = orig.find(':').map_or(1, |c| {
                let after = &orig[c + 1..];
                orig[..c + 1].chars().count() + after.len() - after.trim_start().len() + 1
            });
            self.push(
                Diagnostic::new(
                    Severity::Warning,
                    "lenient_yaml",
                    format!("the value of `{key}` is not valid YAML as written; only Claude Code's lenient retry accepts it, other tools reject the file"),
                )
                .at(line, column)
                .len(self.value_len(line, column))
                .hint("wrap the value in quotes (\"...\"), escaping any \" and \\ inside"),
            );
        }
    }

    fn check_keys(&mut self, entries: &[Entry]) {
        // Guard hooks outside `hooks` (a guard event at the top level, or one
        // under any other key, `experimental` included): the agent is dropped.
        let pairs: Vec<(String, &Yaml)> =
            entries.iter().map(|e| (e.key.clone(), &e.value)).collect();
        let misplaced = super::hooks::misplaced(&pairs);
        for e in entries.iter().filter(|e| misplaced.contains(&e.key)) {
            let (line, col) = self.key_pos(e);
            let what = if client::GUARD_HOOK_EVENTS.contains(&e.key.as_str()) {
                format!(
                    "`{}` is a guard hook event at the top level of the frontmatter",
                    e.key
                )
            } else {
                format!("`{}` holds PreToolUse/PermissionRequest hooks or a hook matcher outside `hooks`", e.key)
            };
            self.push(
                Diagnostic::new(
                    Severity::Error,
                    "hook_outside_hooks",
                    format!("{what}; Claude Code refuses to load the agent"),
                )
                .at(line, col)
                .hint("move the hooks under `hooks:` (hooks: {PreToolUse: [{matcher: ..., hooks: [...]}]}), or remove them"),
            );
        }
        for e in entries {
            if client::KNOWN_KEYS.contains(&e.key.as_str()) || misplaced.contains(&e.key) {
                continue;
            }
            let (line, col) = self.key_pos(e);
            let suggestion = client::key_suggestion(&e.key);
            let mut d = Diagnostic::new(
                Severity::Warning,
                "unknown_key",
                format!("Claude Code does not know the key `{}` and ignores it (keys are case-sensitive)", e.key),
            )
            .at(line, col)
            .len(e.key.chars().count());
            d = match suggestion.as_deref() {
                Some("the file's body") => {
                    d.hint("move its content to the file's body (the system prompt)")
                }
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint(format!(
                    "remove it; known keys are {}",
                    client::KNOWN_KEYS.join(", ")
                )),
            };
            self.push(d);
        }
    }

    fn check_name(&mut self, entries: &[Entry]) -> Option<String> {
        let Some(e) = entries.iter().find(|e| e.key == "name") else {
            self.push(
                Diagnostic::new(
                    Severity::Error,
                    "missing_name",
                    "the frontmatter has no `name`; Claude Code drops the agent",
                )
                .at(self.yaml_line.saturating_sub(1), 1)
                .hint(format!("add `name: {}`", kebab(self.stem))),
            );
            return None;
        };
        let (line, col) = self.value_pos(e);
        let name = match &e.value {
            Yaml::Str(s) if !s.is_empty() => s.clone(),
            other => {
                let what = if matches!(other, Yaml::Str(_)) {
                    "empty".to_string()
                } else {
                    other.kind().to_string()
                };
                self.push(
                    Diagnostic::new(Severity::Error, "missing_name", format!("`name` is {what}, not a string; Claude Code drops the agent"))
                        .at(line, col)
                        .len(self.value_len(line, col))
                        .hint(format!("write a lowercase, hyphenated name, quoted if YAML would read it otherwise: name: \"{}\"", kebab(self.stem))),
                );
                return None;
            }
        };
        let utf16_len = name.encode_utf16().count();
        let problem = if name.starts_with('-') {
            Some("starts with `-`".to_string())
        } else if utf16_len > 256 {
            Some(format!("is {utf16_len} characters long (at most 256)"))
        } else if name
            .chars()
            .any(|c| matches!(c, ':' | '\u{ff1a}' | '\u{fe55}' | '\u{fe13}'))
        {
            Some("contains `:` (reserved for plugin namespaces)".to_string())
        } else {
            None
        };
        if let Some(problem) = problem {
            self.push(
                Diagnostic::new(
                    Severity::Error,
                    "invalid_name",
                    format!("`name` {problem}; Claude Code drops the agent"),
                )
                .at(line, col)
                .len(self.value_len(line, col))
                .hint(format!(
                    "use lowercase letters, digits and hyphens, for example `{}`",
                    kebab(self.stem)
                )),
            );
            return None;
        }
        if !is_kebab(&name) {
            self.push(
                Diagnostic::new(
                    Severity::Note,
                    "name_style",
                    format!("`{name}` is not lowercase-and-hyphens, as Claude Code's docs ask"),
                )
                .at(line, col)
                .len(self.value_len(line, col))
                .hint(format!("rename it to `{}`", kebab(&name))),
            );
        }
        if name != self.stem {
            self.push(
                Diagnostic::new(
                    Severity::Note,
                    "name_mismatch",
                    format!("`name` is `{name}` but the file is `{}.md`", self.stem),
                )
                .at(line, col)
                .len(self.value_len(line, col))
                .hint(format!(
                    "rename the file to `{name}.md` or the agent to `{}`",
                    self.stem
                )),
            );
        }
        Some(name)
    }

    fn check_description(&mut self, entries: &[Entry]) {
        let Some(e) = entries.iter().find(|e| e.key == "description") else {
            self.push(
                Diagnostic::new(
                    Severity::Error,
                    "missing_description",
                    "the frontmatter has no `description`; Claude Code drops the agent",
                )
                .at(self.yaml_line.saturating_sub(1), 1)
                .hint("add `description:` saying when Claude should use this agent"),
            );
            return;
        };
        let problem = match &e.value {
            Yaml::Str(s) if !s.is_empty() => return,
            Yaml::Str(_) => "empty".to_string(),
            other => format!("{}, not a string", other.kind()),
        };
        let (line, col) = self.value_pos(e);
        self.push(
            Diagnostic::new(
                Severity::Error,
                "missing_description",
                format!("`description` is {problem}; Claude Code drops the agent"),
            )
            .at(line, col)
            .len(self.value_len(line, col))
            .hint("write the description as text, quoted if YAML would read it as something else"),
        );
    }

    fn check_tools(&mut self, entries: &[Entry], key: &str) {
        let Some(e) = entries.iter().find(|e| e.key == key) else {
            return;
        };
        let (line, col) = self.value_pos(e);
        let listed: Vec<String> = match &e.value {
            Yaml::Str(s) => client::split_tools(s),
            Yaml::Seq(items) => items
                .iter()
                .filter_map(Yaml::as_str)
                .flat_map(client::split_tools)
                .collect(),
            _ => Vec::new(),
        };
        if listed.iter().any(|t| t == "*") {
            return;
        }
        let mut usable = 0;
        let mut search_from = self.index.offset_of(line, col);
        for tool in &listed {
            // Point at the tool itself: its next occurrence after the previous one.
            let found = self
                .text
                .get(search_from..)
                .and_then(|rest| rest.find(tool.as_str()));
            let (line, col) = match found {
                Some(i) if self.index.line_of(search_from + i) < self.yaml_end_line => {
                    search_from += i + tool.len();
                    self.index.position(self.text, search_from - tool.len())
                }
                _ => (line, col),
            };
            match client::classify_tool(tool) {
                ToolSpec::All | ToolSpec::Known | ToolSpec::Mcp => usable += 1,
                ToolSpec::Unknown { suggestion } => {
                    let what = if key == "tools" {
                        "drops it when the agent starts"
                    } else {
                        "ignores it"
                    };
                    let mut d = Diagnostic::new(
                        Severity::Warning,
                        "unknown_tool",
                        format!(
                            "`{tool}` is not a tool Claude Code {} knows; it {what}",
                            client::CLIENT_VERSION
                        ),
                    )
                    .at(line, col)
                    .len(tool.chars().count());
                    d = match suggestion {
                        Some(s) => d.hint(format!("did you mean `{s}`?")),
                        None => d.hint("check the spelling (tool names are case-sensitive), or use mcp__server__tool for MCP tools"),
                    };
                    self.push(d);
                }
            }
        }
        if key == "tools" && listed.is_empty() {
            self.push(
                Diagnostic::new(
                    Severity::Warning,
                    "no_tools",
                    format!("`tools` lists no tools ({}), so the agent runs with no tools at all", e.value.kind()),
                )
                .at(line, col)
                .len(self.value_len(line, col))
                .hint("remove `tools` to inherit every tool, or list the tools the agent needs (tools: Read, Grep, Bash)"),
            );
        } else if key == "tools" && usable == 0 {
            self.push(
                Diagnostic::new(
                    Severity::Error,
                    "zero_tools",
                    "none of the tools in `tools` exists; Claude Code refuses to spawn an agent whose tools resolve to nothing",
                )
                .at(line, col)
                .len(self.value_len(line, col))
                .hint("fix the tool names (see the warnings above), or remove `tools` to inherit them all"),
            );
        }
    }

    fn check_model(&mut self, entries: &[Entry]) {
        let Some(e) = entries.iter().find(|e| e.key == "model") else {
            return;
        };
        let (line, col) = self.value_pos(e);
        let message = match &e.value {
            Yaml::Str(s) => {
                let m = s.trim();
                if m.eq_ignore_ascii_case("inherit")
                    || client::MODEL_ALIASES.contains(&m)
                    || m.starts_with("claude-")
                {
                    return;
                }
                if m.is_empty() {
                    "`model` is empty; Claude Code uses the default model".to_string()
                } else {
                    format!("`{m}` is not a model alias or a claude- model id; the agent will fail when it starts")
                }
            }
            other => format!(
                "`model` is {}, not a string; Claude Code ignores it",
                other.kind()
            ),
        };
        let suggestion = e
            .value
            .as_str()
            .and_then(|m| client::did_you_mean(m.trim(), client::MODEL_ALIASES.iter().copied()));
        let hint = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "use one of {}, or a full claude- model id",
                client::MODEL_ALIASES.join(", ")
            ),
        };
        self.push(
            Diagnostic::new(Severity::Warning, "unknown_model", message)
                .at(line, col)
                .len(self.value_len(line, col))
                .hint(hint),
        );
    }

    fn check_enums(&mut self, entries: &[Entry]) {
        for e in entries {
            let (field, valid, allowed): (&str, bool, String) = match e.key.as_str() {
                "color" => (
                    "invalid_color",
                    e.value
                        .as_str()
                        .is_some_and(|c| client::COLORS.contains(&c)),
                    client::COLORS.join(", "),
                ),
                "permissionMode" => (
                    "invalid_permission_mode",
                    e.value
                        .as_str()
                        .is_some_and(|c| client::PERMISSION_MODES.contains(&c)),
                    client::PERMISSION_MODES.join(", "),
                ),
                "maxTurns" => (
                    "invalid_max_turns",
                    positive_integer(&e.value),
                    "a positive integer".into(),
                ),
                "effort" => (
                    "invalid_effort",
                    valid_effort(&e.value),
                    format!("{} or an integer", client::EFFORT_LEVELS.join(", ")),
                ),
                "memory" => (
                    "invalid_memory",
                    e.value
                        .as_str()
                        .is_some_and(|c| client::MEMORY_SCOPES.contains(&c)),
                    client::MEMORY_SCOPES.join(", "),
                ),
                "isolation" => (
                    "invalid_isolation",
                    e.value
                        .as_str()
                        .is_some_and(|c| client::ISOLATION_MODES.contains(&c)),
                    client::ISOLATION_MODES.join(", "),
                ),
                "background" => (
                    "invalid_background",
                    matches!(&e.value, Yaml::Bool(_))
                        || matches!(e.value.as_str(), Some("true" | "false")),
                    "true or false".into(),
                ),
                "autoCompactWindow" => (
                    "invalid_auto_compact_window",
                    client_integer(&e.value).is_some_and(|n| n >= 100_000),
                    "an integer of at least 100000".into(),
                ),
                // The client ignores these without a word when they have the wrong shape.
                "mcpServers" => (
                    "ignored_field",
                    matches!(&e.value, Yaml::Seq(_) | Yaml::Null),
                    "a list of server names or server definitions".into(),
                ),
                "initialPrompt" => (
                    "ignored_field",
                    matches!(&e.value, Yaml::Null)
                        || e.value.as_str().is_some_and(|s| !s.trim().is_empty()),
                    "text".into(),
                ),
                _ => continue,
            };
            if valid {
                continue;
            }
            let (line, col) = self.value_pos(e);
            self.push(
                Diagnostic::new(
                    Severity::Warning,
                    field,
                    format!(
                        "`{}: {}` is not a valid value; Claude Code ignores the field",
                        e.key,
                        e.value.display()
                    ),
                )
                .at(line, col)
                .len(self.value_len(line, col))
                .hint(format!("use {allowed}")),
            );
        }
    }

    fn check_hooks(&mut self, entries: &[Entry]) {
        let Some(e) = entries.iter().find(|e| e.key == "hooks") else {
            return;
        };
        if super::hooks::is_empty(&e.value) {
            return;
        }
        let (line, col) = self.value_pos(e);
        let start = self.index.offset_of(line, col);
        for f in super::hooks::check(&e.value) {
            // Point at the event's key when it can be found after `hooks:`.
            let (l, c) = f
                .event
                .as_deref()
                .and_then(|ev| {
                    let rest = self.text.get(start..)?;
                    let i = rest.find(ev)?;
                    let at = start + i;
                    (self.index.line_of(at) < self.yaml_end_line)
                        .then(|| self.index.position(self.text, at))
                })
                .unwrap_or((line, col));
            let d = match (&f.verdict, f.path.as_str()) {
                (super::hooks::Verdict::Drops, "hooks") => Diagnostic::new(
                    Severity::Error,
                    "invalid_hooks",
                    format!("`hooks` {}; Claude Code drops the agent", f.problem),
                )
                .hint("write hooks as a mapping: hooks: {PreToolUse: [{matcher: \"Bash\", hooks: [{type: command, command: \"...\"}]}]}"),
                (super::hooks::Verdict::Drops, path) => Diagnostic::new(
                    Severity::Error,
                    "unloadable_hook",
                    format!("{path}: {}; a hook under {} that cannot be loaded makes Claude Code drop the agent", f.problem, f.event.as_deref().unwrap_or("a guard event")),
                )
                .hint("fix the entry (a matcher with `hooks: [{type: command, command: \"...\"}]`; types: command, prompt, agent, http, mcp_tool), or remove it"),
                (super::hooks::Verdict::Ignored, path) => Diagnostic::new(
                    Severity::Warning,
                    "hook_entry_ignored",
                    format!("{path}: {}; Claude Code removes this entry and loads the agent without it", f.problem),
                )
                .hint("fix the entry, or remove it; hook events are case-sensitive (PostToolUse, SessionStart, ...)"),
            };
            let len = f.event.as_deref().map_or(1, |ev| ev.chars().count());
            self.push(d.at(l, c).len(len));
        }
    }
}

/// A number as the client reads `maxTurns` and `autoCompactWindow`: an
/// integer, or text whose leading part is one once `,` and `_` are dropped
/// (`100_000`, `1e3` is 1, `3.7` is 3).
fn client_integer(v: &Yaml) -> Option<i64> {
    match v {
        Yaml::Int(i) => Some(*i),
        Yaml::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
        Yaml::Str(s) => {
            let t: String = s
                .trim()
                .chars()
                .filter(|c| *c != ',' && *c != '_')
                .collect();
            let (sign, digits) = match t.strip_prefix('-') {
                Some(rest) => (-1, rest),
                None => (1, t.strip_prefix('+').unwrap_or(&t)),
            };
            let lead: String = digits.chars().take_while(|c| c.is_ascii_digit()).collect();
            lead.parse::<i64>().ok().map(|n| sign * n)
        }
        _ => None,
    }
}

fn positive_integer(v: &Yaml) -> bool {
    client_integer(v).is_some_and(|n| n > 0)
}

fn valid_effort(v: &Yaml) -> bool {
    match v {
        Yaml::Int(_) => true,
        Yaml::Float(f) => f.is_finite(),
        Yaml::Str(s) => {
            let lower = s.to_lowercase();
            if client::EFFORT_LEVELS.contains(&lower.as_str())
                || client::EFFORT_ALIASES.iter().any(|(a, _)| *a == lower)
            {
                return true;
            }
            // JavaScript parseInt: optional spaces and sign, then at least one digit.
            let t = lower.trim_start().trim_start_matches(['+', '-']);
            t.starts_with(|c: char| c.is_ascii_digit())
        }
        _ => false,
    }
}

fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A kebab-case spelling of `s`, for hints.
pub fn kebab(s: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('-').to_string();
    if trimmed.is_empty() {
        "my-agent".into()
    } else {
        trimmed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(src: &str) -> Vec<(&'static str, Severity)> {
        check("a", src.as_bytes())
            .diagnostics
            .iter()
            .map(|d| (d.code, d.severity))
            .collect()
    }

    #[test]
    fn a_clean_agent_has_no_findings() {
        assert_eq!(codes("---\nname: a\ndescription: d\ntools: Read, Bash(git *)\nmodel: sonnet\n---\nbody\n"), vec![]);
    }

    #[test]
    fn kebab_spells_names() {
        assert_eq!(kebab("My_Agent two"), "my-agent-two");
        assert_eq!(kebab("dbHelper"), "db-helper");
    }

    #[test]
    fn unknown_tools_are_pointed_at_one_by_one() {
        let c = check(
            "a",
            b"---\nname: a\ndescription: d\ntools: Read, bash, Frob\n---\nbody\n",
        );
        let at: Vec<(usize, usize)> = c.diagnostics.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(at, vec![(4, 14), (4, 20)]);
        let c = check(
            "a",
            b"---\nname: a\ndescription: d\ntools:\n  - Read\n  - Bsh\n---\nbody\n",
        );
        assert_eq!((c.diagnostics[0].line, c.diagnostics[0].column), (6, 5));
    }

    #[test]
    fn positions_point_at_values() {
        let c = check(
            "a",
            b"---\nname: a\ndescription: d\ncolor: magenta\n---\nbody\n",
        );
        let d = &c.diagnostics[0];
        assert_eq!((d.code, d.line, d.column), ("invalid_color", 4, 8));
    }
}
