//! What Claude Code does with an agent file: the client's own tables
//! (`client`), the frontmatter cut and parsed as the client does
//! (`frontmatter`, the only YAML module), its hooks checked as the client
//! checks them (`hooks`), the rules with their codes (`rules`), a plugin's
//! manifest and agents as the client loads them (`plugin`), and diagnostics
//! (`diagnostic`).

pub mod client;
pub mod codes;
pub use crate::diagnostic;
pub mod frontmatter;
pub mod hooks;
pub mod plugin;
pub mod rules;
