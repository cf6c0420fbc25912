"""The review pages behind a reverse proxy that terminates TLS, as in a real deployment.

uvicorn serves the API on plain http and trusts X-Forwarded-* from the proxy's address only
(FORWARDED_ALLOW_IPS, as `python -m api` configures it); the proxy answers https with a
self-signed certificate. Through it a teacher signs in, creates a quiz, generates it and
approves a question with the browser's Origin header; every cookie carries `Secure`; and a
guesser's ten bad sign-ins from another address lock out the guesser, not the teacher.
"""

from __future__ import annotations

import ssl
import uuid
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.testing import WorkflowEnvironment

from api import create_app
from api.throttle import FailureThrottle
from deploy.local.api import ALICE, local_settings, serving
from deploy.local.temporal import server_address
from quizgen.db import review
from quizgen.domain import QuizStatus
from quizgen.llm.offline import OfflineProvider
from tests.support.flows import running_worker, wait_for_status
from tests.support.samples import ENGLISH_SAMPLE
from tests.support.tls_proxy import reverse_proxy, self_signed_certificate
from tests.support.web import create_through_form, csrf_of, sign_in

GUESSER = "127.0.0.2"  # another address of the loopback interface: another client


def _client(url: str, cert: Path, local_address: str = "127.0.0.1") -> httpx.AsyncClient:
    verify = ssl.create_default_context(cafile=str(cert))
    transport = httpx.AsyncHTTPTransport(verify=verify, local_address=local_address)
    # Browsers send the page's origin with every form post.
    return httpx.AsyncClient(base_url=url, transport=transport, headers={"Origin": url}, timeout=30)


async def test_pages_work_through_a_tls_proxy_and_a_guesser_locks_out_only_itself(
    database_url: str,
    temporal_env: WorkflowEnvironment,
    engine: AsyncEngine,
    task_queue: str,
    tmp_path: Path,
) -> None:
    settings = local_settings(
        database_url=database_url,
        temporal_address=server_address(temporal_env),
        temporal_task_queue=task_queue,
    )
    cert, key = self_signed_certificate(tmp_path)
    proxied = {"proxy_headers": True, "forwarded_allow_ips": settings.forwarded_allow_ips}
    tls = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    async with (
        serving(create_app(settings), **proxied) as api_url,
        serving(reverse_proxy(api_url), **tls) as url,
        running_worker(temporal_env.client, engine, OfflineProvider(), task_queue),
        _client(url, cert) as teacher,
        _client(url, cert, local_address=GUESSER) as guesser,
    ):
        assert url.startswith("https://")
        # A guesser behind the same ingress runs into the sign-in throttle ...
        for _ in range(FailureThrottle().max_failures):
            assert (await sign_in(guesser, "wrong-token-" + uuid.uuid4().hex)).status_code == 401
        assert (await sign_in(guesser, ALICE)).status_code == 429

        # ... and the teacher at another address signs in all the same.
        signed_in = await sign_in(teacher, ALICE)
        assert signed_in.status_code == 303, signed_in.text
        cookies = signed_in.headers.get_list("set-cookie")
        assert cookies and all("secure" in c.lower() for c in cookies), cookies

        quiz_id = await create_through_form(teacher, **{"modules-0-content": ENGLISH_SAMPLE})
        quiz_page = await teacher.get(f"/ui/quizzes/{quiz_id}")
        assert quiz_page.status_code == 200
        generated = await teacher.post(
            f"/ui/quizzes/{quiz_id}/generate", data={"csrf_token": csrf_of(quiz_page)}
        )
        assert generated.status_code == 303, generated.text
        record = await wait_for_status(engine, uuid.UUID(quiz_id), within_seconds=60)
        assert record.status is QuizStatus.READY_FOR_REVIEW

        questions, _ = await review.list_questions(
            engine, record.id, review.QuestionFilter(), offset=0, limit=10
        )
        page = await teacher.get(f"/ui/quizzes/{quiz_id}/questions")
        approved = await teacher.post(
            f"/ui/quizzes/{quiz_id}/questions/{questions[0].id}/approve",
            data={"csrf_token": csrf_of(page)},
        )
        assert approved.status_code == 303, approved.text
        first = await review.get_question(engine, record.id, questions[0].id)
        assert first.is_approved

        # Another site's form is still refused through the proxy.
        forged = await teacher.post(
            f"/ui/quizzes/{quiz_id}/generate",
            data={"csrf_token": csrf_of(quiz_page)},
            headers={"Origin": "https://evil.example"},
        )
        assert forged.status_code == 403
