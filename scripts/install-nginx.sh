#!/usr/bin/env bash
# Debian's nginx for tests/test_proxy.py, which runs deploy/nginx.conf in front of a real API
# process (the production proxy of docker-compose.yml). Idempotent; the package's own service is
# never started (the test runs its own nginx on a free port).
set -euo pipefail

if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-nginx: apt-get is not available; install nginx yourself" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
# policy-rc.d 101: the package must not start (or fail to start) a system nginx on port 80.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
$SUDO apt-get update -qq || true
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >/dev/null
