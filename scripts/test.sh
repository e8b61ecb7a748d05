#!/usr/bin/env bash
# Install everything into ./.venv and run the whole test suite (the README's test command).
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'

# Debian's Chromium + ChromeDriver for the browser tests, when apt is available and they are
# missing (root on CI and developer machines).
if [ -x scripts/install-browser.sh ]; then
  bash scripts/install-browser.sh
fi
# Debian's nginx for tests/test_proxy.py (the production proxy, deploy/nginx.conf).
bash scripts/install-nginx.sh

.venv/bin/python -m pytest "$@"
