"""The QTI 1.2 package: valid against the IMS DTD, Canvas's shape, and read back whole."""

from __future__ import annotations

import io
import math
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from quizgen.domain import QuestionType
from quizgen.export import ExportQuestion, build_qti_package
from tests.support.qti_reader import QtiPackage, read_package

pytestmark = pytest.mark.fast

DTD = etree.DTD(str(Path(__file__).parent / "dtd" / "ims_qtiasiv1p2.dtd"))
# Every text below carries what HTML or XML could take for markup, and Norwegian letters.
SPECIAL = '<b>&amp; "sitat" æøå ÆØÅ'

MULTIPLE_CHOICE: dict[str, Any] = {
    "question_text": f"Hvilken påstand om <script>alert('x')</script> & {SPECIAL} er riktig?",
    "option_a": "Blåbær < jordbær",
    "option_b": 'Ærfugl & "måke"',
    "option_c": "Øl > vann",
    "option_d": SPECIAL,
    "correct_answer": "C",
    "explanation": f"Fordi {SPECIAL}.\nAndre linje.",
}
TRUE_FALSE: dict[str, Any] = {
    "question_text": f"Sant eller usant: 1 < 2 && {SPECIAL}",
    "correct_answer": False,
    "explanation": "Det er <i>usant</i>.",
}
FILL_IN_BLANK: dict[str, Any] = {
    "question_text": f"Hovedstaden i Norge er [blank_2], og {SPECIAL} ligger i [blank_1].",
    "blanks": [
        {"position": 1, "correct_answer": "Trøndelag", "answer_variations": ["trøndelag", "T&L"]},
        {"position": 2, "correct_answer": "Oslo <by>", "answer_variations": []},
    ],
    "explanation": "",
}
MATCHING: dict[str, Any] = {
    "question_text": f"Koble sammen: {SPECIAL}",
    "pairs": [
        {"question": "Æ & Ø", "answer": "Vokaler <norske>"},
        {"question": '"Hund"', "answer": "Dyr"},
        {"question": "Bjørk", "answer": "Tre & busk"},
    ],
    "distractors": ["Stein <hard>", "Ål"],
    "explanation": f"Forklaring {SPECIAL}",
}
CATEGORIZATION: dict[str, Any] = {
    "question_text": f"Sorter disse: {SPECIAL}",
    "categories": [
        {"id": "c1", "name": "Pattedyr & co", "correct_items": ["i1", "i3"]},
        {"id": "c2", "name": "Fugler <fly>", "correct_items": ["i2", "i4"]},
    ],
    "items": [
        {"id": "i1", "text": "Elg"},
        {"id": "i2", "text": "Ærfugl"},
        {"id": "i3", "text": '"Hval"'},
        {"id": "i4", "text": "Måke"},
    ],
    "distractors": [{"id": "d1", "text": "Laks <fisk>"}],
    "explanation": "Fisk er verken pattedyr eller fugl.",
}
DATA: dict[QuestionType, dict[str, Any]] = {
    QuestionType.MULTIPLE_CHOICE: MULTIPLE_CHOICE,
    QuestionType.TRUE_FALSE: TRUE_FALSE,
    QuestionType.FILL_IN_BLANK: FILL_IN_BLANK,
    QuestionType.MATCHING: MATCHING,
    QuestionType.CATEGORIZATION: CATEGORIZATION,
}
CANVAS_TYPES = {
    QuestionType.MULTIPLE_CHOICE: "multiple_choice_question",
    QuestionType.TRUE_FALSE: "true_false_question",
    QuestionType.FILL_IN_BLANK: "fill_in_multiple_blanks_question",
    QuestionType.MATCHING: "matching_question",
    QuestionType.CATEGORIZATION: "matching_question",
}
TITLE = f"Quiz: {SPECIAL}"


def _questions() -> list[ExportQuestion]:
    return [
        ExportQuestion(id=f"q-{n}", question_type=kind, question_data=data, points=n)
        for n, (kind, data) in enumerate(DATA.items(), start=1)
    ]


def _package(questions: list[ExportQuestion], language: str = "no") -> QtiPackage:
    return read_package(build_qti_package(TITLE, questions, language=language))


def _expected(kind: QuestionType, data: dict[str, Any]) -> dict[str, Any]:
    """The question as the reader gives it back (ids are not exported, order is)."""
    expected = {"explanation": "", **data}
    if kind is QuestionType.FILL_IN_BLANK:
        # The blanks come back in the order of their tags in the text.
        order = [2, 1]
        by_position = {b["position"]: b for b in data["blanks"]}
        expected["blanks"] = [by_position[n] for n in order]
    if kind is QuestionType.CATEGORIZATION:
        texts = {i["id"]: i["text"] for i in data["items"]}
        expected["categories"] = [
            {"name": c["name"], "items": sorted(texts[i] for i in c["correct_items"])}
            for c in data["categories"]
        ]
        expected["distractors"] = [d["text"] for d in data["distractors"]]
        del expected["items"]
    return expected


def _normalised(kind: QuestionType, data: dict[str, Any]) -> dict[str, Any]:
    result = dict(data)
    if kind is QuestionType.MATCHING:
        result["distractors"] = sorted(data["distractors"])
    if kind is QuestionType.CATEGORIZATION:
        result["categories"] = [
            {"name": c["name"], "items": sorted(c["items"])} for c in data["categories"]
        ]
        result["distractors"] = sorted(data["distractors"])
    return result


def test_the_assessment_of_every_type_together_is_valid_against_the_qti_1_2_dtd() -> None:
    package = _package(_questions())
    root = etree.fromstring(package.assessment_xml)
    assert DTD.validate(root), DTD.error_log.filter_from_errors()


def test_the_dtd_refuses_what_qti_1_2_does_not_allow() -> None:
    # The check above means something: a misplaced element or a namespace fails it.
    package = _package(_questions())
    root = etree.fromstring(package.assessment_xml)
    item = root.find("assessment/section/item")
    assert item is not None
    item.insert(0, etree.Element("resprocessing"))
    assert not DTD.validate(root)
    namespaced = b'<questestinterop xmlns="http://www.imsglobal.org/xsd/ims_qtiasiv1p2"/>'
    assert not DTD.validate(etree.fromstring(namespaced))


@pytest.mark.parametrize("kind", list(QuestionType))
@pytest.mark.parametrize("explanation", ["", "Forklaring & <mer>"])
def test_each_type_alone_is_valid_against_the_dtd(kind: QuestionType, explanation: str) -> None:
    question = ExportQuestion("q", kind, {**DATA[kind], "explanation": explanation})
    root = etree.fromstring(_package([question]).assessment_xml)
    assert DTD.validate(root), DTD.error_log.filter_from_errors()


@pytest.mark.parametrize("language", ["en", "no"])
def test_every_question_reads_back_the_same(language: str) -> None:
    package = _package(_questions(), language)
    assert [item.quizgen_type for item in package.items] == [k.value for k in DATA]
    assert [item.canvas_type for item in package.items] == list(CANVAS_TYPES.values())
    assert [item.points for item in package.items] == [1.0, 2.0, 3.0, 4.0, 5.0]
    for item, (kind, data) in zip(package.items, DATA.items(), strict=True):
        assert _normalised(kind, item.data) == _normalised(kind, _expected(kind, data)), kind


def test_a_categorization_without_distractors_offers_only_its_categories() -> None:
    data = {**CATEGORIZATION, "distractors": []}
    (item,) = _package([ExportQuestion("q", QuestionType.CATEGORIZATION, data)]).items
    assert [c["name"] for c in item.data["categories"]] == ["Pattedyr & co", "Fugler <fly>"]
    assert item.data["distractors"] == []


def test_distractor_statements_match_none_of_these_in_the_quiz_language() -> None:
    question = ExportQuestion("q", QuestionType.CATEGORIZATION, CATEGORIZATION)
    for language, label in [("en", "None of these"), ("no", "Ingen av disse")]:
        xml = _package([question], language).assessment_xml.decode()
        assert xml.count(f">{label}</mattext>") == 5  # once per statement's choice list


def test_text_is_escaped_html_and_utf_8_without_mojibake() -> None:
    package = _package(_questions())
    stem = package.items[0].stem_html
    # The HTML shows the script tag, it does not contain one.
    assert "<script>" not in stem
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;&amp;amp;" in stem
    assert stem.startswith("<div>") and stem.endswith("</div>")
    raw = package.assessment_xml
    assert raw.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert "æøå ÆØÅ".encode() in raw
    assert "Ã" not in raw.decode("utf-8")
    assert package.assessment_title == TITLE
    assert package.meta["title"] == TITLE


def test_fill_in_blank_keeps_canvas_variables_with_one_response_per_blank() -> None:
    item = _package(_questions()).items[2]
    assert "[blank_2]" in item.stem_html and "[blank_1]" in item.stem_html
    assert item.response_idents == ["response_blank_2", "response_blank_1"]


def test_the_manifest_lists_exactly_the_files_in_the_zip() -> None:
    package = _package(_questions())
    assert sorted(package.manifest_files) == sorted(
        name for name in package.names if name != "imsmanifest.xml"
    )
    ident = package.assessment_path.split("/")[0]
    assert package.assessment_path == f"{ident}/{ident}.xml"
    assert f"{ident}/assessment_meta.xml" in package.names
    kind, _, dependencies = package.resources[ident]
    assert kind == "imsqti_xmlv1p2"
    assert [package.resources[d][0] for d in dependencies] == [
        "associatedcontent/imscc_xmlv1p1/learning-application-resource"
    ]
    assert package.meta["points_possible"] == "15"


def test_the_same_quiz_gives_the_same_bytes() -> None:
    first = build_qti_package(TITLE, _questions(), language="en")
    assert first == build_qti_package(TITLE, _questions(), language="en")
    with zipfile.ZipFile(io.BytesIO(first)) as archive:
        assert archive.testzip() is None


def test_an_empty_quiz_is_still_a_valid_package() -> None:
    package = _package([])
    assert package.items == []
    assert DTD.validate(etree.fromstring(package.assessment_xml))


def test_a_question_that_does_not_fit_its_type_is_refused() -> None:
    broken = ExportQuestion("q-9", QuestionType.MULTIPLE_CHOICE, {"question_text": "Hva?"})
    with pytest.raises(ValueError, match="q-9"):
        build_qti_package(TITLE, [broken], language="en")


def test_characters_xml_cannot_hold_do_not_break_the_document() -> None:
    data = {
        **TRUE_FALSE,
        "question_text": "Linje én\r\nlinje to\x0b med \x1f kontrolltegn?",
        "explanation": "Slik\rer det.",
    }
    package = _package([ExportQuestion(uuid.uuid4(), QuestionType.TRUE_FALSE, data)])
    assert DTD.validate(etree.fromstring(package.assessment_xml))
    (item,) = package.items
    assert item.data["question_text"] == "Linje én\nlinje to\ufffd med \ufffd kontrolltegn?"
    assert item.data["explanation"] == "Slik\ner det."


@pytest.mark.parametrize("points", [-1.0, math.inf, math.nan])
def test_points_must_be_a_number_not_below_zero(points: float) -> None:
    with pytest.raises(ValueError, match="points"):
        ExportQuestion("q", QuestionType.TRUE_FALSE, TRUE_FALSE, points=points)
