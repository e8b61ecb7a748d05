#!/usr/bin/env bash
# Install everything into ./.venv and run the whole test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# Debian's Chromium (browser tests) and nginx (the production proxy's test), when missing.
bash scripts/install-test-tools.sh

.venv/bin/python -m pytest "$@"
