"""Attacks from outside, sent to a running API (uvicorn on a real port, as `python -m api`
configures it: proxy headers believed from FORWARDED_ALLOW_IPS only), with the safe answer
each must get. Other attacks have modules of their own (docs/security.md lists them all):
the form flood (web/test_form_flood.py), TLS proxy and sign-in lockout
(web/test_behind_tls_proxy.py), database refusals (test_database_*.py), quotas
(test_quotas.py), stale reviews (test_api_questions.py), LLM answers (tests/llm/).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml
from temporalio.testing import WorkflowEnvironment

from api import create_app
from api.guard import MAX_BAD_TOKENS
from deploy.local.api import ALICE, auth, local_settings, serving
from deploy.local.temporal import server_address
from quizgen.errors import ConfigurationError
from quizgen.settings import Settings
from tests.support.api import error_of

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
METRICS_TOKEN = "metrics-Qx7vN2pL9sK4wR8tY3zB6cF1hJ5mD0gA"


def _settings(database_url: str, env: WorkflowEnvironment, **overrides: object) -> Settings:
    return local_settings(
        database_url=database_url, temporal_address=server_address(env), **overrides
    )


@pytest.fixture
async def api(database_url: str, temporal_env: WorkflowEnvironment) -> AsyncIterator[str]:
    """The API on a real port, believing X-Forwarded-* from 127.0.0.1 (the tests' 'proxy')."""
    app = create_app(_settings(database_url, temporal_env, api_metrics_token=METRICS_TOKEN))
    async with serving(app, proxy_headers=True, forwarded_allow_ips="127.0.0.1") as url:
        yield url


def _from(client: str) -> dict[str, str]:
    """What a trusted proxy adds for a request from `client`."""
    return {"X-Forwarded-For": client, "X-Forwarded-Proto": "https"}


# --- tokens -------------------------------------------------------------------------------


def _deploy_tokens() -> list[str]:
    config = next(
        doc
        for doc in yaml.safe_load_all((DEPLOY / "k8s" / "config.yaml").read_text())
        if doc["kind"] == "Secret"
    )
    return [config["stringData"]["API_TOKENS"], f"x:{config['stringData']['API_METRICS_TOKEN']}"]


@pytest.mark.parametrize(
    "tokens",
    [*_deploy_tokens(), "alice:0123456789abcdef", "alice:" + "a" * 64],
    ids=["k8s-placeholder", "k8s-metrics-placeholder", "16-characters", "repeated"],
)
def test_placeholder_and_weak_tokens_keep_the_api_from_starting(tokens: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        create_app(Settings(_env_file=None, api_tokens=tokens))
    message = str(refused.value)
    assert "placeholder" in message or "too weak" in message
    assert tokens.partition(":")[2] not in message  # the token is never echoed


def test_a_weak_metrics_token_keeps_the_api_from_starting() -> None:
    with pytest.raises(ConfigurationError, match="API_METRICS_TOKEN is"):
        create_app(local_settings(api_metrics_token="CHANGE-ME-metrics-token"))


async def test_an_anonymous_body_is_never_parsed(api: str) -> None:
    garbage = b"{" + b'"a":' * 1_000_000  # 4 MB of malformed JSON
    async with httpx.AsyncClient(base_url=api) as client:
        for headers in ({}, auth("not-a-token-" * 4)):
            answer = await client.post("/quizzes", content=garbage, headers=headers)
            error_of(answer, 401, "unauthorized")


async def test_guessing_tokens_is_throttled_per_client_and_spoofing_does_not_help(
    api: str, database_url: str, temporal_env: WorkflowEnvironment
) -> None:
    async with httpx.AsyncClient(base_url=api) as client:
        guesser = _from("203.0.113.7")
        for n in range(MAX_BAD_TOKENS):
            wrong = await client.get("/quizzes", headers={**auth(f"guess-{n}-" * 4), **guesser})
            error_of(wrong, 401, "unauthorized")
        held = await client.get("/quizzes", headers={**auth(ALICE), **guesser})
        error = error_of(held, 429, "too_many_requests")
        assert 0 < int(held.headers["Retry-After"]) <= 60
        assert "try again in" in error["message"]
        # Another client behind the same proxy is not held back.
        other = await client.get("/quizzes", headers={**auth(ALICE), **_from("198.51.100.4")})
        assert other.status_code == 200

    # Without a trusted proxy, X-Forwarded-For is the client's own claim and is ignored.
    app = create_app(_settings(database_url, temporal_env))
    async with (
        serving(app, proxy_headers=True, forwarded_allow_ips="10.9.9.9") as url,
        httpx.AsyncClient(base_url=url) as client,
    ):
        for n in range(MAX_BAD_TOKENS):
            spoofed = {**auth(f"guess-{n}-" * 4), **_from(f"192.0.2.{n}")}
            error_of(await client.get("/quizzes", headers=spoofed), 401, "unauthorized")
        spoofed = {**auth(ALICE), **_from("192.0.2.200")}
        error_of(await client.get("/quizzes", headers=spoofed), 429, "too_many_requests")


# --- metrics, docs, the root ---------------------------------------------------------------


async def test_metrics_are_for_the_scraper_only_and_invented_methods_add_no_series(
    api: str,
) -> None:
    async with httpx.AsyncClient(base_url=api) as client:
        for n in range(5):
            await client.request(f"Q{n}", "/quizzes", headers=auth(ALICE))
        outside = _from("203.0.113.9")
        assert (await client.get("/metrics", headers=outside)).status_code == 404
        wrong = {**outside, **auth("not-the-metrics-token-" * 2)}
        assert (await client.get("/metrics", headers=wrong)).status_code == 404
        metrics = await client.get("/metrics", headers={**outside, **auth(METRICS_TOKEN)})
    assert metrics.status_code == 200
    methods = set(re.findall(r'quizgen_api_requests_total\{method="([^"]+)"', metrics.text))
    assert "other" in methods
    assert not any(m.startswith("Q") for m in methods), methods


async def test_docs_can_be_switched_off_and_the_root_leads_to_the_pages(
    database_url: str, temporal_env: WorkflowEnvironment
) -> None:
    app = create_app(_settings(database_url, temporal_env, api_docs=False))
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        for path in ("/docs", "/redoc", "/openapi.json"):
            assert (await client.get(path, headers=auth(ALICE))).status_code == 404, path
        root = await client.get("/")
        assert root.status_code == 307
        assert root.headers["location"] == "/ui/"
        # What every browser asks each page for: nothing, and no 401.
        assert (await client.get("/favicon.ico")).status_code == 204
