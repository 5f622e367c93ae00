#!/bin/sh
# Runs ChromeDriver for siteaudit. Selenium holds this script's stdin open; when siteaudit
# ends, even by kill -9, stdin closes and the whole process group (this script, ChromeDriver,
# Chromium and every helper it started) is killed, so no browser outlives its scan.
"$SITEAUDIT_CHROMEDRIVER" "$@" </dev/null &
cat >/dev/null
kill -KILL 0
