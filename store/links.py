"""Links and the documents they lead to, once the crawl has fetched every target."""

from __future__ import annotations

from typing import Any


def fill_link_statuses(db: Any, scan_id: int) -> None:
    """Give each link its target's status or fetch error, once the crawl has fetched them."""
    with db.atomic():
        db.execute(
            """UPDATE links SET
                 status_code = (SELECT f.status_code FROM fetches f
                                WHERE f.scan_id = links.scan_id AND f.url = links.target_url),
                 error = (SELECT f.error FROM fetches f
                          WHERE f.scan_id = links.scan_id AND f.url = links.target_url)
               WHERE scan_id = ?""",
            [scan_id],
        )
        fill_from_redirects(db, scan_id)


def fill_from_redirects(db: Any, scan_id: int) -> None:
    """A link to a URL with no fetch of its own, reached only as where another fetch ended
    (an immediate meta refresh or a redirect to it came first, so the link's own request
    was a duplicate, never sent): that fetch's status, the answer this URL gave. A URL
    with a fetch of its own (one not fetched, and why) keeps what that says."""
    db.execute("DROP TABLE IF EXISTS temp.redirected_fetches")
    # Each final URL once: the fetch that got an answer first, then by its URL, so which of
    # several fetches ending at the same URL speaks for it never depends on crawl order.
    db.execute(
        """CREATE TEMP TABLE redirected_fetches AS
           SELECT final_url, status_code, error FROM (
             SELECT final_url, status_code, error, row_number() OVER (
                 PARTITION BY final_url ORDER BY status_code IS NULL, url) AS n
             FROM fetches WHERE scan_id = ? AND final_url IS NOT NULL AND final_url != url)
           WHERE n = 1""",
        [scan_id],
    )
    db.execute("CREATE UNIQUE INDEX temp.redirected_fetches_final ON redirected_fetches(final_url)")
    db.execute(
        """UPDATE links SET
             status_code = (SELECT r.status_code FROM redirected_fetches r
                            WHERE r.final_url = links.target_url),
             error = (SELECT r.error FROM redirected_fetches r
                      WHERE r.final_url = links.target_url)
           WHERE scan_id = ? AND status_code IS NULL AND error IS NULL
             AND target_url IN (SELECT final_url FROM redirected_fetches)
             AND NOT EXISTS (SELECT 1 FROM fetches f
                             WHERE f.scan_id = links.scan_id AND f.url = links.target_url)""",
        [scan_id],
    )
    db.execute("DROP TABLE temp.redirected_fetches")


def failed_links(db: Any, scan_id: int) -> list[tuple[Any, ...]]:
    """(source, target, text, internal, status, error, source's team) for each distinct
    target of each page that answered 400 or more or could not be fetched."""
    return db.execute(
        """SELECT l.source_url, l.target_url, min(l.link_text), l.internal, l.status_code,
                  l.error, p.team
           FROM links l JOIN pages p ON p.scan_id = l.scan_id AND p.url = l.source_url
           WHERE l.scan_id = ? AND (l.status_code >= 400 OR l.error IS NOT NULL)
           GROUP BY l.source_url, l.target_url""",
        [scan_id],
    ).fetchall()


def assign_documents(db: Any, scan_id: int, default_team: str) -> None:
    """A document, and its findings, belong to the team of the shallowest page linking to
    it; a document no page links to, to the default team."""
    db.execute(
        """UPDATE documents SET linked_from = coalesce((
               SELECT l.source_url FROM links l JOIN pages p
                 ON p.scan_id = l.scan_id AND p.url = l.source_url
               WHERE l.scan_id = documents.scan_id AND l.target_url = documents.url
               ORDER BY p.depth, l.source_url LIMIT 1), linked_from)
           WHERE scan_id = ?""",
        [scan_id],
    )
    db.execute(
        """UPDATE documents SET team = (SELECT p.team FROM pages p
               WHERE p.scan_id = documents.scan_id AND p.url = documents.linked_from)
           WHERE scan_id = ?""",
        [scan_id],
    )
    db.execute(
        """UPDATE findings SET team = coalesce((SELECT d.team FROM documents d
               WHERE d.scan_id = findings.scan_id AND d.url = findings.url), ?)
           WHERE scan_id = ? AND kind = 'document'""",
        [default_team, scan_id],
    )


def give_layout_documents(db: Any, scan_id: int, threshold: int, owner: str) -> None:
    """A document linked from at least `threshold` pages is linked from the shared layout:
    it, and its findings, belong to the layout's owner rather than to one page's team."""
    linked_from_layout = (
        "SELECT target_url FROM links WHERE scan_id = :scan "
        "GROUP BY target_url HAVING count(DISTINCT source_url) >= :threshold"
    )
    params = {"scan": scan_id, "threshold": threshold, "owner": owner}
    db.execute(
        "UPDATE documents SET team = :owner "
        f"WHERE scan_id = :scan AND url IN ({linked_from_layout})",
        params,
    )
    db.execute(
        "UPDATE findings SET team = :owner WHERE scan_id = :scan AND kind = 'document' "
        f"AND url IN ({linked_from_layout})",
        params,
    )
