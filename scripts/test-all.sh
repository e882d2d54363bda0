#!/usr/bin/env bash
# Every test on a fresh machine: create .venv with the pinned Python tools
# (yoyo-migrations, pre-commit), then all Rust tests including the ignored
# ones that need them, clippy with -D warnings, and rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if ! .venv/bin/python -c 'import yoyo' 2>/dev/null || ! [ -x .venv/bin/pre-commit ] \
   || ! cmp -s requirements-dev.txt .venv/requirements-dev.txt; then
  echo "creating .venv with $(grep -v '^#' requirements-dev.txt | tr '\n' ' ')" >&2
  rm -rf .venv
  "$python" -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt .venv/requirements-dev.txt
fi
export MIGRATION_CREATOR_VENV="$PWD/.venv"

cargo test --all-targets -- --include-ignored
cargo clippy --all-targets -- -D warnings
cargo fmt --check
