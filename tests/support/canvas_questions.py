"""Questions of every type, in English and Norwegian and with HTML-special characters, and
how each reads back from Canvas (`canonical`): the item-mapping and export tests' cases."""

from __future__ import annotations

from typing import Any

from quizgen.domain import QuestionType
from quizgen.questions import QUESTION_MODELS

HOSTILE = '<script>alert("x")</script> & "quotes" < 3'


def questions(lang: str) -> dict[QuestionType, dict[str, Any]]:
    no = lang == "no"
    return {
        QuestionType.MULTIPLE_CHOICE: {
            "question_text": (
                "Hvilken organelle lager ATP? Ærlig, søt & blå <b>?"
                if no
                else 'Which organelle makes ATP? Say "mito" & <b>not</b> guess'
            ),
            "option_a": "Mitokondrie" if no else "Mitochondrion",
            "option_b": "Ribosom" if no else "Ribosome",
            "option_c": "Golgi-apparatet" if no else HOSTILE,
            "option_d": "Kjerne <æøå>" if no else "a < b && c > d",
            "correct_answer": "A",
            "explanation": (
                "Mitokondrien er cellens kraftverk.\nSe kapittel 2 <script>"
                if no
                else "The mitochondrion is the powerhouse.\nSee <chapter> 2 & 3."
            ),
        },
        QuestionType.TRUE_FALSE: {
            "question_text": "Plantecellar har cellevegg (æøå) & <div>" if no else HOSTILE,
            "correct_answer": not no,
            "explanation": "" if no else "Yes: cellulose <walls>.",
        },
        QuestionType.FILL_IN_BLANK: {
            "question_text": (
                "[blank_2] er cellens <kraftverk>, og [blank_5] lagar proteinar & små ting."
                if no
                else 'The [blank_1] is the "powerhouse" <script>x</script> & [blank_3] too.'
            ),
            "blanks": [
                {
                    "position": 5 if no else 3,
                    "correct_answer": "ribosomet" if no else "<ribosome>",
                    "answer_variations": ["ribosom", "Ribosomer"] if no else [],
                },
                {
                    "position": 2 if no else 1,
                    "correct_answer": "Mitokondrien" if no else "mitochondrion",
                    "answer_variations": ["mitokondrie"] if no else ["mitochondria", "A & B"],
                },
            ],
            "explanation": "Forklaring: æøå ÆØÅ" if no else "",
        },
        QuestionType.MATCHING: {
            "question_text": "Koble organellen til jobben <æøå> & svar" if no else "Match & <pair>",
            "pairs": [
                {"question": "Mitokondrie" if no else HOSTILE, "answer": "Energi"},
                {"question": "Ribosom", "answer": "Proteiner <&>" if no else "Proteins <&>"},
                {"question": "Kjerne", "answer": "DNA"},
            ],
            "distractors": ["Transport", "Fotosyntese å"] if no else ["Zebra", "Apple"],
            "explanation": "Sjå læreboka s. 12 & 13" if no else '"Quoted" <explanation>',
        },
        QuestionType.CATEGORIZATION: {
            "question_text": "Sorter organismene: æøå <b> & co" if no else "Sort the cells & <b>",
            "categories": [
                {
                    "id": "pro",
                    "name": "Prokaryot" if no else "<Prokaryote>",
                    "correct_items": ["a", "b"],
                },
                {"id": "eu", "name": "Eukaryot & co", "correct_items": ["c", "d"]},
            ],
            "items": [
                {"id": "a", "text": "E. coli"},
                {"id": "c", "text": "Gjær (sopp)" if no else HOSTILE},
                {"id": "b", "text": "Blågrønnbakterier" if no else "Cyanobacteria"},
                {"id": "d", "text": "Menneskecelle" if no else "Human cell"},
            ],
            "distractors": [{"id": "x", "text": "Virus <ikke levende>" if no else "Virus & co"}],
            "explanation": "Virus er ikkje celler." if no else "Viruses are not cells.",
        },
    }


CASES = [(kind, lang) for lang in ("en", "no") for kind in QuestionType]


def canonical(kind: QuestionType, data: dict[str, Any]) -> dict[str, Any]:
    """The question as quizgen's model dumps it; categorization ids renamed the way
    parse_new_quiz_item names them (Canvas keeps its own ids, not quizgen's)."""
    dumped = QUESTION_MODELS[kind].model_validate(data).model_dump(mode="json")
    if kind is QuestionType.CATEGORIZATION:
        entries = [*dumped["items"], *dumped["distractors"]]
        names = {e["id"]: f"item_{i}" for i, e in enumerate(entries, start=1)}
        for e in entries:
            e["id"] = names[e["id"]]
        for i, category in enumerate(dumped["categories"], start=1):
            category["id"] = f"category_{i}"
            category["correct_items"] = [names[ref] for ref in category["correct_items"]]
    return dumped
