"""Scan the bundled demo site and photograph an editor's team page for the docs.

    .venv/bin/python scripts/docs_screenshots.py            # writes docs/team-page-*.png
    .venv/bin/python scripts/docs_screenshots.py --team planning --out /tmp/shots

It serves app/demo_site on 127.0.0.1, scans it with siteaudit (a real scan, in a child
process), writes the report, serves the report folder on 127.0.0.1 too, and opens the team
page in headless Chromium as siteaudit's own scans do (browser/launch.py: Debian's
ChromeDriver, the sandbox kept by running as the unprivileged user when root) at a desktop
width and a phone's. Each picture is the top of the page, down to its first problem,
reduced to 256 colours so that it stays small enough to keep in the repository.
"""

from __future__ import annotations

import argparse
import base64
import io
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere: the program's packages are beside scripts/

from app.demo import DEMO_CONFIG, DEMO_SITE, serve_site  # noqa: E402
from browser.browser import BrowserSession  # noqa: E402
from browser.launch import BrowserOptions, unprivileged_user  # noqa: E402

# (file name part, viewport width and height, tallest picture): a desktop and a phone
# (iPhone 12 to 15), each down to the first page's first grouped problem.
VIEWPORTS = (("desktop", 1280, 900, 2000), ("390", 390, 844, 3400))


def scan_demo(folder: Path) -> Path:
    """Scan the demo site into folder/demo.db and write its report; returns the report."""
    report = folder / "report"
    with serve_site(DEMO_SITE) as base:
        command = [sys.executable, "-m", "app.cli", "scan", f"{base}/", "--config"]
        command += [str(DEMO_CONFIG), "--db", str(folder / "demo.db"), "--report", str(report)]
        scan = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if scan.returncode != 0:
        raise SystemExit(f"the demo scan failed:\n{scan.stderr}")
    return report


def photograph(url: str, width: int, height: int, max_height: int) -> tuple[Image.Image, int]:
    """The top of the page at that viewport, and the page's scroll width there."""
    options = BrowserOptions(
        viewport=(width, height),
        run_as=unprivileged_user(""),
        local_site=True,
        private_hosts=("127.0.0.1",),
    )
    session = BrowserSession(options).start()
    try:
        assert session.driver is not None and session.devtools is not None
        session.driver.get(url)
        # Unfold each problem's list of elements, to show them.
        session.driver.execute_script(
            "document.querySelectorAll('details.elements').forEach(d => { d.open = true; })"
        )
        scroll_width = session.driver.execute_script("return document.documentElement.scrollWidth")
        page_height = session.driver.execute_script("return document.documentElement.scrollHeight")
        clip = {"x": 0, "y": 0, "width": width, "height": min(page_height, max_height), "scale": 1}
        shot = session.devtools.call(
            "Page.captureScreenshot",
            {"format": "png", "clip": clip, "captureBeyondViewport": True},
            timeout=60,
        )
    finally:
        session.close()
    return Image.open(io.BytesIO(base64.b64decode(shot["data"]))), scroll_width


def save_small(image: Image.Image, path: Path) -> int:
    """Save as a 256-colour PNG (text and flat colours lose nothing you can see)."""
    image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
        path, optimize=True
    )
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--team", default="waste-and-recycling", help="the team page's slug")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the PNGs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="siteaudit-docs-") as tmp:
        folder = Path(tmp)
        folder.chmod(0o755)  # Chromium, run as the unprivileged user, reads nothing here
        report = scan_demo(folder)
        with serve_site(report) as base:
            for name, width, height, tallest in VIEWPORTS:
                url = f"{base}/team-{args.team}.html"
                image, scroll_width = photograph(url, width, height, tallest)
                path = args.out / f"team-page-{name}.png"
                size = save_small(image, path)
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                print(
                    f"{shown}: {image.width}x{image.height}, {size // 1024} KB; "
                    f"page {scroll_width} px wide in a {width} px viewport"
                )


if __name__ == "__main__":
    main()
