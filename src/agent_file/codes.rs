//! Every code `validate` reports, with its severity and what it means: one
//! table, which the README's rule table is checked against.

use super::diagnostic::Severity;

/// A rule: its stable code, its severity, and a one-line doc (Markdown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub code: &'static str,
    pub severity: Severity,
    pub doc: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        code: "missing_frontmatter",
        severity: Severity::Error,
        doc: "the file does not start with `---` on line 1 (a leading blank line or space, `----`, no frontmatter at all)",
    },
    Rule {
        code: "unclosed_frontmatter",
        severity: Severity::Error,
        doc: "no `---` follows the opening line",
    },
    Rule {
        code: "yaml_syntax",
        severity: Severity::Error,
        doc: "the frontmatter is not YAML, even after the client's lenient retry; reported at the YAML line and column",
    },
    Rule {
        code: "frontmatter_not_mapping",
        severity: Severity::Error,
        doc: "the frontmatter is a list or a scalar",
    },
    Rule {
        code: "missing_name",
        severity: Severity::Error,
        doc: "`name` is missing, empty, or not a string (`name: 123`)",
    },
    Rule {
        code: "invalid_name",
        severity: Severity::Error,
        doc: "`name` starts with `-`, contains `:` (or a full-width colon), or is longer than 256 characters",
    },
    Rule {
        code: "missing_description",
        severity: Severity::Error,
        doc: "`description` is missing, empty, or not a string; keys are case-sensitive, so `Description:` does not count",
    },
    Rule {
        code: "hook_outside_hooks",
        severity: Severity::Error,
        doc: "a guard hook event (`PreToolUse`, `PermissionRequest`, `PreSkillShellCommand`) with something in it at the top level, or guard hooks or a hook matcher under any other top-level key but `hooks`, `metadata`, `mcpServers`, `lspServers` (`experimental` included)",
    },
    Rule {
        code: "invalid_hooks",
        severity: Severity::Error,
        doc: "`hooks` is not a mapping of event names (a string, a list, a single matcher)",
    },
    Rule {
        code: "unloadable_hook",
        severity: Severity::Error,
        doc: "a malformed entry under a guard event (not a list of matchers, a matcher without a `hooks` list, a hook `type` the client does not know, a missing `command`, a `timeout` that is not a positive number): the client drops the agent",
    },
    Rule {
        code: "zero_tools",
        severity: Severity::Error,
        doc: "`tools` lists tools and none of them resolves: the client refuses to spawn the agent (\"would be spawned with zero tools\")",
    },
    Rule {
        code: "no_tools",
        severity: Severity::Warning,
        doc: "`tools` is an empty list, empty, `~`, `false` or a number: the agent runs with no tools at all (omit `tools` to inherit every tool)",
    },
    Rule {
        code: "duplicate_name",
        severity: Severity::Error,
        doc: "two files in one agents folder have the same `name` (both are flagged; files of the folder not named on the command line are read too)",
    },
    Rule {
        code: "wrong_extension",
        severity: Severity::Error,
        doc: "`.MD`, `.markdown` and other spellings are never read: rename to `.md`",
    },
    Rule {
        code: "file_too_large",
        severity: Severity::Error,
        doc: "over 1,048,576 bytes: the client skips the file",
    },
    Rule {
        code: "unreadable",
        severity: Severity::Error,
        doc: "the file or folder cannot be read (exit 2)",
    },
    Rule {
        code: "path_not_found",
        severity: Severity::Error,
        doc: "a path on the command line does not exist (exit 2)",
    },
    Rule {
        code: "plugin_json_syntax",
        severity: Severity::Error,
        doc: "`.claude-plugin/plugin.json` is not JSON (trailing commas and comments included): the client refuses the plugin; reported at the JSON line and column",
    },
    Rule {
        code: "plugin_manifest_not_object",
        severity: Severity::Error,
        doc: "plugin.json is a list, a string or a number, not an object: the plugin is refused",
    },
    Rule {
        code: "plugin_missing_name",
        severity: Severity::Error,
        doc: "plugin.json has no `name`, or it is empty or not a string: the plugin is refused",
    },
    Rule {
        code: "plugin_invalid_name",
        severity: Severity::Error,
        doc: "the plugin `name` holds spaces, `:`, `@`, `/`, `\\` or control characters: the plugin is refused (loaded by path, as with `--plugin-dir`)",
    },
    Rule {
        code: "plugin_invalid_field",
        severity: Severity::Error,
        doc: "`version` is not a string, or `agents` is not a path or a list of paths: the plugin is refused",
    },
    Rule {
        code: "plugin_agents_path",
        severity: Severity::Error,
        doc: "a path in `agents` does not start with `./`, does not end in `.md` (folders are refused too), or climbs out with `..`: the plugin is refused",
    },
    Rule {
        code: "plugin_agents_path_missing",
        severity: Severity::Error,
        doc: "a path in `agents` names no file: the plugin loads without it, and `claude plugin validate` fails",
    },
    Rule {
        code: "plugin_not_loaded",
        severity: Severity::Error,
        doc: "an agent of a plugin whose manifest has errors: the client loads none of the plugin's agents",
    },
    Rule {
        code: "lenient_yaml",
        severity: Severity::Warning,
        doc: "the YAML parses only through the client's lenient retry (for example `description: Triggers on: 'x'`, or tab indentation); other tools reject it",
    },
    Rule {
        code: "duplicate_key",
        severity: Severity::Warning,
        doc: "a key appears twice; the client uses the last value",
    },
    Rule {
        code: "hook_entry_ignored",
        severity: Severity::Warning,
        doc: "a malformed entry under any other hook event, or an unknown event name: the client removes the entry (\"entry ignored\") and loads the agent",
    },
    Rule {
        code: "unknown_key",
        severity: Severity::Warning,
        doc: "a key the client does not read, with a suggestion (`allowed-tools` → `tools`, `whenToUse` → `description`, `Description` → `description`)",
    },
    Rule {
        code: "unknown_tool",
        severity: Severity::Warning,
        doc: "a tool in `tools` or `disallowedTools` the client does not know, with a did-you-mean",
    },
    Rule {
        code: "unknown_model",
        severity: Severity::Warning,
        doc: "`model` is not an alias (`sonnet opus haiku fable best sonnet[1m] opus[1m] fable[1m] opusplan inherit`) or a `claude-` id",
    },
    Rule {
        code: "invalid_color",
        severity: Severity::Warning,
        doc: "`color` is not one of `red blue green yellow purple orange pink cyan`",
    },
    Rule {
        code: "invalid_permission_mode",
        severity: Severity::Warning,
        doc: "`permissionMode` is not one of `acceptEdits auto bypassPermissions default dontAsk plan manual`",
    },
    Rule {
        code: "invalid_max_turns",
        severity: Severity::Warning,
        doc: "`maxTurns` is not a positive integer (text is read as the client reads it: `100_000`, `3.7` is 3)",
    },
    Rule {
        code: "invalid_auto_compact_window",
        severity: Severity::Warning,
        doc: "`autoCompactWindow` is not an integer of at least 100000",
    },
    Rule {
        code: "invalid_effort",
        severity: Severity::Warning,
        doc: "`effort` is not `low medium high xhigh max` (any case, `med` for medium) or an integer",
    },
    Rule {
        code: "invalid_memory",
        severity: Severity::Warning,
        doc: "`memory` is not `user project local`",
    },
    Rule {
        code: "invalid_isolation",
        severity: Severity::Warning,
        doc: "`isolation` is not `worktree remote`",
    },
    Rule {
        code: "invalid_background",
        severity: Severity::Warning,
        doc: "`background` is not a boolean",
    },
    Rule {
        code: "ignored_field",
        severity: Severity::Warning,
        doc: "`mcpServers` that is not a list, or an `initialPrompt` that is not text: the client ignores the field without a word",
    },
    Rule {
        code: "frontmatter_cut_short",
        severity: Severity::Warning,
        doc: "the `---` that ends the frontmatter is not alone on its line (`description: a---b` ends the frontmatter at `a`)",
    },
    Rule {
        code: "empty_body",
        severity: Severity::Warning,
        doc: "no system prompt below the frontmatter",
    },
    Rule {
        code: "invalid_utf8",
        severity: Severity::Warning,
        doc: "the file is not UTF-8; the client reads bad bytes as U+FFFD",
    },
    Rule {
        code: "symlink_loop",
        severity: Severity::Warning,
        doc: "a symbolic link in an agents folder points back at an ancestor",
    },
    Rule {
        code: "broken_link",
        severity: Severity::Warning,
        doc: "a symbolic link points at nothing",
    },
    Rule {
        code: "plugin_agents_folder_ignored",
        severity: Severity::Warning,
        doc: "the manifest sets `agents`, which replaces the default `agents/` folder: the folder's other files are not loaded (`\"agents\": []` loads none)",
    },
    Rule {
        code: "plugin_ignored_field",
        severity: Severity::Warning,
        doc: "a metadata field of plugin.json has the wrong type (`author` as a string, `keywords` not a list of strings, `homepage` not a URL, ...): the client drops it and loads the plugin; `claude plugin validate` fails",
    },
    Rule {
        code: "plugin_unknown_field",
        severity: Severity::Warning,
        doc: "a field plugin.json does not have, with a did-you-mean (`agnets` → `agents`), or one that belongs in marketplace.json (`category`, `tags`, `source`, `strict`, `id`)",
    },
    Rule {
        code: "plugin_frontmatter_ignored",
        severity: Severity::Warning,
        doc: "a plugin agent without frontmatter, or whose frontmatter is unclosed, broken YAML or not a mapping: it still loads, under its file name, with the description `Agent from PLUGIN plugin`",
    },
    Rule {
        code: "plugin_default_description",
        severity: Severity::Warning,
        doc: "a plugin agent with no usable `description` (nor `when_to_use`, `when-to-use`): it loads with the description `Agent from PLUGIN plugin`",
    },
    Rule {
        code: "plugin_ignored_key",
        severity: Severity::Warning,
        doc: "a plugin agent sets `permissionMode`, `hooks`, `mcpServers`, `initialPrompt`, `observer`, `observerMessage` or `observeSubagents` (or hooks outside `hooks`): ignored in plugin agents",
    },
    Rule {
        code: "plugin_name_ignored",
        severity: Severity::Warning,
        doc: "a plugin agent's `name` is over 256 characters: the client uses the file name instead",
    },
    Rule {
        code: "name_style",
        severity: Severity::Note,
        doc: "`name` has capitals, `_` or spaces (the docs ask for lowercase and hyphens)",
    },
    Rule {
        code: "name_mismatch",
        severity: Severity::Note,
        doc: "`name` differs from the file name",
    },
    Rule {
        code: "not_an_agent_file",
        severity: Severity::Note,
        doc: "a file named on the command line is not Markdown",
    },
    Rule {
        code: "plugin_name_style",
        severity: Severity::Note,
        doc: "the plugin `name` is not kebab-case (marketplaces ask for lowercase letters, digits and hyphens)",
    },
    Rule {
        code: "plugin_missing_metadata",
        severity: Severity::Note,
        doc: "plugin.json has no `version`, `description` or `author` (`claude plugin validate` warns)",
    },
    Rule {
        code: "plugin_agent_name_from_file",
        severity: Severity::Note,
        doc: "a plugin agent has no `name`: it is named after its file (`PLUGIN:FILE`)",
    },
    Rule {
        code: "plugin_agent_name_style",
        severity: Severity::Note,
        doc: "a plugin agent's `name` is not a string, contains `:` (its full name then reads like a subfolder's) or starts with `-`: it loads from a plugin, not from `.claude/agents/`",
    },
    Rule {
        code: "plugin_extension_case",
        severity: Severity::Note,
        doc: "a plugin agent ending in `.MD` or `.Md`: it loads from a plugin (named `FILE.MD` when it has no `name`), but not from `.claude/agents/`",
    },
];

/// The rule for `code`.
pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code == code)
}

/// The README's rule table, as it must read.
pub fn markdown_table() -> String {
    let mut out = String::from("| code | severity | when |\n|---|---|---|\n");
    for r in RULES {
        let sev = match r.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        };
        out.push_str(&format!("| `{}` | {sev} | {} |\n", r.code, r.doc));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `Diagnostic::new(Severity::X, "code", ...)` in the source uses a
    /// code of the table, with its severity.
    #[test]
    fn every_code_in_the_source_is_in_the_table() {
        let sources = [
            include_str!("rules.rs"),
            include_str!("../commands/validate.rs"),
            include_str!("plugin.rs"),
        ];
        let mut seen = 0;
        for src in sources {
            let flat: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
            for (i, _) in flat.match_indices("Diagnostic::new( Severity::") {
                let rest = &flat[i + "Diagnostic::new( Severity::".len()..];
                let sev = rest.split(',').next().unwrap().trim();
                let Some(code) = rest.split('"').nth(1) else {
                    continue;
                };
                if rest
                    .split(',')
                    .nth(1)
                    .is_some_and(|c| !c.trim().starts_with('"'))
                {
                    continue;
                }
                let rule = rule(code).unwrap_or_else(|| panic!("`{code}` is not in RULES"));
                assert_eq!(format!("{:?}", rule.severity), sev, "{code}");
                seen += 1;
            }
        }
        assert!(seen >= 20, "found {seen} diagnostics in the source");
    }
}
