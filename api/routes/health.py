"""Liveness and readiness."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Engine, Temporal
from api.errors import ServiceUnavailable, error_responses

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: bool | None = None
    temporal: bool | None = None


@router.get("/healthz", response_model_exclude_none=True)
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get("/readyz", responses=error_responses(503), response_model_exclude_none=True)
async def readyz(engine: Engine, temporal: Temporal) -> Health:
    """PostgreSQL and Temporal are reachable."""
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
        database = True
    except (sa.exc.SQLAlchemyError, OSError):
        database = False
    reachable = await temporal.healthy()
    if database and reachable:
        return Health(status="ok", database=True, temporal=True)
    down = [name for name, up in (("PostgreSQL", database), ("Temporal", reachable)) if not up]
    raise ServiceUnavailable(
        f"not ready: {' and '.join(down)} unreachable",
        {"database": database, "temporal": reachable},
    )
