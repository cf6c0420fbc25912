"""Module ids from module names, unique within a quiz.

The review pages' form and a `quizgen` quiz file derive them alike, so the same quiz gets
the same ids, and with them the same batch keys. Pure: no I/O (re-exported by
`quizgen.domain`, which workflows import).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["ModuleIds", "module_id_for", "module_slug", "unique_module_ids"]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def module_slug(name: str, position: int) -> str:
    """`name` as an id before it is made unique: accents dropped (`På` -> `pa`),
    lowercase ASCII, other characters -> "-", at most 40 characters; `module-{position}`
    when nothing is left."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")[:40].strip("-")
    return slug or f"module-{position}"


def _candidate(slug: str, suffix: int) -> str:
    """The `suffix`-th id tried for `slug`: `slug`, `slug-2`, `slug-3`, ..."""
    return slug if suffix == 1 else f"{slug}-{suffix}"


def module_id_for(name: str, taken: set[str], position: int) -> str:
    """A module id from a module's name (see `module_slug`), not in `taken` (`-2`, `-3` if
    so). One id: for a quiz's modules use `ModuleIds`, which hands out the same ids
    without trying every suffix again for each of many equal names."""
    slug = module_slug(name, position)
    suffix = 1
    while (candidate := _candidate(slug, suffix)) in taken:
        suffix += 1
    return candidate


class ModuleIds:
    """Hands out module ids in a quiz's order, each one `module_id_for` would give with
    every id handed out before (and those in `taken`) taken: in O(1) amortized per id.

    Ids are only ever added to the taken ones, so a candidate found taken stays taken:
    each slug remembers the first suffix not yet tried and starts there next time.
    """

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)
        self._next_suffix: dict[str, int] = {}

    def next(self, name: str, position: int) -> str:
        slug = module_slug(name, position)
        suffix = self._next_suffix.get(slug, 1)
        while (candidate := _candidate(slug, suffix)) in self._taken:
            suffix += 1
        self._taken.add(candidate)
        self._next_suffix[slug] = suffix + 1
        return candidate


def unique_module_ids(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    """The ids of modules named `names`, in order (positions from 1), none in `taken`."""
    ids = ModuleIds(taken)
    return [ids.next(name, position) for position, name in enumerate(names, start=1)]
