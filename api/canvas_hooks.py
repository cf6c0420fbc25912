"""What else happens when a teacher connects Canvas (or connects it again).

Both ways of connecting call `after_connect` once the checked token is stored: the JSON
API's `PUT /canvas/connection` (api/routes/canvas.py) and the page's form
(api/web/canvas_pages.py).
"""

from __future__ import annotations

from typing import Any

from api.export_lifecycle import resume_waiting_exports

__all__ = ["after_connect"]


async def after_connect(app_state: Any, owner: str) -> None:
    """Called after a teacher (re)connects Canvas: exports of theirs that wait for a
    working token resume (`canvas_reconnected`). Never raises."""
    await resume_waiting_exports(app_state.engine, app_state.temporal, owner)
