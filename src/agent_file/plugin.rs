//! A Claude Code plugin as the client 2.1.332 loads it: the manifest
//! (`.claude-plugin/plugin.json`) checked as the client checks it, the
//! plugin's agents found where the client looks for them, and each agent file
//! judged by the rules of `rules` adjusted for what differs in a plugin.
//!
//! What differs, read from the client's code and confirmed by running it
//! (`scripts/plugin-verdicts.sh`): a plugin agent is named
//! `PLUGIN:SUBFOLDER:...:NAME`; every file whose name ends in `.md` in any
//! case is read, in every subfolder; the frontmatter's `name` and
//! `description` are optional (the file name and `Agent from PLUGIN plugin`
//! stand in), and a file whose frontmatter is missing or broken still loads
//! under its file name; `permissionMode`, `hooks`, `mcpServers`,
//! `initialPrompt` and the observer keys are ignored. A manifest the client
//! refuses (bad JSON, a bad `name`, a wrong type outside the metadata fields,
//! an `agents` path not `./...md`) loads no agent at all; a metadata field of
//! the wrong type is dropped and the plugin loads. Naming agents in the
//! manifest replaces the default `agents/` folder.

use std::path::{Path, PathBuf};

use serde_json::Value;
use walkdir::WalkDir;

use crate::agent_file::diagnostic::{Diagnostic, LineIndex, Severity};
use crate::agent_file::frontmatter::{self, Extracted, Parsed, Root, Yaml};
use crate::agent_file::rules;

/// Where the manifest sits in a plugin folder.
pub const MANIFEST: &str = ".claude-plugin/plugin.json";

/// Top-level manifest fields the client reads (2.1.332).
pub const MANIFEST_FIELDS: &[&str] = &[
    "$schema",
    "name",
    "version",
    "description",
    "displayName",
    "author",
    "homepage",
    "repository",
    "license",
    "keywords",
    "icon",
    "commands",
    "agents",
    "skills",
    "hooks",
    "mcpServers",
    "lspServers",
    "outputStyles",
    "themes",
    "workflows",
    "channels",
    "monitors",
    "settings",
    "userConfig",
    "experimental",
    "dependencies",
    "optionalDependencies",
    "engines",
    "network",
];

/// Fields of a marketplace entry that mean nothing in plugin.json.
pub const MARKETPLACE_ONLY_FIELDS: &[&str] = &["category", "tags", "strict", "source", "id"];

/// Frontmatter keys the client ignores in a plugin agent.
pub const IGNORED_AGENT_KEYS: &[&str] = &[
    "permissionMode",
    "hooks",
    "mcpServers",
    "initialPrompt",
    "observer",
    "observerMessage",
    "observeSubagents",
];

/// Keys a plugin agent may use for its description, in the client's order.
const DESCRIPTION_KEYS: &[&str] = &["description", "when_to_use", "when-to-use"];

/// How deep the client walks an agents folder.
const MAX_DEPTH: usize = 32;

/// Whether `dir` is a plugin root: it holds `.claude-plugin/plugin.json`.
pub fn is_plugin_root(dir: &Path) -> bool {
    dir.join(MANIFEST).is_file()
}

/// The plugin root of a manifest path (`ROOT/.claude-plugin/plugin.json`).
pub fn root_of_manifest(path: &Path) -> Option<PathBuf> {
    let parent = path.parent()?;
    (path.file_name()? == "plugin.json" && parent.file_name()? == ".claude-plugin")
        .then(|| parent.parent().map(Path::to_path_buf))
        .flatten()
}

/// One checked file of a plugin (the manifest or an agent).
#[derive(Debug, Clone)]
pub struct CheckedFile {
    pub path: PathBuf,
    /// For an agent: its full name (`plugin:agent`) when it loads under one.
    /// For the manifest: the plugin's name.
    pub name: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    /// The decoded text, for rendering source lines.
    pub text: Option<String>,
}

impl CheckedFile {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

/// What `check` found in one plugin.
#[derive(Debug, Clone)]
pub struct CheckedPlugin {
    pub root: PathBuf,
    /// The plugin's name, when the manifest gives a usable one.
    pub name: Option<String>,
    /// Whether the client loads the plugin at all (the manifest has no errors
    /// but missing `agents` files).
    pub loads: bool,
    pub manifest: CheckedFile,
    pub agents: Vec<CheckedFile>,
    /// A file could not be read (exit 2).
    pub io_problem: bool,
}

/// Check the plugin in `root` (a folder holding `.claude-plugin/plugin.json`).
pub fn check(root: &Path) -> CheckedPlugin {
    let manifest_path = root.join(MANIFEST);
    let mut io_problem = false;
    let (manifest, parsed) = match std::fs::read(&manifest_path) {
        Ok(bytes) => check_manifest(root, &manifest_path, &bytes),
        Err(e) => {
            io_problem = true;
            (
                CheckedFile {
                    path: manifest_path.clone(),
                    name: None,
                    diagnostics: vec![Diagnostic::new(
                        Severity::Error,
                        "unreadable",
                        format!("cannot read the plugin manifest: {e}"),
                    )
                    .hint("check the file's permissions")],
                    text: None,
                },
                None,
            )
        }
    };
    // Missing `agents` files are the only manifest errors the plugin survives.
    let loads = parsed.is_some()
        && !manifest
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error && d.code != "plugin_agents_path_missing");
    let plugin_name = parsed.as_ref().map(|m| m.name.clone());
    let sources = match &parsed {
        Some(m) => agent_sources(root, m),
        None => default_sources(root),
    };
    let shown_name = plugin_name
        .clone()
        .or_else(|| root.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "plugin".into());
    let mut agents: Vec<CheckedFile> = sources
        .iter()
        .map(|s| check_agent_source(&shown_name, s, &mut io_problem))
        .collect();
    if !loads {
        for a in &mut agents {
            a.diagnostics.push(
                Diagnostic::new(
                    Severity::Error,
                    "plugin_not_loaded",
                    format!(
                        "the plugin's manifest ({MANIFEST}) has errors, so Claude Code loads none of its agents"
                    ),
                )
                .hint(format!("fix the errors reported for {MANIFEST}")),
            );
        }
    }
    check_duplicates(root, &mut agents);
    CheckedPlugin {
        root: root.to_path_buf(),
        name: plugin_name,
        loads,
        manifest,
        agents,
        io_problem,
    }
}

/// The manifest's fields the rest of the check needs.
#[derive(Debug, Clone)]
struct Manifest {
    name: String,
    /// `None`: the manifest does not set `agents` (the default folder is read).
    agents: Option<Vec<String>>,
}

/// Where a top-level key of the manifest stands (byte offsets).
#[derive(Debug, Clone)]
struct KeyAt {
    key: String,
    key_at: usize,
    value_at: usize,
    /// Offsets of the elements, when the value is an array.
    elements: Vec<usize>,
}

struct ManifestChecker<'a> {
    text: &'a str,
    index: LineIndex,
    layout: Vec<KeyAt>,
    out: Vec<Diagnostic>,
}

impl ManifestChecker<'_> {
    fn pos(&self, offset: usize) -> (usize, usize) {
        self.index.position(self.text, offset)
    }
    fn key(&self, key: &str) -> Option<&KeyAt> {
        self.layout.iter().rev().find(|k| k.key == key)
    }
    /// A diagnostic at a key (`value`: at its value), spanning the token.
    fn at_key(&self, d: Diagnostic, key: &str, value: bool) -> Diagnostic {
        match self.key(key) {
            Some(k) => {
                let off = if value { k.value_at } else { k.key_at };
                let (l, c) = self.pos(off);
                d.at(l, c).len(token_len(&self.text[off..]))
            }
            None => d,
        }
    }
    fn at_element(&self, d: Diagnostic, key: &str, i: usize) -> Diagnostic {
        match self.key(key).and_then(|k| k.elements.get(i).copied()) {
            Some(off) => {
                let (l, c) = self.pos(off);
                d.at(l, c).len(token_len(&self.text[off..]))
            }
            None => self.at_key(d, key, true),
        }
    }
}

/// Check the manifest's bytes; the parsed manifest when it is usable enough
/// to find agents (an object with a string `name`).
fn check_manifest(root: &Path, path: &Path, bytes: &[u8]) -> (CheckedFile, Option<Manifest>) {
    let text = String::from_utf8_lossy(bytes).into_owned();
    let bom = if text.starts_with('\u{feff}') {
        '\u{feff}'.len_utf8()
    } else {
        0
    };
    let mut c = ManifestChecker {
        text: &text,
        index: LineIndex::new(&text),
        layout: json_layout(&text, bom),
        out: Vec::new(),
    };
    let value: Value = match serde_json::from_str(&text[bom..]) {
        Ok(v) => v,
        Err(e) => {
            let column = e.column() + usize::from(e.line() == 1 && bom > 0);
            c.out.push(
                Diagnostic::new(
                    Severity::Error,
                    "plugin_json_syntax",
                    format!("plugin.json is not valid JSON: {e}; Claude Code refuses the plugin"),
                )
                .at(e.line(), column)
                .hint("fix the JSON (no trailing commas or comments, keys in double quotes)"),
            );
            let out = c.out;
            return (manifest_entry(path, None, out, text), None);
        }
    };
    let Value::Object(map) = &value else {
        c.out.push(
            Diagnostic::new(
                Severity::Error,
                "plugin_manifest_not_object",
                format!(
                    "plugin.json is {}, not an object; Claude Code refuses the plugin",
                    json_kind(&value)
                ),
            )
            .hint("write the manifest as an object: {\"name\": \"my-plugin\"}"),
        );
        let out = c.out;
        return (manifest_entry(path, None, out, text), None);
    };
    let folder = root
        .file_name()
        .map(|n| rules::kebab(&n.to_string_lossy()))
        .unwrap_or_else(|| "my-plugin".into());

    // name
    let name = match map.get("name") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        other => {
            let what = match other {
                None => "plugin.json has no `name`".to_string(),
                Some(Value::String(_)) => "`name` is empty".to_string(),
                Some(v) => format!("`name` is {}, not a string", json_kind(v)),
            };
            let d = Diagnostic::new(
                Severity::Error,
                "plugin_missing_name",
                format!("{what}; Claude Code refuses the plugin"),
            )
            .hint(format!("add `\"name\": \"{folder}\"`"));
            let d = c.at_key(d, "name", true);
            c.out.push(d);
            None
        }
    };
    if let Some(n) = &name {
        let problem = if n.chars().any(char::is_whitespace) {
            Some("contains spaces")
        } else if n.chars().any(|ch| ch.is_control() || is_bidi_control(ch)) {
            Some("contains control or bidirectional-formatting characters")
        } else if n.contains([':', '@', '/', '\\']) {
            Some("contains `:`, `@`, `/` or `\\`")
        } else {
            None
        };
        if let Some(problem) = problem {
            let d = Diagnostic::new(
                Severity::Error,
                "plugin_invalid_name",
                format!("the plugin name `{n}` {problem}; Claude Code refuses the plugin"),
            )
            .hint(format!(
                "use lowercase letters, digits and hyphens, for example `{}`",
                rules::kebab(n)
            ));
            let d = c.at_key(d, "name", true);
            c.out.push(d);
        } else if !is_kebab(n) {
            let d = Diagnostic::new(
                Severity::Note,
                "plugin_name_style",
                format!("the plugin name `{n}` is not kebab-case; Claude Code loads it, but marketplaces ask for lowercase letters, digits and hyphens"),
            )
            .hint(format!("rename it to `{}`", rules::kebab(n)));
            let d = c.at_key(d, "name", true);
            c.out.push(d);
        }
    }

    // version: not a metadata field, so a wrong type refuses the plugin.
    if let Some(v) = map.get("version") {
        if !v.is_string() {
            let d = Diagnostic::new(
                Severity::Error,
                "plugin_invalid_field",
                format!(
                    "`version` is {}, not a string; Claude Code refuses the plugin",
                    json_kind(v)
                ),
            )
            .hint("write the version as a string: \"version\": \"1.0.0\"");
            let d = c.at_key(d, "version", true);
            c.out.push(d);
        }
    }

    // Metadata fields: a wrong value is dropped and the plugin loads.
    for (key, v) in map {
        let problem = match key.as_str() {
            "description" | "displayName" | "license" | "repository" | "$schema" => {
                (!v.is_string()).then(|| format!("{}, not a string", json_kind(v)))
            }
            "homepage" => match v {
                Value::String(s) if is_url(s) => None,
                Value::String(_) => Some("not a URL".to_string()),
                other => Some(format!("{}, not a string", json_kind(other))),
            },
            "keywords" => match v {
                Value::Array(items) if items.iter().all(Value::is_string) => None,
                Value::Array(_) => Some("a list holding something other than strings".into()),
                other => Some(format!("{}, not a list of strings", json_kind(other))),
            },
            "author" => match v {
                Value::Object(a) => match a.get("name") {
                    Some(Value::String(s)) if !s.is_empty() => ["email", "url"]
                        .iter()
                        .find(|k| a.get(**k).is_some_and(|x| !x.is_string()))
                        .map(|k| format!("an object whose `{k}` is not a string")),
                    _ => Some("an object without a `name`".into()),
                },
                other => Some(format!(
                    "{}, not an object {{\"name\": ...}}",
                    json_kind(other)
                )),
            },
            _ => None,
        };
        if let Some(problem) = problem {
            let d = Diagnostic::new(
                Severity::Warning,
                "plugin_ignored_field",
                format!("`{key}` is {problem}; Claude Code drops the field and loads the plugin (`claude plugin validate` fails)"),
            )
            .hint(match key.as_str() {
                "author" => "write \"author\": {\"name\": \"...\", \"email\": \"...\", \"url\": \"...\"}".to_string(),
                "keywords" => "write \"keywords\": [\"one\", \"two\"]".to_string(),
                "homepage" => "write a full URL: \"https://...\"".to_string(),
                _ => format!("write `{key}` as a string"),
            });
            let d = c.at_key(d, key, true);
            c.out.push(d);
        }
    }

    // agents
    let agents = check_agents_field(&mut c, root, map);

    // Unknown fields.
    for key in map.keys() {
        if MANIFEST_FIELDS.contains(&key.as_str()) {
            continue;
        }
        let d = if MARKETPLACE_ONLY_FIELDS.contains(&key.as_str()) {
            Diagnostic::new(
                Severity::Warning,
                "plugin_unknown_field",
                format!("`{key}` belongs in a marketplace entry (marketplace.json), not plugin.json; Claude Code ignores it here"),
            )
            .hint("move it to the plugin's entry in marketplace.json, or remove it")
        } else {
            let d = Diagnostic::new(
                Severity::Warning,
                "plugin_unknown_field",
                format!("plugin.json has no field `{key}`; Claude Code ignores it"),
            );
            match crate::suggest::did_you_mean(key, MANIFEST_FIELDS.iter().copied()) {
                Some(s) => d.hint(format!("did you mean `{s}`?")),
                None => d.hint(format!(
                    "remove it; the fields are {}",
                    MANIFEST_FIELDS.join(", ")
                )),
            }
        };
        let d = c.at_key(d, key, false);
        c.out.push(d);
    }

    // The metadata `claude plugin validate` asks for.
    let missing: Vec<&str> = ["version", "description", "author"]
        .into_iter()
        .filter(|k| !map.contains_key(*k))
        .collect();
    if !missing.is_empty() {
        c.out.push(
            Diagnostic::new(
                Severity::Note,
                "plugin_missing_metadata",
                format!(
                    "plugin.json has no {}; `claude plugin validate` warns about it",
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .hint(
                "add \"version\": \"1.0.0\", a \"description\" and \"author\": {\"name\": \"...\"}",
            ),
        );
    }

    let parsed = name.clone().map(|name| Manifest { name, agents });
    let out = c.out;
    (manifest_entry(path, name, out, text), parsed)
}

/// The manifest's entry in the report: its findings, and the plugin's name
/// when it has a usable one.
fn manifest_entry(
    path: &Path,
    name: Option<String>,
    diagnostics: Vec<Diagnostic>,
    text: String,
) -> CheckedFile {
    CheckedFile {
        path: path.to_path_buf(),
        name,
        diagnostics,
        text: Some(text),
    }
}

/// Check the manifest's `agents` field; the paths it names, when it names any.
fn check_agents_field(
    c: &mut ManifestChecker<'_>,
    root: &Path,
    map: &serde_json::Map<String, Value>,
) -> Option<Vec<String>> {
    let value = map.get("agents")?;
    let paths: Vec<String> = match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        // `null` and `false` read as "not set" at load, but the schema refuses them.
        other => {
            let d = Diagnostic::new(
                Severity::Error,
                "plugin_invalid_field",
                format!(
                    "`agents` is {}; Claude Code refuses the plugin (it must be a path or a list of paths)",
                    match other {
                        Value::Array(_) => "a list holding something other than strings".to_string(),
                        v => format!("{}, not a path or a list of paths", json_kind(v)),
                    }
                ),
            )
            .hint("write \"agents\": [\"./agents/reviewer.md\"], or leave `agents` out to load the agents/ folder");
            let d = c.at_key(d, "agents", true);
            c.out.push(d);
            return Some(Vec::new());
        }
    };
    let single = value.is_string();
    for (i, p) in paths.iter().enumerate() {
        let locate = |c: &ManifestChecker<'_>, d: Diagnostic| {
            if single {
                c.at_key(d, "agents", true)
            } else {
                c.at_element(d, "agents", i)
            }
        };
        let problem = if !p.starts_with("./") {
            Some("does not start with `./`")
        } else if !p.ends_with(".md") {
            Some("does not end in `.md` (folders are not accepted here)")
        } else if p.split(['/', '\\']).any(|s| s == "..") {
            Some("contains `..` (a path outside the plugin)")
        } else {
            None
        };
        if let Some(problem) = problem {
            let d = Diagnostic::new(
                Severity::Error,
                "plugin_agents_path",
                format!("the agents path `{p}` {problem}; Claude Code refuses the plugin"),
            )
            .hint("name each agent file relative to the plugin folder, starting with `./` and ending in `.md`: \"./agents/reviewer.md\"");
            let d = locate(c, d);
            c.out.push(d);
            continue;
        }
        if !root.join(p).is_file() {
            let d = Diagnostic::new(
                Severity::Error,
                "plugin_agents_path_missing",
                format!("the agents path `{p}` names no file; Claude Code loads the plugin without it and reports a load failure"),
            )
            .hint("fix the path, or remove it from `agents`");
            let d = locate(c, d);
            c.out.push(d);
        }
    }
    // Setting `agents` replaces the default folder.
    let default = root.join("agents");
    let named: Vec<PathBuf> = paths.iter().map(|p| normalize(&root.join(p))).collect();
    let shadowed: Vec<String> = walk_agents(&default)
        .into_iter()
        .filter(|s| !named.contains(&normalize(&s.path)))
        .filter_map(|s| {
            s.path
                .strip_prefix(root)
                .ok()
                .map(|r| r.to_string_lossy().into_owned())
        })
        .collect();
    if !shadowed.is_empty() {
        let d = Diagnostic::new(
            Severity::Warning,
            "plugin_agents_folder_ignored",
            format!(
                "the manifest sets `agents`, which replaces the agents/ folder: Claude Code does not load {}",
                shadowed.join(", ")
            ),
        )
        .hint("add these files to `agents`, or remove `agents` so the whole agents/ folder loads");
        let d = c.at_key(d, "agents", false);
        c.out.push(d);
    }
    Some(paths)
}

/// An agent file and the subfolders between its agents folder and it.
#[derive(Debug, Clone)]
struct AgentSource {
    path: PathBuf,
    namespace: Vec<String>,
}

/// The agent files the client reads for a manifest.
fn agent_sources(root: &Path, m: &Manifest) -> Vec<AgentSource> {
    match &m.agents {
        None => default_sources(root),
        Some(paths) => {
            let mut seen = Vec::new();
            let mut out = Vec::new();
            for p in paths {
                let path = normalize(&root.join(p));
                let key = normalize(&path);
                if p.starts_with("./")
                    && p.ends_with(".md")
                    && path.is_file()
                    && !seen.contains(&key)
                {
                    seen.push(key);
                    out.push(AgentSource {
                        path,
                        namespace: Vec::new(),
                    });
                }
            }
            out
        }
    }
}

fn default_sources(root: &Path) -> Vec<AgentSource> {
    walk_agents(&root.join("agents"))
}

/// Every file the client reads in an agents folder: names ending in `.md` in
/// any case (plus other Markdown spellings, which are reported), in every
/// subfolder; links below the folder are not followed.
fn walk_agents(dir: &Path) -> Vec<AgentSource> {
    if !dir.is_dir() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for entry in WalkDir::new(dir)
        .max_depth(MAX_DEPTH)
        .sort_by_file_name()
        .into_iter()
        .flatten()
    {
        if !entry.file_type().is_file() {
            continue;
        }
        let lower = entry.file_name().to_string_lossy().to_lowercase();
        if !(lower.ends_with(".md") || lower.ends_with(".markdown")) {
            continue;
        }
        let namespace = entry
            .path()
            .parent()
            .and_then(|p| p.strip_prefix(dir).ok())
            .map(|rel| {
                rel.components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        out.push(AgentSource {
            path: entry.path().to_path_buf(),
            namespace,
        });
    }
    out
}

fn check_agent_source(plugin: &str, s: &AgentSource, io_problem: &mut bool) -> CheckedFile {
    let file_name = s
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let lower = file_name.to_lowercase();
    let report = |d: Diagnostic| CheckedFile {
        path: s.path.clone(),
        name: None,
        diagnostics: vec![d],
        text: None,
    };
    if !lower.ends_with(".md") {
        let stem = s
            .path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return report(
            Diagnostic::new(
                Severity::Error,
                "wrong_extension",
                "Claude Code reads only files ending in `.md` as plugin agents; this one is never loaded",
            )
            .hint(format!("rename it to {stem}.md")),
        );
    }
    let bytes = match rules::read_agent_file(&s.path) {
        rules::AgentBytes::Read(b) => b,
        rules::AgentBytes::TooLarge(d) => return report(d),
        rules::AgentBytes::Failed(e) => {
            *io_problem = true;
            return report(rules::unreadable(&e));
        }
    };
    // The client strips a lowercase `.md` only: `Loud.MD` is named `Loud.MD`.
    let stem = file_name
        .strip_suffix(".md")
        .unwrap_or(&file_name)
        .to_string();
    let checked = check_agent(plugin, &s.namespace, &stem, &bytes);
    let mut diagnostics = checked.diagnostics;
    if !file_name.ends_with(".md") {
        diagnostics.push(
            Diagnostic::new(
                Severity::Note,
                "plugin_extension_case",
                format!("`{file_name}` loads from a plugin, but .claude/agents/ reads only lowercase `.md`"),
            )
            .hint(format!(
                "rename it to {}.md",
                &file_name[..file_name.len() - 3]
            )),
        );
    }
    CheckedFile {
        path: s.path.clone(),
        name: Some(checked.full_name),
        diagnostics,
        text: Some(checked.text),
    }
}

/// One plugin agent, judged.
#[derive(Debug, Clone)]
pub struct CheckedAgent {
    /// `plugin:subfolder:...:name`, the name the client lists.
    pub full_name: String,
    pub diagnostics: Vec<Diagnostic>,
    pub text: String,
}

/// Codes of `rules` that do not apply to a plugin agent: the client reads
/// `name` and `description` leniently there, and ignores these keys.
const NOT_IN_PLUGINS: &[&str] = &[
    "missing_name",
    "invalid_name",
    "missing_description",
    "invalid_permission_mode",
    "invalid_hooks",
    "unloadable_hook",
    "hook_entry_ignored",
    "ignored_field",
];

/// Codes that mean the frontmatter could not be read; a plugin agent then
/// loads under its file name with the default description.
const FRONTMATTER_UNREAD: &[&str] = &[
    "missing_frontmatter",
    "unclosed_frontmatter",
    "yaml_syntax",
    "frontmatter_not_mapping",
];

/// Check one agent file of plugin `plugin`, found under `namespace`
/// subfolders; `stem` is the file name less a lowercase `.md`.
pub fn check_agent(plugin: &str, namespace: &[String], stem: &str, bytes: &[u8]) -> CheckedAgent {
    // The rules compare `name` with the file name less its extension in any case.
    let file_stem = match stem.len().checked_sub(3) {
        Some(i) if stem.is_char_boundary(i) && stem[i..].eq_ignore_ascii_case(".md") => &stem[..i],
        _ => stem,
    };
    let checked = rules::check(file_stem, bytes);
    let text = checked.text;
    let full = |name: &str| {
        let mut parts: Vec<&str> = vec![plugin];
        parts.extend(namespace.iter().map(String::as_str));
        parts.push(name);
        parts.join(":")
    };
    let default_description = format!("Agent from {plugin} plugin");

    if let Some(unread) = checked
        .diagnostics
        .iter()
        .find(|d| FRONTMATTER_UNREAD.contains(&d.code))
    {
        let full_name = full(stem);
        let reason = unread
            .message
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        let d = Diagnostic::new(
            Severity::Warning,
            "plugin_frontmatter_ignored",
            format!("{reason}; in a plugin Claude Code still loads the file, as `{full_name}` with the description \"{default_description}\""),
        )
        .at(unread.line, unread.column)
        .hint("start the file with a `---` frontmatter holding name and description, then a line `---`");
        let mut diagnostics: Vec<Diagnostic> = checked
            .diagnostics
            .iter()
            .filter(|d| d.code == "invalid_utf8")
            .cloned()
            .collect();
        diagnostics.push(d);
        return CheckedAgent {
            full_name,
            diagnostics,
            text,
        };
    }

    let entries = read_entries(&text);
    let yaml_line = entries.as_ref().map_or(1, |(l, _)| *l);
    let entries = entries.map(|(_, e)| e).unwrap_or_default();
    let pos = |e: &frontmatter::Entry, value: bool| -> (usize, usize) {
        match e.line {
            Some(l) => (yaml_line + l - 1, if value { e.value_column } else { 1 }),
            None => (yaml_line, 1),
        }
    };
    let find = |k: &str| entries.iter().find(|e| e.key == k);

    let mut out: Vec<Diagnostic> = Vec::new();
    for d in checked.diagnostics {
        if NOT_IN_PLUGINS.contains(&d.code) {
            continue;
        }
        if d.code == "unknown_key"
            && DESCRIPTION_KEYS
                .iter()
                .any(|k| d.message.contains(&format!("`{k}`")))
        {
            continue;
        }
        if d.code == "hook_outside_hooks" {
            out.push(
                Diagnostic::new(
                    Severity::Warning,
                    "plugin_ignored_key",
                    "hooks outside `hooks`; a plugin agent ignores hooks altogether, so Claude Code loads it without them",
                )
                .at(d.line, d.column)
                .hint("remove them; define the agent in .claude/agents/ to use hooks"),
            );
            continue;
        }
        out.push(d);
    }

    // The name: the frontmatter's, as text, else the file name.
    let name = match find("name").map(|e| (e, &e.value)) {
        Some((e, v)) => {
            let (line, col) = pos(e, true);
            let as_text = js_string(v);
            match as_text {
                Some(n) if n.encode_utf16().count() > 256 => {
                    out.push(
                        Diagnostic::new(
                            Severity::Warning,
                            "plugin_name_ignored",
                            format!("`name` is longer than 256 characters; Claude Code ignores it and names the agent `{}`", full(stem)),
                        )
                        .at(line, col)
                        .hint(format!("use a short name, for example `{}`", rules::kebab(stem))),
                    );
                    stem.to_string()
                }
                Some(n) if !n.is_empty() => {
                    let odd = if !matches!(v, Yaml::Str(_)) {
                        Some(format!(
                            "`name` is {}; Claude Code reads it as the text `{n}`",
                            v.kind()
                        ))
                    } else if n.contains(':') {
                        Some(format!("`name` contains `:`, so the agent's full name `{}` reads like a subfolder's", full(&n)))
                    } else if n.starts_with('-') {
                        Some("`name` starts with `-`; it loads from a plugin, but not from .claude/agents/".to_string())
                    } else {
                        None
                    };
                    if let Some(message) = odd {
                        out.push(
                            Diagnostic::new(Severity::Note, "plugin_agent_name_style", message)
                                .at(line, col)
                                .hint(format!(
                                    "use lowercase letters, digits and hyphens, for example `{}`",
                                    rules::kebab(&n)
                                )),
                        );
                    }
                    n
                }
                _ => {
                    out.push(
                        Diagnostic::new(
                            Severity::Note,
                            "plugin_agent_name_from_file",
                            format!(
                                "`name` is empty; Claude Code names the agent after its file: `{}`",
                                full(stem)
                            ),
                        )
                        .at(line, col)
                        .hint(format!("add `name: {}`", rules::kebab(stem))),
                    );
                    stem.to_string()
                }
            }
        }
        None => {
            out.push(
                Diagnostic::new(
                    Severity::Note,
                    "plugin_agent_name_from_file",
                    format!("the frontmatter has no `name`; Claude Code names the agent after its file: `{}`", full(stem)),
                )
                .at(yaml_line.saturating_sub(1).max(1), 1)
                .hint(format!("add `name: {}`", rules::kebab(stem))),
            );
            stem.to_string()
        }
    };

    // The description: `description`, `when_to_use` or `when-to-use`.
    let described = DESCRIPTION_KEYS.iter().any(|k| {
        find(k).is_some_and(|e| match &e.value {
            Yaml::Str(s) => !s.trim().is_empty(),
            Yaml::Int(_) | Yaml::Float(_) | Yaml::Bool(_) => true,
            _ => false,
        })
    });
    if !described {
        let (line, col) = match find("description") {
            Some(e) => pos(e, true),
            None => (yaml_line.saturating_sub(1).max(1), 1),
        };
        out.push(
            Diagnostic::new(
                Severity::Warning,
                "plugin_default_description",
                format!("no usable `description`; Claude Code gives the agent the description \"{default_description}\", which does not tell Claude when to use it"),
            )
            .at(line, col)
            .hint("add `description:` saying when Claude should use this agent"),
        );
    }

    for key in IGNORED_AGENT_KEYS {
        if let Some(e) = find(key) {
            let (line, col) = pos(e, false);
            out.push(
                Diagnostic::new(
                    Severity::Warning,
                    "plugin_ignored_key",
                    format!("Claude Code ignores `{key}` in a plugin agent"),
                )
                .at(line, col)
                .len(key.chars().count())
                .hint(format!(
                    "remove it, or define the agent in .claude/agents/ to use `{key}`"
                )),
            );
        }
    }

    CheckedAgent {
        full_name: full(&name),
        diagnostics: out,
        text,
    }
}

/// The frontmatter's entries and the file line of its first YAML line, when
/// it parses to a mapping.
fn read_entries(text: &str) -> Option<(usize, Vec<frontmatter::Entry>)> {
    let bom = if text.starts_with('\u{feff}') { 3 } else { 0 };
    let Extracted::Found { yaml, .. } = frontmatter::extract(&text[bom..]) else {
        return None;
    };
    let yaml = yaml.start + bom..yaml.end + bom;
    let yaml_text = &text[yaml.clone()];
    let pairs = match frontmatter::parse_frontmatter(yaml_text) {
        Parsed::Strict(Root::Mapping(p)) | Parsed::Lenient(Root::Mapping(p)) => p,
        Parsed::Strict(Root::Empty) | Parsed::Lenient(Root::Empty) => Vec::new(),
        _ => return None,
    };
    let line = text[..yaml.start].matches('\n').count() + 1;
    Some((line, frontmatter::entries(yaml_text, pairs).0))
}

/// A YAML value as JavaScript's `String(value)` spells it, for the scalars
/// and lists a `name` may hold; `None` for null.
fn js_string(v: &Yaml) -> Option<String> {
    match v {
        Yaml::Null => None,
        Yaml::Str(s) => Some(s.clone()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Int(i) => Some(i.to_string()),
        Yaml::Float(f) => Some(f.to_string()),
        Yaml::Seq(items) => Some(
            items
                .iter()
                .map(|i| js_string(i).unwrap_or_default())
                .collect::<Vec<_>>()
                .join(","),
        ),
        Yaml::Map(_) | Yaml::Skipped => Some("[object Object]".into()),
    }
}

/// Two agents of one plugin with the same full name: the client keeps one.
fn check_duplicates(root: &Path, agents: &mut [CheckedFile]) {
    let names: Vec<Option<String>> = agents
        .iter()
        .map(|a| a.name.clone().filter(|_| !a.has_errors()))
        .collect();
    for i in 0..agents.len() {
        let Some(name) = &names[i] else { continue };
        let others: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(j, n)| *j != i && n.as_ref() == Some(name))
            .map(|(j, _)| {
                let p = &agents[j].path;
                p.strip_prefix(root).unwrap_or(p).display().to_string()
            })
            .collect();
        if others.is_empty() {
            continue;
        }
        let line = agents[i]
            .text
            .as_deref()
            .and_then(|s| s.lines().position(|l| l.starts_with("name:")))
            .map_or(1, |l| l + 1);
        let short = name.rsplit(':').next().unwrap_or(name);
        agents[i].diagnostics.push(
            Diagnostic::new(
                Severity::Error,
                "duplicate_name",
                format!(
                    "another agent of this plugin is also named `{name}`: {}; Claude Code uses one and ignores the other",
                    others.join(", ")
                ),
            )
            .at(line, 1)
            .hint(format!("give each agent its own name (this one is `{short}`), or delete the copy")),
        );
    }
}

/// Where each top-level key of a JSON object, its value and (for arrays) its
/// elements start. Tolerant: on text that is not JSON it returns what it saw.
fn json_layout(text: &str, start: usize) -> Vec<KeyAt> {
    let b = text.as_bytes();
    let mut out: Vec<KeyAt> = Vec::new();
    let mut i = start;
    let mut depth = 0usize;
    // Depth of the array being recorded (a top-level key's array value).
    let mut recording: Option<usize> = None;
    let mut expect_element = false;
    let skip_ws = |mut j: usize| {
        while j < b.len() && b[j].is_ascii_whitespace() {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let ch = b[i];
        if expect_element && !ch.is_ascii_whitespace() {
            expect_element = false;
            if ch != b']' {
                if let Some(k) = out.last_mut() {
                    k.elements.push(i);
                }
            }
        }
        match ch {
            b'"' => {
                let s = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = i.min(b.len());
                i += 1;
                if depth == 1 {
                    let j = skip_ws(i);
                    if j < b.len() && b[j] == b':' {
                        let key: String = serde_json::from_str(&text[s..(end + 1).min(text.len())])
                            .unwrap_or_else(|_| text[s + 1..end].to_string());
                        let value_at = skip_ws(j + 1);
                        out.push(KeyAt {
                            key,
                            key_at: s,
                            value_at,
                            elements: Vec::new(),
                        });
                        i = j + 1;
                        if value_at < b.len() && b[value_at] == b'[' {
                            recording = Some(2);
                        }
                    }
                }
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if ch == b'[' && recording == Some(depth) {
                    expect_element = true;
                }
            }
            b'}' | b']' => {
                if recording == Some(depth) {
                    recording = None;
                }
                depth = depth.saturating_sub(1);
            }
            b',' if recording == Some(depth) => expect_element = true,
            _ => {}
        }
        i += 1;
    }
    out
}

/// How many characters a JSON token starting at `s` covers (a string, or up
/// to the next `,`, `}`, `]` or line end).
fn token_len(s: &str) -> usize {
    if let Some(rest) = s.strip_prefix('"') {
        let mut n = 1;
        let mut escaped = false;
        for ch in rest.chars() {
            n += 1;
            if escaped {
                escaped = false;
            } else if ch == '\\' {
                escaped = true;
            } else if ch == '"' || ch == '\n' {
                break;
            }
        }
        return n;
    }
    if s.starts_with(['{', '[']) {
        return 1;
    }
    s.chars()
        .take_while(|c| !matches!(c, ',' | '}' | ']' | '\n' | '\r'))
        .count()
        .max(1)
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn is_kebab(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A URL as the manifest's schema accepts one: a scheme, `:`, and more.
fn is_url(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// `path` with `.` and `..` segments resolved, for comparing paths.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(src: &str) -> CheckedAgent {
        check_agent("p", &[], "file", src.as_bytes())
    }

    fn codes(a: &CheckedAgent) -> Vec<&'static str> {
        a.diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_file_without_frontmatter_loads_under_its_file_name() {
        let a = agent("You review code.\n");
        assert_eq!(a.full_name, "p:file");
        assert_eq!(codes(&a), ["plugin_frontmatter_ignored"]);
    }

    #[test]
    fn subfolders_are_namespaces_and_the_frontmatter_name_wins() {
        let a = check_agent(
            "p",
            &["team".into(), "sub".into()],
            "file",
            b"---\nname: lead\ndescription: d\n---\nbody\n",
        );
        assert_eq!(a.full_name, "p:team:sub:lead");
    }

    #[test]
    fn plugin_ignored_keys_are_warnings_at_the_key() {
        let a =
            agent("---\nname: file\ndescription: d\npermissionMode: plan\nhooks: []\n---\nbody\n");
        let at: Vec<(&str, usize)> = a.diagnostics.iter().map(|d| (d.code, d.line)).collect();
        assert_eq!(at, [("plugin_ignored_key", 4), ("plugin_ignored_key", 5)]);
        assert!(a
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Warning));
    }

    #[test]
    fn when_to_use_is_a_description_in_a_plugin() {
        let a = agent("---\nname: file\nwhen_to_use: Use it.\n---\nbody\n");
        assert_eq!(codes(&a), Vec::<&str>::new());
        let a = agent("---\nname: file\n---\nbody\n");
        assert_eq!(codes(&a), ["plugin_default_description"]);
    }

    #[test]
    fn json_layout_finds_keys_values_and_elements() {
        let text = "{\n  \"name\": \"x\",\n  \"agents\": [\"./a.md\", \"./b.md\"]\n}";
        let layout = json_layout(text, 0);
        assert_eq!(layout.len(), 2);
        assert_eq!(&text[layout[0].value_at..layout[0].value_at + 3], "\"x\"");
        assert_eq!(layout[1].elements.len(), 2);
        assert_eq!(
            &text[layout[1].elements[1]..layout[1].elements[1] + 8],
            "\"./b.md\""
        );
    }

    #[test]
    fn json_layout_never_panics_on_broken_text() {
        for text in [
            "{\"a",
            "{\"a\":[",
            "\"",
            "{\"a\\",
            "[[[",
            "}}]]",
            "{\"é\": [1,",
        ] {
            let _ = json_layout(text, 0);
        }
    }
}
