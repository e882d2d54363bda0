//! What the Claude Code client knows: tool names, model aliases and the
//! values of the enumerated frontmatter fields. One table, with the client
//! version it was read from, so that a new client release is one edit.

/// The client release these tables describe.
pub const CLIENT_VERSION: &str = "2.1.332";

/// Tool names the client resolves in `tools` / `disallowedTools`: its list
/// of built-in tools, plus the members of the Artifact family it resolves
/// outside that list.
pub const KNOWN_TOOLS: &[&str] = &[
    "Agent",
    "Artifact",
    "ArtifactCheck",
    "ArtifactComments",
    "ArtifactData",
    "AskUserQuestion",
    "Bash",
    "ClaudeDesign",
    "CronCreate",
    "CronDelete",
    "CronList",
    "Edit",
    "EndConversation",
    "EnterPlanMode",
    "EnterWorktree",
    "ExitPlanMode",
    "ExitWorktree",
    "Glob",
    "Grep",
    "ListAgents",
    "ListMcpResourcesTool",
    "LSP",
    "Monitor",
    "NotebookEdit",
    "OfferChromeSetup",
    "PowerShell",
    "Projects",
    "propose_skills",
    "PushNotification",
    "Read",
    "ReadMcpResourceDirTool",
    "ReadMcpResourceTool",
    "ReadNotifications",
    "RemoteTrigger",
    "ReportFindings",
    "ScheduleWakeup",
    "SendFeedback",
    "SendMessage",
    "SendUserFile",
    "SendUserMessage",
    "SetGoal",
    "ShareOnboardingGuide",
    "ShowOnboardingRolePicker",
    "Skill",
    "SubagentHandback",
    "TaskCreate",
    "TaskGet",
    "TaskList",
    "TaskStop",
    "TaskUpdate",
    "TodoWrite",
    "ToolSearch",
    "WaitForMcpServers",
    "WebFetch",
    "WebSearch",
    "Workflow",
    "Write",
];

/// Names that still resolve, with the tool they now mean.
pub const TOOL_ALIASES: &[(&str, &str)] = &[
    ("Task", "Agent"),
    ("KillShell", "TaskStop"),
    ("KillBash", "TaskStop"),
    ("ListPeers", "ListAgents"),
    ("Brief", "SendUserMessage"),
    ("ListMcpResources", "ListMcpResourcesTool"),
    ("ReadMcpResource", "ReadMcpResourceTool"),
    ("ReadMcpResourceDir", "ReadMcpResourceDirTool"),
    ("ProposeGoal", "SetGoal"),
];

/// Names that used to exist and no longer do, with what replaces them.
pub const REMOVED_TOOLS: &[(&str, &str)] = &[
    ("MultiEdit", "Edit"),
    ("LS", "Glob"),
    ("NotebookRead", "Read"),
];

/// Model aliases the client knows (compared case-sensitively, except `inherit`).
pub const MODEL_ALIASES: &[&str] = &[
    "sonnet",
    "opus",
    "haiku",
    "fable",
    "best",
    "sonnet[1m]",
    "opus[1m]",
    "fable[1m]",
    "opusplan",
    "inherit",
];

pub const COLORS: &[&str] = &[
    "red", "blue", "green", "yellow", "purple", "orange", "pink", "cyan",
];

pub const PERMISSION_MODES: &[&str] = &[
    "acceptEdits",
    "auto",
    "bypassPermissions",
    "default",
    "dontAsk",
    "plan",
    "manual",
];

pub const EFFORT_LEVELS: &[&str] = &["low", "medium", "high", "xhigh", "max"];

/// Effort spellings the client reads as a level.
pub const EFFORT_ALIASES: &[(&str, &str)] = &[("med", "medium")];

pub const MEMORY_SCOPES: &[&str] = &["user", "project", "local"];

pub const ISOLATION_MODES: &[&str] = &["worktree", "remote"];

/// Frontmatter keys the client reads for an agent. Keys are case-sensitive.
pub const KNOWN_KEYS: &[&str] = &[
    "name",
    "description",
    "model",
    "tools",
    "disallowedTools",
    "color",
    "effort",
    "permissionMode",
    "mcpServers",
    "hooks",
    "maxTurns",
    "autoCompactWindow",
    "skills",
    "initialPrompt",
    "memory",
    "background",
    "omitClaudeMd",
    "isolation",
    "observer",
    "observerMessage",
    "observeToolResults",
    "observeSubagents",
    "experimental",
];

/// Keys people write for another tool or an older format, and what the client reads instead.
pub const KEY_SUGGESTIONS: &[(&str, &str)] = &[
    ("allowed-tools", "tools"),
    ("allowedTools", "tools"),
    ("allowed_tools", "tools"),
    ("disallowed-tools", "disallowedTools"),
    ("disallowed_tools", "disallowedTools"),
    ("whenToUse", "description"),
    ("when_to_use", "description"),
    ("max-turns", "maxTurns"),
    ("permission-mode", "permissionMode"),
    ("system-prompt", "the file's body"),
    ("prompt", "the file's body"),
    // The client deliberately suggests nothing for `mode` (not `model`).
    ("mode", ""),
];

/// Hook events, as the client names them (case-sensitive).
pub const HOOK_EVENTS: &[&str] = &[
    "PreToolUse",
    "PostToolUse",
    "PostToolUseFailure",
    "PostToolBatch",
    "Notification",
    "UserPromptSubmit",
    "UserPromptExpansion",
    "SessionStart",
    "SessionEnd",
    "Stop",
    "StopFailure",
    "SubagentStart",
    "SubagentStop",
    "PreCompact",
    "PostCompact",
    "PreModelSwitch",
    "PostModelSwitch",
    "PermissionRequest",
    "PermissionDenied",
    "Setup",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "Elicitation",
    "ElicitationResult",
    "ConfigChange",
    "WorktreeCreate",
    "WorktreeRemove",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
    "DirectoryAdded",
    "MessageDisplay",
    "PreSkillShellCommand",
];

/// Guard events: a hook under one of them may be what guards the permissions
/// beside it, so one the client cannot load drops the whole agent (under any
/// other event it is removed and the agent loads).
pub const GUARD_HOOK_EVENTS: &[&str] = &["PreToolUse", "PermissionRequest", "PreSkillShellCommand"];

/// Hook entry types (`type:`), case-sensitive.
pub const HOOK_TYPES: &[&str] = &["command", "prompt", "agent", "http", "mcp_tool"];

/// Top-level keys the client does not scan for misplaced hooks.
pub const HOOK_SCAN_EXEMPT_KEYS: &[&str] = &["metadata", "mcpServers", "lspServers"];

/// What the client suggests for an unknown key, as it does: its own
/// suggestions first (compared without `-`, `_` and case; an empty one means
/// it deliberately suggests nothing), then a known key equal without case,
/// `-` and `_`, or one edit away.
pub fn key_suggestion(key: &str) -> Option<String> {
    let norm = |k: &str| {
        k.chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_lowercase()
    };
    let n = norm(key);
    if let Some((_, s)) = KEY_SUGGESTIONS.iter().find(|(k, _)| norm(k) == n) {
        return (!s.is_empty()).then(|| (*s).to_string());
    }
    if let Some(k) = KNOWN_KEYS.iter().find(|k| norm(k) == n) {
        return Some((*k).to_string());
    }
    did_you_mean(key, KNOWN_KEYS.iter().copied())
}

/// Whether `name` is a tool the client resolves (legacy aliases included).
pub fn is_known_tool(name: &str) -> bool {
    KNOWN_TOOLS.contains(&name) || TOOL_ALIASES.iter().any(|(alias, _)| *alias == name)
}

/// What a tool entry in `tools` means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolSpec {
    /// `*`: every tool.
    All,
    /// A known tool, possibly with a pattern: `Bash(git *)`.
    Known,
    /// An MCP tool or server (`mcp__server`, `mcp__server__tool`, `mcp__server__*`).
    Mcp,
    /// Not a tool the client knows; with a suggestion when one is close.
    Unknown { suggestion: Option<String> },
}

/// Classify one entry of a `tools` list.
pub fn classify_tool(entry: &str) -> ToolSpec {
    if entry == "*" {
        return ToolSpec::All;
    }
    if let Some(rest) = entry.strip_prefix("mcp__") {
        if !rest.is_empty() {
            return ToolSpec::Mcp;
        }
    }
    let base = match entry.find('(') {
        Some(open) if entry.ends_with(')') => &entry[..open],
        _ => entry,
    };
    if is_known_tool(base) {
        return ToolSpec::Known;
    }
    ToolSpec::Unknown {
        suggestion: suggest_tool(base),
    }
}

fn suggest_tool(name: &str) -> Option<String> {
    if let Some((_, now)) = REMOVED_TOOLS.iter().find(|(old, _)| *old == name) {
        return Some((*now).to_string());
    }
    let candidates = KNOWN_TOOLS
        .iter()
        .copied()
        .chain(TOOL_ALIASES.iter().map(|(a, _)| *a));
    did_you_mean(name, candidates)
}

pub use crate::suggest::did_you_mean;

/// Split a `tools` string as the client does: on commas and whitespace,
/// except inside parentheses.
pub fn split_tools(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut depth = 0usize;
    for c in value.chars() {
        match c {
            '(' => {
                depth += 1;
                current.push(c);
            }
            ')' => {
                depth = depth.saturating_sub(1);
                current.push(c);
            }
            c if depth == 0 && (c == ',' || c.is_whitespace()) => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tools_split_outside_parentheses() {
        assert_eq!(
            split_tools("Read, Grep  Bash(git log, git diff),mcp__db__*"),
            vec!["Read", "Grep", "Bash(git log, git diff)", "mcp__db__*"]
        );
    }

    #[test]
    fn tools_are_classified() {
        assert_eq!(classify_tool("Bash(npm run *)"), ToolSpec::Known);
        assert_eq!(classify_tool("Task"), ToolSpec::Known);
        assert_eq!(classify_tool("mcp__github"), ToolSpec::Mcp);
        assert_eq!(
            classify_tool("bash"),
            ToolSpec::Unknown {
                suggestion: Some("Bash".into())
            }
        );
        assert_eq!(
            classify_tool("MultiEdit"),
            ToolSpec::Unknown {
                suggestion: Some("Edit".into())
            }
        );
        assert_eq!(
            classify_tool("Frobnicate"),
            ToolSpec::Unknown { suggestion: None }
        );
    }
}
