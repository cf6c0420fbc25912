"""No secret and no course content in any log line of the run (it runs last: conftest.py).

What the run's own process logged (`tests.support.log_capture.SessionLog`, at INFO) and every
`*.log` file under pytest's temp dir (the worker and server processes the tests started).
"""

from __future__ import annotations

import pytest

from tests.support.log_capture import SessionLog, leaks

pytestmark = pytest.mark.fast


def test_no_secret_or_content_in_any_log_line(
    session_log: SessionLog, tmp_path_factory: pytest.TempPathFactory
) -> None:
    log_files = sorted(tmp_path_factory.getbasetemp().rglob("*.log"))
    found = leaks(session_log.lines, log_files)
    assert not found, "\n".join(found)


def test_the_scan_finds_what_it_looks_for() -> None:
    planted = ["INFO quizgen.test sending Bearer alice-token-0123456789 upstream"]
    assert leaks(planted, []) == ["API token (alice): in-process log"]
