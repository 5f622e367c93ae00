"""Find a case-insensitive phrase pattern's matches by trying it only where its words start."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# Where a whole word starts: no letter, digit, underscore or hyphen just before it.
_WORD_START = re.compile(r"(?<![\w-])\w+")


class PhraseFinder:
    """Finds exactly what pattern.finditer(text) finds, about ten times faster.

    Every match of the pattern must begin with one of first_words, at the start of a word
    (no word character or hyphen just before it). Python's re tries a long alternation like
    the words-to-avoid list at every character of a page, about 1 ms a page; a plain
    substring search for the first words leaves a handful of places to try it.
    """

    PREFIX = 4  # searching for "adva" finds "advance", "advances", "advancing" at once

    def __init__(self, pattern: re.Pattern[str], first_words: Iterable[str]) -> None:
        if not pattern.flags & re.IGNORECASE:
            raise ValueError("PhraseFinder matches words in lower case: the pattern must be too")
        self.pattern = pattern
        prefixes = sorted({word.lower()[: self.PREFIX] for word in first_words})
        # The prefix comes first so re searches for it as a literal; the look-behind written
        # after it checks that it starts a word.
        self.finders = [
            (prefix, re.compile(rf"{re.escape(prefix)}(?<![\w-]{re.escape(prefix)})"))
            for prefix in prefixes
        ]

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        end = 0
        for start in self._starts(text):
            if start >= end and (found := self.pattern.match(text, start)):
                end = found.end()  # like finditer: matches never overlap
                yield found

    def _starts(self, text: str) -> list[int]:
        """Every start of a word that begins like a first word, in order."""
        low = text.lower()
        if len(low) != len(text):  # a letter whose lower case is longer ("İ"): try every word
            return [word.start() for word in _WORD_START.finditer(text)]
        return sorted(
            found.start()
            for prefix, finder in self.finders
            if prefix in low
            for found in finder.finditer(low)
        )
