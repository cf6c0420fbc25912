"""Bundled sample course content, for the quickstart demo and the tests."""

from __future__ import annotations

from importlib.resources import files

__all__ = ["CELLS_SAMPLE", "ENGLISH_SAMPLE", "NORWEGIAN_SAMPLE", "read_sample"]


def read_sample(name: str) -> str:
    return files(__name__).joinpath(name).read_text(encoding="utf-8")


ENGLISH_SAMPLE = read_sample("photosynthesis_en.txt")
NORWEGIAN_SAMPLE = read_sample("vikings_no.txt")
CELLS_SAMPLE = read_sample("cells_en.txt")
