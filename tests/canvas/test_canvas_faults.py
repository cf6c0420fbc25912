"""Throttling and scripted faults on the stand-in, through real HTTP."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from deploy.local.canvas import RATE_LIMIT_BODY
from tests.canvas import payloads
from tests.canvas.conftest import Setup

pytestmark = pytest.mark.fast


async def test_throttle_headers_on_every_answer(setup: Setup) -> None:
    answers = [
        await setup.http.get("/api/v1/users/self"),
        await setup.http.get("/api/v1/courses/999999/modules"),  # 404
        await setup.http.get("/api/v1/users/self", headers={"Authorization": "Bearer x"}),  # 401
    ]
    for response in answers:
        assert float(response.headers["x-request-cost"]) > 0
        assert 0 <= float(response.headers["x-rate-limit-remaining"]) <= 600
    remaining = [float(r.headers["x-rate-limit-remaining"]) for r in answers[:2]]
    assert remaining[1] < remaining[0]  # the bucket drains slower than it fills here


async def test_a_full_bucket_gets_403_rate_limit_exceeded(setup: Setup) -> None:
    canvas = setup.canvas
    key = f"token:{setup.token}"
    canvas.rate_limit.fill(key, canvas.rate_limit.high_water_mark - 10)  # < the up-front cost
    refused = await setup.http.get("/api/v1/users/self")
    assert refused.status_code == 403 and refused.text == RATE_LIMIT_BODY
    assert float(refused.headers["x-rate-limit-remaining"]) < 50
    # Another token has a bucket of its own.
    other = canvas.issue_token(canvas.user(setup.token).id)
    ok = await setup.http.get("/api/v1/users/self", headers={"Authorization": f"Bearer {other}"})
    assert ok.status_code == 200
    canvas.rate_limit.fill(key, 0)  # drained
    assert (await setup.http.get("/api/v1/users/self")).status_code == 200


async def test_parallel_requests_pay_the_up_front_cost(setup: Setup) -> None:
    canvas = setup.canvas
    canvas.rate_limit.fill(f"token:{setup.token}", canvas.rate_limit.high_water_mark - 120)
    canvas.latency = 0.5  # all four are in flight together
    answers = await asyncio.gather(*(setup.http.get("/api/v1/users/self") for _ in range(4)))
    statuses = sorted(r.status_code for r in answers)
    # Two fit under the up-front cost of 50 each; the others are refused while they run.
    assert statuses == [200, 200, 403, 403]


async def test_throttle_for_a_while(setup: Setup) -> None:
    setup.canvas.throttle(0.3)
    refused = await setup.http.get("/api/v1/users/self")
    assert refused.status_code == 403 and refused.text == RATE_LIMIT_BODY
    await asyncio.sleep(0.35)
    assert (await setup.http.get("/api/v1/users/self")).status_code == 200


async def test_fail_next(setup: Setup) -> None:
    setup.canvas.fail_next(2, status=503)
    setup.canvas.fail_next(1, status=500)
    setup.canvas.fail_next(1, status=429)
    statuses = [(await setup.http.get("/api/v1/users/self")).status_code for _ in range(5)]
    assert statuses == [503, 503, 500, 429, 200]
    assert [r.fault for r in setup.canvas.requests] == ["fail"] * 4 + [None]


async def test_latency(setup: Setup) -> None:
    setup.canvas.latency = 0.25
    started = time.monotonic()
    assert (await setup.http.get("/api/v1/users/self")).status_code == 200
    assert time.monotonic() - started >= 0.25


async def test_hang_next(setup: Setup) -> None:
    setup.canvas.hang_next(1)
    with pytest.raises(httpx.ReadTimeout):
        await setup.http.get("/api/v1/users/self", timeout=0.3)
    assert (await setup.http.get("/api/v1/users/self")).status_code == 200
    assert setup.canvas.requests[0].fault == "hang"


async def test_drop_after_create_creates_then_cuts(setup: Setup) -> None:
    canvas, http = setup.canvas, setup.http
    quiz = (
        await http.post(
            f"/api/quiz/v1/courses/{setup.course}/quizzes", json={"quiz": {"title": "Q"}}
        )
    ).json()["id"]
    url = f"/api/quiz/v1/courses/{setup.course}/quizzes/{quiz}/items"
    canvas.drop_after_create(1.0)
    with pytest.raises(httpx.TransportError):
        await http.post(url, json=payloads.choice())
    stored = canvas.quiz_items(setup.course, quiz)
    assert len(stored) == 1 and stored[0]["entry"]["interaction_type_slug"] == "choice"
    assert canvas.requests[-1].fault == "drop"
    # Reads are not creates: they are answered.
    assert (await http.get(url)).json() == stored

    with pytest.raises(httpx.TransportError):
        await http.post(
            f"/api/quiz/v1/courses/{setup.course}/quizzes", json={"quiz": {"title": "R"}}
        )
    assert [q["title"] for q in canvas.quizzes(setup.course)] == ["Q", "R"]

    canvas.drop_after_create(0.5)  # every second create
    outcomes = []
    for build in (payloads.true_false, payloads.matching, payloads.categorization):
        try:
            outcomes.append((await http.post(url, json=build())).status_code)
        except httpx.TransportError:
            outcomes.append("dropped")
    assert outcomes == [200, "dropped", 200]
    assert len(canvas.quiz_items(setup.course, quiz)) == 4
    # A refused create is not a create: nothing to drop.
    canvas.drop_after_create(1.0)
    bad = payloads.choice()
    del bad["item"]["entry"]["scoring_data"]
    assert (await http.post(url, json=bad)).status_code == 422
