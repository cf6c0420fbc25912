"""A quiz as a QTI 1.2 content package (a ZIP) that Canvas, and other LMSs, import.

`build_qti_package(title, questions, language=...)` is pure: the same input gives the
same bytes (fixed idents and ZIP timestamps). It exports exactly the questions it is
given, in that order: choosing them (only approved ones, by default) is the caller's
job. Each question is checked against its type's model (quizgen.questions) first; a
question that does not fit raises `ValueError`.

The package mirrors Canvas's own "QTI export" of a quiz (canvas-lms
`lib/cc/qti/qti_generator.rb`, `qti_items.rb`, `qti_manifest.rb`):

- `imsmanifest.xml`: an IMS Content Packaging 1.1 manifest (metadata schema
  "IMS Content" 1.1.3) with two resources: the assessment (type `imsqti_xmlv1p2`,
  file `<ident>/<ident>.xml`) and, as its dependency, Canvas's quiz settings (type
  `associatedcontent/imscc_xmlv1p1/learning-application-resource`, file
  `<ident>/assessment_meta.xml`).
- `<ident>/<ident>.xml`: `questestinterop` > `assessment` > `section` (ident
  `root_section`) > one `item` per question, with Canvas's `question_type` and
  `points_possible` in its `qtimetadata`. It is valid against the IMS QTI ASI 1.2 DTD
  (ims_qtiasiv1p2.dtd), so `questestinterop` carries no namespace declaration (the
  DTD declares no `xmlns` attribute; QTI 1.2 documents without one are what the DTD
  describes, and what Blackboard and Respondus export to Canvas) and no DOCTYPE
  (an importer need not fetch the DTD).
- `<ident>/assessment_meta.xml`: Canvas's `<quiz>` settings (title, points, graded
  quiz, one attempt, answers not shuffled, correct answers shown).

Text: question stems (in a `<div>`), options, matching statements and explanations
are `mattext texttype="text/html"` holding the text escaped as HTML (`<script>` is
shown, not run; line breaks become `<br>`); the accepted answers of a blank and the
True/False labels are `text/plain` (values compared with what a student types or
picks, as in Canvas's export). Files are UTF-8: æøå and every other character stay
as they are, except the few XML 1.0 cannot hold at all (C0 controls other than tab
and line ends, U+FFFE, U+FFFF, lone surrogates), which become U+FFFD.

Mapping of quizgen's question types:

- multiple_choice → `multiple_choice_question`: `response_lid` `response1` with a
  `render_choice` of options A to D; the correct option sets SCORE to 100.
- true_false → `true_false_question`: the same with the choices "True" and "False"
  (Canvas keeps the type only for these two texts, and shows them translated).
- fill_in_blank → `fill_in_multiple_blanks_question`: the `[blank_N]` tags stay in the
  text as Canvas's variables `[blank_N]`; per blank a `response_lid`
  `response_blank_N` whose material is `blank_N` and whose choices are the correct
  answer and its `answer_variations`, all accepted (Canvas imports every choice of a
  blank as correct); resprocessing adds 100/n for the correct answer of each of the
  n blanks, as Canvas's export does.
- matching → `matching_question`: per pair a `response_lid` with the pair's question
  as material and, as choices, every answer plus the distractors (extra wrong
  choices), sorted by text so the k-th statement's answer is not the k-th choice;
  each correct match adds 100/n.
- categorization → `matching_question` too: every item is a statement to match with
  its category (the choices are the category names, in the question's order).
  Distractor items are kept, not left out: they are statements whose correct choice
  is an extra choice "None of these" ("Ingen av disse" in Norwegian), offered only
  when the question has distractors. Statements are sorted by text, so distractors
  are not at the end. A `quizgen_question_type` metadata field (which Canvas ignores)
  tells it apart from a matching question.
- The explanation, when not empty, is the item's `itemfeedback` `general_fb` (Canvas's
  neutral comments, shown after any answer), displayed by a first `respcondition`
  with `<other/>` and `continue="Yes"`.
"""

from __future__ import annotations

import hashlib
import io
import math
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from quizgen.domain import Language, QuestionType
from quizgen.export.qti_items import build_item, xml_safe
from quizgen.questions import QUESTION_MODELS

__all__ = ["ExportQuestion", "build_qti_package"]

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
_IMSMD_NS = "http://www.imsglobal.org/xsd/imsmd_v1p2"
_XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
_CANVAS_XSD = "https://canvas.instructure.com/xsd/cccv1p0.xsd"
_QTI_RESOURCE = "imsqti_xmlv1p2"
_META_RESOURCE = "associatedcontent/imscc_xmlv1p1/learning-application-resource"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ExportQuestion:
    """One question to export: `question_data` is its stored JSON (quizgen.questions)."""

    id: str | uuid.UUID
    question_type: QuestionType
    question_data: Mapping[str, Any]
    points: float = 1.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.points) or self.points < 0:
            raise ValueError(f"question {self.id}: points must be a number >= 0")


def _ident(prefix: str, *parts: str) -> str:
    # Canvas's idents are a letter and 32 hex digits; these are derived from the input,
    # so that the same quiz gives the same package.
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return prefix + digest[:32]


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: xml_safe(v) for k, v in attrib.items()})
    if text is not None:
        element.text = xml_safe(text)
    return element


def _assessment(
    ident: str, title: str, questions: Sequence[ExportQuestion], language: Language
) -> bytes:
    root = ET.Element("questestinterop")
    assessment = _sub(root, "assessment", ident=ident, title=title)
    assessment.set(_XML_LANG, language.value)
    field = _sub(_sub(assessment, "qtimetadata"), "qtimetadatafield")
    _sub(field, "fieldlabel", "cc_maxattempts")
    _sub(field, "fieldentry", "1")
    section = _sub(assessment, "section", ident="root_section")
    for number, question in enumerate(questions, start=1):
        model = QUESTION_MODELS[question.question_type]
        try:
            parsed = model.model_validate(dict(question.question_data))
        except ValidationError as exc:
            raise ValueError(f"question {question.id} is not a valid {model.__name__}") from exc
        section.append(
            build_item(
                question.question_type,
                parsed,
                ident=_ident("i", str(question.id)),
                title=f"Question {number}",
                points=question.points,
                language=language,
            )
        )
    return _xml(root)


def _assessment_meta(ident: str, title: str, points: float) -> bytes:
    root = ET.Element(
        "quiz",
        {
            "identifier": ident,
            "xmlns": _CANVAS_NS,
            "xmlns:xsi": _XSI_NS,
            "xsi:schemaLocation": f"{_CANVAS_NS} {_CANVAS_XSD}",
        },
    )
    settings = [
        ("title", title),
        ("description", ""),
        ("shuffle_answers", "false"),
        ("scoring_policy", "keep_highest"),
        ("hide_results", ""),
        ("quiz_type", "assignment"),
        ("points_possible", f"{points:g}"),
        ("show_correct_answers", "true"),
        ("anonymous_submissions", "false"),
        ("could_be_locked", "false"),
        ("allowed_attempts", "1"),
        ("one_question_at_a_time", "false"),
        ("cant_go_back", "false"),
        ("available", "false"),
        ("one_time_results", "false"),
        ("show_correct_answers_last_attempt", "false"),
        ("only_visible_to_overrides", "false"),
        ("module_locked", "false"),
    ]
    for tag, text in settings:
        _sub(root, tag, text)
    _sub(root, "assignment_overrides")
    return _xml(root)


def _manifest(
    manifest_ident: str, title: str, language: Language, files: Mapping[str, tuple[str, str]]
) -> bytes:
    """`files`: resource ident → (resource type, file path); the first depends on the rest."""
    root = ET.Element(
        "manifest",
        {
            "identifier": manifest_ident,
            "xmlns": _CP_NS,
            "xmlns:imsmd": _IMSMD_NS,
            "xmlns:xsi": _XSI_NS,
            "xsi:schemaLocation": (
                f"{_CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd "
                f"{_IMSMD_NS} http://www.imsglobal.org/xsd/imsmd_v1p2p2.xsd"
            ),
        },
    )
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", "IMS Content")
    _sub(metadata, "schemaversion", "1.1.3")
    general = _sub(_sub(metadata, "imsmd:lom"), "imsmd:general")
    _sub(_sub(general, "imsmd:title"), "imsmd:string", title)
    _sub(general, "imsmd:language", language.value)
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    idents = list(files)
    for position, ident in enumerate(idents):
        kind, path = files[ident]
        attrib = {"identifier": ident, "type": kind}
        if position > 0:
            attrib["href"] = path
        resource = _sub(resources, "resource", **attrib)
        _sub(resource, "file", href=path)
        if position == 0:
            for dependency in idents[1:]:
                _sub(resource, "dependency", identifierref=dependency)
    return _xml(root)


def build_qti_package(
    title: str, questions: Sequence[ExportQuestion], *, language: str | Language
) -> bytes:
    """The QTI 1.2 package (ZIP bytes) of `questions`, in their order, as quiz `title`.

    `language` ("en" or "no") labels the assessment and the manifest, and names the
    "None of these" choice of categorization distractors.
    """
    lang = Language(language)
    ident = _ident("g", title, *(str(q.id) for q in questions))
    meta_ident = _ident("m", ident)
    qti_path = f"{ident}/{ident}.xml"
    meta_path = f"{ident}/assessment_meta.xml"
    contents = {
        qti_path: _assessment(ident, title, questions, lang),
        meta_path: _assessment_meta(ident, title, sum(q.points for q in questions)),
    }
    manifest = _manifest(
        _ident("p", ident),
        title,
        lang,
        {ident: (_QTI_RESOURCE, qti_path), meta_ident: (_META_RESOURCE, meta_path)},
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in {"imsmanifest.xml": manifest, **contents}.items():
            archive.writestr(zipfile.ZipInfo(path, _ZIP_TIME), data, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
