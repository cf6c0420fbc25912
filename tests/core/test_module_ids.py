"""Module ids from names: the same ids as ever, in work linear in the number of modules.

The form and a quiz file used to find the id of the k-th of many equal names by trying
`a`, `a-2`, ..., `a-k` again (and the form rebuilt every id once per module): 990 modules
named "a" took minutes. `ModuleIds` remembers where each name's suffixes stand.
"""

from __future__ import annotations

import random

import pytest

from cli.quizfile import derive_module_ids
from quizgen import module_ids
from quizgen.domain import module_id_for as exported
from quizgen.module_ids import ModuleIds, module_id_for, unique_module_ids

pytestmark = pytest.mark.fast


def _one_by_one(names: list[str], taken: set[str] | None = None) -> list[str]:
    """The ids as they were always derived: each one by `module_id_for`, every id before
    it (and those in `taken`) taken."""
    seen = set(taken or ())
    ids: list[str] = []
    for position, name in enumerate(names, start=1):
        ids.append(module_id_for(name, seen, position))
        seen.add(ids[-1])
    return ids


def test_module_id_for_is_still_exported_by_the_domain() -> None:
    assert exported is module_id_for
    assert module_id_for("På Østlandet", set(), 1) == "pa-stlandet"
    assert module_id_for("Cells", {"cells", "cells-2"}, 1) == "cells-3"
    assert module_id_for("???", set(), 7) == "module-7"


def test_equal_and_clashing_names_get_the_ids_they_always_got() -> None:
    names = ["a", "a", "A", "a-2", "a 2", "", "", "module-2", "a", "ä", "a-3"]
    assert unique_module_ids(names) == _one_by_one(names)
    assert unique_module_ids(names) == [
        "a",
        "a-2",
        "a-3",
        "a-2-2",
        "a-2-3",
        "module-6",
        "module-7",
        "module-2",
        "a-4",
        "a-5",
        "a-3-2",
    ]
    taken = {"a", "a-3", "module-1"}
    assert unique_module_ids(["a", "a", "a", ""], taken) == ["a-2", "a-4", "a-5", "module-4"]
    assert unique_module_ids(["a", "a", "a", ""], taken) == _one_by_one(["a", "a", "a", ""], taken)


def test_random_names_get_the_same_ids_as_one_by_one() -> None:
    rng = random.Random(20240611)
    pieces = ["a", "A", "a-2", "a-3", "b", "ä", "", " ", "-", "2", "module-1", "a" * 45]
    for _ in range(300):
        names = [rng.choice(pieces) + rng.choice(["", "", "-2", " 3"]) for _ in range(30)]
        taken = {rng.choice(pieces) or "x" for _ in range(rng.randrange(4))}
        assert unique_module_ids(names, taken) == _one_by_one(names, taken), (names, taken)


def test_a_quiz_file_and_the_allocator_agree() -> None:
    """What `quizgen` derives from a quiz file (ids written in it kept, never reused)."""
    modules = [{"name": "Cells"}, {"module_id": "cells-2", "name": "x"}, {"name": "Cells"}]
    derived = [m["module_id"] for m in derive_module_ids({"modules": modules})["modules"]]
    assert derived == ["cells", "cells-2", "cells-3"]
    ids = ModuleIds(taken={"cells-2"})
    assert [ids.next("Cells", 1), ids.next("Cells", 3)] == [derived[0], derived[2]]


def test_many_equal_names_cost_a_few_candidates_each(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted, not timed: the candidates tried for n modules grow with n, not n²."""
    tried = 0
    candidate = module_ids._candidate

    def counting(slug: str, suffix: int) -> str:
        nonlocal tried
        tried += 1
        return candidate(slug, suffix)

    monkeypatch.setattr(module_ids, "_candidate", counting)
    n = 5_000
    names = ["a"] * n + ["a-2"] * n + ["A"] * n  # clashes across slugs too
    ids = unique_module_ids(names)
    assert len(set(ids)) == len(ids) == 3 * n
    assert ids[:3] == ["a", "a-2", "a-3"] and ids[n] == "a-2-2"
    # Each id costs one candidate, plus at most two for every id passed over as taken.
    assert tried <= 3 * len(names), tried

    tried = 0
    _one_by_one(["a"] * 300)  # the old way, for scale: 1 + 2 + ... + 300
    assert tried == 300 * 301 // 2
