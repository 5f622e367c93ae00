"""Content findings for one page: readability over its target, and stale or undated pages."""

from __future__ import annotations

from datetime import date

from audits.plain_english import WORDS_TO_AVOID
from audits.readability import Readability
from vocabulary.findings import Finding
from vocabulary.labels import date_source_label

WRITING_GUIDE = "https://www.gov.uk/guidance/content-design/writing-for-gov-uk"
REVIEW_GUIDE = "https://www.gov.uk/guidance/content-design/user-needs"


# Short titles, as axe's help texts are: what the reader of a report scans for.
TITLES = {
    "reading-age": "Reading age above the target",
    "review-overdue": "Review date has passed",
    "undated": "No date of last update",
    "archive-candidate": "Candidate for the archive",
    "stale": "Not updated for too long",
}


def finding(
    rule_id: str,
    kind: str,
    impact: str,
    problem: str,
    advice: str,
    help_url: str,
    snippet: str = "",
    outcome: str = "violation",
) -> Finding:
    """A page-level finding; its fingerprint is the rule, as there is no element."""
    return Finding(
        kind=kind,
        rule_id=rule_id,
        impact=impact,
        outcome=outcome,
        snippet=snippet,
        summary=f"{problem}\n{advice}",
        help=TITLES[rule_id],
        help_url=help_url,
        fingerprint=f"{kind}:{rule_id}",
    )


def readability_finding(r: Readability, target: float, min_words: int) -> Finding | None:
    """A finding when an English page of enough words reads above its target age."""
    if not r.measured or r.reading_age is None or r.word_count < min_words:
        return None
    if r.reading_age <= target:
        return None
    over = r.reading_age - target
    impact = "moderate" if over >= 4 else "minor"
    words = ", ".join(f"{w} ({n})" for w, n in r.words_to_avoid[:8])
    summary = (
        f"Reading age {r.reading_age:g} (target {target:g}): Flesch reading ease "
        f"{r.reading_ease:g}, grade {r.grade_level:g}, {len(r.long_sentences)} "
        f"sentence{'s' if len(r.long_sentences) != 1 else ''} over 25 words"
    )
    if words:
        summary += f"; words to avoid: {words}"
    advice = "Split long sentences, use everyday words and write to the reader as 'you'."
    swaps = [
        f"'{w}' → {WORDS_TO_AVOID[w]}" for w, _ in r.words_to_avoid[:5] if WORDS_TO_AVOID.get(w)
    ]
    if swaps:
        advice += " Try: " + "; ".join(swaps) + "."
    longest = r.long_sentences[0] if r.long_sentences else ""
    return finding(
        "reading-age", "readability", impact, summary, advice, WRITING_GUIDE, snippet=longest[:1000]
    )


def months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def freshness_findings(
    last_updated: tuple[str, str, str] | None,
    review_due: str | None,
    today: date,
    max_age_months: int,
    archive_after_months: int | None,
) -> list[Finding]:
    """Stale, review-overdue, archive-candidate or undated findings for one page.

    last_updated is (ISO date, source, evidence); review_due an ISO date or None.
    """
    found = []
    if review_due and date.fromisoformat(review_due) < today:
        found.append(
            finding(
                "review-overdue",
                "stale",
                "moderate",
                f"The page says its review was due on {review_due}.",
                "Review the page with its owner, update it or remove it, then set a new review "
                "date.",
                REVIEW_GUIDE,
            )
        )
    if last_updated is None:
        if max_age_months or archive_after_months:
            found.append(
                finding(
                    "undated",
                    "stale",
                    "minor",
                    "No date evidence: the page, its metadata, the "
                    "sitemap and the server give no date it was last updated or reviewed.",
                    "Show a 'Last updated' date on the page, or set dcterms.modified, so readers "
                    "and editors can see it is current.",
                    REVIEW_GUIDE,
                    outcome="needs-review",
                )
            )
        return found
    value, source, evidence = last_updated
    age = months_between(date.fromisoformat(value), today)
    where = f"{value} ({date_source_label(source)}: {evidence[:120]})"
    if archive_after_months and age >= archive_after_months:
        found.append(
            finding(
                "archive-candidate",
                "stale",
                "minor",
                f"Last updated {age} months ago, on {where}; archive after "
                f"{archive_after_months} months.",
                "Move the page to the archive, or remove it if nobody needs it.",
                REVIEW_GUIDE,
            )
        )
    elif max_age_months and age >= max_age_months:
        found.append(
            finding(
                "stale",
                "stale",
                "moderate",
                f"Last updated {age} months ago, on {where}; the limit is {max_age_months} months.",
                "Check the page is still right, update it, and show the new 'Last updated' date.",
                REVIEW_GUIDE,
            )
        )
    return found
