"""Child rows as one JSON array in the parent's statement: one round trip, not one per table."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import aggregate_order_by

__all__ = ["json_rows"]


def json_rows(
    columns: list[sa.Column[Any]], where: sa.ColumnElement[bool], *order_by: sa.Column[Any]
) -> sa.ColumnElement[Any]:
    """A correlated subquery: the matching rows as a JSON array of objects keyed by
    column name ([] when none), decoded to a list of dicts on read.

    Values come back as JSON types: timestamps as ISO strings and UUIDs as
    strings, which the pydantic models the callers build parse back.
    """
    row = sa.func.json_build_object(*(item for c in columns for item in (c.name, c)))
    rows = sa.func.json_agg(aggregate_order_by(row, *order_by) if order_by else row)
    subquery = sa.select(rows).where(where).scalar_subquery()
    return sa.func.coalesce(subquery, sa.text("'[]'::json"), type_=sa.JSON)
