//! Where the project's migrations and database are. Highest first:
//! command-line flags, the nearest `yoyo.ini` (its `[DEFAULT]` `sources` and
//! `database`, relative paths resolved against the ini file's folder), then
//! the defaults (`migrations/`, no database).

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use serde::Serialize;

use crate::error::AppError;

/// The folder relative paths on the command line are read against when it
/// is not the project root: the working directory, when the project was
/// found by walking up from it (a path typed or tab-completed in a subfolder
/// means that subfolder's path).
static FLAG_BASE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Read relative `--dir` and `--database` paths against `dir`.
pub fn set_flag_base(dir: PathBuf) {
    let _ = FLAG_BASE.set(dir);
}

fn flag_base(root: &Path) -> PathBuf {
    FLAG_BASE
        .get()
        .cloned()
        .unwrap_or_else(|| root.to_path_buf())
}

/// Where a setting came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Flag,
    YoyoIni,
    Default,
}

/// The project's configuration, resolved.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    /// The project root (absolute).
    pub root: PathBuf,
    /// The `yoyo.ini` in use, if any.
    pub ini: Option<PathBuf>,
    /// The migrations folder (absolute).
    pub migrations: PathBuf,
    pub migrations_origin: Origin,
    /// The database URL, with a relative SQLite path rewritten against the project root.
    pub database: Option<String>,
    pub database_origin: Origin,
}

impl ProjectConfig {
    /// Resolve the configuration for the project at `root`.
    pub fn load(
        root: &Path,
        dir_flag: Option<&Path>,
        database_flag: Option<&str>,
    ) -> Result<Self, AppError> {
        let root = absolute(root)?;
        if !root.is_dir() {
            return Err(AppError::env(
                "project_dir_not_found",
                format!("project folder {} does not exist", root.display()),
                "pass an existing folder with -C/--project-dir",
            ));
        }
        let ini = find_yoyo_ini(&root);
        let values = match &ini {
            Some(path) => read_yoyo_ini(path)?,
            None => HashMap::new(),
        };
        let ini_dir = ini
            .as_ref()
            .and_then(|p| p.parent())
            .unwrap_or(&root)
            .to_path_buf();

        let (migrations, migrations_origin) = if let Some(dir) = dir_flag {
            (normalize(&flag_base(&root).join(dir)), Origin::Flag)
        } else if let Some(first) = values.get("sources").and_then(|s| py_split(s).next()) {
            (normalize(&ini_dir.join(first)), Origin::YoyoIni)
        } else {
            (root.join("migrations"), Origin::Default)
        };

        let (database, database_origin) = if let Some(url) = database_flag {
            (
                Some(rebase_sqlite_url(url, &flag_base(&root), &root)),
                Origin::Flag,
            )
        } else if let Some(url) = values.get("database").filter(|u| !u.trim().is_empty()) {
            (
                Some(rebase_sqlite_url(url.trim(), &ini_dir, &root)),
                Origin::YoyoIni,
            )
        } else {
            (None, Origin::Default)
        };

        Ok(ProjectConfig {
            root,
            ini,
            migrations,
            migrations_origin,
            database,
            database_origin,
        })
    }

    /// The SQLite database file the configured URL names, if one is configured.
    pub fn database_file(&self) -> Result<Option<PathBuf>, AppError> {
        let Some(url) = &self.database else {
            return Ok(None);
        };
        sqlite_path(url, &self.root).map(Some).ok_or_else(|| {
            AppError::env(
                "unsupported_database",
                format!("`{url}` is not a SQLite database file URL"),
                "pass --database sqlite:///path/to/file.db",
            )
        })
    }

    /// `path` relative to the project root when it is inside it.
    pub fn display(&self, path: &Path) -> String {
        display_relative(&self.root, path)
    }
}

/// The `[tool.migration-creator.NAME]` table of `root/pyproject.toml`: none
/// when the file or the table is missing; a file that is not TOML is
/// `invalid`'s error.
pub fn pyproject_section(
    root: &Path,
    name: &str,
    invalid: impl Fn(String) -> AppError,
) -> Result<Option<toml::Value>, AppError> {
    let path = root.join("pyproject.toml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AppError::io("read", &path, &e)),
    };
    let doc: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| invalid(e.to_string()))?;
    Ok(doc
        .get("tool")
        .and_then(|t| t.get("migration-creator"))
        .and_then(|t| t.get(name))
        .cloned())
}

/// `path` relative to `root` when inside it (with `/` separators), else as is.
pub fn display_relative(root: &Path, path: &Path) -> String {
    match path.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => path.to_string_lossy().into_owned(),
    }
}

/// `path` as a relative reference from `root`, with `..` where it lies
/// outside it; none when the two share no prefix (another drive).
pub fn relative_from(root: &Path, path: &Path) -> Option<String> {
    let (root, path) = (normalize(root), normalize(path));
    let mut a = root.components().peekable();
    let mut b = path.components().peekable();
    if a.peek() != b.peek() {
        return None;
    }
    while a.peek().is_some() && a.peek() == b.peek() {
        a.next();
        b.next();
    }
    let mut parts: Vec<String> = a.map(|_| "..".to_string()).collect();
    parts.extend(b.map(|c| c.as_os_str().to_string_lossy().into_owned()));
    Some(parts.join("/"))
}

/// The absolute form of `path` (against the working directory), normalised.
pub fn absolute(path: &Path) -> Result<PathBuf, AppError> {
    let cwd = std::env::current_dir()
        .map_err(|e| AppError::io("read the working directory", Path::new("."), &e))?;
    Ok(normalize(&cwd.join(path)))
}

/// Remove `.` and resolve `..` lexically.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The nearest `yoyo.ini`: in `root` or the closest ancestor.
pub fn find_yoyo_ini(root: &Path) -> Option<PathBuf> {
    root.ancestors()
        .map(|d| d.join("yoyo.ini"))
        .find(|p| p.is_file())
}

/// The `[DEFAULT]` values of a yoyo.ini, read exactly as yoyo 9.0.0 reads
/// them, so that a file yoyo refuses is refused here too instead of being
/// half-read (a wrong migrations folder, no database).
///
/// yoyo (`yoyo/config.py`, `yoyo/scripts/main.py`) uses
/// `configparser.ConfigParser` with its defaults: strict (a repeated section
/// or key is an error), `=` and `:` separators, `#`/`;` full-line comments,
/// indented continuation lines, keys lowercased, text decoded as UTF-8 (a BOM
/// is kept as text). Its interpolation is `BasicInterpolation` (`%(name)s`,
/// `%%`) whose names are the `[DEFAULT]` keys, `here` (the file's folder,
/// symlinks resolved) and every environment variable (name lowercased, `%`
/// escaped). `%inherit`/`%include` read more files. Every command then reads
/// `batch_mode` (a boolean), `sources`, `database`, `verbosity` (an integer)
/// and `migration_table`, expands every `[DEFAULT]` value when the file has
/// no other section, and stores `sources` and `migration_table` back, which
/// fails when their expanded value holds a lone `%`.
pub fn read_yoyo_ini(path: &Path) -> Result<HashMap<String, String>, AppError> {
    let env = interpolation_env();
    let resolved = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let bytes = std::fs::read(path).map_err(|e| AppError::io("read", path, &e))?;
    let mut files = vec![decode_ini(&bytes, path, &resolved)?];
    let mut latest: HashMap<PathBuf, usize> = HashMap::from([(resolved.clone(), 0)]);
    let mut order = std::collections::VecDeque::from([resolved.clone()]);
    let mut pending = vec![(Vec::<PathBuf>::new(), resolved, 0)];
    // yoyo's `read_config`: depth first, inherited files merged before the
    // file that names them, included files after.
    while let Some((ancestors, at, index)) = pending.pop() {
        let (inherits, includes) = find_includes(&files[index], &env)?;
        for named in inherits.iter().chain(&includes) {
            if ancestors.contains(&named.resolved) {
                return Err(invalid(
                    &named.by,
                    named.line,
                    format!(
                        "`{}` names {}, which names this file again",
                        named.key,
                        named.shown.display()
                    ),
                    "remove the loop of %inherit/%include settings",
                ));
            }
            // yoyo's ConfigParser.read skips a file it cannot open.
            let file = match std::fs::read(&named.resolved) {
                Ok(bytes) => decode_ini(&bytes, &named.shown, &named.resolved)?,
                Err(_) => IniFile::empty(&named.shown, &named.resolved),
            };
            files.push(file);
            latest.insert(named.resolved.clone(), files.len() - 1);
            let mut chain = ancestors.clone();
            chain.push(at.clone());
            pending.push((chain, named.resolved.clone(), files.len() - 1));
        }
        for named in &inherits {
            order.push_front(named.resolved.clone());
        }
        order.extend(includes.into_iter().map(|n| n.resolved));
    }
    let merged: Vec<&IniFile> = order
        .iter()
        .filter_map(|p| latest.get(p).map(|&i| &files[i]))
        .collect();
    yoyo_defaults(&merged, &env)
}

/// configparser's `MAX_INTERPOLATION_DEPTH`.
const MAX_INTERPOLATION_DEPTH: usize = 10;

/// The settings yoyo reads on every command, in the order it reads them.
const YOYO_KEYS: [&str; 5] = [
    "batch_mode",
    "sources",
    "database",
    "verbosity",
    "migration_table",
];

/// configparser's `BOOLEAN_STATES`.
const BOOLEANS: [&str; 8] = ["1", "yes", "true", "on", "0", "no", "false", "off"];

/// One `key = value`, with the file and line it was written on.
#[derive(Debug, Clone)]
struct Setting {
    key: String,
    value: String,
    file: PathBuf,
    line: usize,
}

/// The settings of one section, in file order (configparser keeps it).
#[derive(Debug, Clone, Default)]
struct Options(Vec<Setting>);

impl Options {
    fn get(&self, key: &str) -> Option<&Setting> {
        self.0.iter().find(|s| s.key == key)
    }

    fn set(&mut self, setting: Setting) {
        match self.0.iter_mut().find(|s| s.key == setting.key) {
            Some(old) => *old = setting,
            None => self.0.push(setting),
        }
    }
}

/// One yoyo.ini file as configparser holds it after reading.
#[derive(Debug, Clone)]
struct IniFile {
    /// The path shown in messages.
    shown: PathBuf,
    /// Its folder with symlinks resolved: `%(here)s`, and the base of the
    /// paths in `%inherit`/`%include`.
    here: PathBuf,
    defaults: Options,
    sections: Vec<(String, Options)>,
}

impl IniFile {
    fn empty(shown: &Path, resolved: &Path) -> Self {
        IniFile {
            shown: shown.to_path_buf(),
            here: resolved.parent().unwrap_or(Path::new(".")).to_path_buf(),
            defaults: Options::default(),
            sections: Vec::new(),
        }
    }
}

/// A file named by `%inherit` or `%include`.
struct Named {
    key: &'static str,
    shown: PathBuf,
    resolved: PathBuf,
    /// The file and line that name it.
    by: PathBuf,
    line: usize,
}

/// `config_invalid`: yoyo refuses the file; the message names the file and line.
fn invalid(file: &Path, line: usize, detail: String, hint: &str) -> AppError {
    AppError::env(
        "config_invalid",
        format!("yoyo cannot read {}: line {line}: {detail}", file.display()),
        hint,
    )
}

/// Decode a yoyo.ini as yoyo does (UTF-8, a BOM kept as text) and parse it.
fn decode_ini(bytes: &[u8], shown: &Path, resolved: &Path) -> Result<IniFile, AppError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = py_lines(std::str::from_utf8(good).unwrap_or_default()).count();
        let line = if good.ends_with(b"\n") || good.ends_with(b"\r") || good.is_empty() {
            line + 1
        } else {
            line
        };
        AppError::env(
            "config_encoding",
            format!(
                "cannot read {}: line {line} is not UTF-8 text (byte 0x{:02x}), and yoyo reads it as UTF-8",
                shown.display(),
                bytes[e.valid_up_to()]
            ),
            "save the file as UTF-8, then run the command again",
        )
    })?;
    // Python's utf-8 codec keeps a BOM as U+FEFF, which is not whitespace:
    // the first line is then no section header and yoyo stops.
    if text.starts_with('\u{feff}') {
        return Err(AppError::env(
            "config_encoding",
            format!(
                "cannot read {}: line 1 starts with a UTF-8 byte order mark (BOM), which yoyo reads as text before the first section header",
                shown.display()
            ),
            "save the file as UTF-8 without a BOM (\"UTF-8\", not \"UTF-8 with BOM\"), then run the command again",
        ));
    }
    let mut file = IniFile::empty(shown, resolved);
    parse_ini(text, &mut file)?;
    Ok(file)
}

/// Where the lines being read go: configparser's `cursect`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Nowhere,
    Defaults,
    Section(usize),
}

fn options_mut(file: &mut IniFile, target: Target) -> Option<&mut Options> {
    match target {
        Target::Nowhere => None,
        Target::Defaults => Some(&mut file.defaults),
        Target::Section(i) => file.sections.get_mut(i).map(|(_, o)| o),
    }
}

/// configparser's `RawConfigParser._read` with its default options. Errors
/// it raises at once (no section header yet, a repeated section or key) stop
/// here at once; a line it cannot parse is reported after the whole file, as
/// configparser does.
fn parse_ini(text: &str, file: &mut IniFile) -> Result<(), AppError> {
    let shown = file.shown.clone();
    let mut target = Target::Nowhere;
    let mut section = String::new();
    // The key the next continuation line belongs to ("" counts as none).
    let mut option = String::new();
    let mut indent_level = 0;
    let mut sections_seen: HashMap<String, usize> = HashMap::new();
    let mut options_seen: HashMap<(String, String), usize> = HashMap::new();
    let mut unparsed: Option<(usize, String, &str)> = None;
    for (index, line) in py_lines(text).enumerate() {
        let lineno = index + 1;
        let stripped = py_strip(line);
        let comment = stripped.starts_with(['#', ';']);
        let value = if comment { "" } else { stripped };
        if value.is_empty() {
            // A blank line belongs to the value above (it is trimmed at the
            // end if nothing follows); a comment line does not.
            if !comment && !option.is_empty() {
                let key = option.clone();
                if let Some(s) =
                    options_mut(file, target).and_then(|o| o.0.iter_mut().find(|s| s.key == key))
                {
                    s.value.push('\n');
                }
            }
            continue;
        }
        let indent = line.chars().position(|c| !is_py_space(c)).unwrap_or(0);
        if target != Target::Nowhere && !option.is_empty() && indent > indent_level {
            let key = option.clone();
            if let Some(s) =
                options_mut(file, target).and_then(|o| o.0.iter_mut().find(|s| s.key == key))
            {
                s.value.push('\n');
                s.value.push_str(value);
            }
            continue;
        }
        indent_level = indent;
        if let Some(header) = section_header(value) {
            if header == "DEFAULT" {
                // configparser never records [DEFAULT] as seen: it may come
                // back, though its keys may still not repeat.
                target = Target::Defaults;
            } else if let Some(first) = sections_seen.get(header) {
                return Err(invalid(
                    &shown,
                    lineno,
                    format!("section [{header}] appears again (first on line {first})"),
                    "merge the two sections into one: yoyo refuses a section written twice",
                ));
            } else {
                sections_seen.insert(header.to_string(), lineno);
                file.sections.push((header.to_string(), Options::default()));
                target = Target::Section(file.sections.len() - 1);
            }
            section = header.to_string();
            option.clear();
            continue;
        }
        if target == Target::Nowhere {
            let (detail, hint) = if unclosed_header(value) {
                (
                    format!("section header `{value}` has no closing `]`"),
                    "close the section header, as in [DEFAULT]",
                )
            } else {
                (
                    format!("`{value}` comes before any section header"),
                    "start the file with a [DEFAULT] line: yoyo reads sources and database from [DEFAULT]",
                )
            };
            return Err(invalid(&shown, lineno, detail, hint));
        }
        let Some(split) = value.find(['=', ':']) else {
            let (detail, hint) = if unclosed_header(value) {
                (
                    format!("section header `{value}` has no closing `]`"),
                    "close the section header, as in [DEFAULT]",
                )
            } else {
                (
                    format!("`{value}` is neither a [section] header nor a `key = value` setting"),
                    "write it as key = value, indent it to continue the value above, or start it with # to comment it out",
                )
            };
            unparsed.get_or_insert((lineno, detail, hint));
            continue;
        };
        let key = py_strip(&value[..split]).to_lowercase();
        if key.is_empty() {
            unparsed.get_or_insert((
                lineno,
                format!(
                    "`{value}` has no key before its `{}`",
                    &value[split..split + 1]
                ),
                "write it as key = value",
            ));
        }
        let seen = (section.clone(), key.clone());
        if let Some(first) = options_seen.get(&seen) {
            return Err(invalid(
                &shown,
                lineno,
                format!("`{key}` is set again in [{section}] (first on line {first})"),
                "keep one of the two lines: yoyo refuses a key written twice in a section",
            ));
        }
        options_seen.insert(seen, lineno);
        if let Some(options) = options_mut(file, target) {
            options.set(Setting {
                key: key.clone(),
                value: py_strip(&value[split + 1..]).to_string(),
                file: shown.clone(),
                line: lineno,
            });
        }
        option = key;
    }
    let all = std::iter::once(&mut file.defaults).chain(file.sections.iter_mut().map(|(_, o)| o));
    for options in all {
        for s in &mut options.0 {
            s.value
                .truncate(s.value.trim_end_matches(is_py_space).len());
        }
    }
    match unparsed {
        Some((line, detail, hint)) => Err(invalid(&shown, line, detail, hint)),
        None => Ok(()),
    }
}

/// configparser's `SECTCRE` (`\[(?P<header>.+)\]`, matched at the start):
/// everything between the `[` and the last `]`, whatever follows it.
fn section_header(value: &str) -> Option<&str> {
    let inner = value.strip_prefix('[')?;
    let end = inner.rfind(']')?;
    (end > 0).then(|| &inner[..end])
}

fn unclosed_header(value: &str) -> bool {
    value.starts_with('[') && !value.contains(']')
}

/// The lines of `text` as Python's text files yield them (universal
/// newlines: `\n`, `\r\n` and `\r` all end a line).
fn py_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.find(['\n', '\r']).unwrap_or(rest.len());
        let line = &rest[..end];
        let skip = if rest[end..].starts_with("\r\n") {
            2
        } else {
            usize::from(end < rest.len())
        };
        rest = &rest[end + skip..];
        Some(line)
    })
}

/// Python's `str.isspace`: Rust's whitespace plus the four ASCII separators.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Python's `str.split()`: the words of a value such as `sources`.
fn py_split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_py_space).filter(|w| !w.is_empty())
}

/// yoyo's interpolation names from the environment: lowercased, `%` escaped.
fn interpolation_env() -> HashMap<String, String> {
    std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().to_lowercase(),
                v.to_string_lossy().replace('%', "%%"),
            )
        })
        .collect()
}

/// What `%(name)s` can name while expanding a value of one file: the
/// section's keys, then `[DEFAULT]`'s, then `here`, then the environment.
struct Scope<'a> {
    options: Vec<&'a Options>,
    here: &'a Path,
    env: &'a HashMap<String, String>,
}

impl Scope<'_> {
    fn get(&self, name: &str) -> Option<String> {
        if let Some(s) = self.options.iter().find_map(|o| o.get(name)) {
            return Some(s.value.clone());
        }
        if name == "here" {
            return Some(self.here.to_string_lossy().into_owned());
        }
        self.env.get(name).cloned()
    }

    /// `setting` expanded; a failure is `config_invalid` at its line.
    fn expand(&self, setting: &Setting, section: &str) -> Result<String, AppError> {
        let mut out = String::new();
        expand_into(&setting.value, self, 1, &mut out).map_err(|e| {
            let key = &setting.key;
            let (detail, hint) = match e {
                Expansion::Missing(name) => (
                    format!("`{key}` in [{section}] refers to %({name})s, which is no key of [DEFAULT], `here` or an environment variable"),
                    format!("define `{name}` in [DEFAULT], or write a literal % as %%"),
                ),
                Expansion::Lone(rest) => (
                    format!("in `{key}` in [{section}], `%` must be followed by `%` or `(`, found `{rest}`"),
                    "write a literal % as %%".to_string(),
                ),
                Expansion::BadReference(rest) => (
                    format!("in `{key}` in [{section}], `{rest}` is not a %(name)s reference"),
                    "write references as %(name)s and a literal % as %%".to_string(),
                ),
                Expansion::TooDeep => (
                    format!("`{key}` in [{section}] expands %(name)s references more than {MAX_INTERPOLATION_DEPTH} levels deep"),
                    "remove the loop of %(name)s references".to_string(),
                ),
            };
            invalid(&setting.file, setting.line, detail, &hint)
        })?;
        Ok(out)
    }
}

/// Why `BasicInterpolation` refused a value.
enum Expansion {
    Missing(String),
    Lone(String),
    BadReference(String),
    TooDeep,
}

/// configparser's `BasicInterpolation._interpolate_some`.
fn expand_into(
    value: &str,
    scope: &Scope,
    depth: usize,
    out: &mut String,
) -> Result<(), Expansion> {
    if depth > MAX_INTERPOLATION_DEPTH {
        return Err(Expansion::TooDeep);
    }
    let mut rest = value;
    while let Some(p) = rest.find('%') {
        out.push_str(&rest[..p]);
        rest = &rest[p..];
        if let Some(tail) = rest.strip_prefix("%%") {
            out.push('%');
            rest = tail;
        } else if rest.starts_with("%(") {
            let (name, tail) =
                reference(rest).ok_or_else(|| Expansion::BadReference(rest.to_string()))?;
            let name = name.to_lowercase();
            let v = scope.get(&name).ok_or(Expansion::Missing(name))?;
            if v.contains('%') {
                expand_into(&v, scope, depth + 1, out)?;
            } else {
                out.push_str(&v);
            }
            rest = tail;
        } else {
            return Err(Expansion::Lone(rest.to_string()));
        }
    }
    out.push_str(rest);
    Ok(())
}

/// A `%(name)s` reference at the start of `s` (configparser's
/// `%\(([^)]+)\)s`): the name and what follows it.
fn reference(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix("%(")?;
    let end = inner.find(')')?;
    let tail = inner[end..].strip_prefix(")s")?;
    (end > 0).then(|| (&inner[..end], tail))
}

/// Whether configparser lets yoyo store `value` back (`before_set`): every
/// `%` is part of `%%` or `%(name)s`.
fn storable(value: &str) -> bool {
    let value = value.replace("%%", "");
    let mut rest = value.as_str();
    while let Some(p) = rest.find('%') {
        match reference(&rest[p..]) {
            Some((_, tail)) => rest = tail,
            None => return false,
        }
    }
    true
}

fn not_storable(setting: &Setting, section: &str, value: &str, hint: &str) -> AppError {
    invalid(
        &setting.file,
        setting.line,
        format!(
            "`{}` in [{section}] is `{value}` once expanded, and yoyo stores it back, which fails on its lone `%`",
            setting.key
        ),
        hint,
    )
}

/// yoyo's `find_includes`: the files `%inherit` and `%include` name.
fn find_includes(
    file: &IniFile,
    env: &HashMap<String, String>,
) -> Result<(Vec<Named>, Vec<Named>), AppError> {
    let scope = Scope {
        options: vec![&file.defaults],
        here: &file.here,
        env,
    };
    let mut found = [Vec::new(), Vec::new()];
    for (key, named) in ["%inherit", "%include"].into_iter().zip(&mut found) {
        let Some(setting) = file.defaults.get(key) else {
            continue;
        };
        for word in py_split(&scope.expand(setting, "DEFAULT")?) {
            let (strict, p) = match word.strip_prefix('?') {
                Some(p) => (false, p),
                None => (true, word),
            };
            let shown = normalize(&file.shown.parent().unwrap_or(Path::new(".")).join(p));
            match file.here.join(p).canonicalize() {
                Ok(resolved) => named.push(Named {
                    key,
                    shown,
                    resolved,
                    by: setting.file.clone(),
                    line: setting.line,
                }),
                Err(_) if strict => {
                    return Err(invalid(
                        &setting.file,
                        setting.line,
                        format!("`{key}` names {}, which does not exist", shown.display()),
                        &format!("fix the path, or write ?{p} to make the file optional"),
                    ))
                }
                Err(_) => {}
            }
        }
    }
    let [inherits, includes] = found;
    Ok((inherits, includes))
}

/// The `[DEFAULT]` values yoyo ends up with from `files` (in yoyo's merge
/// order), checked as yoyo's commands check them.
fn yoyo_defaults(
    files: &[&IniFile],
    env: &HashMap<String, String>,
) -> Result<HashMap<String, String>, AppError> {
    let Some((base, rest)) = files.split_first() else {
        return Ok(HashMap::new());
    };
    let mut defaults = base.defaults.clone();
    let mut has_sections = !base.sections.is_empty();
    // `ConfigParser.read_dict(other)`: every value of every section of the
    // later files, expanded in its own file and stored back.
    let merge_hint = "write a literal % in a file read through %inherit/%include as %%%% (yoyo expands its values twice)";
    for file in rest {
        let scope = Scope {
            options: vec![&file.defaults],
            here: &file.here,
            env,
        };
        for setting in &file.defaults.0 {
            let value = scope.expand(setting, "DEFAULT")?;
            if !storable(&value) {
                return Err(not_storable(setting, "DEFAULT", &value, merge_hint));
            }
            defaults.set(Setting {
                value,
                ..setting.clone()
            });
        }
        for (name, options) in &file.sections {
            has_sections = true;
            let scope = Scope {
                options: vec![options, &file.defaults],
                here: &file.here,
                env,
            };
            let inherited = file
                .defaults
                .0
                .iter()
                .filter(|d| options.get(&d.key).is_none());
            for setting in options.0.iter().chain(inherited) {
                let value = scope.expand(setting, name)?;
                if !storable(&value) {
                    return Err(not_storable(setting, name, &value, merge_hint));
                }
            }
        }
    }
    defaults
        .0
        .retain(|s| s.key != "%include" && s.key != "%inherit");

    let scope = Scope {
        options: vec![&defaults],
        here: &base.here,
        env,
    };
    let mut values = HashMap::new();
    for key in YOYO_KEYS {
        let Some(setting) = defaults.get(key) else {
            continue;
        };
        let value = scope.expand(setting, "DEFAULT")?;
        let problem = match key {
            "batch_mode" if !BOOLEANS.contains(&value.to_lowercase().as_str()) => Some((
                format!("batch_mode is `{value}`, which is not a boolean"),
                "use on/off, yes/no, true/false or 1/0",
            )),
            "verbosity" if !is_python_int(&value) => Some((
                format!("verbosity is `{value}`, which is not a whole number"),
                "use a number from 0 to 3",
            )),
            _ => None,
        };
        if let Some((detail, hint)) = problem {
            return Err(invalid(&setting.file, setting.line, detail, hint));
        }
        values.insert(key.to_string(), value);
    }
    // main() checks whether the file is empty with `config.items("DEFAULT")`,
    // which expands every value, only when there is no other section.
    for setting in &defaults.0 {
        match scope.expand(setting, "DEFAULT") {
            Ok(value) => {
                values.entry(setting.key.clone()).or_insert(value);
            }
            Err(e) if !has_sections => return Err(e),
            Err(_) => {}
        }
    }
    let twice = "yoyo expands sources and migration_table twice: write a literal % there as %%%%";
    if let (Some(setting), Some(value)) = (defaults.get("sources"), values.get("sources")) {
        let joined = py_split(value).collect::<Vec<_>>().join(" ");
        if !joined.is_empty() && !storable(&joined) {
            return Err(not_storable(setting, "DEFAULT", &joined, twice));
        }
    }
    if let (Some(setting), Some(value)) = (
        defaults.get("migration_table"),
        values.get("migration_table"),
    ) {
        if !value.is_empty() && !storable(value) {
            return Err(not_storable(setting, "DEFAULT", value, twice));
        }
    }
    Ok(values)
}

/// Whether Python's `int()` takes `s` (ASCII digits only: a setting written
/// with other Unicode digits is refused here though Python would take it).
fn is_python_int(s: &str) -> bool {
    let s = py_strip(s);
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    digits
        .split('_')
        .all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()))
}

/// Rewrite a `sqlite:///relative/path` URL so the path is resolved against
/// `base` and then expressed relative to `root` (the folder the agent runs
/// yoyo from). Absolute paths, `:memory:` and other schemes stay as they are.
pub fn rebase_sqlite_url(url: &str, base: &Path, root: &Path) -> String {
    let Some(path) = url.strip_prefix("sqlite:///") else {
        return url.to_string();
    };
    let (path, query) = match path.find('?') {
        Some(i) => (&path[..i], &path[i..]),
        None => (path, ""),
    };
    if path.is_empty() || path.starts_with('/') || path == ":memory:" {
        return url.to_string();
    }
    let resolved = normalize(&base.join(path));
    match resolved.strip_prefix(root) {
        Ok(rel) => format!(
            "sqlite:///{}{query}",
            rel.to_string_lossy().replace('\\', "/")
        ),
        Err(_) => format!("sqlite:///{}{query}", resolved.to_string_lossy()),
    }
}

/// The file a SQLite URL names, if it is one, as yoyo 9.0.0 finds it: the
/// path of `urlsplit(url)` (so a `?query` and a `#fragment` are cut off),
/// opened by SQLite as `file:PATH`, a URI, which percent-decodes it
/// (`my%20app.db` is `my app.db`; `%00` ends the name, as in SQLite).
pub fn sqlite_path(url: &str, root: &Path) -> Option<PathBuf> {
    let scheme = url.get(..10)?;
    if !scheme.eq_ignore_ascii_case("sqlite:///") {
        return None;
    }
    let rest = &url[10..];
    let path = &rest[..rest.find(['?', '#']).unwrap_or(rest.len())];
    let decoded = percent_decode(path);
    if decoded.is_empty() || decoded == b":memory:" {
        return None;
    }
    #[cfg(unix)]
    let path = {
        use std::os::unix::ffi::OsStrExt;
        PathBuf::from(std::ffi::OsStr::from_bytes(&decoded))
    };
    #[cfg(not(unix))]
    let path = PathBuf::from(String::from_utf8_lossy(&decoded).into_owned());
    Some(normalize(&root.join(path)))
}

/// SQLite's decoding of a URI's path: `%` and two hex digits is that byte,
/// anything else stays as it is, and `%00` ends the text.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            ) {
                let octet = h * 16 + l;
                if octet == 0 {
                    break;
                }
                out.push(octet);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `[DEFAULT]` values yoyo reads from `text`, a yoyo.ini in `/p`.
    fn defaults(text: &str) -> Result<HashMap<String, String>, AppError> {
        let env = HashMap::from([("home".to_string(), "/h%%".to_string())]);
        let mut file = IniFile::empty(Path::new("/p/yoyo.ini"), Path::new("/p/yoyo.ini"));
        parse_ini(text, &mut file)?;
        yoyo_defaults(&[&file], &env)
    }

    fn rejection(text: &str) -> String {
        let e = defaults(text).expect_err("yoyo rejects this file");
        assert_eq!(e.code, "config_invalid");
        e.message
    }

    #[test]
    fn ini_defaults_follow_configparser() {
        let v = defaults(
            "# c\n[DEFAULT]\nSources = db/migrations\n  # not a line of the value\n\n  more\n\ndatabase: sqlite:///%(here)s/app%%.db\n; c\n[DEFAULT] ignored\nhome_db = %(HOME)s/x\n[other]\nsources = %(nope)s\r\n",
        )
        .unwrap();
        assert_eq!(v["sources"], "db/migrations\n\nmore");
        assert_eq!(v["database"], "sqlite:////p/app%.db");
        assert_eq!(v["home_db"], "/h%/x");
        assert!(defaults("").unwrap().is_empty());
        assert!(defaults("; only a comment\n\n").unwrap().is_empty());
    }

    #[test]
    fn ini_rejections_follow_configparser_and_yoyo() {
        let db = "database = sqlite:///x.db\n";
        for (text, needle) in [
            (
                "sources = m\n".to_string(),
                "line 1: `sources = m` comes before",
            ),
            (
                "[DEFAULT\nsources = m\n".into(),
                "line 1: section header `[DEFAULT` has no closing",
            ),
            (
                "[DEFAULT]\n[x\na = 1\n".into(),
                "line 2: section header `[x` has no closing",
            ),
            (
                "[DEFAULT]\njunk\na = 1\na = 2\n".into(),
                "line 4: `a` is set again in [DEFAULT] (first on line 3)",
            ),
            ("[DEFAULT]\njunk\n= 1\n".into(), "line 2: `junk` is neither"),
            (
                "[DEFAULT]\na = 1\n[DEFAULT]\nA = 2\n".into(),
                "line 4: `a` is set again",
            ),
            (
                "[DEFAULT]\n[x]\n[y]\n[x]\n".into(),
                "line 4: section [x] appears again (first on line 2)",
            ),
            (
                format!("[DEFAULT]\n{db}sources = %(nope)s\n[x]\n"),
                "line 3: `sources` in [DEFAULT] refers to %(nope)s",
            ),
            (
                format!("[DEFAULT]\n{db}note = 50%\n"),
                "line 3: in `note` in [DEFAULT], `%` must be followed",
            ),
            (
                format!("[DEFAULT]\n{db}migration_table = %(x\n"),
                "is not a %(name)s reference",
            ),
            (
                format!("[DEFAULT]\n{db}migration_table = %(migration_table)s\n"),
                "more than 10 levels deep",
            ),
            (
                format!("[DEFAULT]\n{db}sources = a%%b\n"),
                "line 3: `sources` in [DEFAULT] is `a%b` once expanded",
            ),
            (
                format!("[DEFAULT]\n{db}batch_mode = maybe\n"),
                "batch_mode is `maybe`",
            ),
            (
                format!("[DEFAULT]\n{db}verbosity = 1.0\n"),
                "verbosity is `1.0`",
            ),
        ] {
            let message = rejection(&text);
            assert!(
                message.starts_with("yoyo cannot read /p/yoyo.ini: line "),
                "{message}"
            );
            assert!(message.contains(needle), "{text:?}: {message}");
        }
    }

    #[test]
    fn what_yoyo_only_reads_when_there_is_no_other_section_may_be_wrong() {
        let text = "[DEFAULT]\nnote = %(nope)s 50%\nsources = a%%%%b\nverbosity = +1_0\n[x]\nz = %(nope)s\n";
        assert_eq!(defaults(text).unwrap()["sources"], "a%%b");
    }

    #[test]
    fn ini_encoding_follows_python() {
        let p = Path::new("/p/yoyo.ini");
        let e = decode_ini(b"[DEFAULT]\r\nsources = caf\xe9\n", p, p).unwrap_err();
        assert_eq!(e.code, "config_encoding");
        assert!(
            e.message.starts_with("cannot read /p/yoyo.ini: line 2 "),
            "{}",
            e.message
        );
        let e = decode_ini("\u{feff}[DEFAULT]\n".as_bytes(), p, p).unwrap_err();
        assert_eq!(e.code, "config_encoding");
        assert!(e.hint.contains("without a BOM"), "{}", e.hint);
        assert!(decode_ini("[DEFAULT]\nsources = café\n".as_bytes(), p, p).is_ok());
    }

    #[test]
    fn sqlite_urls_name_the_file_yoyo_and_sqlite_open() {
        let root = Path::new("/p");
        let path = |url: &str| sqlite_path(url, root).map(|p| p.display().to_string());
        for (url, file) in [
            ("sqlite:///instance/app.db", Some("/p/instance/app.db")),
            ("SQLite:///app.db", Some("/p/app.db")),
            ("sqlite:////abs/app.db", Some("/abs/app.db")),
            (
                "sqlite:///instance/my%20app.db",
                Some("/p/instance/my app.db"),
            ),
            ("sqlite:///q%3Fx.db", Some("/p/q?x.db")),
            ("sqlite:///a%23b.db", Some("/p/a#b.db")),
            ("sqlite:///a#b.db", Some("/p/a")),
            ("sqlite:///app.db?mode=ro", Some("/p/app.db")),
            ("sqlite:///100%.db", Some("/p/100%.db")),
            ("sqlite:///a%zzb.db", Some("/p/a%zzb.db")),
            ("sqlite:///cut%00here.db", Some("/p/cut")),
            ("sqlite:///:memory:", None),
            ("sqlite:///", None),
            ("sqlite:///%00", None),
            ("sqlite://host/app.db", None),
            ("postgresql://h/db", None),
            ("sqlite:", None),
        ] {
            assert_eq!(path(url).as_deref(), file, "{url}");
        }
    }

    #[test]
    fn sqlite_urls_are_rebased_on_the_project_root() {
        let root = Path::new("/p");
        assert_eq!(
            rebase_sqlite_url("sqlite:///instance/app.db", Path::new("/p/sub"), root),
            "sqlite:///sub/instance/app.db"
        );
        assert_eq!(
            rebase_sqlite_url("sqlite:////abs/app.db", root, root),
            "sqlite:////abs/app.db"
        );
        assert_eq!(
            rebase_sqlite_url("sqlite:///../x.db", root, root),
            "sqlite:////x.db"
        );
        assert_eq!(
            rebase_sqlite_url("postgresql://h/db", root, root),
            "postgresql://h/db"
        );
    }
}
