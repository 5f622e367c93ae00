"""audits/memo.py: short arguments remembered, long ones (a hostile page's) worked out."""

from __future__ import annotations

from audits.memo import remembered


def test_only_short_arguments_are_remembered() -> None:
    calls: list[str] = []

    @remembered(entries=4, longest=10)
    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    long = "x" * 11
    answers = [shout("ab"), shout("ab"), shout(long), shout(long)]
    assert answers == ["AB", "AB", "XXXXXXXXXXX", "XXXXXXXXXXX"]
    assert calls == ["ab", long, long]  # "ab" worked out once, the long one each time
