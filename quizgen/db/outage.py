"""Telling "PostgreSQL cannot serve this now, try again" apart from every other database error.

An outage (connection refused or dropped, the server starting up or shutting
down, too many connections) is worth waiting out and is shown to API clients
as 503; any other error (a constraint, a bug) is not. asyncpg's server-side
refusals reach us through SQLAlchemy as a plain `DBAPIError`, recognisable
only by the SQLSTATE of the original error.
"""

from __future__ import annotations

import sqlalchemy.exc

__all__ = ["is_database_outage"]

# 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown and "starting
# up"; 53300 too many connections; 40P01 deadlock and 40001 serialization
# failure (the transaction was chosen to give way: trying again succeeds).
_OUTAGE_SQLSTATE_PREFIXES = ("08", "57P", "53300", "40P01", "40001")


def is_database_outage(err: BaseException) -> bool:
    if isinstance(err, OSError | TimeoutError | sqlalchemy.exc.TimeoutError):
        # Refused or reset connections, and a pool that found no connection in time.
        return True
    if isinstance(err, sqlalchemy.exc.DBAPIError):
        if err.connection_invalidated or isinstance(
            err, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError
        ):
            return True
        return _sqlstate(err.orig).startswith(_OUTAGE_SQLSTATE_PREFIXES)
    # asyncpg's own errors, where nothing wrapped them.
    return _sqlstate(err).startswith(_OUTAGE_SQLSTATE_PREFIXES)


def _sqlstate(err: object) -> str:
    # The asyncpg dialect copies the asyncpg error's SQLSTATE onto `orig`
    # (psycopg has `.sqlstate` too, psycopg2 only `.pgcode`).
    state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
    return state if isinstance(state, str) else ""
