"""The offline provider writes real, valid, distinct and repeatable questions.

Every answer goes through `validate_output`, the same gate LLM output passes,
and the questions are checked against the course text they were made from.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from quizgen.domain import Difficulty, Language, QuestionType, Tone
from quizgen.llm.base import GenerationRequest, GenerationResponse, QuestionProvider
from quizgen.llm.offline import OfflineProvider, split_sentences
from quizgen.questions import normalize_text
from quizgen.validation import Rejection, ValidationReport, validate_output

pytestmark = pytest.mark.fast

SAMPLES = Path(__file__).resolve().parents[2] / "quizgen" / "samples"
SAMPLE_FILES = {
    Language.ENGLISH: "photosynthesis_en.txt",
    Language.NORWEGIAN: "vikings_no.txt",
}
TYPES = list(QuestionType)
DIFFICULTIES = list(Difficulty)
LANGUAGES = list(Language)
TINY_TEXTS = [
    "",
    "Plants need light.",
    "Photosynthesis converts light energy into chemical energy.",
    "Fotosyntese gjør lys om til kjemisk energi i bladene.",
]


def sample(language: Language) -> str:
    return (SAMPLES / SAMPLE_FILES[language]).read_text(encoding="utf-8")


def make_request(
    question_type: QuestionType,
    *,
    language: Language = Language.ENGLISH,
    difficulty: Difficulty = Difficulty.MEDIUM,
    count: int = 20,
    content: str | None = None,
    avoid_texts: Sequence[str] = (),
    repair: Sequence[Rejection] = (),
    call_index: int = 0,
) -> GenerationRequest:
    return GenerationRequest(
        batch_key=f"mod-1_{question_type.value}_{count}_{difficulty.value}",
        module_id="mod-1",
        module_name="Module one",
        content=sample(language) if content is None else content,
        question_type=question_type,
        difficulty=difficulty,
        language=language,
        tone=Tone.ACADEMIC,
        count=count,
        call_index=call_index,
        avoid_texts=list(avoid_texts),
        repair=list(repair),
    )


async def generate(request: GenerationRequest) -> tuple[GenerationResponse, ValidationReport]:
    provider: QuestionProvider = OfflineProvider()
    response = await provider.generate(request)
    return response, validate_output(request.question_type, response.raw)


def assert_clean(report: ValidationReport) -> None:
    assert report.output_error is None
    assert report.rejected == []


def texts(report: ValidationReport) -> set[str]:
    return {normalize_text(q["question_text"]) for q in report.valid}


def in_module(statement: str, content: str) -> bool:
    """Whether the statement is (case and spacing aside) a sentence of the module."""
    return normalize_text(statement) in normalize_text(content)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("question_type", TYPES)
@pytest.mark.parametrize("count", [1, 20])
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
async def test_exactly_count_valid_questions(
    language: Language, question_type: QuestionType, count: int, difficulty: Difficulty
) -> None:
    request = make_request(question_type, language=language, difficulty=difficulty, count=count)
    response, report = await generate(request)

    assert_clean(report)
    assert len(report.valid) == count
    assert len(json.loads(response.raw)["questions"]) == count
    assert len(texts(report)) == count


def fill(cloze: str, answer: str, placeholder: str = "_____") -> str:
    assert cloze.count(placeholder) == 1, cloze
    return cloze.replace(placeholder, answer)


def check_multiple_choice(question: dict[str, Any], content: str) -> None:
    statement = re.search(r"[\"«](.+)[\"»]$", question["question_text"])
    assert statement is not None
    options = {letter: question[f"option_{letter.lower()}"] for letter in "ABCD"}
    correct = options[question["correct_answer"]]
    assert in_module(fill(statement.group(1), correct), content)
    for letter, option in options.items():
        if letter != question["correct_answer"]:
            assert not in_module(fill(statement.group(1), option), content), option


def check_true_false(question: dict[str, Any], content: str) -> None:
    assert in_module(question["question_text"], content) is question["correct_answer"]


def check_fill_in_blank(question: dict[str, Any], content: str) -> None:
    text = question["question_text"]
    for blank in question["blanks"]:
        text = text.replace(f"[blank_{blank['position']}]", blank["correct_answer"])
    assert "[blank_" not in text
    assert in_module(text, content)


def check_matching(question: dict[str, Any], content: str) -> None:
    for pair in question["pairs"]:
        assert in_module(fill(pair["question"], pair["answer"]), content)
        assert pair["answer"] in question["question_text"]


def check_categorization(question: dict[str, Any], content: str) -> None:
    items = {item["id"]: item["text"] for item in question["items"]}
    names = {category["name"] for category in question["categories"]}
    if names in ({"True", "False"}, {"Sant", "Usant"}):
        for category in question["categories"]:
            truth = category["name"] in ("True", "Sant")
            for ref in category["correct_items"]:
                assert in_module(items[ref], content) is truth, items[ref]
    else:
        for category in question["categories"]:
            for ref in category["correct_items"]:
                assert in_module(fill(items[ref], category["name"]), content), items[ref]


CHECKS = {
    QuestionType.MULTIPLE_CHOICE: check_multiple_choice,
    QuestionType.TRUE_FALSE: check_true_false,
    QuestionType.FILL_IN_BLANK: check_fill_in_blank,
    QuestionType.MATCHING: check_matching,
    QuestionType.CATEGORIZATION: check_categorization,
}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("question_type", TYPES)
@pytest.mark.parametrize("difficulty", DIFFICULTIES)
async def test_answers_come_from_the_module_text(
    language: Language, question_type: QuestionType, difficulty: Difficulty
) -> None:
    _, report = await generate(
        make_request(question_type, language=language, difficulty=difficulty)
    )
    for question in report.valid:
        CHECKS[question_type](question, sample(language))


async def test_true_false_mixes_true_and_false_statements() -> None:
    _, report = await generate(make_request(QuestionType.TRUE_FALSE))
    answers = [q["correct_answer"] for q in report.valid]
    assert 5 <= answers.count(True) <= 15


async def test_categorization_uses_both_term_and_truth_groups() -> None:
    _, report = await generate(
        make_request(QuestionType.CATEGORIZATION, language=Language.NORWEGIAN)
    )
    names = [{c["name"] for c in q["categories"]} for q in report.valid]
    assert {"Sant", "Usant"} in names
    assert any(n != {"Sant", "Usant"} for n in names)


@pytest.mark.parametrize(
    ("language", "wording"),
    [
        (Language.ENGLISH, "Which term best completes the statement?"),
        (Language.NORWEGIAN, "Hvilket begrep fullfører utsagnet best?"),
    ],
)
async def test_fixed_wording_is_in_the_quiz_language(language: Language, wording: str) -> None:
    _, report = await generate(make_request(QuestionType.MULTIPLE_CHOICE, language=language))
    assert all(q["question_text"].startswith(wording) for q in report.valid)


async def test_norwegian_letters_stay_inside_terms() -> None:
    content = sample(Language.NORWEGIAN)
    words = set(re.findall(r"\w+(?:-\w+)*", content))
    answers: list[str] = []
    for difficulty in DIFFICULTIES:
        request = make_request(
            QuestionType.FILL_IN_BLANK, language=Language.NORWEGIAN, difficulty=difficulty
        )
        _, report = await generate(request)
        answers += [b["correct_answer"] for q in report.valid for b in q["blanks"]]
    assert set(answers) <= words
    assert any(set(answer) & set("æøåÆØÅ") for answer in answers)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("question_type", TYPES)
async def test_same_request_gives_identical_output(
    language: Language, question_type: QuestionType
) -> None:
    request = make_request(question_type, language=language, difficulty=Difficulty.HARD)
    first = await OfflineProvider().generate(request)
    second = await OfflineProvider().generate(request.model_copy())
    assert first.raw == second.raw
    assert first.usage == second.usage


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("question_type", TYPES)
async def test_avoid_texts_are_never_repeated(
    language: Language, question_type: QuestionType
) -> None:
    _, first = await generate(make_request(question_type, language=language, count=10))
    assert_clean(first)
    # Normalisation, not exact text, decides what counts as the same question.
    avoid = [q["question_text"].upper() + " " for q in first.valid]
    request = make_request(question_type, language=language, count=10, avoid_texts=avoid)
    response, second = await generate(request)

    assert_clean(second)
    assert len(second.valid) == 10
    assert not texts(first) & texts(second)
    assert validate_output(question_type, response.raw, texts(first)).rejected == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("question_type", TYPES)
async def test_difficulties_ask_different_questions(
    language: Language, question_type: QuestionType
) -> None:
    found: dict[Difficulty, set[str]] = {}
    for difficulty in DIFFICULTIES:
        request = make_request(question_type, language=language, difficulty=difficulty, count=6)
        _, report = await generate(request)
        found[difficulty] = texts(report)
    easy, medium, hard = found[Difficulty.EASY], found[Difficulty.MEDIUM], found[Difficulty.HARD]
    assert len(easy & medium) <= 2
    assert len(medium & hard) <= 2
    assert len(easy & hard) <= 2


async def test_harder_matching_has_more_pairs() -> None:
    sizes = []
    for difficulty in DIFFICULTIES:
        _, report = await generate(make_request(QuestionType.MATCHING, difficulty=difficulty))
        sizes.append({len(q["pairs"]) for q in report.valid})
    assert sizes == [{3}, {4}, {5}]


@pytest.mark.parametrize("content", TINY_TEXTS)
@pytest.mark.parametrize("question_type", TYPES)
async def test_tiny_content_gives_fewer_but_valid_questions(
    content: str, question_type: QuestionType
) -> None:
    request = make_request(question_type, content=content, count=20)
    _, report = await generate(request)
    assert_clean(report)
    assert len(report.valid) < 20


async def test_one_sentence_still_gives_some_blanks() -> None:
    request = make_request(QuestionType.FILL_IN_BLANK, content=TINY_TEXTS[2], count=20)
    _, report = await generate(request)
    assert 1 <= len(report.valid) < 20


async def test_repair_request_gets_fresh_valid_questions() -> None:
    _, first = await generate(make_request(QuestionType.MATCHING, count=4))
    broken = {**first.valid[0], "pairs": first.valid[0]["pairs"][:1]}
    rejection = Rejection(
        index=0, reason="pairs: List should have at least 3 items", question=broken
    )
    request = make_request(
        QuestionType.MATCHING,
        count=2,
        call_index=1,
        repair=[rejection],
        avoid_texts=[q["question_text"] for q in first.valid[1:]],
    )
    _, second = await generate(request)
    assert_clean(second)
    assert len(second.valid) == 2
    kept = texts(first) - {normalize_text(broken["question_text"])}
    assert not texts(second) & kept


async def test_token_usage_is_a_word_based_estimate() -> None:
    small = await OfflineProvider().generate(make_request(QuestionType.TRUE_FALSE, count=1))
    large = await OfflineProvider().generate(make_request(QuestionType.TRUE_FALSE, count=20))
    words = len(re.findall(r"\w+", sample(Language.ENGLISH)))
    assert small.usage.prompt_tokens >= words
    assert small.usage.prompt_tokens == large.usage.prompt_tokens
    assert 0 < small.usage.completion_tokens < large.usage.completion_tokens


@pytest.mark.parametrize("question_type", TYPES)
async def test_a_full_batch_is_fast(question_type: QuestionType) -> None:
    request = make_request(question_type, difficulty=Difficulty.HARD)
    await OfflineProvider().generate(request)  # the text analysis is cached after this
    started = time.perf_counter()
    await OfflineProvider().generate(request.model_copy(update={"call_index": 1}))
    # Well under the 50 ms budget on a laptop; the margin absorbs slow CI machines.
    assert time.perf_counter() - started < 0.25


async def test_simulated_latency_delays_the_answer() -> None:
    request = make_request(QuestionType.TRUE_FALSE, count=1)
    started = time.perf_counter()
    response = await OfflineProvider(latency_seconds=0.05).generate(request)
    assert time.perf_counter() - started >= 0.05
    assert response.raw == (await OfflineProvider().generate(request)).raw


def test_negative_latency_is_refused() -> None:
    with pytest.raises(ValueError, match="latency_seconds"):
        OfflineProvider(latency_seconds=-1)


DIGEST_SCRIPT = """
import asyncio, hashlib, sys
from quizgen.llm.offline import OfflineProvider
from tests.llm.test_offline_provider import make_request
from quizgen.domain import Language, QuestionType

async def main() -> None:
    digest = hashlib.sha256()
    for question_type in QuestionType:
        request = make_request(question_type, language=Language.NORWEGIAN)
        digest.update((await OfflineProvider().generate(request)).raw.encode())
    sys.stdout.write(digest.hexdigest())

asyncio.run(main())
"""


def test_output_does_not_depend_on_the_process_hash_seed() -> None:
    """Workers in different processes must agree: no hash(), no set-order leaks."""
    root = Path(__file__).resolve().parents[2]
    digests = {
        subprocess.run(
            [sys.executable, "-c", DIGEST_SCRIPT],
            cwd=root,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(digests) == 1
    assert len(digests.pop()) == 64


def test_headings_wrapped_lines_and_bullets_become_sentences() -> None:
    content = (
        "Photosynthesis\n\n"
        "Plants turn light into chemical energy inside\n"
        "their chloroplasts. Chlorophyll absorbs red light, e.g. in leaves.\n\n"
        "Key parts\n"
        "- Stomata let carbon dioxide into the leaf\n"
        "- Xylem carries water up from the roots\n"
    )
    assert split_sentences(content) == [
        "Photosynthesis",
        "Plants turn light into chemical energy inside their chloroplasts.",
        "Chlorophyll absorbs red light, e.g. in leaves.",
        "Key parts",
        "Stomata let carbon dioxide into the leaf",
        "Xylem carries water up from the roots",
    ]
