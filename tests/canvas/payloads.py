"""Item payloads shaped as the "Appendix: Question Types" of
https://developerdocs.instructure.com/services/canvas/resources/new_quiz_items shows them,
one per type quizgen exports."""

from __future__ import annotations

from typing import Any


def _item(entry: dict[str, Any], points: float = 1.0) -> dict[str, Any]:
    return {"item": {"entry_type": "Item", "points_possible": points, "entry": entry}}


def choice() -> dict[str, Any]:
    return _item(
        {
            "title": "Cells",
            "item_body": "<p>Which organelle makes ATP?</p>",
            "calculator_type": "none",
            "interaction_type_slug": "choice",
            "interaction_data": {
                "choices": [
                    {"id": "c1", "position": 1, "item_body": "<p>Mitochondrion</p>"},
                    {"id": "c2", "position": 2, "item_body": "<p>Ribosome</p>"},
                    {"id": "c3", "position": 3, "item_body": "<p>Golgi body</p>"},
                ]
            },
            "properties": {"shuffle_rules": {"choices": {"shuffled": True}}},
            "scoring_data": {"value": "c1"},
            "scoring_algorithm": "Equivalence",
            "feedback": {"neutral": "<p>See chapter 2.</p>"},
        }
    )


def true_false() -> dict[str, Any]:
    return _item(
        {
            "item_body": "<p>Plant cells have a cell wall.</p>",
            "interaction_type_slug": "true-false",
            "interaction_data": {"true_choice": "True", "false_choice": "False"},
            "scoring_data": {"value": True},
            "scoring_algorithm": "Equivalence",
        }
    )


def matching() -> dict[str, Any]:
    return _item(
        {
            "item_body": "<p>Match each organelle to its job.</p>",
            "interaction_type_slug": "matching",
            "interaction_data": {
                "questions": [
                    {"id": "q1", "item_body": "Mitochondrion"},
                    {"id": "q2", "item_body": "Ribosome"},
                ],
                "answers": ["Energy", "Proteins", "Transport"],
            },
            "scoring_data": {
                "value": {"q1": "Energy", "q2": "Proteins"},
                "edit_data": {
                    "matches": [
                        {
                            "question_id": "q1",
                            "question_body": "Mitochondrion",
                            "answer_body": "Energy",
                        },
                        {
                            "question_id": "q2",
                            "question_body": "Ribosome",
                            "answer_body": "Proteins",
                        },
                    ],
                    "distractors": ["Transport"],
                },
            },
            "scoring_algorithm": "PartialDeep",
        },
        points=2,
    )


def categorization() -> dict[str, Any]:
    return _item(
        {
            "item_body": "<p>Sort the cells.</p>",
            "interaction_type_slug": "categorization",
            "interaction_data": {
                "categories": {
                    "k1": {"id": "k1", "item_body": "Prokaryote"},
                    "k2": {"id": "k2", "item_body": "Eukaryote"},
                },
                "distractors": {
                    "d1": {"id": "d1", "item_body": "E. coli"},
                    "d2": {"id": "d2", "item_body": "Yeast"},
                    "d3": {"id": "d3", "item_body": "Virus"},
                },
                "category_order": ["k1", "k2"],
            },
            "scoring_data": {
                "value": [
                    {
                        "id": "k1",
                        "scoring_data": {"value": ["d1"]},
                        "scoring_algorithm": "AllOrNothing",
                    },
                    {
                        "id": "k2",
                        "scoring_data": {"value": ["d2"]},
                        "scoring_algorithm": "AllOrNothing",
                    },
                ],
                "score_method": "all_or_nothing",
            },
            "scoring_algorithm": "Categorization",
        },
        points=2,
    )


def rich_fill_blank() -> dict[str, Any]:
    return _item(
        {
            "item_body": '<p>The <span id="blank_b1"></span> is the powerhouse.</p>',
            "interaction_type_slug": "rich-fill-blank",
            "interaction_data": {"blanks": [{"id": "b1", "answer_type": "openEntry"}]},
            "scoring_data": {
                "value": [
                    {
                        "id": "b1",
                        "scoring_algorithm": "TextContainsAnswer",
                        "scoring_data": {"value": "mitochondrion", "blank_text": "mitochondrion"},
                    }
                ],
                "working_item_body": "<p>The `mitochondrion` is the powerhouse.</p>",
            },
            "scoring_algorithm": "MultipleMethods",
        }
    )


ALL = {
    "choice": choice,
    "true-false": true_false,
    "matching": matching,
    "categorization": categorization,
    "rich-fill-blank": rich_fill_blank,
}


def rich_fill_blank_variants() -> dict[str, Any]:
    """A dropdown blank (scored by the right choice's id), a close-enough blank and a blank
    with several accepted answers."""
    payload = rich_fill_blank()
    entry = payload["item"]["entry"]
    entry["item_body"] = (
        '<p><span id="blank_b1"></span> cells have <span id="blank_b2"></span>'
        ' made of <span id="blank_b3"></span>.</p>'
    )
    entry["interaction_data"]["blanks"] = [
        {
            "id": "b1",
            "answer_type": "dropdown",
            "choices": [
                {"id": "o1", "position": 1, "item_body": "Plant"},
                {"id": "o2", "position": 2, "item_body": "Animal"},
            ],
        },
        {"id": "b2", "answer_type": "openEntry"},
        {"id": "b3", "answer_type": "openEntry"},
    ]
    entry["scoring_data"] = {
        "value": [
            {
                "id": "b1",
                "scoring_algorithm": "Equivalence",
                "scoring_data": {"value": "o1", "blank_text": "Plant"},
            },
            {
                "id": "b2",
                "scoring_algorithm": "TextCloseEnough",
                "scoring_data": {
                    "value": "walls",
                    "blank_text": "walls",
                    "ignore_case": True,
                    "edit_distance": 1,
                },
            },
            {
                "id": "b3",
                "scoring_algorithm": "TextInChoices",
                "scoring_data": {"value": ["cellulose", "Cellulose"], "blank_text": "cellulose"},
            },
        ],
        "working_item_body": "<p>`Plant` cells have `walls` made of `cellulose`.</p>",
    }
    return payload
