"""The API's Prometheus metrics, served at `GET /metrics` on the API's own port.

    quizgen_api_requests_total{method, route, status}   requests answered
    quizgen_api_request_seconds{method, route}          time to the response's start (histogram)

`route` is the matched path template (`/quizzes/{quiz_id}`), never the raw
path, so a quiz id does not become a label value; an unmatched path counts
as `unmatched`, and a method outside HTTP's usual ones as `other` (a client
inventing methods must not invent series). Each app has its own registry
(several apps in one test process do not share counters).

Who may read it: with `API_METRICS_TOKEN` set, a request bearing that token;
without, only a client on this machine (loopback). Anyone else gets 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import time

from fastapi import FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.guard import client_address

__all__ = ["install_metrics", "method_label"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def method_label(method: str) -> str:
    return method if method in _METHODS else "other"


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
                self.metrics.seconds.labels(method_label(scope["method"]), route).observe(
                    time.perf_counter() - started
                )
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router writes the matched route into the scope it was given.
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(method_label(scope["method"]), route, str(status)).inc()


def install_metrics(app: FastAPI) -> None:
    metrics = _Metrics()
    app.add_middleware(_Measure, metrics=metrics)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        if not _may_read(request):
            # As if there were no such route.
            raise HTTPException(404)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _may_read(request: Request) -> bool:
    token = request.app.state.settings.api_metrics_token
    if token is not None:
        sent = request.headers.get("authorization", "")
        expected = f"Bearer {token.get_secret_value()}"
        return hmac.compare_digest(sent.encode(), expected.encode())
    try:
        return ipaddress.ip_address(client_address(request.scope)).is_loopback
    except ValueError:
        return False
