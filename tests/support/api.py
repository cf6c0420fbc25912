"""Checking the API's error answers (the clients and users are in deploy/local/api.py)."""

from __future__ import annotations

from typing import Any

import httpx


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The `error` object of an error response, after checking its status and shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    error: dict[str, Any] = body["error"]
    return error
