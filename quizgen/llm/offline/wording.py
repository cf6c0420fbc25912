"""The fixed phrases the offline questions are written in, per language.

Question stems, explanations and labels live here, apart from the builders, so
a change of phrasing (or a new language) touches only this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from quizgen.domain import Language

__all__ = ["WORDINGS", "Wording"]


@dataclass(frozen=True, slots=True)
class Wording:
    multiple_choice: str
    source: str
    true_source: str
    false_source: str
    matching: str
    matching_explanation: str
    sort_by_term: str
    sort_by_term_explanation: str
    sort_by_truth: str
    sort_by_truth_explanation: str
    true: str
    false: str
    conjunction: str

    def listing(self, words: Sequence[str]) -> str:
        if len(words) == 1:
            return words[0]
        return f"{', '.join(words[:-1])} {self.conjunction} {words[-1]}"


WORDINGS = {
    Language.ENGLISH: Wording(
        multiple_choice='Which term best completes the statement? "{statement}"',
        source='From the module: "{sentence}"',
        true_source='True. The module says: "{sentence}"',
        false_source='False. The module says: "{sentence}"',
        matching="Match each statement with the term that completes it. Terms: {terms}.",
        matching_explanation="Each statement is taken from the module with one term left out.",
        sort_by_term="Sort each statement under the term that completes it: {terms}.",
        sort_by_term_explanation=(
            "Each statement is taken from the module with its key term left out; "
            "statements that fit none of the terms are distractors."
        ),
        sort_by_truth="Sort these statements about {topics} into true and false.",
        sort_by_truth_explanation=(
            "The true statements are quoted from the module; "
            "in each false one, a term has been swapped for another."
        ),
        true="True",
        false="False",
        conjunction="and",
    ),
    Language.NORWEGIAN: Wording(
        multiple_choice="Hvilket begrep fullfører utsagnet best? «{statement}»",
        source="Fra modulen: «{sentence}»",
        true_source="Sant. Modulen sier: «{sentence}»",
        false_source="Usant. Modulen sier: «{sentence}»",
        matching="Koble hvert utsagn til begrepet som fullfører det. Begreper: {terms}.",
        matching_explanation="Hvert utsagn er hentet fra modulen med ett begrep utelatt.",
        sort_by_term="Sorter hvert utsagn under begrepet som fullfører det: {terms}.",
        sort_by_term_explanation=(
            "Hvert utsagn er hentet fra modulen med nøkkelbegrepet utelatt; "
            "utsagn som ikke passer til noen av begrepene, er distraktorer."
        ),
        sort_by_truth="Sorter disse påstandene om {topics} i sanne og usanne.",
        sort_by_truth_explanation=(
            "De sanne påstandene er hentet fra modulen; "
            "i hver usann påstand er ett begrep byttet ut med et annet."
        ),
        true="Sant",
        false="Usant",
        conjunction="og",
    ),
}
