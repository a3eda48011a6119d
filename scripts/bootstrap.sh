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
