#!/usr/bin/env bash
# Set up (or refresh) the project's virtual environment at .venv in the repository root.
# Usage: scripts/bootstrap.sh [extra]   e.g. scripts/bootstrap.sh test
# Idempotent: it reinstalls only when pyproject.toml changed since the last run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
extra="${1:-}"
python="${NENGTAN_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
  done
fi
[ -n "$python" ] || { echo "bootstrap: Python 3.11 is required (python3.11 or python3 on PATH)" >&2; exit 1; }
"$python" - <<'PY' || { echo "bootstrap: Python >= 3.11 is required" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $("$python" --version)"
  "$python" -m venv .venv
fi
spec="."
[ -n "$extra" ] && spec=".[${extra}]"
stamp=".venv/.nengtan-installed-${extra:-base}"
want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || [ ! -x .venv/bin/nengtan ]; then
  echo "bootstrap: installing nengtan ${spec} into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e "$spec"
  echo "$want" > "$stamp"
fi

# Debian packages the project needs, installed when missing (as root, with apt; a fresh machine
# may have no package lists yet: update once, then try again).  Without root the script says
# what to install and goes on.
apt_updated=""
apt_install() {  # apt_install PACKAGE... ; returns non-zero when it could not install
  [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1 || return 1
  local run=(env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@")
  if ! "${run[@]}" >/dev/null 2>&1; then
    [ -n "$apt_updated" ] && return 1
    apt-get update -qq >/dev/null 2>&1 || return 1
    apt_updated=1
    "${run[@]}" >/dev/null 2>&1 || return 1
  fi
}

# A Chinese TrueType font for PDF reports (reportlab embeds it so that Chinese text renders on
# any reader; src/nengtan/reports/fonts.py searches for it; NENGTAN_CJK_FONT overrides) and for
# the console's screenshots in the browser tests.
cjk_font="${NENGTAN_BOOTSTRAP_CJK_FONT:-/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc}"
if [ ! -f "$cjk_font" ] && [ -z "${NENGTAN_CJK_FONT:-}" ]; then
  echo "bootstrap: installing fonts-wqy-zenhei (Chinese font for PDF reports)"
  if ! apt_install fonts-wqy-zenhei || [ ! -f "$cjk_font" ]; then
    echo "bootstrap: warning: no Chinese font at $cjk_font: PDF reports will not embed a CJK font (Chinese may show as boxes). Install it with 'sudo apt-get install fonts-wqy-zenhei', or set NENGTAN_CJK_FONT to a TrueType (.ttf/.ttc) CJK font." >&2
  fi
fi

# The browser tests drive Debian's Chromium with Playwright (never a browser download).
if [ "$extra" = "test" ] && [ ! -x "${NENGTAN_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "bootstrap: installing chromium and chromium-driver (browser tests)"
  if ! apt_install chromium chromium-driver; then
    echo "bootstrap: warning: could not install chromium: the browser tests will be skipped. Install it with 'sudo apt-get install chromium chromium-driver'." >&2
  fi
fi
# pdftotext reads the generated PDF reports back in the report tests.
if [ "$extra" = "test" ] && ! command -v pdftotext >/dev/null 2>&1; then
  echo "bootstrap: installing poppler-utils (pdftotext, report tests)"
  apt_install poppler-utils || echo "bootstrap: warning: could not install poppler-utils: the PDF text checks will be skipped." >&2
fi
