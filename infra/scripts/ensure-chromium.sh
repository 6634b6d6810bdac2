#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it by executable_path; no browser
# download), and Xvfb for the tests that need a real window (tab capture, recording).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v Xvfb >/dev/null || missing+=(xvfb)
# A local web font for the screenshot benchmark page (make bench); never downloaded at run time.
[ -d /usr/share/fonts/truetype/dejavu ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
