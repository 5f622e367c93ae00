"""siteaudit browse: a scan database in Datasette, read-only, with every table and column
described (store/schema_docs.py) and the questions people ask as canned queries
(store/canned_queries.py).

Datasette is an optional extra (`pip install 'siteaudit[browse]'`), imported only here and
only when the command runs.
"""

from __future__ import annotations

import base64
import re
import signal
import socket
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

import click
from markupsafe import Markup

from store.canned_queries import CANNED_QUERIES
from store.database import check_shape, open_database
from store.schema_docs import BYTES, MS, TABLES, Column, Table

HOST = "127.0.0.1"  # findings hold what pages wrote: never served beyond this machine
DEFAULT_PORT = 8001  # Datasette's own default
INSTALL = "pip install 'siteaudit[browse]'"
# Units Datasette can show with their values (it reads them with Pint).
DATASETTE_UNITS = {MS: "ms", BYTES: "byte"}
SETTINGS = {
    # One person on their own machine: a query over a long history may take more than
    # Datasette's default second.
    "sql_time_limit_ms": 5000,
}
PLUGIN_NAME = "siteaudit_pictures"
# The stored pictures are at most 40 KB; anything far bigger is not one of them.
MAX_PICTURE_BYTES = 256 * 1024
DESCRIPTION = (
    "Scans of a website by siteaudit: its pages, accessibility findings, readability, links "
    "and documents. The canned queries answer common questions; each table describes its "
    "columns (and docs/schema.md describes them all)."
)
MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


class BrowseError(Exception):
    """siteaudit browse cannot start."""


class Stopped(Exception):
    """SIGTERM: stop serving, as Ctrl-C does."""


@dataclass(frozen=True)
class Datasette:
    """The parts of Datasette and its server that browse uses."""

    app: Any  # datasette.app.Datasette
    hookimpl: Any
    plugins: Any  # datasette.plugins.pm
    uvicorn: Any


def load_datasette() -> Datasette:
    """Datasette, or a BrowseError saying how to install it: it is an optional extra."""
    try:
        import datasette  # noqa: F401  (first, so a missing package fails here)
        import uvicorn
        from datasette import hookimpl
        from datasette.app import Datasette as DatasetteApp
        from datasette.plugins import pm
    except ImportError:
        raise BrowseError(
            f"Datasette is not installed, and siteaudit browse needs it; install it with: {INSTALL}"
        ) from None
    return Datasette(DatasetteApp, hookimpl, pm, uvicorn)


def serve_database(db_path: str, port: int) -> None:
    """Serve the database read-only in Datasette on HOST until Ctrl-C (or SIGTERM)."""
    datasette = load_datasette()
    path = Path(db_path)
    check_database(path)
    sock = listen(port)
    name = path.stem  # the name Datasette gives a database: its address and metadata key
    app = datasette.app(files=[str(path)], metadata=metadata(name, path), settings=SETTINGS)
    if not datasette.plugins.has_plugin(PLUGIN_NAME):
        datasette.plugins.register(pictures_plugin(datasette.hookimpl), name=PLUGIN_NAME)
    config = datasette.uvicorn.Config(app.app(), log_level="warning", lifespan="on")
    url = f"http://{HOST}:{sock.getsockname()[1]}{app.urls.database(name)}"
    click.echo(f"Serving {path} read-only in Datasette at {url} (Ctrl-C to stop)", err=True)
    serve_until_stopped(datasette.uvicorn.Server(config), sock)
    click.echo(f"Stopped serving {path}", err=True)


def check_database(path: Path) -> None:
    """Refuse what is not a siteaudit database with the store's own errors, before serving
    it; an older one is upgraded, as every command that reads one does."""
    db = open_database(path, create=False)
    try:
        check_shape(db.conn, path)
    finally:
        db.conn.close()


def listen(port: int) -> socket.socket:
    """A socket listening on HOST (port 0: any free one), so a port in use is one clear
    error and the printed address answers at once."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
        sock.listen(128)
    except OSError as err:
        sock.close()
        raise BrowseError(
            f"cannot serve on {HOST}:{port} ({err.strerror or err}); choose another --port"
        ) from None
    return sock


def serve_until_stopped(server: Any, sock: socket.socket) -> None:
    """Run the server until Ctrl-C or SIGTERM: uvicorn shuts down cleanly, then raises the
    signal again for the program's own handler, which ends here."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        server.run(sockets=[sock])
    except (KeyboardInterrupt, Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        sock.close()


def metadata(name: str, path: Path) -> dict[str, Any]:
    """Datasette's metadata: a title, every table and column described, canned queries."""
    return {
        "title": f"siteaudit: {path.name}",
        "description": DESCRIPTION,
        "databases": {
            name: {
                "description": DESCRIPTION,
                "tables": {table.name: table_metadata(table) for table in TABLES},
                "queries": {
                    query.name: {
                        "title": query.title,
                        "description": query.description,
                        "sql": query.sql,
                    }
                    for query in CANNED_QUERIES
                },
            }
        },
    }


def table_metadata(table: Table) -> dict[str, Any]:
    units = {c.name: DATASETTE_UNITS[c.unit] for c in table.columns if c.unit in DATASETTE_UNITS}
    return {
        "description": plain(table.description),
        "columns": {column.name: column_text(column) for column in table.columns},
        "units": units,
    }


def column_text(column: Column) -> str:
    meaning = plain(column.meaning)
    return f"{meaning} ({column.unit})" if column.unit else meaning


def plain(markdown: str) -> str:
    """docs/schema.md's Markdown as Datasette shows a description, in plain text: no
    backticks, and a link to another doc as that doc's path."""
    text = MARKDOWN_LINK.sub(lambda m: linked_doc(m[1], m[2]), markdown)
    return text.replace("`", "")


def linked_doc(text: str, target: str) -> str:
    document = target.split("#")[0]
    if not document.endswith(".md"):
        return text
    return f"docs/{document}" if text == document else f"{text} (docs/{document})"


def picture_format(value: Any) -> str | None:
    """webp or png if the value is the bytes of such a picture (all the pictures table
    holds), else None."""
    if not isinstance(value, bytes) or len(value) > MAX_PICTURE_BYTES:
        return None
    if value[:4] == b"RIFF" and value[8:12] == b"WEBP":
        return "webp"
    if value.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


def picture_html(value: Any, column: str | None) -> Markup | None:
    """An image of a stored picture, its bytes in the page: Datasette shows a BLOB only as
    a download link, and datasette-render-images does not know webp."""
    kind = picture_format(value)
    if kind is None:
        return None
    alt = "the window, the element outlined" if column == "page_picture" else "the element"
    encoded = base64.b64encode(value).decode("ascii")
    return Markup('<img src="data:image/{};base64,{}" alt="{}">').format(kind, encoded, alt)


def pictures_plugin(hookimpl: Any) -> ModuleType:
    """The Datasette plugin that shows pictures as images, wherever a cell holds one (a
    plugin is a module to Datasette)."""
    plugin = ModuleType(PLUGIN_NAME)
    plugin.render_cell = hookimpl(picture_html)  # type: ignore[attr-defined]
    return plugin
