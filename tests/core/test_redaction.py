"""Secrets and content stay out of error messages and logs: settings errors name the setting,
never its value; database errors show the SQL without its values; a log line is one line."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from deploy.local.paths import REPO_ROOT
from quizgen.db.engine import make_engine
from quizgen.logs import configure_logging
from quizgen.settings import Settings, describe_settings_error

pytestmark = pytest.mark.fast

SECRET = "s3cret-pa55word"
BAD_URLS = [
    f"mysql://teacher:{SECRET}@db.example/quizgen",  # not PostgreSQL
    f"postgresql://teacher:{SECRET}@db.example:notaport/quizgen",  # not a URL
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_settings_error_names_the_setting_not_its_value(url: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None, database_url=url)
    assert raised.value.errors()[0]["input"] == url, "pydantic's own error keeps the value"
    described = describe_settings_error(raised.value)
    assert described.startswith("DATABASE_URL: ")
    assert SECRET not in described


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize(
    "command",
    [["-m", "worker"], ["-m", "api"], ["-m", "alembic", "upgrade", "head"]],
    ids=["worker", "api", "alembic"],
)
def test_processes_refuse_a_bad_database_url_without_printing_it(
    command: list[str], url: str
) -> None:
    done = subprocess.run(
        [sys.executable, *command],
        cwd=REPO_ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "DATABASE_URL" in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


async def test_database_errors_show_the_statement_without_its_values(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            with pytest.raises(sa.exc.DBAPIError) as raised:
                await conn.execute(sa.text("SELECT length(:v) / 0"), {"v": SECRET})
    finally:
        await engine.dispose()
    assert "division by zero" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_a_text_log_line_cannot_be_forged_or_drive_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    saved, level = root.handlers[:], root.level
    try:
        configure_logging("text", "INFO")
        log = logging.getLogger("quizgen.test")
        log.warning("module text: %s", "line one\n2026-01-01 ERROR forged\x1b[2J")
        try:
            raise ValueError("bad\nCRITICAL forged too")
        except ValueError:
            log.exception("failed")
    finally:
        root.handlers[:], root.level = saved, level
    lines = capsys.readouterr().err.splitlines()
    records = [line for line in lines if not line.startswith(" ")]
    assert len(records) == 2, lines
    assert records[0].endswith(r"module text: line one\n2026-01-01 ERROR forged\x1b[2J")
    assert "\x1b" not in "".join(lines)
    assert all(line.startswith("    ") for line in lines if "forged too" in line)
