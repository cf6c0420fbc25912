"""Words: what counts as one, which are terms, their stems and the slot they fill.

English and Norwegian (bokmål) are handled by one pipeline: Unicode-aware
regexes (æ, ø, å are word characters), a merged stopword list and a crude
suffix-stripping stemmer that only has to be good enough to tell
"plant"/"plants" or "viking"/"vikingene" apart from genuinely different terms.
Everything here is a pure function of its input: no models, no network.
"""

from __future__ import annotations

import re
from functools import lru_cache

from quizgen.questions import normalize_text

__all__ = [
    "OTHER_CUE",
    "STOPWORDS",
    "WORD",
    "count_words",
    "cue_of",
    "is_term",
    "stem",
    "word_stems",
]

# A word: letters/digits (any script), optionally joined by hyphens or apostrophes.
WORD = re.compile(r"\w+(?:[-'\u2019]\w+)*")
_LETTER = re.compile(r"[^\W\d_]")

_STOPWORDS_EN = """
a about above across after again against ago all almost along also although always am among an
and another any anyone anything are around as at away back be became because become becomes been
before being below between both but by called can cannot could did do does doing done down due
during each either else enough especially etc even ever every example few first for from further
get gets given go goes got had has have having he her here hers herself him himself his how
however i if in including inside instead into is it its itself just known last least less let
like made main mainly make makes making many may me might more most mostly much must my myself
near nearly need needs never new next no nor not now of off often on once one only onto or other
others otherwise our ours out outside over own part per perhaps place put quite rather really
same see seen several she should since small so some something sometimes still such take taken
takes than that the their theirs them themselves then there therefore these they thing things
this those though three through thus tiny to together too took toward towards two under until up
upon us use used uses using usually very via was way ways we well were what whatever when where
whether which while who whom whose why will with within without would yet you your yours
"""

_STOPWORDS_NO = """
alle allerede alltid andre annen annet av bare begge bl blant ble bli blir blitt bort brukes
brukt både ca da dag dager de deg dei deires del delt dem den denne der deres derfor dermed
dessuten det dette din disse ditt du eks eller en enda ene enn er et ett etter f fem fikk fire
fleire flere for fordi fra fram frem før første gikk gjennom gjerne gjorde godt gå går ha hadde
han hans har hele helt hennar henne hennes her hit hjå ho hoe hun hva hvem hver hvilke hvilken
hvis hvor hvordan hvorfor i ikke ikkje ingen inn inni ja jeg kalles kalt kan kjent kom kommer
kun kunne lage langt man mange med meg meget mellom men mer mest mitt mot mye må måtte ned noe
noen nok nå når ofte og også om omkring opp oss over på regnes rundt sa samme se seg seks selv
senere sin sine sitt sjøl skal skulle slik slike slutt som spesielt svært så særlig tatt ti
tidlig tidligere til to tok tre under ut uten vanligvis var ved vi vil ville vår være vært år
"""

STOPWORDS: frozenset[str] = frozenset((_STOPWORDS_EN + _STOPWORDS_NO).split())

# A poor man's part-of-speech tagger: the word before a term says what kind of slot
# it fills. A swapped-in term that was seen in the same kind of slot reads naturally.
_CUES = {
    "nominal": """
        the a an this these those its their his her our of in on at from into by with for
        through during about under over between within en et ei den det de denne disse sin
        sitt sine hans hennes i på av fra til med om ved mellom gjennom mot etter før
    """,
    "verbal": "to can will may must should would could might å kan skal vil må kunne skulle ville",
    "copula": "is are was were be been being er var ble blir blitt vært",
}
_CUE_OF: dict[str, str] = {word: cue for cue, words in _CUES.items() for word in words.split()}
OTHER_CUE = "other"

# Longest first; one suffix is stripped at most. "ies" is special-cased to "y".
_SUFFIXES = ("ene", "ane", "ing", "ers", "er", "en", "et", "es", "ed", "s", "a", "e")
_MIN_STEM = 3


def count_words(text: str) -> int:
    return len(WORD.findall(text))


def cue_of(previous: str) -> str:
    """The kind of slot a term fills, from the casefolded word before it."""
    return _CUE_OF.get(previous, OTHER_CUE)


def stem(word: str) -> str:
    folded = word.casefold()
    if not _LETTER.search(folded):
        return folded
    if folded.endswith("ies") and len(folded) - 3 >= _MIN_STEM:
        return folded[:-3] + "y"
    for suffix in _SUFFIXES:
        if suffix == "s" and folded.endswith("ss"):
            continue
        if folded.endswith(suffix) and len(folded) - len(suffix) >= _MIN_STEM:
            return folded[: -len(suffix)]
    return folded


@lru_cache(maxsize=4096)
def word_stems(text: str) -> frozenset[str]:
    """The stems of each word of a term: "carbon dioxide" and "carbon" share one."""
    return frozenset(stem(word) for word in normalize_text(text).split())


def is_term(word: str) -> bool:
    folded = word.casefold()
    if folded in STOPWORDS:
        return False
    if word.isdigit():
        # Years and other 3-4 digit numbers are good blanks; "2" or "150000" are not.
        return 3 <= len(word) <= 4
    if not _LETTER.search(word):
        return False
    if len(word) >= 2 and word.isupper():  # acronyms: ATP, DNA, CO2
        return True
    # English adverbs ("quickly") make poor answers; Norwegian words rarely end in -ly.
    if folded.endswith("ly") and len(folded) > 5:
        return False
    return len(word) >= 3
