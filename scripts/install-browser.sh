#!/usr/bin/env bash
# Debian's Chromium for the browser tests (tests/test_ui_browser.py drives it with Playwright's
# Python package and executable_path=/usr/bin/chromium; `playwright install` is never used).
# Idempotent: does nothing when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: apt-get is not available; install Chromium at /usr/bin/chromium yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y chromium
