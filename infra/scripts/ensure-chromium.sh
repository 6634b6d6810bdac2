#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it by executable_path; no browser
# download), and Xvfb for the tests that need a real window (tab capture, recording).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v Xvfb >/dev/null || missing+=(xvfb)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" fonts-dejavu-core >/dev/null
fi
