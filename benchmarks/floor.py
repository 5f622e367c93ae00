"""The browser's floor: bare sessions that only navigate and run axe, nothing else.

Same Chromium flags, same axe-core file and options as a siteaudit scan; no crawl, no
parsing, no storage, no hand-over of responses. The best a scan can hope for.

    python benchmarks/floor.py URLS_FILE --browsers 2
"""

from __future__ import annotations

import argparse
import os
import queue
import sys
import tempfile
import threading
import time
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from browser.axe_core import axe_source_path  # noqa: E402
from browser.axe_session import RUN_JS, axe_options  # noqa: E402
from browser.launch import BrowserOptions, chrome_options, unprivileged_user  # noqa: E402

# The scan's own axe function, called in the page's world: the floor needs no isolated one.
FLOOR_RUN_JS = f"const done = arguments[1]; ({RUN_JS})(arguments[0]).then(done);"


def floor_service(options: BrowserOptions, profile: str) -> Service:
    """ChromeDriver as the scan runs it: as root, as the same unprivileged user, so that
    Chromium has its sandbox in both."""
    if options.run_as is None:
        return Service(options.chromedriver)
    home = Path(profile) / "home"
    home.mkdir()
    for path in (Path(profile), home):
        os.chown(path, *options.run_as)
    return Service(
        options.chromedriver,
        env={**os.environ, "HOME": str(home)},
        popen_kw={"user": options.run_as[0], "group": options.run_as[1], "extra_groups": []},
    )


def session_loop(urls: queue.Queue[str], options: BrowserOptions, done: list[int]) -> None:
    """One browser: navigate, inject axe, run it with the scan's options, repeat."""
    axe_source = axe_source_path(options.axe_path).read_text(encoding="utf-8")
    options_for_axe = axe_options(options.run_only)  # exactly the scan's options
    with tempfile.TemporaryDirectory() as profile:
        driver = webdriver.Chrome(
            service=floor_service(options, profile),
            # Bare: straight to the site, not through the scan's proxy (direct:// is none).
            options=chrome_options(options, profile, proxy_url="direct://"),
        )
        driver.set_page_load_timeout(options.page_timeout)
        driver.set_script_timeout(options.page_timeout)
        try:
            while True:
                try:
                    url = urls.get_nowait()
                except queue.Empty:
                    return
                driver.get(url)
                driver.execute_script(axe_source)
                driver.execute_async_script(FLOOR_RUN_JS, options_for_axe)
                done.append(1)
        finally:
            driver.quit()


def measure_floor(urls: list[str], browsers: int, local_site: bool = True) -> float:
    """Seconds for `browsers` bare sessions to navigate to and axe every URL once."""
    options = BrowserOptions(local_site=local_site, run_as=unprivileged_user(""))
    todo: queue.Queue[str] = queue.Queue()
    for url in urls:
        todo.put(url)
    done: list[int] = []
    started = time.monotonic()
    threads = [
        threading.Thread(target=session_loop, args=(todo, options, done)) for _ in range(browsers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if len(done) != len(urls):
        raise SystemExit(f"floor audited {len(done)} of {len(urls)} pages")
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("urls", type=Path, help="file with one URL per line")
    parser.add_argument("--browsers", type=int, default=2)
    args = parser.parse_args()
    urls = args.urls.read_text().split()
    seconds = measure_floor(urls, args.browsers)
    print(f"{len(urls)} pages in {seconds:.1f}s: {len(urls) * 60 / seconds:.0f} pages/min")


if __name__ == "__main__":
    main()
