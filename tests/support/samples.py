"""The bundled sample course texts, as the tests read them."""

from quizgen.samples import ENGLISH_SAMPLE, NORWEGIAN_SAMPLE

__all__ = ["ENGLISH_SAMPLE", "NORWEGIAN_SAMPLE"]
