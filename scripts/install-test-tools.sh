#!/usr/bin/env bash
# The Debian packages the test suite drives, installed when missing (idempotent):
#   chromium     - the browser tests (Playwright's Python package with executable_path=/usr/bin/chromium;
#                  `playwright install` is never used)
#   nginx-light  - tests/e2e/test_proxy.py runs deploy/nginx.conf, the production proxy, in front of a real API
set -euo pipefail

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-tools: apt-get is not available; install ${missing[*]} yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
# policy-rc.d 101: installing nginx must not start (or fail to start) a system nginx on port 80;
# the proxy test runs its own on a free port.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
