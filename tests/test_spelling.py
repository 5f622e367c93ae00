"""Spelling in British English (issue 17): what is read, what is a mistake, what is the
council's own; from a real --no-browser scan of tests/sites/spelling on 127.0.0.1."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from app.demo import serve_site
from audits.readability import content_and_prose, content_blocks
from audits.spelling import verdict
from audits.spelling_text import prose_blocks, sentences, words_of
from audits.tree import parse_html
from tests.conftest import SITES, query, run_in_process, run_siteaudit

SITE = SITES / "spelling"
CONFIG = """
[spelling]
words = ["Recyclo"]
words_file = "council-words.txt"

[[teams]]
name = "Waste"
paths = ["/mistakes.html"]
"""
# (page, rule, word) of every finding the fixture site should give with CONFIG.
EXPECTED = {
    ("/mistakes.html", "misspelling", "recieve"),  # twice on the page: one finding
    ("/mistakes.html", "misspelling", "seperate"),
    ("/mistakes.html", "misspelling", "emial"),
    ("/mistakes.html", "misspelling", "priviledge"),  # in priviledge-making: named alone
    ("/mistakes.html", "misspelling", "councill"),  # councill's: without the possessive
    ("/mistakes.html", "misspelling", "adress"),
    ("/us.html", "us-spelling", "color"),
    ("/us.html", "us-spelling", "center"),
    ("/us.html", "us-spelling", "organize"),
    ("/cymraeg.html", "misspelling", "emial"),  # the English passage of a Welsh page
}


def scan(folder: Path, *args: str) -> tuple[Path, str]:
    db = folder / "scan.db"
    with serve_site(SITE) as base:
        result = run_siteaudit("scan", base + "/", "--db", str(db), "--no-browser", *args)
    assert result.returncode == 0, result.stderr
    return db, base


def council_config(folder: Path) -> Path:
    (folder / "council-words.txt").write_text("# Our services\nkerbie\n", encoding="utf-8")
    config = folder / "council.toml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, Path]:
    folder = tmp_path_factory.mktemp("spelling")
    config = council_config(folder)
    db, base = scan(folder, "--config", str(config))
    return db, base, config


def spelling_rows(db: Path, base: str) -> set[tuple[str, str, str]]:
    rows = query(db, "SELECT url, rule_id, fingerprint FROM findings WHERE kind = 'spelling'")
    return {(url.removeprefix(base), rule, fp.rsplit(":", 1)[1]) for url, rule, fp in rows}


def test_a_scan_flags_each_mistake_once_on_each_page(scanned: tuple[Path, str, Path]) -> None:
    db, base, _ = scanned
    assert spelling_rows(db, base) == EXPECTED
    counted = query(db, "SELECT count(*) FROM findings WHERE kind = 'spelling'")
    assert counted == [(len(EXPECTED),)]


def test_a_finding_has_the_word_its_sentence_suggestions_and_the_pages_team(
    scanned: tuple[Path, str, Path],
) -> None:
    db, base, _ = scanned
    ((summary, snippet, team, impact, help_),) = query(
        db,
        "SELECT summary, snippet, team, impact, help FROM findings WHERE url = ? "
        "AND fingerprint = 'spelling:misspelling:recieve'",
        base + "/mistakes.html",
    )
    assert summary.startswith("\u2018recieve\u2019 is not in the British English dictionary.")
    assert "Did you mean: receive," in summary
    assert snippet == "You will recieve a letter about your new bin."
    assert (team, impact, help_) == ("Waste", "minor", "Spelling mistake")
    ((us_summary,),) = query(
        db, "SELECT summary FROM findings WHERE fingerprint = 'spelling:us-spelling:color'"
    )
    assert "Write: colour" in us_summary


def test_what_is_not_prose_is_never_flagged(scanned: tuple[Path, str, Path]) -> None:
    """skips.html misspells words only in code, pre, kbd, URLs, emails, file names,
    postcodes, references, capitals, Welsh and spellcheck=false; navigation and footer
    ("Navigashun", "Footre") are not main content."""
    db, base, _ = scanned
    assert not {row for row in spelling_rows(db, base) if row[0] == "/skips.html"}
    assert not {row for row in spelling_rows(db, base) if row[2] in ("navigashun", "footre")}


def test_names_and_words_the_site_uses_on_many_pages_are_not_flagged(
    scanned: tuple[Path, str, Path],
) -> None:
    """Trallwn (a capital in mid-sentence), Pontyprid (a name on another page), rubbage
    (on three pages), the Lincoln Theater (a US spelling in a name)."""
    db, base, _ = scanned
    flagged = {word for _, _, word in spelling_rows(db, base)}
    assert not flagged & {"trallwn", "pontyprid", "rubbage", "theater"}


def test_the_councils_words_come_from_its_list_and_its_file(tmp_path: Path) -> None:
    db, base = scan(tmp_path)  # no configuration: Recyclo and kerbie are mistakes
    assert spelling_rows(db, base) - EXPECTED == {
        ("/names.html", "misspelling", "recyclo"),
        ("/names.html", "misspelling", "kerbie"),
    }


def test_the_check_can_be_turned_off(tmp_path: Path) -> None:
    config = tmp_path / "off.toml"
    config.write_text("[spelling]\ncheck = false\n", encoding="utf-8")
    db, _ = scan(tmp_path, "--config", str(config))
    assert query(db, "SELECT count(*) FROM findings WHERE kind = 'spelling'") == [(0,)]


def test_words_lists_candidates_on_the_most_pages_first(scanned: tuple[Path, str, Path]) -> None:
    db, _, config = scanned
    result = run_siteaudit("words", "--db", str(db), "--config", str(config))
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stdout.splitlines() if not line.startswith("#")]
    assert lines[0] == ["3", "3", "rubbage", "(on", "many", "pages)"]
    assert ["1", "2", "Trallwn", "(a", "name)"] in lines
    assert ["1", "2", "recieve", "(flagged)"] in lines
    listed = {line[2].lower() for line in lines}
    assert "recyclo" not in listed and "kerbie" not in listed  # in the council's list


def test_the_team_report_and_csv_show_the_words_escaped(
    scanned: tuple[Path, str, Path], tmp_path: Path
) -> None:
    db, _, config = scanned
    out = tmp_path / "report"
    result = run_siteaudit("report", "--db", str(db), "--out", str(out), "--config", str(config))
    assert result.returncode == 0, result.stderr
    page = (out / "team-waste.html").read_text(encoding="utf-8")
    assert "<h4>Spelling (6)</h4>" in page
    assert '<th scope="row">recieve</th><td>receive, relieve' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    with (out / "team-waste.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["kind"] == "spelling"]
    assert {row["rule_id"] for row in rows} == {"misspelling"}
    assert "You will recieve a letter about your new bin." in {row["snippet"] for row in rows}


def test_a_bad_word_list_is_one_error_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[spelling]\nwords = ["Bin day"]\n', encoding="utf-8")
    result = run_in_process("scan", "http://127.0.0.1:1/", "--config", str(config))
    assert result.returncode == 1
    assert result.errors == [
        f"Error: {config}: spelling.words[0]: 'Bin day' is not one word; give one word a "
        "line or entry (letters, with an apostrophe or hyphen inside), such as Pontypridd"
    ]
    config.write_text('[spelling]\nwords_file = "missing.txt"\n', encoding="utf-8")
    result = run_in_process("scan", "http://127.0.0.1:1/", "--config", str(config))
    assert result.errors == [
        f"Error: {tmp_path / 'missing.txt'}: no such file; check the spelling.words_file path"
    ]


# --- what is read, without a scan ---


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Email recieve@example.gov.uk today.", ["Email", "today"]),
        ("See https://example.gov.uk/seperate or form.pdf now.", ["See", "now"]),
        ("Call 029 2087 2087 about CF10 1AB and REF123.", ["Call", "about", "and"]),
        ("The CCTV and PDF rules.", ["The", "and", "rules"]),
        ("Tag #seperate and .xls files.", ["Tag", "and", "files"]),
        ("On GitHub we drop-off council's bins.", ["GitHub", "drop-off", "council's", "bins"]),
    ],
)
def test_words_of_a_sentence(text: str, words: list[str]) -> None:
    assert [w.text for w in words_of(text)] == words


def test_a_capital_at_the_start_is_not_a_name_but_in_mid_sentence_it_is() -> None:
    (first, *_, last) = words_of("Recieve it from Trallwn.")
    assert first.starts_sentence and not last.starts_sentence
    assert [s for s in sentences("One. Two? Three")] == ["One.", "Two?", "Three"]


def test_readability_and_spelling_read_their_text_in_one_walk() -> None:
    # Readability reads every block; spelling, in the same walk, leaves out code (whose own
    # blocks and <br> end no prose block), text in another language and what a passage
    # asks not to check, a space in their place.
    page = parse_html(
        '<main lang="en">Before <pre>x<p>y</p>z<br>w</pre> after<p lang="cy">Bore da '
        '<span lang="en">hello there</span></p><div spellcheck="false">Nope<p>x</p></div>'
        " tail<br>more</main>"
    )
    blocks, prose = content_and_prose(page, "en-GB")
    assert blocks == content_blocks(page)
    every = ["Before", "x", "y", "z", "w", "after", "Bore da hello there", "Nope", "x", "tail"]
    assert blocks == [*every, "more"]
    assert prose == prose_blocks(page, "cy") == ["Before after", "hello there", "tail", "more"]


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("recieve", "misspelling"),
        ("colour", None),
        ("color", "us-spelling"),
        ("organise", None),
        ("organize", "us-spelling"),
        ("centre", None),
        ("center", "us-spelling"),
        ("stylesheet", None),  # two words written as one
        ("kickoff", None),  # American, with no British form
        ("url", None),  # an abbreviation in lower case
        ("council's", None),
        ("e-mail", None),
    ],
)
def test_verdicts(word: str, expected: str | None) -> None:
    assert verdict(word) == expected
