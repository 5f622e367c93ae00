"""The questions people ask of a scan database, as SQL: `siteaudit browse` offers them in
Datasette as canned queries, and anyone can copy them into sqlite3.

Each reads the latest finished scan unless it says otherwise, and counts as the reports do:
a finding a person has decided on (a live decision) is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

from store.decisions import UNDECIDED
from vocabulary.impacts import IMPACTS


@dataclass(frozen=True)
class CannedQuery:
    name: str  # its address in Datasette: /DATABASE/NAME
    title: str
    description: str
    sql: str


LATEST = "(SELECT max(id) FROM scans WHERE status = 'finished')"
# A violation (as f) that counts: no live decision on it.
VIOLATION = f"f.outcome = 'violation' AND {UNDECIDED}"
# Most severe first, as every report sorts (vocabulary/impacts.py impact_rank).
IMPACT_ORDER = (
    "CASE f.impact "
    + " ".join(f"WHEN '{impact}' THEN {rank}" for rank, impact in enumerate(IMPACTS))
    + f" ELSE {len(IMPACTS)} END"
)
# The pages a team's list shows, worst first.
PAGES_PER_TEAM = 10
# Pictures are up to 40 KB each and shown inline: a page of them stays small enough to load.
PICTURE_ROWS = 100

WORST_PAGES = CannedQuery(
    "worst_pages_by_team",
    "Worst pages per team",
    f"Each team's {PAGES_PER_TEAM} lowest-scoring pages in the latest finished scan "
    "(score 0 to 100, see docs/scoring.md), with the elements failing a rule and those to "
    "check by hand.",
    f"""WITH ranked AS (
  SELECT team, url, title, score, violations, needs_review,
    row_number() OVER (PARTITION BY team ORDER BY score, violations DESC, url) AS rank
  FROM pages
  WHERE scan_id = {LATEST} AND score IS NOT NULL
)
SELECT team, rank, url, title, score, violations, needs_review
FROM ranked
WHERE rank <= {PAGES_PER_TEAM}
ORDER BY team, rank""",
)

NEW_PROBLEMS = CannedQuery(
    "new_problems",
    "New problems since the last scan",
    "Violations in the latest finished scan that the previous finished scan of the same "
    "start URL did not have (findings.history `new`, or `returning` when an earlier scan "
    "had them: the same fingerprint on the same page without its host, or anywhere in the "
    "shared layout), as the report's team pages list them, with the day each was first "
    "seen. A problem in the layout is one row, with the number of pages showing it. Empty "
    "on a site's first scan.",
    f"""WITH latest AS (
  SELECT id, start_url FROM scans WHERE id = {LATEST}
), previous AS (
  SELECT max(s.id) AS id FROM scans s, latest
  WHERE s.status = 'finished' AND s.id < latest.id AND s.start_url IS latest.start_url
)
SELECT f.team, f.impact, f.kind, f.rule_id, f.wcag,
  CASE WHEN f.scope = 'template' THEN 'the shared layout' ELSE f.url END AS page,
  count(DISTINCT f.url) AS pages, f.history, f.first_seen_at, f.location, f.help
FROM findings f, latest, previous
WHERE f.scan_id = latest.id AND previous.id IS NOT NULL AND {VIOLATION}
  AND f.history IN ('new', 'returning')
GROUP BY CASE WHEN f.scope = 'template' THEN 'layout ' || f.fingerprint ELSE f.rowid END
ORDER BY {IMPACT_ORDER}, f.team, page, f.rule_id""",
)

TEMPLATE_PROBLEMS = CannedQuery(
    "template_problems",
    "Problems in the shared layout",
    "Findings of the latest finished scan in the shared page template (findings.scope = "
    "'template'): the same element, or the same broken link, on many pages. One row each, "
    "with the number of pages showing it; owned by templates.owner.",
    f"""SELECT f.team, f.impact, f.kind, f.rule_id, f.wcag, f.outcome,
  count(DISTINCT f.url) AS pages, min(f.url) AS example_page,
  f.location, f.snippet, f.help
FROM findings f
WHERE f.scan_id = {LATEST} AND f.scope = 'template' AND {UNDECIDED}
GROUP BY f.fingerprint, f.outcome
ORDER BY {IMPACT_ORDER}, pages DESC, f.rule_id""",
)

REVIEW_OVERDUE = CannedQuery(
    "review_overdue",
    "Pages past their review date",
    "Pages of the latest finished scan whose stated review date (pages.review_due) is "
    "before today, longest overdue first.",
    f"""SELECT team, url, title, review_due,
  CAST(julianday('now') - julianday(review_due) AS INTEGER) AS days_overdue,
  last_updated
FROM pages
WHERE scan_id = {LATEST} AND review_due IS NOT NULL AND review_due < date('now')
ORDER BY review_due, team, url""",
)

FAILING_DOCUMENTS = CannedQuery(
    "failing_documents",
    "Documents failing checks",
    "PDF and Office documents of the latest finished scan with problems (not exempt, not "
    "decided), with the rules they fail and the page that links them.",
    f"""SELECT d.team, d.url, d.kind, d.title, d.linked_from,
  count(*) AS problems, group_concat(f.rule_id, ', ') AS rules, d.check_error
FROM documents d
JOIN findings f ON f.scan_id = d.scan_id AND f.url = d.url
WHERE d.scan_id = {LATEST} AND f.kind = 'document' AND {VIOLATION}
GROUP BY d.url
ORDER BY problems DESC, d.team, d.url""",
)


def on_the_page(what: str, condition: str) -> str:
    """SQL for what the findings of a page (p) in its scan that meet a condition come to."""
    return (
        f"(SELECT {what} FROM findings f WHERE f.scan_id = p.scan_id AND f.url = p.url "
        f"AND {condition})"
    )


ACCESSIBILITY = f"f.kind = 'accessibility' AND {VIOLATION}"
CONTENT = f"f.kind IN ('readability', 'stale') AND {VIOLATION}"
BROKEN_LINKS = f"f.kind = 'broken-link' AND {VIOLATION}"

PAGE_HISTORY = CannedQuery(
    "page_history",
    "History of one page",
    "One page (its full URL, as in pages.url) in every scan that found it: its score; its "
    "accessibility problems (the rules its elements fail, each once) and the elements "
    "failing them; its content problems (reading age, out of date, review overdue); its "
    "broken links; and the elements to check by hand.",
    f"""SELECT s.id AS scan, s.started_at, s.status, p.score,
  {on_the_page("count(DISTINCT f.rule_id)", ACCESSIBILITY)} AS problems,
  {on_the_page("count(*)", ACCESSIBILITY)} AS elements,
  {on_the_page("count(DISTINCT f.rule_id)", CONTENT)} AS content_problems,
  {on_the_page("count(*)", BROKEN_LINKS)} AS broken_links,
  {on_the_page("count(*)", "f.outcome = 'needs-review'")} AS needs_review
FROM pages p JOIN scans s ON s.id = p.scan_id
WHERE p.url = :url
ORDER BY s.id""",
)

PROBLEM_PICTURES = CannedQuery(
    "problem_pictures",
    "Pictures of the problems",
    f"The first {PICTURE_ROWS} violations of the latest finished scan that have a picture, "
    "most severe first: the element outlined, and where it is in the window.",
    f"""SELECT f.team, f.url, f.impact, f.rule_id, f.location,
  element.image AS picture, surroundings.image AS page_picture
FROM findings f
JOIN pictures element ON element.id = f.picture
LEFT JOIN pictures surroundings ON surroundings.id = f.page_picture
WHERE f.scan_id = {LATEST} AND {VIOLATION}
ORDER BY {IMPACT_ORDER}, f.team, f.url
LIMIT {PICTURE_ROWS}""",
)

CANNED_QUERIES: tuple[CannedQuery, ...] = (
    WORST_PAGES,
    NEW_PROBLEMS,
    TEMPLATE_PROBLEMS,
    REVIEW_OVERDUE,
    FAILING_DOCUMENTS,
    PAGE_HISTORY,
    PROBLEM_PICTURES,
)
