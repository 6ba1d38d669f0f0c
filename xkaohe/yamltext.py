"""YAML text parsing that keeps dates as text (pydantic parses them), as papermill does.

Pure parsing, no file access: the plan model and the run parameters both use it.

Bounded: plan and run files are small, hand-written documents, so the loader
refuses what only a hostile or broken file needs. Aliases (``*name``) are
refused: nested aliases expand exponentially ("billion laughs": a 1 KB file
that becomes gigabytes when validated or printed), and a plan gains nothing
from them. Nesting deeper than :data:`MAX_DEPTH` is refused before Python's
recursion limit is reached. The file size is capped where the file is read
(:func:`xkaohe.io.files.read_text`). Messages quote at most :data:`EXCERPT`
characters of the input (:func:`excerpt`), never a whole value.
"""

from __future__ import annotations

import reprlib
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.nodes import Node

from xkaohe.errors import PlanError

MAX_DEPTH = 50
"""Deepest nesting of mappings and lists accepted (the plan needs 6)."""
EXCERPT = 80
"""Most characters of a user's value quoted in a message."""

_repr = reprlib.Repr()
_repr.maxlevel, _repr.maxdict, _repr.maxlist, _repr.maxtuple, _repr.maxset = 2, 4, 4, 4, 4
_repr.maxstring, _repr.maxother, _repr.maxlong = EXCERPT, EXCERPT, 40


def excerpt(value: Any, limit: int = EXCERPT) -> str:
    """A short repr of ``value`` for a message: bounded in depth and length, never the whole.

    ``reprlib`` stops at a few items per level and two levels deep, so even a
    value with millions of (shared) elements is described in microseconds.
    """
    text = _repr.repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader without the timestamp resolver (``2019-11-24`` stays a string),
    without aliases and with a nesting limit."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise ComposerError(
                None,
                None,
                f"aliases (*{event.anchor}) are not allowed in this file; write the value out",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep",
                    self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_BoundedLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML; a syntax error, an alias or deep nesting becomes a PlanError naming the line."""
    try:
        return yaml.load(text, Loader=_BoundedLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PlanError(f"{source}{where}: not valid YAML ({problem[:200]})") from None
    except RecursionError:  # deep flow collections recurse in the parser before composing
        raise PlanError(f"{source}: not valid YAML (nested too deeply)") from None


__all__ = ["EXCERPT", "MAX_DEPTH", "excerpt", "load_yaml_text"]
