"""What an accessibility statement page says, read from its HTML: the parts the model
statement requires, in English or Welsh, as plain data (pages.structure's `statement`).

Read once while the page is read (audits/page_structure.py), for a page whose title or main
heading speaks of accessibility; judged after the crawl against the scan (audits/statement.py).
Bounded like every reading: the page may be written by an attacker.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from audits.tree import Element, HtmlTree

MAX_TEXT = 200_000  # characters of the statement read: a real one has a few thousand
MAX_LINKS = 500
MAX_SENTENCE = 300  # characters kept of a sentence quoted as evidence

# A page is read as a statement when its title or first main heading says one of these.
STATEMENT_WORDS = re.compile(r"accessibility|hygyrchedd", re.I)
WELSH_WORDS = re.compile(r"datganiad\s+hygyrchedd", re.I)
APOSTROPHE = "['\u2019]"

# The model statement's parts, each as an English and a Welsh phrase (the Welsh as Welsh
# councils word their statements).
SCOPE = re.compile(
    r"this\s+(?:accessibility\s+)?statement\s+applies\s+to"
    rf"|mae{APOSTROPHE}r\s+datganiad(?:\s+hygyrchedd)?\s+hwn\s+yn\s+berthnasol\s+i",
    re.I,
)
# A claim, as the model words it ("This website is partially compliant with ..."), not an
# aim ("we want it to be fully compliant with ...").
STATUS = re.compile(
    r"\b(?:is|are)\s+(?:currently\s+)?(?P<en>fully|partially|not)\s+compliant\s+with\s+the"
    r"\s+web\s+content\s+accessibility\s+guidelines"
    rf"|(?P<cy>yn\s+cydymffurfio{APOSTROPHE}n\s+(?:llawn|rhannol)"
    rf"|(?:nid|ddim)\s+(?:yw{APOSTROPHE}n\s+)?(?:yn\s+)?cydymffurfio)",
    re.I,
)
WELSH_STATUS = {"llawn": "fully", "rhannol": "partially"}
NON_ACCESSIBLE = re.compile(
    rf"non[-\s]?accessible\s+content|cynnwys\s+nad\s+yw{APOSTROPHE}n\s+hygyrch", re.I
)
CRITERION = re.compile(r"(?<![\d.])([1-4]\.[1-9]\.\d{1,2})(?![\d.]*\d)")
# Each pattern that repeats starts only where a word starts, so a long run of letters costs
# linear time, not quadratic (the page may be an attacker's).
EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<!\d)(?:\+44\s?|0)(?:\d[\s-]?){9,10}(?!\d)")
FORM_WORDS = re.compile(r"contact|form|feedback|report|ffurflen|cysylltu|adborth", re.I)
# The enforcement procedure: the Equality Advisory and Support Service (Great Britain), or
# the Equality Commission for Northern Ireland.
ENFORCEMENT_HOSTS = ("equalityadvisoryservice.com", "equalityni.org")
ENFORCEMENT_NAMES = re.compile(
    r"equality\s+advisory\s+and\s+support\s+service|\beass\b|equality\s+commission\s+for\s+"
    r"northern\s+ireland|gwasanaeth\s+cynghori\s+a\s+chymorth\s+cydraddoldeb",
    re.I,
)

MONTHS = {
    **{m: i for i, m in enumerate(
        ("january", "february", "march", "april", "may", "june", "july", "august",
         "september", "october", "november", "december"), start=1)},
    **{m: i for i, m in enumerate(
        ("ionawr", "chwefror", "mawrth", "ebrill", "mai", "mehefin", "gorffennaf", "awst",
         "medi", "hydref", "tachwedd", "rhagfyr"), start=1)},
}  # fmt: skip
_DATE = (
    r"(?:on\s+|ar\s+)?(?P<day>\d{1,2})(?:st|nd|rd|th)?\s+(?P<month>"
    + "|".join(sorted(MONTHS, key=len, reverse=True))
    + r")\s+(?P<year>\d{4})"
)
PREPARED = re.compile(r"(?:was\s+)?prepared|paratowyd(?:\s+y\s+datganiad\s+hwn)?", re.I)
REVIEWED = re.compile(
    r"(?:last\s+)?(?:reviewed|updated)|(?:ei\s+)?adolyg(?:wyd|u)(?:\s+ddiwethaf)?|"
    r"diweddarwyd(?:\s+ddiwethaf)?",
    re.I,
)
DATED = re.compile(
    r"(?<![a-z\u2019'])(?P<label>[a-z\u2019']+(?:\s+[a-z\u2019']+){0,5})\s+" + _DATE, re.I
)


@dataclass(frozen=True)
class StatementReading:
    """The parts of the model statement a page has, as found in its main content."""

    welsh: bool
    scope: str | None = None  # the sentence that says what the statement covers
    status: str | None = None  # fully, partially or not (compliant), as the model words it
    status_text: str | None = None
    non_accessible: bool = False  # a "Non-accessible content" section
    criteria: tuple[str, ...] = ()  # WCAG success criteria the statement names, in order
    contact: tuple[str, ...] = ()  # email, phone, form: the ways to report a problem
    enforcement: str | None = None  # the link to EASS or the Equality Commission (NI)
    enforcement_named: bool = False  # named without a link
    prepared: str | None = None  # ISO dates
    reviewed: str | None = None
    truncated: bool = False

    def as_json(self) -> dict[str, Any]:
        """What pages.structure keeps."""
        kept = asdict(self)
        kept["criteria"], kept["contact"] = list(self.criteria), list(self.contact)
        return kept

    @classmethod
    def from_json(cls, stored: Any) -> StatementReading | None:
        """A reading as stored, or None for anything else."""
        if not isinstance(stored, dict):
            return None
        known = {k: v for k, v in stored.items() if k in cls.__dataclass_fields__}
        known["criteria"] = tuple(str(c) for c in known.get("criteria") or ())
        known["contact"] = tuple(str(c) for c in known.get("contact") or ())
        known["welsh"] = bool(known.get("welsh"))
        try:
            return cls(**known)
        except TypeError:
            return None


def looks_like_statement(title: str | None, first_heading: str | None) -> bool:
    """A page whose title or first main heading speaks of accessibility is read as one."""
    return any(STATEMENT_WORDS.search(text or "") for text in (title, first_heading))


def read_statement(page: HtmlTree, lang: str | None = None) -> StatementReading:
    """The statement's parts, read from the page's main content (its body if none)."""
    main = _main(page)
    text, _cost = page.bounded_text(main, MAX_TEXT)
    truncated = text is None
    text = " ".join((text if text is not None else _first_text(main)).split())
    links = _links(page, main)
    title = page.first("title")
    words = f"{page.text_of(title) if title is not None else ''} {text[:2000]}"
    status = STATUS.search(text)
    return StatementReading(
        welsh=(lang or "").lower().startswith("cy") or bool(WELSH_WORDS.search(words)),
        scope=_sentence(text, SCOPE.search(text)),
        status=_status(status),
        status_text=_sentence(text, status),
        non_accessible=bool(NON_ACCESSIBLE.search(text)),
        criteria=tuple(dict.fromkeys(CRITERION.findall(text))),
        contact=_contact(text, links),
        enforcement=next((h for h, _ in links if _enforcement_link(h)), None),
        enforcement_named=bool(ENFORCEMENT_NAMES.search(text)),
        prepared=_dated(text, PREPARED, latest=False),
        reviewed=_dated(text, REVIEWED, latest=True),
        truncated=truncated,
    )


def _main(page: HtmlTree) -> Element:
    """The main content: <main> or role=main, else the body, else the whole page."""
    for element in page.root.iter("*"):
        if element.tag == "main" or (element.get("role") or "").strip().lower() == "main":
            return element
    body = page.first("body")
    return body if body is not None else page.root


def _first_text(main: Element) -> str:
    """The first MAX_TEXT characters of a statement too long to read whole."""
    kept, length = [], 0
    for text in main.itertext():
        kept.append(text)
        length += len(text) + 1
        if length > MAX_TEXT:
            break
    return " ".join(kept)[:MAX_TEXT]


def _links(page: HtmlTree, main: Element) -> list[tuple[str, str]]:
    """(href, text) of the main content's links, at most MAX_LINKS."""
    found = []
    for tag in main.iter("a"):
        if (href := tag.get("href")) is not None:
            found.append((href.strip()[:2000], " ".join(page.text_of(tag).split())[:300]))
            if len(found) >= MAX_LINKS:
                break
    return found


def _sentence(text: str, match: re.Match[str] | None) -> str | None:
    """The sentence a match is in, cut to MAX_SENTENCE characters."""
    if match is None:
        return None
    before = text.rfind(". ", 0, match.start())
    start = before + 2 if before >= 0 else 0
    end = text.find(". ", match.end())
    return text[start : end + 1 if end >= 0 else len(text)][:MAX_SENTENCE]


def _status(match: re.Match[str] | None) -> str | None:
    if match is None:
        return None
    if match["en"]:
        return match["en"].lower()
    said = match["cy"].lower()
    return next((v for k, v in WELSH_STATUS.items() if said.endswith(k)), "not")


def _contact(text: str, links: list[tuple[str, str]]) -> tuple[str, ...]:
    """How a person can report a problem: an email address, a phone number, a form."""
    found = []
    if EMAIL.search(text) or any(h.lower().startswith("mailto:") for h, _ in links):
        found.append("email")
    if PHONE.search(text) or any(h.lower().startswith("tel:") for h, _ in links):
        found.append("phone")
    if any(
        FORM_WORDS.search(f"{t} {h}") and not _enforcement_link(h)
        for h, t in links
        if not h.lower().startswith(("mailto:", "tel:", "#"))
    ):
        found.append("form")
    return tuple(found)


def _enforcement_link(href: str) -> bool:
    host = re.sub(r"^[a-z]+://", "", href.strip().lower()).split("/", 1)[0].split(":", 1)[0]
    return any(host == h or host.endswith("." + h) for h in ENFORCEMENT_HOSTS)


def _dated(text: str, label: re.Pattern[str], latest: bool) -> str | None:
    """The date after a label such as "prepared on" or "last reviewed on" (the latest, or
    the first, of those found), as an ISO date."""
    found = []
    for match in DATED.finditer(text):
        if not label.search(match["label"]):
            continue
        try:
            day = date(int(match["year"]), MONTHS[match["month"].lower()], int(match["day"]))
        except ValueError:
            continue
        found.append(day)
        if len(found) >= 20:
            break
    if not found:
        return None
    return (max(found) if latest else found[0]).isoformat()
