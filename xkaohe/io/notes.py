"""Notes from reading the user's tables, for whoever listens (the ``xkaohe`` command).

A note is what a reader did that the user should know but that stops nothing:
a totals row (合计) skipped, a sheet without the table skipped, an optional
column absent (and a header close to it that the user may have meant). Every
reader of user tables hands its notes here as it reads
(:func:`xkaohe.io.tables.parse_raw`); ``check-inputs`` lists them per file
itself. The CLI listens while a command runs and prints each note once, on
stderr, one line each, in check-inputs' wording; exit status is unchanged.
Nobody listening (a notebook, a library call): notes are dropped.

The listener is a context variable, so a listener belongs to the command that
set it and a nested or concurrent caller does not see another's notes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

_LISTENER: ContextVar[Callable[[str], None] | None] = ContextVar("xkaohe_notes", default=None)


@contextlib.contextmanager
def listening(say: Callable[[str], None]) -> Iterator[None]:
    """Within the block, hand every note to ``say``, each distinct note once."""
    seen: set[str] = set()

    def once(text: str) -> None:
        if text not in seen:
            seen.add(text)
            say(text)

    token = _LISTENER.set(once)
    try:
        yield
    finally:
        _LISTENER.reset(token)


def note(text: str) -> None:
    """Pass a note to the listener, if one listens."""
    listener = _LISTENER.get()
    if listener is not None:
        listener(text)


__all__ = ["listening", "note"]
