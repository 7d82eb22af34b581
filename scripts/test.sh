#!/usr/bin/env bash
# The whole test suite from nothing: Debian's Chromium for the browser tests,
# Pango for WeasyPrint (PDF downloads) and poppler's pdftoppm (PDF pages as images),
# a virtual environment with Stepstone and its test tools, then pytest.
# Safe to run again: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/pdftoppm ] || missing+=(poppler-utils)
for lib in libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; do  # DejaVu: the PDF tests count pages
  dpkg -s "$lib" >/dev/null 2>&1 || missing+=("$lib")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[dev]'
exec .venv/bin/python -m pytest -q "$@"
