#!/bin/sh
# Runs ChromeDriver for siteaudit. Selenium holds this script's stdin open; when siteaudit
# ends, even by kill -9, stdin closes and the whole process group (this script, ChromeDriver,
# Chromium and every helper it started) is killed, so no browser outlives its scan.
# When ChromeDriver itself exits, the group is killed too: this script then ends at once, so
# Selenium sees a ChromeDriver that could not start at its next look (it polls the script),
# instead of waiting some 30 s for a connection that will never come.
("$SITEAUDIT_CHROMEDRIVER" "$@" </dev/null; kill -KILL 0) &
cat >/dev/null
kill -KILL 0
