"""The `quizgen` command line's inputs and mistakes, against the real API where one is
needed: a quiz from stdin, an unreachable API, a bad quiz file (refused before any
request), usage mistakes, the shipped sample and quiz-file parsing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
import yaml
from sqlalchemy.ext.asyncio import AsyncEngine

from api import create_app
from cli.quizfile import QuizFileError, derive_module_ids, load_quiz_file
from deploy.local.api import ALICE, BOB, serving
from quizgen.db import repository as repo
from quizgen.domain import (
    BatchSpec,
    Language,
    ModuleSpec,
    QuestionType,
    QuizSpec,
    QuizStatus,
    batch_key,
)
from quizgen.settings import Settings
from tests.support.batches import ref, save_questions
from tests.support.cli_runs import (
    KEYS,
    SAMPLE,
    TARGET,
    WATCH,
    closed_port_api,
    quizgen,
)
from tests.support.web import QUESTIONS


async def test_a_quiz_from_stdin_that_never_ran_is_unsettled_and_deleted_without_a_prompt(
    settings: Settings,
) -> None:
    document = derive_module_ids(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
    async with serving(create_app(settings)) as api:
        created = await quizgen(api, "create", "-", "--json", stdin=json.dumps(document).encode())
        assert created.code == 0, created
        quiz = json.loads(created.stdout)
        assert quiz["status"] == QuizStatus.CREATED
        assert (
            quiz["progress"]["message"]
            == f"0 questions generated successfully ({TARGET} remaining)"
        )

        status = await quizgen(api, "status", quiz["id"])
        assert status.code == 3, status
        assert "created" in status.stdout and "pending" in status.stdout

        # No terminal on stdin: a script is not stopped by the confirmation prompt.
        deleted = await quizgen(api, "delete", quiz["id"])
        assert deleted.code == 0, deleted
        assert "not found (HTTP 404)" in (await quizgen(api, "status", quiz["id"])).one_error_line()


async def test_an_unreachable_api_is_one_line() -> None:
    api = closed_port_api()
    run = await quizgen(api, "list")
    assert run.one_error_line().startswith(f"error: cannot reach the quizgen API at {api}: ")
    watch = await quizgen(api, "generate", str(uuid.uuid4()), *WATCH)
    assert watch.one_error_line().startswith(f"error: cannot reach the quizgen API at {api}")


async def test_a_bad_quiz_file_is_explained_field_by_field_before_any_request(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "title: Cells\n"
        "language: de\n"
        "modules:\n"
        "  - name: Cell biology\n"
        "    batches:\n"
        "      - {question_type: essay, count: 3}\n"
        "      - {question_type: true_false, count: 50}\n",
        encoding="utf-8",
    )
    # The API "address" is a closed port: any request would end in "cannot reach".
    run = await quizgen(closed_port_api(), "create", str(bad))
    assert run.code == 1 and "Traceback" not in run.stderr
    assert run.stdout == ""
    assert run.stderr.splitlines() == [
        f"error: {bad}: not a valid quiz (4 problem(s))",
        "  language: Input should be 'en' or 'no'",
        "  modules[0].content: Field required",
        "  modules[0].batches[0].question_type: Input should be 'multiple_choice', "
        "'true_false', 'fill_in_blank', 'matching' or 'categorization'",
        "  modules[0].batches[1].count: Input should be less than or equal to 20",
    ]

    broken = tmp_path / "broken.yaml"
    broken.write_text("title: [unclosed\n", encoding="utf-8")
    syntax = (await quizgen(closed_port_api(), "create", str(broken))).one_error_line()
    assert syntax.startswith(f"error: {broken}: invalid YAML: ") and "line 2" in syntax
    stdin = await quizgen(closed_port_api(), "create", "-", stdin=b"{not json")
    assert stdin.one_error_line().startswith("error: stdin: invalid JSON: ")
    text = tmp_path / "quiz.txt"
    text.write_text("title: x\n", encoding="utf-8")
    assert (
        ".yaml, .yml or .json"
        in (await quizgen(closed_port_api(), "create", str(text))).one_error_line()
    )


async def test_usage_mistakes_exit_1_and_the_token_never_shows() -> None:
    api = closed_port_api()
    not_an_id = await quizgen(api, "status", "not-a-uuid")
    assert "valid UUID" in not_an_id.one_error_line()
    unknown = await quizgen(api, "retry", str(uuid.uuid4()), "--bogus")
    assert "No such option" in unknown.one_error_line()
    quiz = str(uuid.uuid4())
    neither = await quizgen(api, "approve", quiz)
    assert neither.one_error_line() == "error: give the ids of the questions to approve, or --all"
    both = await quizgen(api, "approve", quiz, str(uuid.uuid4()), "--all")
    assert both.one_error_line() == "error: give question ids or --all, not both"
    no_token = await quizgen(api, "list", token="")
    assert no_token.one_error_line() == "error: no API token: set QUIZGEN_TOKEN or pass --token"
    helped = await quizgen(api, "--help")
    assert helped.code == 0 and "generate" in helped.stdout and ALICE not in helped.stdout
    # --api/--token given as flags win over the environment.
    flags = await quizgen("http://127.0.0.1:1", "--api", api, "--token", BOB, "list", token=ALICE)
    assert f"cannot reach the quizgen API at {api}" in flags.one_error_line()


def test_the_shipped_sample_is_a_valid_quiz() -> None:
    spec = load_quiz_file(str(SAMPLE))
    assert [m.module_id for m in spec.modules] == ["cell-biology", "photosynthesis"]
    assert [
        batch_key(m.module_id, b.question_type, b.count, b.difficulty) for m, b in spec.batches()
    ] == KEYS
    assert spec.question_target == TARGET
    assert all(len(m.content) > 500 for m in spec.modules)


def test_quiz_files_read_no_as_norwegian_and_derive_unique_module_ids(tmp_path: Path) -> None:
    path = tmp_path / "quiz.yml"
    path.write_text(
        "title: Vikingtiden\n"
        "language: no\n"
        "modules:\n"
        "  - {name: Vikingtiden, content: Vikingene bygde langskip.,"
        " batches: [{question_type: true_false, count: 2}]}\n"
        "  - {name: Vikingtiden!, content: Tinget laget lover.,"
        " batches: [{question_type: true_false, count: 2}]}\n"
        "  - {module_id: vikingtiden-2, name: Æsir og vaner, content: Odin og Tor.,"
        " batches: [{question_type: true_false, count: 2}]}\n"
        "  - {name: På Østlandet, content: Kaupang i Vestfold.,"
        " batches: [{question_type: true_false, count: 2}]}\n",
        encoding="utf-8",
    )
    spec = load_quiz_file(str(path))
    assert spec.language is Language.NORWEGIAN
    # An id written in the file is never handed out again, even to a module before it.
    assert [m.module_id for m in spec.modules] == [
        "vikingtiden",
        "vikingtiden-3",
        "vikingtiden-2",
        "pa-stlandet",
    ]


async def test_titles_and_questions_are_shown_as_written_never_as_markup_or_terminal_codes(
    settings: Settings, engine: AsyncEngine
) -> None:
    """A title may hold rich's markup syntax or terminal escapes; a question its blanks."""
    title = "[/bold] Biology [week 3] \x1b]0;pwned\x07"
    spec = QuizSpec(
        title=title,
        modules=[
            ModuleSpec(
                module_id="m1",
                name="Module",
                content="Plants take in carbon dioxide and release oxygen.",
                batches=[BatchSpec(question_type=QuestionType.FILL_IN_BLANK, count=1)],
            )
        ],
    )
    quiz_id = await repo.create_quiz(engine, "alice", spec)
    batch = ref("m1", QuestionType.FILL_IN_BLANK, count=1)
    await save_questions(engine, quiz_id, batch, [QUESTIONS["fill_in_blank"]])
    async with serving(create_app(settings)) as api:
        listed = await quizgen(api, "list")
        status = await quizgen(api, "status", str(quiz_id))
        questions = await quizgen(api, "questions", str(quiz_id))

    for run in (listed, status):
        assert run.code in (0, 3), run  # 3: the quiz has not been generated
        assert "[/bold] Biology [week 3]" in run.stdout
    assert questions.code == 0, questions
    assert "Plants take in [blank_1] and release [blank_2]." in questions.stdout
    for run in (listed, status, questions):
        assert "\x1b]" not in run.stdout and "\x07" not in run.stdout


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("deep.json", "[" * 100_000, "invalid JSON"),
        ("deep.yaml", "[" * 100_000, "invalid YAML"),
        ("huge-number.json", '{"title": ' + "9" * 5000 + "}", "invalid JSON"),
        ("huge.json", None, "larger than 32 MiB"),
    ],
    ids=["deep-json", "deep-yaml", "huge-number", "huge-file"],
)
def test_an_absurd_quiz_file_is_an_invalid_file_not_a_crash(
    tmp_path: Path, name: str, content: str | None, reason: str
) -> None:
    path = tmp_path / name
    if content is None:
        with path.open("wb") as file:  # sparse: no 33 MiB written to disk
            file.truncate(33 * 2**20)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(QuizFileError, match=reason):
        load_quiz_file(str(path))


async def test_json_on_stdin_may_start_with_a_byte_order_mark() -> None:
    """As a file may: the quiz is read, and only then is the (closed) API tried."""
    document = derive_module_ids(yaml.safe_load(SAMPLE.read_text(encoding="utf-8")))
    stdin = b"\xef\xbb\xbf" + json.dumps(document).encode()
    run = await quizgen(closed_port_api(), "create", "-", stdin=stdin)
    assert run.one_error_line().startswith("error: cannot reach the quizgen API"), run
