"""The API's Prometheus metrics, served at `GET /metrics` on the API's own port.

    quizgen_api_requests_total{method, route, status}   requests answered
    quizgen_api_request_seconds{method, route}          time to the response's start (histogram)

`route` is the matched path template (`/quizzes/{quiz_id}`), never the raw
path, so a quiz id does not become a label value; an unmatched path counts
as `unmatched`. Each app has its own registry (several apps in one test
process do not share counters). The endpoint needs no token: expose it only
where Prometheus scrapes it, not on the public ingress.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["install_metrics"]


class _Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "quizgen_api_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.seconds = Histogram(
            "quizgen_api_request_seconds",
            "Time to the start of the response",
            ["method", "route"],
            registry=self.registry,
        )


class _Measure:
    """ASGI middleware: counts and times every HTTP request by route template and status."""

    def __init__(self, app: ASGIApp, metrics: _Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before answering

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = getattr(scope.get("route"), "path", "unmatched")
                self.metrics.seconds.labels(scope["method"], route).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router writes the matched route into the scope it was given.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()


def install_metrics(app: FastAPI) -> None:
    metrics = _Metrics()
    app.add_middleware(_Measure, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
