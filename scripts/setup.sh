#!/usr/bin/env bash
# Install everything siteaudit needs on Debian: Chromium + ChromeDriver (apt), axe-core (npm),
# and Python packages (a virtualenv in .venv).
# Safe to run again: each step is skipped or quick when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
# certutil makes Chromium trust a staging site's own certificate authority (site.ca_file).
command -v certutil >/dev/null 2>&1 || need_apt+=(libnss3-tools)
# Spelling: Enchant (which pyenchant calls) and the British and American Hunspell dictionaries.
[ -f /usr/share/hunspell/en_GB.dic ] || need_apt+=(hunspell-en-gb)
[ -f /usr/share/hunspell/en_US.dic ] || need_apt+=(hunspell-en-us)
ldconfig -p 2>/dev/null | grep -q 'libenchant-2\.so\.2 ' || need_apt+=(libenchant-2-2)
# The shared frontier of a distributed scan (--redis, docs/scaling.md). The tests start their
# own redis-server on a free port; nothing here starts or needs Debian's service.
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get" >&2
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends \
    "${need_apt[@]}"
fi

# As root, siteaudit runs Chromium as this unprivileged user, so it keeps its sandbox.
if [ "$(id -u)" -eq 0 ] && ! id siteaudit >/dev/null 2>&1; then
  echo "setup: adding the system user siteaudit, for Chromium's sandbox" >&2
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin siteaudit
fi

if [ ! -f node_modules/axe-core/axe.min.js ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing axe-core from package-lock.json (npm ci)" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
  echo "setup: installing Python packages into .venv" >&2
  # browse: Datasette, for siteaudit browse and its test; redis: the distributed scan.
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test,browse,redis]"
  touch .venv/.installed
fi

# The tests check JUnit output against the JUnit XSD that pytest's source distribution ships.
if [ ! -f .data/schemas/junit-10.xsd ]; then
  echo "setup: fetching the JUnit schema (pytest's sdist) for the tests" >&2
  mkdir -p .data/schemas .data/sdist
  .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps \
    --no-binary :all: "pytest==9.2.0" -d .data/sdist
  tar -xzf .data/sdist/pytest-9.2.0.tar.gz -O pytest-9.2.0/testing/example_scripts/junit-10.xsd \
    > .data/schemas/junit-10.xsd
fi

echo "setup: ready ($(chromium --version 2>/dev/null), axe-core $(node -p "require('./node_modules/axe-core/package.json').version"))" >&2
