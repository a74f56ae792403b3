"""Small text helpers every layer may use: short lists of names, did-you-mean hints."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def few(names: tuple[str, ...] | list[str], limit: int = 5) -> str:
    """``public, user_1, user_2 … and 21 more``."""
    shown = ", ".join(names[:limit])
    rest = len(names) - limit
    return f"{shown} … and {rest} more" if rest > 0 else shown


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """``; did you mean 'integer'?`` for the closest of ``options``, or "" when none is close."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""
