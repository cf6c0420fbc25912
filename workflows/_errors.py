"""Turning Temporal's wrapped failures into messages a teacher can read."""

from __future__ import annotations


def root_message(err: BaseException) -> str:
    """The innermost cause's message: the activity's own words, not Temporal's wrapper."""
    while err.__cause__ is not None:
        err = err.__cause__
    return getattr(err, "message", None) or str(err) or type(err).__name__
