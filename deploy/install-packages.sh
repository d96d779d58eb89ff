#!/usr/bin/env bash
# Install the Debian packages the project needs that are missing (`make bootstrap`).
#
#   deploy/install-packages.sh --python python3.11 postgresql redis-server nginx-light
#   deploy/install-packages.sh --browser
#
# --python PY: also the venv module for PY when `PY -m venv` cannot work (Debian and Ubuntu
#              ship it separately, as pythonX.Y-venv or python3-venv).
# --browser:   a Chromium for the browser tests, unless one is already there: `chromium`
#              where apt has it (Debian), else `chromium-browser` (Ubuntu, a snap wrapper).
# Uses sudo when not root. Prints nothing and changes nothing when all is installed.
# BROWSER_PATHS (space-separated) overrides where an installed Chromium is looked for.
set -euo pipefail

python="" browser=no packages=()
while [ $# -gt 0 ]; do
  case "$1" in
    --python) python="$2"; shift 2 ;;
    --browser) browser=yes; shift ;;
    *) packages+=("$1"); shift ;;
  esac
done

has_candidate() {  # apt knows an installable version of $1
  # Captured first: a reader that exits early (grep -q) would SIGPIPE apt-cache under pipefail.
  local policy
  policy="$(apt-cache policy "$1" 2>/dev/null)" || return 1
  [[ $policy =~ Candidate:\ [^\(] ]]
}

missing=()
for package in "${packages[@]}"; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
need_venv=no
if [ -n "$python" ] && command -v "$python" >/dev/null \
    && ! "$python" -c 'import ensurepip, venv' 2>/dev/null; then
  need_venv=yes
fi
need_browser=no
if [ "$browser" = yes ]; then
  need_browser=yes
  read -r -a browser_paths <<<"${BROWSER_PATHS:-/usr/bin/chromium /usr/bin/chromium-browser /snap/bin/chromium}"
  for path in "${CHROMIUM:-}" "${browser_paths[@]}"; do
    if [ -n "$path" ] && [ -x "$path" ]; then need_browser=no; fi
  done
fi
if [ ${#missing[@]} -eq 0 ] && [ $need_venv = no ] && [ $need_browser = no ]; then
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
# Package lists first: on a fresh machine apt knows no candidates until then.
$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
if [ $need_venv = yes ]; then
  versioned="$("$python" -c 'import sys; print("python%d.%d-venv" % sys.version_info[:2])')"
  if has_candidate "$versioned"; then missing+=("$versioned"); else missing+=(python3-venv); fi
fi
if [ $need_browser = yes ]; then
  if has_candidate chromium; then missing+=(chromium); else missing+=(chromium-browser); fi
fi
echo "Installing Debian packages: ${missing[*]}"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
