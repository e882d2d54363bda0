#!/usr/bin/env bash
# Every test on a fresh machine: create .venv with the pinned Python tools
# (yoyo-migrations, pre-commit, prek) and .tools/claude-code with the pinned
# Claude Code client (npm), then all Rust tests including the ignored ones
# that need them, clippy with -D warnings, and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! .venv/bin/python -c 'import yoyo' 2>/dev/null || ! [ -x .venv/bin/pre-commit ] || ! [ -x .venv/bin/prek ] \
   || ! cmp -s requirements-dev.txt .venv/requirements-dev.txt; then
  echo "creating .venv with $(grep -v '^#' requirements-dev.txt | tr '\n' ' ')" >&2
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt .venv/requirements-dev.txt
fi
export MIGRATION_CREATOR_VENV="$PWD/.venv"

# The real Claude Code client the plugin tests ask (tests/plugin.rs).
claude_version=2.1.332
claude=.tools/claude-code/node_modules/.bin/claude
if ! "$claude" --version 2>/dev/null | grep -q "^$claude_version "; then
  echo "installing @anthropic-ai/claude-code@$claude_version into .tools/claude-code" >&2
  rm -rf .tools/claude-code
  mkdir -p .tools/claude-code
  npm install --prefix .tools/claude-code --no-save --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$claude_version"
fi
export MIGRATION_CREATOR_CLAUDE="$PWD/$claude"

cargo test --all-targets -- --include-ignored
cargo clippy --all-targets -- -D warnings
cargo fmt --check
