"""Remembering a pure function's answers to short arguments, in a bounded cache."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

T = TypeVar("T")


def remembered(entries: int, longest: int) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """functools.lru_cache(entries) for calls whose string arguments hold at most `longest`
    characters in all; longer ones are worked out each time. A page supplies the arguments:
    the bound keeps what a hostile page can make the cache hold to entries x longest."""

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        cached = lru_cache(maxsize=entries)(function)

        @wraps(function)
        def call(*args: str) -> T:
            if sum(map(len, args)) <= longest:
                return cached(*args)
            return function(*args)

        call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
        return call

    return decorate
