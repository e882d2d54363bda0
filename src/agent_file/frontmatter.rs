//! The only module that reads YAML: it cuts the frontmatter out of an agent
//! file and parses it the way Claude Code 2.1.332 does.
//!
//! The client drops a leading byte order mark, requires `---` at the very
//! start, and takes the frontmatter up to the first `---` that follows,
//! wherever it stands (its regex is `^---\s*\n([\s\S]*?)---\s*\n?`). It parses
//! that text as YAML 1.2 and, when the parse fails, retries once on a
//! rewritten copy (values with YAML indicators wrapped in double quotes, and
//! leading tabs turned into two spaces each). Only when the retry fails too is
//! the agent dropped. Positions in errors are those of the original file.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Files larger than this are skipped by the client without being read.
pub const MAX_AGENT_FILE_BYTES: u64 = 1_048_576;

/// Top-level keys whose values the rules inspect. Other values are skipped
/// without building them, so deep nesting or alias expansion in a key we do
/// not read cannot exhaust the parser (the client accepts both).
const INSPECTED_KEYS: &[&str] = &[
    "name",
    "description",
    "tools",
    "disallowedTools",
    "model",
    "color",
    "permissionMode",
    "maxTurns",
    "effort",
    "memory",
    "isolation",
    "background",
    "hooks",
    // What a plugin agent reads for its description.
    "when_to_use",
    "when-to-use",
];

/// A YAML value, as far as the rules need one.
#[derive(Debug, Clone, PartialEq)]
pub enum Yaml {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Yaml>),
    Map(Vec<(Yaml, Yaml)>),
    /// A value under a key the rules do not read; it was parsed but not kept.
    Skipped,
}

impl Yaml {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Yaml::Str(s) => Some(s),
            _ => None,
        }
    }

    /// How the client would print this value in a message.
    pub fn display(&self) -> String {
        match self {
            Yaml::Null => "null".into(),
            Yaml::Bool(b) => b.to_string(),
            Yaml::Int(i) => i.to_string(),
            Yaml::Float(f) => f.to_string(),
            Yaml::Str(s) => s.clone(),
            Yaml::Seq(_) => "a list".into(),
            Yaml::Map(_) => "a mapping".into(),
            Yaml::Skipped => "a value".into(),
        }
    }

    /// The kind of value, for messages ("a number", "a list").
    pub fn kind(&self) -> &'static str {
        match self {
            Yaml::Null => "empty",
            Yaml::Bool(_) => "a boolean",
            Yaml::Int(_) | Yaml::Float(_) => "a number",
            Yaml::Str(_) => "a string",
            Yaml::Seq(_) => "a list",
            Yaml::Map(_) => "a mapping",
            Yaml::Skipped => "a value",
        }
    }

    /// The key as the client's JavaScript object would spell it.
    fn key_string(&self) -> Option<String> {
        match self {
            Yaml::Str(s) => Some(s.clone()),
            Yaml::Int(i) => Some(i.to_string()),
            Yaml::Float(f) => Some(f.to_string()),
            Yaml::Bool(b) => Some(b.to_string()),
            Yaml::Null => Some("null".into()),
            _ => None,
        }
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
        Ok(i64::try_from(v)
            .map(Yaml::Int)
            .unwrap_or(Yaml::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        Ok(Yaml::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        Ok(Yaml::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        Yaml::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Yaml>()? {
            items.push(item);
        }
        Ok(Yaml::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<Yaml, Yaml>()? {
            entries.push((k, v));
        }
        Ok(Yaml::Map(entries))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Yaml, A::Error> {
        // A value with a custom tag (`!foo bar`): keep the value, drop the tag.
        use de::VariantAccess;
        let (_tag, variant) = data.variant::<IgnoredAny>()?;
        variant.newtype_variant::<Yaml>()
    }
}

impl<'de> Deserialize<'de> for Yaml {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(YamlVisitor)
    }
}

/// The document root: a mapping whose inspected values are kept, or the kind
/// of non-mapping it was.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// Empty or comment-only: the client treats it as an empty mapping.
    Empty,
    Mapping(Vec<(Yaml, Yaml)>),
    NotMapping(&'static str),
}

/// How deep values of keys the rules do not read are kept (the client scans
/// three levels for misplaced hooks and looks two more into what it finds).
const SHALLOW_DEPTH: usize = 6;
/// How many nodes of such a value are kept.
const SHALLOW_NODES: usize = 2_000;

/// A value kept to a depth and a number of nodes; the rest is `Skipped`.
struct Shallow<'b> {
    depth: usize,
    budget: &'b std::cell::Cell<usize>,
}

impl<'de> de::DeserializeSeed<'de> for Shallow<'_> {
    type Value = Yaml;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(self)
    }
}

impl Shallow<'_> {
    fn spend(&self) -> bool {
        let left = self.budget.get();
        self.budget.set(left.saturating_sub(1));
        left > 0
    }
    fn inner(&self) -> Shallow<'_> {
        Shallow {
            depth: self.depth.saturating_sub(1),
            budget: self.budget,
        }
    }
}

impl<'de> Visitor<'de> for Shallow<'_> {
    type Value = Yaml;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Yaml, E> {
        self.spend();
        Ok(Yaml::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Yaml, E> {
        self.spend();
        Ok(Yaml::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Yaml, E> {
        self.spend();
        Ok(i64::try_from(v)
            .map(Yaml::Int)
            .unwrap_or(Yaml::Float(v as f64)))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Yaml, E> {
        self.spend();
        Ok(Yaml::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Yaml, E> {
        self.spend();
        Ok(Yaml::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Yaml, E> {
        self.spend();
        Ok(Yaml::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_none<E>(self) -> Result<Yaml, E> {
        Ok(Yaml::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Yaml, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Yaml, A::Error> {
        if self.depth == 0 || !self.spend() {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(Yaml::Skipped);
        }
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self.inner())? {
            items.push(item);
        }
        Ok(Yaml::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Yaml, A::Error> {
        if self.depth == 0 || !self.spend() {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            return Ok(Yaml::Skipped);
        }
        let mut entries = Vec::new();
        while let Some(k) = map.next_key_seed(self.inner())? {
            let v = map.next_value_seed(self.inner())?;
            entries.push((k, v));
        }
        Ok(Yaml::Map(entries))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Yaml, A::Error> {
        use de::VariantAccess;
        let (_tag, variant) = data.variant::<IgnoredAny>()?;
        variant.newtype_variant_seed(self)
    }
}

struct RootVisitor {
    /// Keep values of keys the rules do not read, shallowly (for the hook scan).
    shallow: bool,
}

impl<'de> Visitor<'de> for RootVisitor {
    type Value = Root;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML document")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Root, E> {
        Ok(Root::NotMapping("a boolean"))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Root, E> {
        Ok(Root::NotMapping("a number"))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Root, E> {
        Ok(Root::NotMapping("a number"))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Root, E> {
        Ok(Root::NotMapping("a number"))
    }
    fn visit_str<E>(self, _: &str) -> Result<Root, E> {
        Ok(Root::NotMapping("a string"))
    }
    fn visit_unit<E>(self) -> Result<Root, E> {
        Ok(Root::Empty)
    }
    fn visit_none<E>(self) -> Result<Root, E> {
        Ok(Root::Empty)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Root, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Root, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Root::NotMapping("a list"))
    }
    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Root, A::Error> {
        use de::VariantAccess;
        let (_tag, variant) = data.variant::<IgnoredAny>()?;
        variant.newtype_variant::<IgnoredAny>()?;
        Ok(Root::NotMapping("a tagged value"))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Root, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = map.next_key::<Yaml>()? {
            let inspected = key.as_str().is_some_and(|k| INSPECTED_KEYS.contains(&k));
            let value = if inspected {
                map.next_value::<Yaml>()?
            } else if !self.shallow {
                map.next_value::<IgnoredAny>()?;
                Yaml::Skipped
            } else {
                // Kept only as deep as the client looks for misplaced guard
                // hooks, and only so many nodes: an alias bomb or deep
                // nesting under a key the client ignores costs nothing.
                let budget = std::cell::Cell::new(SHALLOW_NODES);
                map.next_value_seed(Shallow {
                    depth: SHALLOW_DEPTH,
                    budget: &budget,
                })?
            };
            entries.push((key, value));
        }
        Ok(Root::Mapping(entries))
    }
}

impl<'de> Deserialize<'de> for Root {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Root, D::Error> {
        d.deserialize_any(RootVisitor { shallow: true })
    }
}

/// A YAML syntax error, positioned in the YAML text (1-based).
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

/// Flow nesting deeper than this is parsed only where the rules read it: the
/// YAML scanner's time grows with the square of the depth, and the client
/// accepts nesting a thousand times deeper under keys it ignores.
const MAX_FLOW_DEPTH: usize = 256;

/// The deepest `[`/`{` nesting in `text`, ignoring quoted strings and comments.
fn max_flow_depth(text: &str) -> usize {
    let (mut depth, mut max, mut quote, mut comment) = (0usize, 0usize, None::<char>, false);
    let mut prev = ' ';
    for c in text.chars() {
        if comment {
            comment = c != '\n';
        } else if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '[' | '{' => {
                    depth += 1;
                    max = max.max(depth);
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                '"' | '\'' if matches!(prev, ' ' | '\t' | '[' | '{' | ',' | ':' | '\n') => {
                    quote = Some(c)
                }
                '#' if matches!(prev, ' ' | '\t' | '\n') => comment = true,
                _ => {}
            }
        }
        prev = c;
    }
    max
}

/// `text` with the values of top-level keys the rules do not read replaced
/// by `null` (a key at column 0 owns the lines up to the next one).
fn prune_uninspected(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4096));
    let mut skipping = false;
    for line in text.split_inclusive('\n') {
        let starts_entry = !line.starts_with([' ', '\t', '#', '\n', '\r']) && !line.is_empty();
        if starts_entry {
            let key =
                find_key_colon(line.trim_end()).map(|c| line[..c].trim().trim_matches(['"', '\'']));
            skipping = key.is_some_and(|k| !INSPECTED_KEYS.contains(&k));
            if skipping {
                let key = key.unwrap_or_default();
                out.push_str(&format!(
                    "\"{}\": null\n",
                    key.replace('\\', "\\\\").replace('"', "\\\"")
                ));
                continue;
            }
        }
        if !skipping {
            out.push_str(line);
        }
    }
    out
}

/// Parse one YAML document (the client's `Bun.YAML.parse`).
pub fn parse_root(text: &str) -> Result<Root, YamlError> {
    if text.trim().is_empty() {
        return Ok(Root::Empty);
    }
    if max_flow_depth(text) > MAX_FLOW_DEPTH {
        let pruned = prune_uninspected(text);
        if max_flow_depth(&pruned) > MAX_FLOW_DEPTH {
            return Err(YamlError {
                message: format!(
                    "a field Claude Code reads nests more than {MAX_FLOW_DEPTH} levels deep"
                ),
                line: 1,
                column: 1,
            });
        }
        return parse_yaml(&pruned);
    }
    parse_yaml(text)
}

fn parse_yaml(text: &str) -> Result<Root, YamlError> {
    let parsed = serde_yaml::from_str::<Root>(text).or_else(|err| {
        // An alias bomb under a key the rules do not read trips serde_yaml's
        // expansion limit once its values are kept; skipping them as before
        // decides whether the document itself is YAML.
        let text_of = err.to_string();
        if text_of.contains("limit") {
            let de = serde_yaml::Deserializer::from_str(text);
            de.deserialize_any(RootVisitor { shallow: false })
        } else {
            Err(err)
        }
    });
    parsed.map_err(|err| {
        let (line, column) = err
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        let mut message = err.to_string();
        // serde_yaml appends " at line L column C"; the position is reported separately.
        if let Some(i) = message.find(" at line ") {
            message.truncate(i);
        }
        YamlError {
            message,
            line: line.max(1),
            column: column.max(1),
        }
    })
}

/// Whether `text` parses as a YAML flow list (used by the lenient rewrite).
fn is_flow_list(text: &str) -> bool {
    max_flow_depth(text) <= MAX_FLOW_DEPTH
        && matches!(serde_yaml::from_str::<Yaml>(text), Ok(Yaml::Seq(_)))
}

/// JavaScript's `\s`.
fn js_space(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{b}' | '\u{c}' | '\r' | ' ' | '\u{a0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200a}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202f}'
                | '\u{205f}'
                | '\u{3000}'
                | '\u{feff}'
    )
}

/// Characters JavaScript's `.` does not match.
fn js_line_terminator(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
}

/// The client's lenient rewrite: for each `key: value` line (key matching
/// `[a-zA-Z_-]+`) whose value is not already quoted, is not a valid flow list,
/// and holds a YAML indicator (`{ } [ ] * & # ! | > % @`, a backtick or `: `),
/// wrap the value in double quotes; then turn leading tabs into two spaces each.
pub fn lenient_rewrite(yaml: &str) -> String {
    let lines: Vec<String> = yaml.split('\n').map(rewrite_line).collect();
    expand_leading_tabs(&lines.join("\n"))
}

fn rewrite_line(line: &str) -> String {
    let Some(colon) = line.find(':') else {
        return line.to_string();
    };
    let key = &line[..colon];
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'-')
    {
        return line.to_string();
    }
    let after = &line[colon + 1..];
    let value = after.trim_start_matches(js_space);
    if value.len() == after.len() || value.is_empty() {
        return line.to_string(); // `\s+` needs at least one space, `\S` a value
    }
    if value.chars().any(js_line_terminator) {
        return line.to_string(); // `.*$` cannot cross a `\r`: CRLF lines are left alone
    }
    let quoted = (value.starts_with('"') && value.ends_with('"'))
        || (value.starts_with('\'') && value.ends_with('\''));
    if quoted {
        return line.to_string();
    }
    if value.starts_with('[') && value.ends_with(']') && is_flow_list(value) {
        return line.to_string();
    }
    let has_indicator = value.contains(|c| "{}[]*&#!|>%@`".contains(c)) || value.contains(": ");
    if !has_indicator {
        return line.to_string();
    }
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("{key}: \"{escaped}\"")
}

/// JavaScript's `text.replace(/^\t+/gm, t => "  ".repeat(t.length))`.
fn expand_leading_tabs(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at_line_start = true;
    for c in text.chars() {
        if at_line_start && c == '\t' {
            out.push_str("  ");
            continue;
        }
        at_line_start = js_line_terminator(c);
        out.push(c);
    }
    out
}

/// Where the frontmatter is, as byte offsets into the decoded text.
#[derive(Debug, Clone, PartialEq)]
pub enum Extracted {
    /// The text does not start with `---` followed by a line break.
    NoOpening,
    /// No `---` follows the opening line.
    NoClosing,
    Found {
        /// Byte range of the YAML text.
        yaml: std::ops::Range<usize>,
        /// Byte offset where the body (the system prompt) starts.
        body: usize,
    },
}

/// Find the frontmatter as the client does. `text` must have any byte order
/// mark removed already.
pub fn extract(text: &str) -> Extracted {
    let Some(rest) = text.strip_prefix("---") else {
        return Extracted::NoOpening;
    };
    let ws_len: usize = rest
        .chars()
        .take_while(|&c| js_space(c))
        .map(char::len_utf8)
        .sum();
    let Some(last_newline) = rest[..ws_len].rfind('\n') else {
        return Extracted::NoOpening;
    };
    let start = 3 + last_newline + 1;
    let Some(close) = text[start..].find("---") else {
        return Extracted::NoClosing;
    };
    let close = start + close;
    let after = close + 3;
    let body_ws: usize = text[after..]
        .chars()
        .take_while(|&c| js_space(c))
        .map(char::len_utf8)
        .sum();
    Extracted::Found {
        yaml: start..close,
        body: after + body_ws,
    }
}

/// How the frontmatter parsed.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A strict YAML 1.2 parse succeeded.
    Strict(Root),
    /// Only the client's lenient retry parsed it.
    Lenient(Root),
    /// Both failed; the error is the strict parser's, positioned in the original text.
    Failed(YamlError),
}

/// Parse frontmatter YAML with the client's lenient retry.
pub fn parse_frontmatter(yaml: &str) -> Parsed {
    match parse_root(yaml) {
        Ok(root) => Parsed::Strict(root),
        Err(strict) => match parse_root(&lenient_rewrite(yaml)) {
            Ok(root) => Parsed::Lenient(root),
            Err(_) => Parsed::Failed(strict),
        },
    }
}

/// A top-level key of the frontmatter and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Yaml,
    /// 1-based line within the YAML text, when the key could be located.
    pub line: Option<usize>,
    /// 1-based column of the value on that line.
    pub value_column: usize,
}

/// The entries of a mapping root, with the key positions found in `yaml`.
/// Later duplicates win, as in the client; `duplicates` lists the keys that
/// occurred more than once.
pub fn entries(yaml: &str, pairs: Vec<(Yaml, Yaml)>) -> (Vec<Entry>, Vec<String>) {
    let positions = top_level_keys(yaml);
    let mut out: Vec<Entry> = Vec::with_capacity(pairs.len());
    let mut duplicates = Vec::new();
    let mut seen_count: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (k, v) in pairs {
        let Some(key) = k.key_string() else { continue };
        let nth = seen_count.entry(key.clone()).or_insert(0);
        let pos = positions.iter().filter(|p| p.0 == key).nth(*nth);
        *nth += 1;
        let (line, value_column) = pos.map(|p| (Some(p.1), p.2)).unwrap_or((None, 1));
        if let Some(existing) = out.iter_mut().find(|e| e.key == key) {
            if !duplicates.contains(&key) {
                duplicates.push(key.clone());
            }
            *existing = Entry {
                key,
                value: v,
                line,
                value_column,
            };
        } else {
            out.push(Entry {
                key,
                value: v,
                line,
                value_column,
            });
        }
    }
    (out, duplicates)
}

/// `(key, line, value column)` for each line that starts a top-level
/// `key:` (plain, single- or double-quoted key), in order.
fn top_level_keys(yaml: &str) -> Vec<(String, usize, usize)> {
    let mut out = Vec::new();
    for (i, raw) in yaml.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let (key, rest_at) = if let Some(q) = line.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q[..end].to_string(), end + 2),
                None => continue,
            }
        } else if let Some(q) = line.strip_prefix('\'') {
            match q.find('\'') {
                Some(end) => (q[..end].to_string(), end + 2),
                None => continue,
            }
        } else {
            if line.is_empty() || line.starts_with([' ', '\t', '#', '-', '?', '[', '{']) {
                continue;
            }
            let Some(colon) = find_key_colon(line) else {
                continue;
            };
            (line[..colon].trim_end().to_string(), colon)
        };
        let rest = &line[rest_at..];
        let Some(after_colon) = rest.trim_start().strip_prefix(':') else {
            continue;
        };
        let value_start = line.len() - after_colon.trim_start().len();
        let column = line[..value_start].chars().count() + 1;
        out.push((key, i + 1, column));
    }
    out
}

/// The colon that ends a plain key: the first `:` followed by a space, a tab
/// or the end of the line.
fn find_key_colon(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    (0..bytes.len())
        .find(|&i| bytes[i] == b':' && matches!(bytes.get(i + 1), None | Some(b' ') | Some(b'\t')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extract_follows_the_client_regex() {
        assert_eq!(
            extract("---\nname: a\n---\nbody"),
            Extracted::Found {
                yaml: 4..12,
                body: 16
            }
        );
        assert_eq!(extract("\n---\nname: a\n---\n"), Extracted::NoOpening);
        assert_eq!(extract("----\nname: a\n---\n"), Extracted::NoOpening);
        assert_eq!(extract("---\nname: a\n"), Extracted::NoClosing);
        // The first `---` closes, even inside a value.
        let text = "---\ndescription: a---b\n---\n";
        let Extracted::Found { yaml, body } = extract(text) else {
            panic!()
        };
        assert_eq!(&text[yaml], "description: a");
        assert_eq!(&text[body..], "b\n---\n");
        // Blank lines after the opening fence are skipped by `\s*\n`.
        let text = "---  \n\n\nname: a\n---\n";
        let Extracted::Found { yaml, .. } = extract(text) else {
            panic!()
        };
        assert_eq!(&text[yaml], "name: a\n");
    }

    #[test]
    fn lenient_rewrite_quotes_values_with_indicators() {
        assert_eq!(
            lenient_rewrite("description: Triggers on: 'x', 'y'"),
            "description: \"Triggers on: 'x', 'y'\""
        );
        assert_eq!(
            lenient_rewrite("tools: [Read, Grep]"),
            "tools: [Read, Grep]"
        );
        assert_eq!(
            lenient_rewrite("description: \"a: b\""),
            "description: \"a: b\""
        );
        assert_eq!(
            lenient_rewrite("description: a \\ \"b\" #c"),
            "description: \"a \\\\ \\\"b\\\" #c\""
        );
        assert_eq!(lenient_rewrite("key2: a: b"), "key2: a: b");
        assert_eq!(
            lenient_rewrite("description: a: b\r"),
            "description: a: b\r"
        );
        assert_eq!(lenient_rewrite("a:\n\t\tb: c"), "a:\n    b: c");
    }

    #[test]
    fn yaml_is_1_2_and_duplicates_take_the_last_value() {
        let Parsed::Strict(Root::Mapping(pairs)) = parse_frontmatter("name: yes\nname: no\n")
        else {
            panic!()
        };
        let (entries, dups) = entries("name: yes\nname: no\n", pairs);
        assert_eq!(entries[0].value, Yaml::Str("no".into()));
        assert_eq!(entries[0].line, Some(2));
        assert_eq!(dups, vec!["name".to_string()]);
    }

    #[test]
    fn lenient_only_and_broken_yaml_are_told_apart() {
        assert!(matches!(
            parse_frontmatter("description: Triggers on: 'x'\n"),
            Parsed::Lenient(_)
        ));
        assert!(matches!(
            parse_frontmatter("a:\n\tb: c\n"),
            Parsed::Lenient(_)
        ));
        let Parsed::Failed(err) = parse_frontmatter("name: a\n  bad: [\n") else {
            panic!()
        };
        assert!(err.line >= 2, "{err:?}");
    }

    #[test]
    fn deep_nesting_and_alias_bombs_under_other_keys_parse() {
        let deep = format!("name: a\nx: {}{}\n", "[".repeat(5000), "]".repeat(5000));
        assert!(matches!(
            parse_frontmatter(&deep),
            Parsed::Strict(Root::Mapping(_))
        ));
        let mut bomb = String::from("name: a\na: &a [x,x,x,x,x,x,x,x,x]\n");
        for i in 1..9u8 {
            let (cur, prev) = ((b'a' + i) as char, (b'a' + i - 1) as char);
            bomb.push_str(&format!(
                "{cur}: &{cur} [{}]\n",
                vec![format!("*{prev}"); 9].join(",")
            ));
        }
        assert!(matches!(
            parse_frontmatter(&bomb),
            Parsed::Strict(Root::Mapping(_))
        ));
    }
}
