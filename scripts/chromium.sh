#!/usr/bin/env bash
# Prints the path of a headless-capable Chromium for the browser tests,
# installing Debian's chromium package when it is missing (as root on Debian).
set -euo pipefail
for c in "${ATENDE_CHROMIUM:-}" chromium chromium-browser google-chrome; do
  if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then
    command -v "$c"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null || [ ! -f /etc/debian_version ]; then
  echo "chromium.sh: no Chromium found. Install Debian's 'chromium' package (or set ATENDE_CHROMIUM to a Chrome binary)." >&2
  exit 1
fi
echo "chromium.sh: installing Debian's chromium for the browser tests" >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
command -v chromium
