//! `validate [PATH...]`: check agent files as Claude Code 2.1.332 loads them,
//! and plugins (a folder with `.claude-plugin/plugin.json`) as it loads plugins.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;
use walkdir::WalkDir;

use crate::agent_file::frontmatter::MAX_AGENT_FILE_BYTES;
use crate::agent_file::{plugin, rules};
use crate::cli::ValidateArgs;
use crate::config::{self, display_relative};
use crate::diagnostic::{
    render_github, render_sarif, render_text, Diagnostic, SarifRule, Severity,
};
use crate::error::{AppError, ExitStatus};
use crate::output::{Printer, Report, Style};

/// The result of `validate`.
#[derive(Debug, Serialize)]
pub struct ValidateReport {
    pub ok: bool,
    pub files: Vec<FileReport>,
    /// The plugins checked, with the agents the client lists for each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginReport>,
    pub summary: Summary,
    #[serde(skip)]
    pub io_problem: bool,
    /// Whether warnings fail the check (`--strict`).
    #[serde(skip)]
    pub strict: bool,
}

/// Findings for one file.
#[derive(Debug, Serialize)]
pub struct FileReport {
    pub path: String,
    /// The agent's name, when the file has a valid one; for a plugin's agent
    /// the full `plugin:agent` name, for its manifest the plugin's name.
    pub name: Option<String>,
    /// Whether Claude Code loads (and can spawn) this agent: no errors. For
    /// a plugin's manifest: whether the client loads the plugin.
    pub loads: bool,
    /// The plugin the file belongs to (its manifest or one of its agents).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
    #[serde(skip)]
    source: Option<String>,
    #[serde(skip)]
    abs: PathBuf,
    /// Part of a plugin: judged by `plugin`, not by folder scopes.
    #[serde(skip)]
    in_plugin: bool,
    /// `loads` as decided by the check, not by the file's own errors.
    #[serde(skip)]
    fixed_loads: Option<bool>,
}

/// One plugin: where it is, whether it loads, and its agents as the client
/// lists them (`plugin:agent`).
#[derive(Debug, Serialize)]
pub struct PluginReport {
    pub path: String,
    pub name: Option<String>,
    pub loads: bool,
    pub agents: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Summary {
    pub files: usize,
    pub errors: usize,
    pub warnings: usize,
    pub notes: usize,
}

pub fn run(
    args: &ValidateArgs,
    root: &Path,
    printer: &Printer,
) -> Result<ValidateReport, AppError> {
    let root = config::absolute(root)?;
    if !root.is_dir() {
        return Err(AppError::env(
            "project_dir_not_found",
            format!("project folder {} does not exist", root.display()),
            "pass an existing folder with -C/--project-dir",
        ));
    }
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        // A plugin root's agents/ folder is the plugin's: check it as such.
        let agents = if plugin::is_plugin_root(&root) {
            root.clone()
        } else {
            root.join("agents")
        };
        let defaults: Vec<PathBuf> = [root.join(".claude").join("agents"), agents]
            .into_iter()
            .filter(|p| p.is_dir())
            .collect();
        if defaults.is_empty() {
            printer.log(&format!(
                "no agent folders: neither .claude/agents/ nor agents/ exists in {}",
                root.display()
            ));
        }
        defaults
    } else {
        args.paths
            .iter()
            .map(|p| config::absolute(p))
            .collect::<Result<_, _>>()?
    };
    Ok(validate_paths(&root, &paths, args.strict))
}

/// Check the plugin at `plugin_root` unless it already was (a plugin is
/// checked once, however many of its files are named); whether a file could
/// not be read.
fn check_plugin_once(
    root: &Path,
    plugin_root: &Path,
    plugins: &mut Vec<PluginReport>,
    files: &mut Vec<FileReport>,
) -> bool {
    let shown = display_relative(root, plugin_root);
    if plugins.iter().any(|p| p.path == shown) {
        return false;
    }
    let checked = plugin::check(plugin_root);
    let io_problem = checked.io_problem;
    plugins.push(add_plugin(root, checked, files));
    io_problem
}

/// Validate files and folders (absolute paths); paths in the report are
/// relative to `root` when inside it.
pub fn validate_paths(root: &Path, paths: &[PathBuf], strict: bool) -> ValidateReport {
    let mut files = Vec::new();
    let mut plugins: Vec<PluginReport> = Vec::new();
    let mut io_problem = false;
    for path in paths {
        if let Some(plugin_root) = plugin_for(path) {
            io_problem |= check_plugin_once(root, &plugin_root, &mut plugins, &mut files);
            continue;
        }
        let meta = std::fs::metadata(path);
        match meta {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                walk(root, path, &mut files, &mut found, &mut io_problem);
                for plugin_root in found {
                    io_problem |= check_plugin_once(root, &plugin_root, &mut plugins, &mut files);
                }
            }
            Ok(_) => match agent_kind(path) {
                AgentKind::Agent | AgentKind::WrongExtension => {
                    files.push(check_file(root, path, &mut io_problem))
                }
                AgentKind::Other => files.push(FileReport::with(
                    root,
                    path,
                    Diagnostic::new(
                        Severity::Note,
                        "not_an_agent_file",
                        "not a Markdown file; Claude Code never reads it as an agent",
                    )
                    .hint("agent files end in `.md`"),
                )),
            },
            Err(e) => {
                io_problem = true;
                let code = if e.kind() == std::io::ErrorKind::NotFound {
                    "path_not_found"
                } else {
                    "unreadable"
                };
                files.push(FileReport::with(
                    root,
                    path,
                    Diagnostic::new(
                        Severity::Error,
                        code,
                        format!("cannot read {}: {e}", path.display()),
                    )
                    .hint(
                        "check the path; with no path, validate checks .claude/agents/ and agents/",
                    ),
                ));
            }
        }
    }
    // The same file named twice (a folder and a file in it) is reported once.
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.abs.clone()));
    check_duplicate_names(root, &mut files);

    let mut summary = Summary {
        files: files.len(),
        ..Summary::default()
    };
    for f in &mut files {
        f.diagnostics
            .sort_by_key(|d| (d.line, d.column, d.severity));
        f.loads = f
            .fixed_loads
            .unwrap_or_else(|| !f.diagnostics.iter().any(|d| d.severity == Severity::Error));
        for d in &f.diagnostics {
            match d.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Note => summary.notes += 1,
            }
        }
    }
    let ok = !io_problem && summary.errors == 0 && !(strict && summary.warnings > 0);
    ValidateReport {
        ok,
        files,
        plugins,
        summary,
        io_problem,
        strict,
    }
}

/// The plugin `path` is checked as: a plugin root, its manifest, or a file
/// or folder inside a plugin's agents (the default folder or one the
/// manifest names).
fn plugin_for(path: &Path) -> Option<PathBuf> {
    if path.is_dir() && plugin::is_plugin_root(path) {
        return Some(path.to_path_buf());
    }
    if let Some(root) = plugin::root_of_manifest(path) {
        return plugin::is_plugin_root(&root).then_some(root);
    }
    let owner = path
        .ancestors()
        .skip(1)
        .find(|a| plugin::is_plugin_root(a))?;
    if path.starts_with(owner.join("agents")) {
        return Some(owner.to_path_buf());
    }
    let checked = plugin::check(owner);
    checked
        .agents
        .iter()
        .any(|a| a.path == path)
        .then(|| owner.to_path_buf())
}

/// Add a checked plugin's manifest and agents to `files`; its summary.
fn add_plugin(
    root: &Path,
    checked: plugin::CheckedPlugin,
    files: &mut Vec<FileReport>,
) -> PluginReport {
    let name = checked.name.clone();
    files.push(FileReport {
        path: display_relative(root, &checked.manifest.path),
        name: checked.manifest.name.clone(),
        loads: checked.loads,
        plugin: name.clone(),
        diagnostics: checked.manifest.diagnostics.clone(),
        source: checked.manifest.text.clone(),
        abs: checked.manifest.path.clone(),
        in_plugin: true,
        fixed_loads: Some(checked.loads),
    });
    let mut listed: Vec<String> = Vec::new();
    for a in &checked.agents {
        // Duplicates load once: the client keeps one of them.
        let only_duplicate = a
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .all(|d| d.code == "duplicate_name");
        if let Some(n) = &a.name {
            if only_duplicate && !listed.contains(n) {
                listed.push(n.clone());
            }
        }
        files.push(FileReport {
            path: display_relative(root, &a.path),
            name: a.name.clone(),
            loads: !a.has_errors(),
            plugin: name.clone(),
            diagnostics: a.diagnostics.clone(),
            source: a.text.clone(),
            abs: a.path.clone(),
            in_plugin: true,
            fixed_loads: None,
        });
    }
    listed.sort();
    PluginReport {
        path: display_relative(root, &checked.root),
        name,
        loads: checked.loads,
        agents: listed,
    }
}

#[derive(Debug, PartialEq)]
enum AgentKind {
    Agent,
    WrongExtension,
    Other,
}

fn agent_kind(path: &Path) -> AgentKind {
    match path.extension().and_then(|e| e.to_str()) {
        Some("md") => AgentKind::Agent,
        Some(ext) if ext.eq_ignore_ascii_case("md") || ext.eq_ignore_ascii_case("markdown") => {
            AgentKind::WrongExtension
        }
        _ => AgentKind::Other,
    }
}

impl FileReport {
    fn with(root: &Path, path: &Path, d: Diagnostic) -> Self {
        FileReport {
            path: display_relative(root, path),
            name: None,
            loads: d.severity != Severity::Error,
            plugin: None,
            diagnostics: vec![d],
            source: None,
            abs: path.to_path_buf(),
            in_plugin: false,
            fixed_loads: None,
        }
    }
}

/// Walk `dir` for agent files; a plugin folder met on the way is not walked
/// but added to `plugin_roots`, to be checked as a plugin.
fn walk(
    root: &Path,
    dir: &Path,
    files: &mut Vec<FileReport>,
    plugin_roots: &mut Vec<PathBuf>,
    io_problem: &mut bool,
) {
    let mut it = WalkDir::new(dir)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        match entry {
            Ok(e)
                if e.file_type().is_dir() && e.depth() > 0 && plugin::is_plugin_root(e.path()) =>
            {
                plugin_roots.push(e.path().to_path_buf());
                it.skip_current_dir();
            }
            Ok(e) if e.file_type().is_file() => {
                if agent_kind(e.path()) != AgentKind::Other {
                    files.push(check_file(root, e.path(), io_problem));
                }
            }
            Ok(_) => {}
            Err(err) => {
                let path = err.path().unwrap_or(dir).to_path_buf();
                let d = if let Some(ancestor) = err.loop_ancestor() {
                    Diagnostic::new(
                        Severity::Warning,
                        "symlink_loop",
                        format!(
                            "symbolic link loop back to {}; skipped",
                            display_relative(root, ancestor)
                        ),
                    )
                    .hint("remove the link")
                } else if err.io_error().is_some_and(is_link_loop) {
                    Diagnostic::new(
                        Severity::Warning,
                        "symlink_loop",
                        "symbolic links that point at each other; skipped",
                    )
                    .hint("remove one of the links")
                } else if err
                    .io_error()
                    .is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
                {
                    Diagnostic::new(
                        Severity::Warning,
                        "broken_link",
                        "symbolic link to nothing; skipped",
                    )
                    .hint("remove the link or fix its target")
                } else {
                    *io_problem = true;
                    Diagnostic::new(Severity::Error, "unreadable", format!("cannot read: {err}"))
                        .hint("check the permissions")
                };
                files.push(FileReport::with(root, &path, d));
            }
        }
    }
}

/// Whether `e` is the operating system's "too many levels of symbolic links".
fn is_link_loop(e: &std::io::Error) -> bool {
    // ELOOP: 40 on Linux, 62 on macOS and the BSDs.
    matches!(e.raw_os_error(), Some(40) if cfg!(target_os = "linux"))
        || matches!(e.raw_os_error(), Some(62) if !cfg!(target_os = "linux"))
}

fn check_file(root: &Path, path: &Path, io_problem: &mut bool) -> FileReport {
    if agent_kind(path) == AgentKind::WrongExtension {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return FileReport::with(
            root,
            path,
            Diagnostic::new(
                Severity::Error,
                "wrong_extension",
                "Claude Code reads only files ending in lowercase `.md`; this one is never loaded",
            )
            .hint(format!("rename it to {stem}.md")),
        );
    }
    let bytes = match rules::read_agent_file(path) {
        rules::AgentBytes::Read(b) => b,
        rules::AgentBytes::TooLarge(d) => return FileReport::with(root, path, d),
        rules::AgentBytes::Failed(e) if is_link_loop(&e) => {
            return FileReport::with(
                root,
                path,
                Diagnostic::new(
                    Severity::Warning,
                    "symlink_loop",
                    "symbolic links that point at each other; skipped",
                )
                .hint("remove one of the links"),
            );
        }
        rules::AgentBytes::Failed(e) => {
            *io_problem = true;
            return FileReport::with(root, path, rules::unreadable(&e));
        }
    };
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let checked = rules::check(&stem, &bytes);
    FileReport {
        path: display_relative(root, path),
        loads: !checked.has_errors(),
        name: checked.name,
        plugin: None,
        diagnostics: checked.diagnostics,
        source: Some(checked.text),
        abs: path.to_path_buf(),
        in_plugin: false,
        fixed_loads: None,
    }
}

/// The folder whose agents share one namespace: the nearest ancestor named
/// `agents`, else the file's own folder.
fn scope_of(path: &Path) -> PathBuf {
    path.ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "agents"))
        .or_else(|| path.parent())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// Two agents with the same name in one scope: Claude Code uses one and
/// ignores the other. Files of the scope that were not named on the command
/// line are read too, so a commit that touches one of them is still checked.
fn check_duplicate_names(root: &Path, files: &mut [FileReport]) {
    let mut scopes: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        if f.name.is_some() && f.loads && !f.in_plugin {
            scopes.entry(scope_of(&f.abs)).or_default().push(i);
        }
    }
    for (scope, members) in scopes {
        let mut by_name: HashMap<String, Vec<PathBuf>> = HashMap::new();
        let checked: HashMap<&Path, usize> = members
            .iter()
            .map(|&i| (files[i].abs.as_path(), i))
            .collect();
        let is_agents_folder = scope.file_name().is_some_and(|n| n == "agents");
        let depth = if is_agents_folder { usize::MAX } else { 1 };
        for entry in WalkDir::new(&scope)
            .follow_links(true)
            .max_depth(depth)
            .sort_by_file_name()
            .into_iter()
            .flatten()
        {
            if !entry.file_type().is_file() || agent_kind(entry.path()) != AgentKind::Agent {
                continue;
            }
            let name = match checked.get(entry.path()) {
                Some(&i) => files[i].name.clone(),
                None => {
                    let Ok(bytes) = std::fs::read(entry.path()) else {
                        continue;
                    };
                    if bytes.len() as u64 > MAX_AGENT_FILE_BYTES {
                        continue;
                    }
                    let stem = entry
                        .path()
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let c = rules::check(&stem, &bytes);
                    if c.has_errors() {
                        None
                    } else {
                        c.name
                    }
                }
            };
            if let Some(name) = name {
                by_name
                    .entry(name)
                    .or_default()
                    .push(entry.path().to_path_buf());
            }
        }
        for &i in &members {
            let Some(name) = files[i].name.clone() else {
                continue;
            };
            let Some(all) = by_name.get(&name) else {
                continue;
            };
            let others: Vec<String> = all
                .iter()
                .filter(|p| **p != files[i].abs)
                .map(|p| display_relative(root, p))
                .collect();
            if others.is_empty() {
                continue;
            }
            let line = files[i]
                .source
                .as_deref()
                .and_then(|s| s.lines().position(|l| l.starts_with("name:")))
                .map_or(1, |l| l + 1);
            files[i].diagnostics.push(
                Diagnostic::new(
                    Severity::Error,
                    "duplicate_name",
                    format!(
                        "another agent in {} is also named `{name}`: {}; Claude Code uses one and ignores the other",
                        display_relative(root, &scope),
                        others.join(", ")
                    ),
                )
                .at(line, 1)
                .hint("give each agent its own name, or delete the copy"),
            );
        }
    }
}

impl Report for ValidateReport {
    fn status(&self) -> ExitStatus {
        if self.io_problem {
            ExitStatus::Error
        } else if self.ok {
            ExitStatus::Success
        } else {
            ExitStatus::Failure
        }
    }

    fn github(&self) -> Option<String> {
        let mut out = String::new();
        for f in &self.files {
            for d in &f.diagnostics {
                out.push_str(&render_github(&f.path, d));
            }
        }
        Some(out)
    }

    fn github_log(&self) -> Option<String> {
        Some(summary_line(self))
    }

    fn sarif(&self) -> Option<String> {
        let rules: Vec<SarifRule> = crate::agent_file::codes::RULES
            .iter()
            .map(|r| SarifRule {
                code: r.code,
                severity: r.severity,
                doc: r.doc,
            })
            .collect();
        let results: Vec<(&str, &Diagnostic)> = self
            .files
            .iter()
            .flat_map(|f| f.diagnostics.iter().map(|d| (f.path.as_str(), d)))
            .collect();
        Some(render_sarif(&rules, &results))
    }

    fn text(&self, printer: &Printer) -> String {
        let mut out = String::new();
        for f in &self.files {
            for d in &f.diagnostics {
                out.push_str(&render_text(printer, &f.path, f.source.as_deref(), d));
                out.push('\n');
            }
        }
        let style = if self.summary.errors > 0 {
            Style::Error
        } else if self.ok {
            Style::Hint
        } else {
            Style::Warning
        };
        out.push_str(&printer.paint(style, &summary_line(self)));
        out.push('\n');
        out
    }
}

fn summary_line(report: &ValidateReport) -> String {
    let s = &report.summary;
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    let strict = if report.strict && s.errors == 0 && s.warnings > 0 {
        " (--strict: warnings fail the check)"
    } else {
        ""
    };
    format!(
        "{}: {}, {}, {}{strict}",
        plural(s.files, "file") + " checked",
        plural(s.errors, "error"),
        plural(s.warnings, "warning"),
        plural(s.notes, "note")
    )
}
