#!/usr/bin/env bash
# Check the pages a content release changed, on a staging site, against a committed baseline.
#
#   scripts/check-release.sh STAGING_URL CHANGED_PATHS [BASELINE] [OUT_DIR]
#
# CHANGED_PATHS is a file with one site path per line (/council-tax/pay), e.g. from the CMS's
# release notes or `git diff --name-only` mapped to URLs; blank lines and # comments are
# skipped. BASELINE (default accessibility-baseline.json) is used if it exists; so is the
# decisions file named by $DECISIONS (default accessibility-decisions.toml, or, if that does
# not exist, the older waivers file: $WAIVERS, default accessibility-waivers.toml; docs/ci.md
# "Decisions and waivers"). $FAIL_ON_KINDS, if set, is the gate's --fail-on-kinds (e.g.
# accessibility,broken-link:serious,document; default accessibility alone). Results go to OUT_DIR
# (default audit-results): junit.xml, siteaudit.sarif and summary.md.
# Exit code: siteaudit check's: 0 passed, 1 could not check, 2 new problems.
set -euo pipefail
staging="${1:?usage: check-release.sh STAGING_URL CHANGED_PATHS [BASELINE] [OUT_DIR]}"
changed="${2:?usage: check-release.sh STAGING_URL CHANGED_PATHS [BASELINE] [OUT_DIR]}"
baseline="${3:-accessibility-baseline.json}"
out="${4:-audit-results}"
decisions="${DECISIONS:-accessibility-decisions.toml}"
[ -f "$decisions" ] || decisions="${WAIVERS:-accessibility-waivers.toml}"
siteaudit="${SITEAUDIT:-$(cd "$(dirname "$0")/.." && pwd)/.venv/bin/siteaudit}"

mkdir -p "$out"
args=(--junit "$out/junit.xml" --sarif "$out/siteaudit.sarif" --markdown "$out/summary.md")
[ -f "$baseline" ] && args+=(--baseline "$baseline")
[ -f "$decisions" ] && args+=(--decisions "$decisions")
[ -n "${FAIL_ON_KINDS:-}" ] && args+=(--fail-on-kinds "$FAIL_ON_KINDS")

# Paths become URLs on the staging host; the baseline matches pages by path, whatever host.
grep -v -e '^[[:space:]]*$' -e '^[[:space:]]*#' "$changed" \
  | sed -e 's#^[[:space:]]*/*#'"${staging%/}"'/#' \
  | "$siteaudit" check --urls - "${args[@]}"
