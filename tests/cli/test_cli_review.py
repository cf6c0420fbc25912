"""`quizgen reject`, `restore`, `add --file`, the review counts in `quizgen status`, the
`--status` filter, and what `approve --all` and `export` do with rejected questions; as
subprocesses against the API served by uvicorn."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine

from api import create_app
from deploy.local.api import BOB, serving
from quizgen.settings import Settings
from tests.support.cli_runs import quizgen
from tests.support.qti_reader import read_package
from tests.support.web import QUESTIONS, quiz_with_questions


async def test_reject_restore_add_and_the_counts_from_the_command_line(
    settings: Settings, engine: AsyncEngine, tmp_path: Path
) -> None:
    quiz_id = str(await quiz_with_questions(engine, "alice"))
    async with serving(create_app(settings)) as api:
        listed = json.loads((await quizgen(api, "questions", quiz_id, "--json")).stdout)
        first, second = listed[0]["id"], listed[1]["id"]

        rejected = await quizgen(api, "reject", quiz_id, first, second)
        assert (rejected.code, rejected.stdout.strip()) == (0, "rejected 2 question(s)")
        status = await quizgen(api, "status", quiz_id)
        assert "review: 0 approved, 3 pending, 2 rejected; 0 to export" in status.stdout
        only = json.loads(
            (await quizgen(api, "questions", quiz_id, "-s", "rejected", "--json")).stdout
        )
        assert sorted(q["id"] for q in only) == sorted([first, second])
        table = await quizgen(api, "questions", quiz_id, "--status", "rejected")
        assert table.stdout.count("rejected") >= 2

        # approve --all approves the pending ones only; export leaves rejected ones out.
        approved = await quizgen(api, "approve", quiz_id, "--all")
        assert approved.stdout.strip() == "approved 3 question(s)"
        exported = json.loads((await quizgen(api, "export", quiz_id)).stdout)
        assert len(exported) == 3 and first not in {q["id"] for q in exported}
        everything = json.loads(
            (await quizgen(api, "export", quiz_id, "--include-rejected")).stdout
        )
        assert len(everything) == 5
        package = tmp_path / "quiz.zip"
        wrote = await quizgen(api, "export", quiz_id, "--qti", str(package))
        assert (wrote.code, wrote.stdout.strip()) == (0, f"wrote the QTI package to {package}")
        assert len(read_package(package.read_bytes()).items) == 3  # the approved ones

        restored = await quizgen(api, "restore", quiz_id, first)
        assert (restored.code, restored.stdout.strip()) == (0, "restored 1 question(s)")
        status = await quizgen(api, "status", quiz_id, "--json")
        assert json.loads(status.stdout)["review"] == {
            "approved": 3,
            "pending": 1,
            "rejected": 1,
            "to_export": 3,
        }

        question = {
            "module_id": "m1",
            "question_type": "true_false",
            "question_data": {**QUESTIONS["true_false"], "question_text": "Roots make sugar."},
        }
        path = tmp_path / "question.json"
        path.write_text(json.dumps(question), encoding="utf-8")
        added = await quizgen(api, "add", quiz_id, "--file", str(path))
        assert added.code == 0, added
        new_id = added.stdout.strip()
        manual = json.loads((await quizgen(api, "questions", quiz_id, "--json")).stdout)[-1]
        assert manual["id"] == new_id and manual["source"] == "manual"
        assert "(by hand)" in (await quizgen(api, "questions", quiz_id)).stdout

        # The same text again, from stdin: the API's rule, as one error line.
        again = await quizgen(api, "add", quiz_id, "-f", "-", stdin=path.read_bytes())
        assert "already has this text" in again.one_error_line()
        broken = tmp_path / "broken.json"
        broken.write_text("{", encoding="utf-8")
        assert (
            "not JSON" in (await quizgen(api, "add", quiz_id, "-f", str(broken))).one_error_line()
        )
        listed_twice = await quizgen(api, "add", quiz_id, "-f", str(path), token=BOB)
        assert "not found" in listed_twice.one_error_line()
        assert (
            "not found"
            in (await quizgen(api, "reject", quiz_id, first, token=BOB)).one_error_line()
        )
