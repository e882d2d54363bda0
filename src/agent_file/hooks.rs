//! Hooks as Claude Code 2.1.332 checks them, ported from its code (the
//! functions it uses to scan the frontmatter for misplaced guard hooks and to
//! sort a `hooks` mapping into what it drops the agent for and what it only
//! removes). Guard events (`PreToolUse`, `PermissionRequest`,
//! `PreSkillShellCommand`) may hold the hooks that guard an agent's
//! permissions, so anything malformed under one drops the agent; under any
//! other event the malformed part is removed ("entry ignored") and the agent
//! loads.

use super::client::{GUARD_HOOK_EVENTS, HOOK_EVENTS, HOOK_SCAN_EXEMPT_KEYS, HOOK_TYPES};
use super::frontmatter::Yaml;

/// What the client does with a piece of the hooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The agent is not loaded.
    Drops,
    /// The piece is removed, the agent loads.
    Ignored,
}

/// One finding, at `path` (`hooks.PreToolUse.0.hooks.1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub verdict: Verdict,
    /// The hook event the finding is under, when there is one.
    pub event: Option<String>,
    pub path: String,
    pub problem: String,
}

fn key_of(k: &Yaml) -> String {
    match k {
        Yaml::Str(s) => s.clone(),
        other => other.display(),
    }
}

/// The value of `key` in a mapping (the last one wins, as in JavaScript).
fn get<'a>(map: &'a [(Yaml, Yaml)], key: &str) -> Option<&'a Yaml> {
    map.iter()
        .rev()
        .find(|(k, _)| key_of(k) == key)
        .map(|(_, v)| v)
}

fn is_guard(event: &str) -> bool {
    GUARD_HOOK_EVENTS.contains(&event)
}

fn is_event(event: &str) -> bool {
    HOOK_EVENTS.contains(&event)
}

/// How the client names a value's type in its messages.
fn received(v: &Yaml) -> String {
    match v {
        Yaml::Null => "null".into(),
        Yaml::Bool(_) => "a boolean".into(),
        Yaml::Int(_) | Yaml::Float(_) => "a number".into(),
        Yaml::Str(_) => "a string".into(),
        Yaml::Seq(_) => "an array".into(),
        Yaml::Map(_) | Yaml::Skipped => "an object".into(),
    }
}

/// An object with a guard event key holding something (not null, not an empty list).
fn holds_guard_key(v: &Yaml) -> bool {
    let Yaml::Map(m) = v else { return false };
    m.iter().any(|(k, v)| {
        is_guard(&key_of(k))
            && !matches!(v, Yaml::Null)
            && !matches!(v, Yaml::Seq(s) if s.is_empty())
    })
}

/// A matcher-shaped object: `{matcher?, hooks: [...]}` (or `hooks: {type: ...}`).
fn is_matcher(v: &Yaml) -> bool {
    let Yaml::Map(m) = v else { return false };
    if get(m, "matcher").is_none() && m.iter().any(|(k, _)| is_event(&key_of(k))) {
        return false;
    }
    match get(m, "hooks") {
        Some(Yaml::Seq(h)) => !h.is_empty(),
        Some(Yaml::Map(h)) => {
            get(m, "matcher").is_some() || get(h, "type").and_then(Yaml::as_str).is_some()
        }
        _ => false,
    }
}

/// Whether `v`, within `depth` levels, holds guard hooks (or, when
/// `matchers_count`, anything matcher-shaped).
fn holds_guard_hooks(
    v: &Yaml,
    depth: u32,
    matchers_count: bool,
    unscanned: &[&str],
    in_hooks_list: bool,
) -> bool {
    if holds_guard_key(v) {
        return true;
    }
    if matchers_count && is_matcher(v) {
        return true;
    }
    if depth == 0 {
        return false;
    }
    match v {
        Yaml::Seq(items) => items
            .iter()
            .any(|i| holds_guard_hooks(i, depth - 1, matchers_count, unscanned, in_hooks_list)),
        Yaml::Map(m) => {
            if in_hooks_list && get(m, "type").and_then(Yaml::as_str).is_some() {
                return false;
            }
            m.iter().any(|(k, val)| {
                let k = key_of(k);
                !unscanned.contains(&k.as_str())
                    && holds_guard_hooks(
                        val,
                        depth - 1,
                        matchers_count && !is_event(&k),
                        unscanned,
                        k == "hooks" && matches!(val, Yaml::Seq(_)),
                    )
            })
        }
        _ => false,
    }
}

/// The top-level keys that hold guard hooks outside `hooks` (the client then
/// drops the agent): a guard event key with something in it, or any key but
/// `hooks`, `metadata`, `mcpServers` and `lspServers` (`experimental`
/// included) holding guard hooks or a matcher within three levels.
pub fn misplaced(frontmatter: &[(String, &Yaml)]) -> Vec<String> {
    frontmatter
        .iter()
        .filter(|(k, v)| {
            (is_guard(k) && !matches!(v, Yaml::Null) && !matches!(v, Yaml::Seq(s) if s.is_empty()))
                || (k != "hooks"
                    && !HOOK_SCAN_EXEMPT_KEYS.contains(&k.as_str())
                    && holds_guard_hooks(v, 3, !is_event(k), HOOK_SCAN_EXEMPT_KEYS, false))
        })
        .map(|(k, _)| k.clone())
        .collect()
}

/// Whether a `hooks` value means "no hooks" to the client (JavaScript falsy).
pub fn is_empty(v: &Yaml) -> bool {
    match v {
        Yaml::Null => true,
        Yaml::Bool(b) => !b,
        Yaml::Int(i) => *i == 0,
        Yaml::Float(f) => *f == 0.0 || f.is_nan(),
        Yaml::Str(s) => s.is_empty(),
        _ => false,
    }
}

/// The problem with one hook entry, if it has one.
fn entry_problem(e: &Yaml) -> Option<String> {
    let Yaml::Map(m) = e else {
        return Some(format!(
            "Hook entry must be an object; received {}",
            received(e)
        ));
    };
    let ty = match get(m, "type") {
        None => return Some("Hook entry has no \"type\"".into()),
        Some(Yaml::Str(t)) => t.as_str(),
        Some(other) => {
            return Some(format!(
                "Hook entry \"type\" must be a string; received {}",
                received(other)
            ))
        }
    };
    if !HOOK_TYPES.contains(&ty) {
        return Some(format!("Unknown hook type \"{ty}\""));
    }
    let required: &[&str] = match ty {
        "command" => &["command"],
        "prompt" | "agent" => &["prompt"],
        "http" => &["url"],
        _ => &["server", "tool"],
    };
    for field in required {
        match get(m, field) {
            Some(Yaml::Str(_)) => {}
            Some(other) => {
                return Some(format!(
                    "Invalid {ty} hook ({field}: expected a string, received {})",
                    received(other)
                ))
            }
            None => return Some(format!("Invalid {ty} hook ({field}: required)")),
        }
    }
    if let Some(t) = get(m, "timeout") {
        let ok = match t {
            Yaml::Int(i) => *i > 0,
            Yaml::Float(f) => *f > 0.0,
            _ => false,
        };
        if !ok {
            return Some(format!(
                "Invalid {ty} hook (timeout: must be a positive number)"
            ));
        }
    }
    if let Some(s) = get(m, "shell") {
        if !matches!(s.as_str(), Some("bash" | "powershell")) {
            return Some(format!(
                "Invalid {ty} hook (shell: must be bash or powershell)"
            ));
        }
    }
    if let Some(s) = get(m, "onFailure") {
        if !matches!(s.as_str(), Some("continue" | "block")) {
            return Some(format!(
                "Invalid {ty} hook (onFailure: must be continue or block)"
            ));
        }
    }
    if ty == "http" {
        let url = get(m, "url").and_then(Yaml::as_str).unwrap_or("");
        let valid = url.split_once("://").is_some_and(|(scheme, rest)| {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
                && !rest.is_empty()
        });
        if !valid {
            return Some("Invalid http hook (url: must be a valid URL)".into());
        }
    }
    None
}

/// Check a `hooks` value that is not empty.
pub fn check(hooks: &Yaml) -> Vec<Finding> {
    let drop = |path: String, problem: String| Finding {
        verdict: Verdict::Drops,
        event: None,
        path,
        problem,
    };
    if is_matcher(hooks) || matches!(hooks, Yaml::Seq(items) if items.iter().any(is_matcher)) {
        return vec![drop(
            "hooks".into(),
            format!(
                "must be an object mapping event names to matcher arrays; received {}",
                if matches!(hooks, Yaml::Seq(_)) {
                    "an array of matchers"
                } else {
                    "a single matcher"
                }
            ),
        )];
    }
    let Yaml::Map(events) = hooks else {
        return vec![drop(
            "hooks".into(),
            format!(
                "must be an object mapping event names to matcher arrays; received {}",
                received(hooks)
            ),
        )];
    };
    let mut out = Vec::new();
    let mut push = |verdict: Verdict, event: &str, path: String, problem: String| {
        out.push(Finding {
            verdict,
            event: Some(event.to_string()),
            path,
            problem,
        })
    };
    for (k, matchers) in events {
        let event = key_of(k);
        let at = format!("hooks.{event}");
        if !is_event(&event) {
            if holds_guard_hooks(matchers, 3, !matches!(matchers, Yaml::Seq(_)), &[], false) {
                push(
                    Verdict::Drops,
                    &event,
                    at,
                    "not a hook event, but it holds PreToolUse/PermissionRequest hooks".into(),
                );
            } else {
                push(Verdict::Ignored, &event, at, "unknown hook event".into());
            }
            continue;
        }
        let guard = is_guard(&event);
        let Yaml::Seq(list) = matchers else {
            if matches!(matchers, Yaml::Null) && !holds_guard_hooks(matchers, 3, false, &[], false)
            {
                // An event declared empty: nothing to load, nothing lost.
                continue;
            }
            let problem = format!(
                "must be an array of matchers; received {}",
                received(matchers)
            );
            if guard || holds_guard_hooks(matchers, 3, false, &[], false) {
                push(Verdict::Drops, &event, at, problem);
            } else {
                push(Verdict::Ignored, &event, at, problem);
            }
            continue;
        };
        let verdict = if guard {
            Verdict::Drops
        } else {
            Verdict::Ignored
        };
        for (i, m) in list.iter().enumerate() {
            let at = format!("hooks.{event}.{i}");
            if holds_guard_hooks(m, 3, false, &[], false) {
                push(
                    Verdict::Drops,
                    &event,
                    at,
                    "holds PreToolUse/PermissionRequest hooks where a matcher was expected".into(),
                );
                continue;
            }
            let Yaml::Map(fields) = m else {
                push(
                    verdict.clone(),
                    &event,
                    at,
                    format!("Hook matcher must be an object; received {}", received(m)),
                );
                continue;
            };
            let Some(Yaml::Seq(entries)) = get(fields, "hooks") else {
                let got = get(fields, "hooks").map_or("undefined".to_string(), received);
                push(
                    verdict.clone(),
                    &event,
                    at,
                    format!(
                        "Hook matcher \"hooks\" must be an array of hook entries; received {got}"
                    ),
                );
                continue;
            };
            for (j, e) in entries.iter().enumerate() {
                if let Some(problem) = entry_problem(e) {
                    push(verdict.clone(), &event, format!("{at}.hooks.{j}"), problem);
                }
            }
            if let Some(m) = get(fields, "matcher") {
                if m.as_str().is_none() && !matches!(m, Yaml::Null) {
                    push(
                        verdict.clone(),
                        &event,
                        at,
                        format!(
                            "Invalid hook matcher (matcher: expected a string, received {})",
                            received(m)
                        ),
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(src: &str) -> Yaml {
        fn conv(v: &serde_yaml::Value) -> Yaml {
            match v {
                serde_yaml::Value::Null => Yaml::Null,
                serde_yaml::Value::Bool(b) => Yaml::Bool(*b),
                serde_yaml::Value::Number(n) => n
                    .as_i64()
                    .map_or(Yaml::Float(n.as_f64().unwrap_or(0.0)), Yaml::Int),
                serde_yaml::Value::String(s) => Yaml::Str(s.clone()),
                serde_yaml::Value::Sequence(s) => Yaml::Seq(s.iter().map(conv).collect()),
                serde_yaml::Value::Mapping(m) => {
                    Yaml::Map(m.iter().map(|(k, v)| (conv(k), conv(v))).collect())
                }
                serde_yaml::Value::Tagged(t) => conv(&t.value),
            }
        }
        conv(&serde_yaml::from_str(src).unwrap())
    }

    fn verdicts(src: &str) -> Vec<Verdict> {
        check(&yaml(src)).into_iter().map(|f| f.verdict).collect()
    }

    #[test]
    fn guard_events_drop_and_others_ignore() {
        assert_eq!(verdicts("{PostToolUse: run-this}"), [Verdict::Ignored]);
        assert_eq!(verdicts("{PreToolUse: run-this}"), [Verdict::Drops]);
        assert_eq!(verdicts("{PreToolUse: null}"), []);
        assert_eq!(verdicts("{PreToolUse: []}"), []);
        assert_eq!(
            verdicts("{PreToolUse: [{matcher: Bash, hooks: [{type: bogus, command: x}]}]}"),
            [Verdict::Drops]
        );
        assert_eq!(
            verdicts("{PostToolUse: [{matcher: Bash, hooks: [{type: bogus, command: x}]}]}"),
            [Verdict::Ignored]
        );
        assert_eq!(
            verdicts("{Bogus: [{matcher: x, hooks: [{type: command, command: echo}]}]}"),
            [Verdict::Ignored]
        );
        assert_eq!(verdicts("{PreToolUse: [{matcher: Bash, hooks: [{type: command, command: echo, timeout: '30'}]}]}"), [Verdict::Drops]);
        assert_eq!(
            verdicts(
                "{PreToolUse: [{matcher: Bash, hooks: [{type: mcp_tool, server: s, tool: t}]}]}"
            ),
            []
        );
        assert_eq!(verdicts("{PreToolUse: [{matcher: Bash, hooks: [{type: command, command: echo, extra: 1}]}]}"), []);
        assert_eq!(verdicts("[]"), [Verdict::Drops]);
        assert_eq!(verdicts("run-this"), [Verdict::Drops]);
        assert_eq!(
            verdicts("{matcher: x, hooks: [{type: command, command: echo}]}"),
            [Verdict::Drops]
        );
    }

    #[test]
    fn misplaced_guard_hooks_are_found() {
        let fm = |src: &str| -> Vec<String> {
            let Yaml::Map(m) = yaml(src) else { panic!() };
            let pairs: Vec<(String, Yaml)> = m.into_iter().map(|(k, v)| (key_of(&k), v)).collect();
            let refs: Vec<(String, &Yaml)> = pairs.iter().map(|(k, v)| (k.clone(), v)).collect();
            misplaced(&refs)
        };
        assert_eq!(
            fm("{PreSkillShellCommand: [{matcher: x, hooks: [{type: command, command: echo}]}]}"),
            ["PreSkillShellCommand"]
        );
        assert_eq!(fm("{experimental: {PreToolUse: [{matcher: Bash, hooks: [{type: command, command: echo}]}]}}"), ["experimental"]);
        assert_eq!(
            fm("{foo: {matcher: x, hooks: [{type: command, command: echo}]}}"),
            ["foo"]
        );
        assert_eq!(
            fm("{PreToolUse: null, PermissionRequest: []}"),
            Vec::<String>::new()
        );
        assert_eq!(
            fm("{PostToolUse: [{matcher: x, hooks: [{type: command, command: echo}]}]}"),
            Vec::<String>::new()
        );
        assert_eq!(
            fm("{metadata: {PreToolUse: [{matcher: x, hooks: [{type: command, command: e}]}]}}"),
            Vec::<String>::new()
        );
        assert_eq!(
            fm("{hooks: {PreToolUse: [{matcher: x, hooks: [{type: command, command: e}]}]}}"),
            Vec::<String>::new()
        );
    }
}
