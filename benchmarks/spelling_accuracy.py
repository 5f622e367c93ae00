"""How right siteaudit's spelling check is: precision on real pages, recall on injected typos.

Precision: every page of ../shared/corpora/digital-land/site and every text of
../shared/seeds/ (each line a paragraph) is read as a scan reads it (audits/page.py's
parser, audits/spelling.py), and judged across its set as the stage after the crawl judges
a site (audits/spelling_findings.py), with no word list of the council's own. Each flagged
word was looked at by a person: JUDGED_MISTAKES holds those that are real mistakes
(misspellings, US spellings, "todays"); every other flagged word is a false alarm, printed.

Recall: each of COMMON_MISSPELLINGS is put into a real sentence of the same corpora, in
place of the word it misspells where a sentence has that word, else in place of a word of
a sentence chosen at random (--seed); the sentences go on pages of five, and the share
flagged is counted, with the share whose correct word is among the three suggestions. The
same for US_SPELLINGS, counted as found only when flagged as a US spelling.

    python benchmarks/spelling_accuracy.py --out docs/accuracy.md
"""

from __future__ import annotations

import argparse
import html
import random
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from audits.page import _lang  # noqa: E402
from audits.spelling import PageWord, page_words, word_key  # noqa: E402
from audits.spelling_findings import spelling_findings  # noqa: E402
from audits.tree import parse_html  # noqa: E402
from benchmarks.bad_accuracy import corpus  # noqa: E402
from benchmarks.scan_bench import write_section  # noqa: E402
from settings.model import SpellingConfig  # noqa: E402
from vocabulary.spelling import US_SPELLING, read_summary  # noqa: E402

COMMAND = (
    "`nox -s accuracy_spelling`, or `python benchmarks/spelling_accuracy.py --out docs/accuracy.md`"
)
# Flagged words in the corpora that a person judged real mistakes (lower case).
JUDGED_MISTAKES = {
    # digital-land
    "agriculturual": "agricultural",
    "analyzing": "analysing (US spelling)",
    "artifact": "artefact (US spelling)",
    "aso": "also",
    "assessement": "assessment",
    "byt": "but",
    "classifaction": "classification",
    "haved": "have",
    "modeling": "modelling (US spelling)",
    "monitoting": "monitoring",
    "neighboring": "neighbouring (US spelling)",
    "nouse": "nous",
    "orginally": "originally",
    "orginate": "originate",
    "possibilites": "possibilities",
    "pressurization": "pressurisation (US spelling)",
    "prioratise": "prioritise",
    "recieved": "received",
    "redseign": "redesign",
    "relevent": "relevant",
    "todays": "today's",
    "unforseen": "unforeseen",
    "upto": "up to",
    # seeds
    "acheived": "achieved",
    "etiective": "effective (a PDF's ligature lost)",
    "practife": "practice",
}
# Common misspellings of English words (Wikipedia's list and council forms), with the word.
COMMON_MISSPELLINGS = {
    "recieve": "receive", "seperate": "separate", "emial": "email", "accomodation":
    "accommodation", "adress": "address", "occured": "occurred", "definately": "definitely",
    "goverment": "government", "enviroment": "environment", "neccessary": "necessary",
    "begining": "beginning", "beleive": "believe", "calender": "calendar", "collegue":
    "colleague", "comittee": "committee", "concious": "conscious", "existance": "existence",
    "foriegn": "foreign", "freind": "friend", "harrass": "harass", "independant":
    "independent", "liason": "liaison", "maintainance": "maintenance", "millenium":
    "millennium", "noticable": "noticeable", "occassion": "occasion", "occurence":
    "occurrence", "persue": "pursue", "posession": "possession", "prefered": "preferred",
    "priviledge": "privilege", "publically": "publicly", "recomend": "recommend", "refered":
    "referred", "relevent": "relevant", "responsability": "responsibility", "succesful":
    "successful", "tommorow": "tomorrow", "truely": "truly", "untill": "until", "wierd":
    "weird", "arguement": "argument", "apparantly": "apparently", "acheive": "achieve",
    "buisness": "business", "completly": "completely", "concensus": "consensus",
    "dissapoint": "disappoint", "embarass": "embarrass", "familar": "familiar", "finaly":
    "finally", "grammer": "grammar", "immediatly": "immediately", "knowlege": "knowledge",
    "libary": "library", "paralel": "parallel", "peice": "piece", "reccomend": "recommend",
    "resturant": "restaurant", "rythm": "rhythm", "tounge": "tongue", "accross": "across",
    "applcation": "application", "recyling": "recycling", "colection": "collection",
    "paymnet": "payment", "resdients": "residents", "benifit": "benefit", "elligible":
    "eligible", "garantee": "guarantee", "proceedure": "procedure", "questionaire":
    "questionnaire", "reciept": "receipt", "refferal": "referral", "councill": "council",
    "aplication": "application", "informaton": "information", "servcies": "services",
    "availible": "available", "acessible": "accessible", "wich": "which", "teh": "the",
    "adn": "and", "becuase": "because", "thier": "their", "sucess": "success", "publich":
    "publish", "managment": "management", "developement": "development", "agressive":
    "aggressive", "appearence": "appearance", "basicly": "basically", "comunity": "community",
    "contruction": "construction", "desicion": "decision", "enquiery": "enquiry",
    "excercise": "exercise", "hieght": "height", "intrest": "interest", "neice": "niece",
    "oppurtunity": "opportunity", "particulary": "particularly", "playgound": "playground",
    "prescence": "presence", "propery": "property", "rember": "remember", "schedual":
    "schedule", "supercede": "supersede", "temperture": "temperature", "visable": "visible",
}  # fmt: skip
US_SPELLINGS = {
    "color": "colour", "center": "centre", "organize": "organise", "analyze": "analyse",
    "traveling": "travelling", "favorite": "favourite", "catalog": "catalogue", "defense":
    "defence", "fulfill": "fulfil", "theater": "theatre", "labor": "labour", "honor":
    "honour", "neighbor": "neighbour", "modeling": "modelling", "organization":
    "organisation", "recognize": "recognise", "behavior": "behaviour", "canceled":
    "cancelled", "fiber": "fibre", "aluminum": "aluminium", "pediatric": "paediatric",
    "prioritize": "prioritise", "customize": "customise", "apologize": "apologise",
    "harbor": "harbour", "liter": "litre", "aging": "ageing", "labeled": "labelled",
}  # fmt: skip
PAGE_SENTENCES = 5
SENTENCE = re.compile(r"(?<=[.!?])\s+")


@dataclass
class Recall:
    injected: int = 0
    found: int = 0
    suggested: int = 0  # the right word among the suggestions
    missed: list[str] | None = None


def read_corpora() -> list[tuple[str, tuple[PageWord, ...], list[str]]]:
    """(name, unknown words, English sentences) of each page of digital-land and the seeds."""
    pages = []
    for path in sorted((corpus("digital-land") / "site").rglob("*.html")):
        tree = parse_html(path.read_text(encoding="utf-8", errors="replace"))
        lang = _lang(tree)
        pages.append((str(path), page_words(tree, lang), sentences_of(tree, lang)))
    seeds = corpus("digital-land").parent.parent / "seeds"
    for path in sorted(seeds.glob("*.txt")):
        tree = parse_html(text_page(path.read_text(encoding="utf-8").splitlines()))
        pages.append((str(path), page_words(tree, "en"), sentences_of(tree, "en")))
    return pages


def sentences_of(tree: object, lang: str | None) -> list[str]:
    from audits.spelling_text import prose_blocks

    found = []
    for block in prose_blocks(tree, lang):  # type: ignore[arg-type]
        found += [s for s in SENTENCE.split(block) if len(s.split()) >= 8 and s.endswith(".")]
    return found


def text_page(lines: list[str]) -> str:
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in lines)
    return f'<html lang="en"><body><main>{paragraphs}</main></body></html>'


def precision(pages: list[tuple[str, tuple[PageWord, ...], list[str]]]) -> tuple[str, int]:
    """The precision section, and the number of false alarms."""
    many = SpellingConfig().site_word_pages
    lines = []
    for name, chosen in (
        ("digital-land (346 pages)", [p for p in pages if p[0].endswith(".html")]),
        ("seeds (5 council texts)", [p for p in pages if p[0].endswith(".txt")]),
    ):
        found = spelling_findings([(p[0], p[1]) for p in chosen], frozenset(), many)
        words = Counter(read_summary(f.summary or "")[0] for f in found)
        real = sum(n for w, n in words.items() if word_key(w) in JUDGED_MISTAKES)
        alarms = sorted(w for w in words if word_key(w) not in JUDGED_MISTAKES)
        share = real / len(found) if found else 1.0
        lines.append(
            f"| {name} | {len(found)} | {real} | {len(found) - real} | {share:.0%} | "
            f"{', '.join(alarms) or 'none'} |"
        )
    head = (
        "| pages | flagged (word on a page) | real mistakes | false alarms | precision | "
        "the false alarms |\n|---|---|---|---|---|---|"
    )
    return head + "\n" + "\n".join(lines), 0


def recall(
    pages: list[tuple[str, tuple[PageWord, ...], list[str]]], wrong_right: dict[str, str],
    seed: int, us: bool,
) -> Recall:  # fmt: skip
    """Each misspelling put into a real sentence; the share the check flags."""
    rng = random.Random(seed)
    pool = [s for _, _, sentences in pages for s in sentences]
    injected = [
        (wrong, right, inject(wrong, right, pool, rng)) for wrong, right in wrong_right.items()
    ]
    site = []
    for start in range(0, len(injected), PAGE_SENTENCES):
        group = injected[start : start + PAGE_SENTENCES]
        tree = parse_html(text_page([sentence for _, _, sentence in group]))
        site.append((f"/page-{start}", page_words(tree, "en")))
    found = spelling_findings(site, frozenset(), SpellingConfig().site_word_pages)
    flagged = {}
    for f in found:
        word, offered = read_summary(f.summary or "")
        if not us or f.rule_id == US_SPELLING:
            flagged[word.lower()] = [s.lower() for s in offered]
    result = Recall(injected=len(injected), missed=[])
    for wrong, right, _ in injected:
        if wrong in flagged:
            result.found += 1
            result.suggested += right in flagged[wrong]
        else:
            result.missed.append(wrong)  # type: ignore[union-attr]
    return result


def inject(wrong: str, right: str, pool: list[str], rng: random.Random) -> str:
    """A real sentence with the misspelling in place of its word, or of a random word."""
    pattern = re.compile(rf"\b{re.escape(right)}\b")
    having = [s for s in pool if pattern.search(s)]
    if having:
        return pattern.sub(wrong, rng.choice(having), count=1)
    sentence = rng.choice(pool)
    words = [m for m in re.finditer(r"\b[a-z]{4,}\b", sentence)]
    if not words:
        return f"{sentence} {wrong}."
    chosen = rng.choice(words)
    return sentence[: chosen.start()] + wrong + sentence[chosen.end() :]


def report(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    pages = read_corpora()
    table, _ = precision(pages)
    typos = recall(pages, COMMON_MISSPELLINGS, args.seed, us=False)
    us = recall(pages, US_SPELLINGS, args.seed, us=True)
    seconds = time.perf_counter() - started
    return "\n".join(
        [
            "## Spelling (issue 17)",
            "",
            f"Measured by {COMMAND} (seed {args.seed}; {seconds:.0f} s). Precision: the words "
            "flagged on real pages, each looked at by a person (`JUDGED_MISTAKES` in the "
            "script lists those judged real mistakes: misspellings, US spellings, a missing "
            "apostrophe), with no word list of the council's own:",
            "",
            table,
            "",
            "Recall: common misspellings and US spellings, each put into a real sentence of "
            "the same pages (in place of the word it misspells where a sentence has it), five "
            "sentences a page:",
            "",
            "| injected | found | recall | right word among the 3 suggestions | missed |",
            "|---|---|---|---|---|",
            recall_row("common misspellings", typos),
            recall_row("US spellings (as US spellings)", us),
        ]
    )


def recall_row(name: str, result: Recall) -> str:
    share = result.found / result.injected if result.injected else 0.0
    offered = result.suggested / result.found if result.found else 0.0
    missed = ", ".join(result.missed or []) or "none"
    return f"| {result.injected} {name} | {result.found} | {share:.0%} | {offered:.0%} | {missed} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, help="write the section into this Markdown file")
    args = parser.parse_args()
    text = report(args)
    print(text)
    if args.out:
        write_section(args.out, "spelling", text, tool="spelling_accuracy.py")


if __name__ == "__main__":
    main()
