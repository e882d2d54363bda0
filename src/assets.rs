//! Files shipped inside the binary: the agent definition (a minijinja
//! template), rendered for a project, and the marker that lets `install` tell
//! an untouched installed agent from one the user has edited. The same
//! template, rendered without a project, is the plugin's agent in `agents/`.

use minijinja::{context, Environment};

use crate::config::ProjectConfig;
use crate::error::AppError;

/// The agent definition: one template for the installed agent and the plugin's.
pub const AGENT_TEMPLATE: &str = include_str!("agent/migration-creator.md.j2");

/// The plugin's agent, relative to the repository (the plugin's root).
pub const PLUGIN_AGENT: &str = "agents/migration-creator.md";

/// The agent's file name in `.claude/agents/`.
pub const AGENT_FILE: &str = "migration-creator.md";

const MARKER_PREFIX: &str = "<!-- migration-creator install: ";

/// The agent text `install` writes for this project: the template rendered
/// with the project's migrations folder and database, then a marker line
/// holding the version and a checksum of everything above it.
pub fn render_agent(config: &ProjectConfig) -> Result<String, AppError> {
    let migrations_dir = {
        let rel = config.display(&config.migrations);
        if rel.ends_with('/') {
            rel
        } else {
            format!("{rel}/")
        }
    };
    let rendered = render(context! {
        plugin => false,
        migrations_dir => migrations_dir,
        database_url => config.database.clone().unwrap_or_default(),
        has_database => config.database.is_some(),
    })?;
    Ok(with_marker(&rendered))
}

/// The plugin's agent (`agents/migration-creator.md`): the same template
/// with no project in it. The client fills nothing into a plugin agent's
/// text, so the agent asks `migration-creator context` for the folders
/// instead, and `<migrations>` stands where the installed agent has the path.
pub fn render_plugin_agent() -> Result<String, AppError> {
    render(context! {
        plugin => true,
        migrations_dir => "<migrations>/",
        database_url => "<database>",
        has_database => true,
    })
}

fn render(ctx: minijinja::Value) -> Result<String, AppError> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.add_template("agent", AGENT_TEMPLATE)
        .map_err(template_error)?;
    env.get_template("agent")
        .and_then(|t| t.render(ctx))
        .map_err(template_error)
}

fn template_error(err: minijinja::Error) -> AppError {
    AppError::env(
        "template_error",
        format!("the embedded agent template does not render: {err}"),
        "report this as a bug",
    )
}

fn with_marker(body: &str) -> String {
    let mut text = body.to_string();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let sum = checksum(text.as_bytes());
    text.push_str(&format!(
        "{MARKER_PREFIX}v{} checksum {sum:016x}; edit freely, install keeps your changes -->\n",
        env!("CARGO_PKG_VERSION")
    ));
    text
}

/// Whether `text` is an installed agent nobody has edited since: its marker's
/// checksum matches the text above the marker.
pub fn is_unedited_install(text: &str) -> bool {
    let Some(start) = text.rfind(MARKER_PREFIX) else {
        return false;
    };
    let (body, marker) = text.split_at(start);
    let Some(sum) = marker.split(" checksum ").nth(1).and_then(|s| s.get(..16)) else {
        return false;
    };
    let Ok(sum) = u64::from_str_radix(sum, 16) else {
        return false;
    };
    marker.trim_end().ends_with("-->") && marker.ends_with('\n') && checksum(body.as_bytes()) == sum
}

/// FNV-1a, 64 bits: enough to notice an edit, not a security measure.
pub fn checksum(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_detects_edits() {
        let text = with_marker("---\nname: a\n---\nbody\n");
        assert!(is_unedited_install(&text));
        assert!(!is_unedited_install(&text.replace("body", "b0dy")));
        assert!(!is_unedited_install("---\nname: a\n---\nbody\n"));
    }
}
