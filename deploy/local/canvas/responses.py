"""Canvas's error bodies and its paginated lists (the `Link` header).

Pagination, https://developerdocs.instructure.com/services/canvas/basics/file.pagination:
10 items a page by default, `?per_page` sets it (with an unspecified maximum: 100 here, as
canvas-lms caps it), and the `Link` header carries absolute URLs, to be treated as opaque, for
rel="current", "next", "prev", "first" and "last", each included only when relevant (no
"prev" on the first page, no "next" on the last). The page parameter is a bookmark
("bookmark:..."), as Canvas uses for many collections, so a client cannot do arithmetic on it.
An access_token query parameter is not carried into the links (the docs say so).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse

DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100


class PageError(ValueError):
    pass


def errors(code: int, message: str, **extra: Any) -> JSONResponse:
    """Canvas's usual error body: {"errors": [{"message": ...}]} (plus e.g. "status")."""
    return JSONResponse({**extra, "errors": [{"message": message}]}, status_code=code)


def not_found() -> JSONResponse:
    return errors(404, "The specified resource does not exist.")


def unauthorized_action() -> JSONResponse:
    # A signed-in user without the right gets Canvas's "unauthorized" body; the status is 403
    # when the token is valid (a 401 is kept for tokens: the OAuth2 page, "Storing Tokens",
    # tells clients to tell the two apart by WWW-Authenticate, which only the token 401 has).
    return errors(403, "user not authorized to perform that action", status="unauthorized")


def _bookmark(index: int) -> str:
    raw = base64.urlsafe_b64encode(f"[{index}]".encode()).decode().rstrip("=")
    return f"bookmark:{raw}"


def _page_index(value: str) -> int:
    if value.isdigit():  # Canvas also takes plain page numbers
        return max(0, int(value) - 1)
    if not value.startswith("bookmark:"):
        raise PageError(value)
    raw = value.removeprefix("bookmark:")
    try:
        decoded = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        return int(decoded.strip("[]"))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise PageError(value) from exc


def paginate(request: Request, rows: Sequence[Any]) -> JSONResponse:
    try:
        per_page = int(request.query_params.get("per_page", DEFAULT_PER_PAGE))
        index = _page_index(request.query_params.get("page", "1"))
    except ValueError:
        return errors(400, "invalid page or per_page parameter")
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    pages = max(1, -(-len(rows) // per_page))
    index = min(index, pages)  # past the end: an empty page, as Canvas answers
    kept = [
        (k, v) for k, v in request.query_params.multi_items() if k not in ("page", "access_token")
    ]
    kept = [(k, v) for k, v in kept if k != "per_page"] + [("per_page", str(per_page))]
    base = str(request.url.replace(query=""))

    def link(page: int, rel: str) -> str:
        return f'<{base}?{urlencode([*kept, ("page", _bookmark(page))])}>; rel="{rel}"'

    links = [link(index, "current")]
    if index + 1 < pages:
        links.append(link(index + 1, "next"))
    if index > 0:
        links.append(link(index - 1, "prev"))
    links += [link(0, "first"), link(pages - 1, "last")]
    page = rows[index * per_page : (index + 1) * per_page]
    return JSONResponse(list(page), headers={"Link": ",".join(links)})
