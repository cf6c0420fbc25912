"""What every request goes through before and after its endpoint: the faults a test scripted,
the access token, the throttle, and the two throttle headers on every answer.

Tokens (https://developerdocs.instructure.com/services/canvas/oauth, "Using an Access Token"
and "Storing Tokens"): `Authorization: Bearer <token>` (or `?access_token=`); a deleted or
expired token gets a 401 with `WWW-Authenticate` set, which is how a client tells it from a
permission refusal (a 403 here, without that header). A request with no token gets Canvas's
"user authorization required" 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from deploy.local.canvas.lms import PUBLIC_PATH_PREFIXES
from deploy.local.canvas.responses import errors
from deploy.local.canvas.throttle import RATE_LIMIT_BODY

if TYPE_CHECKING:
    from deploy.local.canvas.server import CanvasStandIn


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    received_at: float = field(default_factory=time.monotonic)
    user_id: int | None = None
    status: int | None = None
    # "fail", "throttle", "hang", "drop" when a scripted fault took the request
    fault: str | None = None


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.query_params.get("access_token")


def _fault_response(status: int) -> Response:
    if status == 500:
        # Canvas's own error page for an API request: JSON with an error report id.
        return JSONResponse(
            {"errors": [{"message": "An error occurred."}], "error_report_id": 1}, status_code=500
        )
    if status == 429:
        return PlainTextResponse("429 Too Many Requests", status_code=429)
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    title = f"{status} {reason.get(status, 'Error')}"
    return Response(f"<html><body><h1>{title}</h1></body></html>", status, media_type="text/html")


class Gate:
    def __init__(self, app: ASGIApp, canvas: CanvasStandIn) -> None:
        self.app = app
        self.canvas = canvas

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        canvas = self.canvas
        request = Request(scope, receive)
        record = RecordedRequest(scope["method"], request.url.path, request.url.query)
        canvas.requests.append(record)
        started = time.monotonic()
        token = _token(request)
        client = scope.get("client") or ("?", 0)
        bucket_key = f"token:{token}" if token else f"ip:{client[0]}"
        reserved = False
        dropped = False

        async def send_with_headers(message: Message) -> None:
            nonlocal dropped
            if dropped:
                return
            if message["type"] == "http.response.start":
                cost = canvas.request_cost + (time.monotonic() - started)
                remaining = canvas.rate_limit.settle(bucket_key, cost, reserved=reserved)
                if scope.get("state", {}).get("created") and canvas.take_drop():
                    record.fault = "drop"
                    dropped = True
                    canvas.abort_connection(client)
                    return
                headers = list(message.get("headers", []))
                headers.append((b"x-request-cost", f"{cost:.6f}".encode()))
                headers.append((b"x-rate-limit-remaining", f"{remaining:.6f}".encode()))
                record.status = message["status"]
                message = {**message, "headers": headers}
            await send(message)

        async def answer(response: Response) -> None:
            await asyncio.sleep(canvas.latency)
            await response(scope, receive, send_with_headers)

        if canvas.take_hang():
            record.fault = "hang"
            await self._hang(receive)
            return
        status = canvas.take_failure()
        if status is not None:
            record.fault = "fail"
            await answer(_fault_response(status))
            return
        if time.monotonic() < canvas.throttled_until:
            record.fault = "throttle"
            await answer(self._throttled())
            return
        if not request.url.path.startswith(PUBLIC_PATH_PREFIXES):
            refusal = self._authenticate(token, scope, record)
            if refusal is not None:
                await answer(refusal)
                return
        if not canvas.rate_limit.reserve(bucket_key):
            await answer(self._throttled())
            return
        reserved = True
        # The latency is the request's own time: it holds the up-front cost meanwhile and
        # counts in X-Request-Cost.
        await asyncio.sleep(canvas.latency)
        await self.app(scope, receive, send_with_headers)
        if dropped:
            # Let the aborted transport report its loss, so the server does not try to answer.
            await _disconnect(receive, within=2)

    def _authenticate(
        self, token: str | None, scope: Scope, record: RecordedRequest
    ) -> Response | None:
        registry = self.canvas.registry
        if token is None:
            return errors(401, "user authorization required", status="unauthenticated")
        found = registry.tokens.get(token)
        if found is None or found.expired:
            response = errors(401, "Invalid access token.")
            response.headers["WWW-Authenticate"] = 'Bearer realm="canvas-lms"'
            return response
        scope.setdefault("state", {})["user"] = registry.users[found.user_id]
        record.user_id = found.user_id
        return None

    def _throttled(self) -> Response:
        return PlainTextResponse(RATE_LIMIT_BODY, status_code=self.canvas.throttle_status)

    async def _hang(self, receive: Receive) -> None:
        """Never answer: wait until the client hangs up (or the hang's time is over)."""
        await _disconnect(receive, within=self.canvas.hang_seconds)


async def _disconnect(receive: Receive, *, within: float) -> None:
    """Wait until the client hangs up, for at most `within` seconds."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(within):
            while (await receive())["type"] != "http.disconnect":
                pass
