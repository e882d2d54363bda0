//! Integration tests: the real binary on real files, a real pre-commit and a
//! real yoyo from the virtualenv that `scripts/test-all.sh` creates.

mod support;

mod agent_e2e;

mod test_apply;

mod cmd;
mod config;
mod context;
mod contract;
mod doctor;
mod install;
mod lint;
mod lint_hazards;
mod migrations;
mod plugin;
mod precommit;
mod properties;
mod readme;
mod scaffold;
mod scaffold_kinds;
mod schema;
mod validate;
mod validate_plugin;
mod yoyo;
