"""Reads a QTI package from quizgen.export.qti back into questions, as a test sees them.

A reader of the dialect the exporter writes (Canvas's), not of QTI in general: it
takes the stems, options, correct answers and explanations out of the items, so a
test can compare them with the questions that went in. Ids (a categorization's
category and item ids) are not exported, so a categorization comes back as names and
texts (`read_categorization`'s shape).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import Any

from quizgen.domain import Language
from quizgen.export.qti_items import (
    EXPLANATION_FEEDBACK,
    QUIZGEN_TYPE_FIELD,
    none_label,
    text_of_html,
)

__all__ = ["QtiItem", "QtiPackage", "read_package"]

_CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"
_CANVAS = "{http://canvas.instructure.com/xsd/cccv1p0}"
_NONE_LABELS = {none_label(language) for language in Language}


@dataclass(frozen=True)
class QtiItem:
    ident: str
    canvas_type: str
    quizgen_type: str
    points: float
    # The question as quizgen's JSON (for a categorization: see read_categorization).
    data: dict[str, Any]
    response_idents: list[str]
    # The stem's mattext as stored (HTML), for checks on how text is escaped.
    stem_html: str


@dataclass(frozen=True)
class QtiPackage:
    names: list[str]
    manifest_files: list[str]
    # resource identifier → (type, [file hrefs], [dependency identifierrefs])
    resources: dict[str, tuple[str, list[str], list[str]]]
    assessment_path: str
    assessment_xml: bytes
    assessment_title: str
    meta: dict[str, str]
    items: list[QtiItem] = field(default_factory=list)


def _text(mattext: ET.Element) -> str:
    raw = mattext.text or ""
    if mattext.get("texttype") != "text/html":
        return raw
    if raw.startswith("<div>") and raw.endswith("</div>"):
        raw = raw[len("<div>") : -len("</div>")]
    return text_of_html(raw)


def _material_text(parent: ET.Element) -> str:
    mattext = parent.find("material/mattext")
    assert mattext is not None, f"no material in <{parent.tag}>"
    return _text(mattext)


def _choices(response: ET.Element) -> list[tuple[str, str]]:
    return [
        (label.get("ident", ""), _material_text(label))
        for label in response.findall("render_choice/response_label")
    ]


def _correct(item: ET.Element) -> dict[str, str]:
    """respident → the ident that scores (the conditions that set or add SCORE)."""
    correct: dict[str, str] = {}
    for condition in item.findall("resprocessing/respcondition"):
        varequal = condition.find("conditionvar/varequal")
        setvar = condition.find("setvar")
        if varequal is not None and setvar is not None and float(setvar.text or 0) > 0:
            correct[varequal.get("respident", "")] = varequal.text or ""
    return correct


def _explanation(item: ET.Element) -> str:
    for feedback in item.findall("itemfeedback"):
        if feedback.get("ident") == EXPLANATION_FEEDBACK:
            mattext = feedback.find("flow_mat/material/mattext")
            assert mattext is not None
            return _text(mattext)
    return ""


def _meta_fields(item: ET.Element) -> dict[str, str]:
    return {
        f.findtext("fieldlabel", ""): f.findtext("fieldentry", "")
        for f in item.findall("itemmetadata/qtimetadata/qtimetadatafield")
    }


def _item_data(kind: str, item: ET.Element, stem: str) -> dict[str, Any]:
    responses = item.findall("presentation/response_lid")
    correct = _correct(item)
    data: dict[str, Any] = {"question_text": stem}
    if kind in ("multiple_choice", "true_false"):
        (response,) = responses
        choices = _choices(response)
        chosen = next(text for ident, text in choices if ident == correct["response1"])
        if kind == "true_false":
            assert [text for _, text in choices] == ["True", "False"]
            data["correct_answer"] = chosen == "True"
        else:
            for letter, (_, text) in zip("abcd", choices, strict=True):
                data[f"option_{letter}"] = text
            data["correct_answer"] = "ABCD"[[t for _, t in choices].index(chosen)]
    elif kind == "fill_in_blank":
        blanks = []
        for response in responses:
            respident = response.get("ident", "")
            variable = _material_text(response)
            assert respident == f"response_{variable}"
            choices = _choices(response)
            assert correct[respident] == choices[0][0]
            blanks.append(
                {
                    "position": int(variable.removeprefix("blank_")),
                    "correct_answer": choices[0][1],
                    "answer_variations": [text for _, text in choices[1:]],
                }
            )
        data["blanks"] = blanks
    else:
        statements = []
        offered: list[str] = []
        for response in responses:
            choices = _choices(response)
            offered = [text for _, text in choices]
            answer = dict(choices)[correct[response.get("ident", "")]]
            statements.append((_material_text(response), answer))
        if kind == "matching":
            answers = {answer for _, answer in statements}
            data["pairs"] = [{"question": q, "answer": a} for q, a in statements]
            data["distractors"] = [text for text in offered if text not in answers]
        else:
            names = [t for t in offered if not (t == offered[-1] and t in _NONE_LABELS)]
            data["categories"] = [
                {"name": name, "items": [s for s, a in statements if a == name]} for name in names
            ]
            data["distractors"] = [s for s, a in statements if a not in names]
    data["explanation"] = _explanation(item)
    return data


def _item(item: ET.Element) -> QtiItem:
    fields = _meta_fields(item)
    stem = item.find("presentation/material/mattext")
    assert stem is not None
    kind = fields[QUIZGEN_TYPE_FIELD]
    return QtiItem(
        ident=item.get("ident", ""),
        canvas_type=fields["question_type"],
        quizgen_type=kind,
        points=float(fields["points_possible"]),
        data=_item_data(kind, item, _text(stem)),
        response_idents=[r.get("ident", "") for r in item.findall("presentation/response_lid")],
        stem_html=stem.text or "",
    )


def read_package(package: bytes) -> QtiPackage:
    with zipfile.ZipFile(io.BytesIO(package)) as archive:
        names = archive.namelist()
        manifest = ET.fromstring(archive.read("imsmanifest.xml"))
        resources: dict[str, tuple[str, list[str], list[str]]] = {}
        for resource in manifest.iter(f"{_CP}resource"):
            resources[resource.get("identifier", "")] = (
                resource.get("type", ""),
                [f.get("href", "") for f in resource.findall(f"{_CP}file")],
                [d.get("identifierref", "") for d in resource.findall(f"{_CP}dependency")],
            )
        manifest_files = [href for _, files, _ in resources.values() for href in files]
        (assessment_path,) = [
            files[0] for kind, files, _ in resources.values() if kind == "imsqti_xmlv1p2"
        ]
        assessment_xml = archive.read(assessment_path)
        meta_path = assessment_path.rsplit("/", 1)[0] + "/assessment_meta.xml"
        meta_root = ET.fromstring(archive.read(meta_path))
    meta = {child.tag.removeprefix(_CANVAS): child.text or "" for child in meta_root}
    root = ET.fromstring(assessment_xml)
    assessment = root.find("assessment")
    assert assessment is not None
    return QtiPackage(
        names=names,
        manifest_files=manifest_files,
        resources=resources,
        assessment_path=assessment_path,
        assessment_xml=assessment_xml,
        assessment_title=assessment.get("title", ""),
        meta=meta,
        items=[_item(item) for item in assessment.iterfind("section/item")],
    )
