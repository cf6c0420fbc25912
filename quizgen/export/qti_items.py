"""One QTI 1.2 `<item>` per question, in the dialect Canvas's own QTI export writes.

quizgen.export.qti documents the mapping of each question type; this module builds
the elements. Everything here is pure: the same question gives the same XML.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from quizgen.domain import Language, QuestionType
from quizgen.questions import (
    BLANK_TAG,
    Categorization,
    FillInBlank,
    Matching,
    MultipleChoice,
    Question,
    TrueFalse,
)

__all__ = [
    "EXPLANATION_FEEDBACK",
    "QUIZGEN_TYPE_FIELD",
    "answer_order",
    "build_item",
    "html_text",
    "none_label",
    "text_of_html",
    "xml_safe",
]

# The itemfeedback Canvas reads as the question's "general" (neutral) comments: shown
# to every student after answering, whatever the answer.
EXPLANATION_FEEDBACK = "general_fb"
# quizgen's own type, beside Canvas's: a categorization and a matching question are
# both Canvas matching questions. Canvas's importer logs it as an unmapped field and
# goes on; it lets a reader tell the two apart.
QUIZGEN_TYPE_FIELD = "quizgen_question_type"

_CANVAS_TYPES: dict[QuestionType, str] = {
    QuestionType.MULTIPLE_CHOICE: "multiple_choice_question",
    QuestionType.TRUE_FALSE: "true_false_question",
    QuestionType.FILL_IN_BLANK: "fill_in_multiple_blanks_question",
    QuestionType.MATCHING: "matching_question",
    QuestionType.CATEGORIZATION: "matching_question",
}
_NONE_LABELS: dict[Language, str] = {
    Language.ENGLISH: "None of these",
    Language.NORWEGIAN: "Ingen av disse",
}
# Characters XML 1.0 cannot carry at all, not even as references: C0 controls other than
# tab and line ends, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """`text` with every character XML 1.0 cannot hold replaced by U+FFFD, so that the
    document stays well-formed (quizgen's rules refuse NUL only)."""
    return _NOT_XML.sub("\ufffd", text)


def none_label(language: Language) -> str:
    """The choice of a categorization's distractor statements (it belongs to no category)."""
    return _NONE_LABELS[language]


def html_text(text: str) -> str:
    """Plain text as HTML that shows it: `<`, `&` and quotes escaped, line breaks kept."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>\n".join(html.escape(line, quote=True) for line in lines)


def text_of_html(body: str) -> str:
    """The plain text `html_text` made into `body`."""
    return html.unescape(body.replace("<br>\n", "\n"))


def answer_order(text: str) -> tuple[str, str]:
    """How matching answers are listed (by text, case folded), in QTI and in New Quizzes
    alike: the k-th question's answer is not the k-th answer."""
    return text.casefold(), text


@dataclass(frozen=True)
class _Choice:
    ident: str
    text: str


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    # `continue_` stands for the attribute `continue` (a Python keyword).
    element = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrib.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _material(parent: ET.Element, text: str, *, as_html: bool = True, div: bool = False) -> None:
    material = _sub(parent, "material")
    if as_html:
        body = html_text(text)
        _sub(material, "mattext", f"<div>{body}</div>" if div else body, texttype="text/html")
    else:
        _sub(material, "mattext", text, texttype="text/plain")


def _meta_field(parent: ET.Element, label: str, entry: str) -> None:
    field = _sub(parent, "qtimetadatafield")
    _sub(field, "fieldlabel", label)
    _sub(field, "fieldentry", entry)


def _points(points: float) -> str:
    return f"{points:g}" if points != int(points) else f"{int(points)}.0"


def _render_choice(response: ET.Element, choices: Sequence[_Choice], *, as_html: bool) -> None:
    render = _sub(response, "render_choice")
    for choice in choices:
        label = _sub(render, "response_label", ident=choice.ident)
        _material(label, choice.text, as_html=as_html)


def _condition(
    resprocessing: ET.Element, respident: str, value: str, score: str, *, action: str
) -> None:
    if action == "Set":
        condition = _sub(resprocessing, "respcondition", continue_="No")
    else:
        condition = _sub(resprocessing, "respcondition")
    conditionvar = _sub(condition, "conditionvar")
    _sub(conditionvar, "varequal", value, respident=respident)
    _sub(condition, "setvar", score, action=action, varname="SCORE")


def _share(count: int) -> str:
    # Canvas's own export: each of n parts adds 100/n to SCORE, to two decimals.
    return f"{100.0 / count:.2f}"


def _sorted_choices(texts: Sequence[str], prefix: str) -> list[_Choice]:
    # One list for every dropdown, in an order that does not follow the pairs (so the
    # k-th statement's answer is not the k-th choice): by text, case-insensitively.
    order = sorted(range(len(texts)), key=lambda i: answer_order(texts[i]))
    return [_Choice(f"{prefix}_{i + 1}", texts[i]) for i in order]


def _multiple_choice(
    presentation: ET.Element, q: MultipleChoice, ident: str
) -> list[tuple[str, str]]:
    options = [q.option_a, q.option_b, q.option_c, q.option_d]
    choices = [
        _Choice(f"{ident}_{letter}", text) for letter, text in zip("abcd", options, strict=True)
    ]
    response = _sub(presentation, "response_lid", ident="response1", rcardinality="Single")
    _render_choice(response, choices, as_html=True)
    return [("response1", f"{ident}_{q.correct_answer.lower()}")]


def _true_false(presentation: ET.Element, q: TrueFalse, ident: str) -> list[tuple[str, str]]:
    # Canvas keeps a true_false_question only if its answers read "True" and "False"
    # (any other text makes it a multiple choice); it shows them in the course's language.
    choices = [_Choice(f"{ident}_true", "True"), _Choice(f"{ident}_false", "False")]
    response = _sub(presentation, "response_lid", ident="response1", rcardinality="Single")
    _render_choice(response, choices, as_html=False)
    return [("response1", choices[0 if q.correct_answer else 1].ident)]


def _fill_in_blank(presentation: ET.Element, q: FillInBlank, ident: str) -> list[tuple[str, str]]:
    # One response_lid per blank, in the order of the tags in the text, named
    # `response_blank_N` with the variable `blank_N` as its material (Canvas's export);
    # every choice is an accepted answer (Canvas imports them all with weight 100).
    by_position = {b.position: b for b in q.blanks}
    correct: list[tuple[str, str]] = []
    for number in (int(n) for n in BLANK_TAG.findall(q.question_text)):
        blank = by_position[number]
        variable = f"blank_{number}"
        response = _sub(presentation, "response_lid", ident=f"response_{variable}")
        _material(response, variable, as_html=False)
        answers = [blank.correct_answer, *blank.answer_variations]
        choices = [_Choice(f"{ident}_{variable}_{i + 1}", text) for i, text in enumerate(answers)]
        _render_choice(response, choices, as_html=False)
        correct.append((f"response_{variable}", choices[0].ident))
    return correct


def _statements(
    presentation: ET.Element,
    statements: Sequence[tuple[str, str]],
    choices: Sequence[_Choice],
    ident: str,
) -> list[tuple[str, str]]:
    """One response_lid per (statement, correct choice text), every choice offered."""
    by_text = {c.text: c.ident for c in choices}
    correct: list[tuple[str, str]] = []
    for number, (statement, answer) in enumerate(statements, start=1):
        respident = f"response_{ident}_{number}"
        response = _sub(presentation, "response_lid", ident=respident)
        _material(response, statement)
        _render_choice(response, choices, as_html=True)
        correct.append((respident, by_text[answer]))
    return correct


def _matching(presentation: ET.Element, q: Matching, ident: str) -> list[tuple[str, str]]:
    texts = [p.answer for p in q.pairs] + list(q.distractors)
    choices = _sorted_choices(texts, f"{ident}_match")
    return _statements(presentation, [(p.question, p.answer) for p in q.pairs], choices, ident)


def _categorization(
    presentation: ET.Element, q: Categorization, ident: str, language: Language
) -> list[tuple[str, str]]:
    names = [c.name for c in q.categories]
    category_of = {ref: c.name for c in q.categories for ref in c.correct_items}
    statements = [(item.text, category_of[item.id]) for item in q.items]
    if q.distractors:
        names.append(none_label(language))
        statements += [(d.text, none_label(language)) for d in q.distractors]
    statements.sort(key=lambda s: (s[0].casefold(), s[0]))
    choices = [_Choice(f"{ident}_category_{i + 1}", name) for i, name in enumerate(names)]
    return _statements(presentation, statements, choices, ident)


def build_item(
    question_type: QuestionType,
    question: Question,
    *,
    ident: str,
    title: str,
    points: float,
    language: Language,
) -> ET.Element:
    """The `<item>` of one question (validated already: `question` matches its type)."""
    item = ET.Element("item", ident=ident, title=xml_safe(title))
    qtimetadata = _sub(_sub(item, "itemmetadata"), "qtimetadata")
    _meta_field(qtimetadata, "question_type", _CANVAS_TYPES[question_type])
    _meta_field(qtimetadata, "points_possible", _points(points))
    _meta_field(qtimetadata, QUIZGEN_TYPE_FIELD, question_type.value)

    presentation = _sub(item, "presentation")
    _material(presentation, question.question_text, div=True)
    correct: list[tuple[str, str]]
    if isinstance(question, MultipleChoice):
        correct = _multiple_choice(presentation, question, ident)
    elif isinstance(question, TrueFalse):
        correct = _true_false(presentation, question, ident)
    elif isinstance(question, FillInBlank):
        correct = _fill_in_blank(presentation, question, ident)
    elif isinstance(question, Matching):
        correct = _matching(presentation, question, ident)
    else:
        correct = _categorization(presentation, question, ident, language)

    resprocessing = _sub(item, "resprocessing")
    _sub(
        _sub(resprocessing, "outcomes"),
        "decvar",
        maxvalue="100",
        minvalue="0",
        varname="SCORE",
        vartype="Decimal",
    )
    if question.explanation:
        shown = _sub(resprocessing, "respcondition", continue_="Yes")
        _sub(_sub(shown, "conditionvar"), "other")
        _sub(shown, "displayfeedback", feedbacktype="Response", linkrefid=EXPLANATION_FEEDBACK)
    if question_type in (QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE):
        _condition(resprocessing, *correct[0], "100", action="Set")
    else:
        for respident, value in correct:
            _condition(resprocessing, respident, value, _share(len(correct)), action="Add")
    if question.explanation:
        feedback = _sub(item, "itemfeedback", ident=EXPLANATION_FEEDBACK)
        _material(_sub(feedback, "flow_mat"), question.explanation)
    return item
