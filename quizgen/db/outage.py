"""Telling "PostgreSQL cannot serve this now, try again" apart from every other database error.

An outage (connection refused, reset or dropped, the server starting up or
shutting down, too many connections, a database closed to new connections for
maintenance, a backend terminated under a pooled connection) is worth waiting
out and is shown to API clients as 503; any other error (a constraint, a bug,
a full disk under an upload) is not. asyncpg's server-side refusals reach us
through SQLAlchemy as a plain `DBAPIError`, recognisable only by the SQLSTATE
of the original error.
"""

from __future__ import annotations

import errno
import socket

import sqlalchemy.exc

__all__ = ["describe_outage", "is_database_outage"]

# 08xxx connection exceptions; 57P01-57P03 admin/crash shutdown and "starting
# up"; 53300 too many connections; 40P01 deadlock and 40001 serialization
# failure (the transaction was chosen to give way: trying again succeeds).
_OUTAGE_SQLSTATE_PREFIXES = ("08", "57P", "53300", "40P01", "40001")
# 55000 (object not in prerequisite state) is an outage only as the refusal of
# `ALTER DATABASE ... ALLOW_CONNECTIONS false`: 'database "x" is not currently
# accepting connections' (PostgreSQL's postinit.c); elsewhere it is a bug.
_NOT_ACCEPTING = ("55000", "not currently accepting connections")
# An OSError is the database's only when the driver raised it: a full disk or a
# missing file under an upload is not an outage.
_DRIVER_MODULES = ("asyncpg", "sqlalchemy")
_NETWORK_ERRNOS = frozenset(
    {
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.EPIPE,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.ENOTCONN,
        errno.ESHUTDOWN,
        errno.EADDRNOTAVAIL,
    }
)


def is_database_outage(err: BaseException) -> bool:
    if isinstance(err, TimeoutError | sqlalchemy.exc.TimeoutError):
        # A server that does not answer, and a pool that found no connection in time.
        return True
    if isinstance(err, OSError):
        return _is_network_error(err)
    if isinstance(err, sqlalchemy.exc.DBAPIError):
        if err.connection_invalidated or isinstance(
            err, sqlalchemy.exc.OperationalError | sqlalchemy.exc.InterfaceError
        ):
            return True
        return _is_outage_state(err.orig)
    # asyncpg's own errors, where nothing wrapped them.
    return _is_outage_state(err)


def _is_network_error(err: OSError) -> bool:
    """Refused or reset connections, unresolvable hosts, a socket file that is gone: when
    raised by the database driver. Without a traceback (built, not raised), by its kind."""
    if err.__traceback__ is not None:
        return _raised_by_driver(err)
    if isinstance(err, ConnectionError | socket.gaierror | socket.herror):
        return True
    return err.errno in _NETWORK_ERRNOS


def _raised_by_driver(err: BaseException) -> bool:
    # A Unix socket that is gone is a bare FileNotFoundError (no filename): only where it
    # was raised tells it from a missing upload file.
    tb = err.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if isinstance(module, str) and module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


def _is_outage_state(err: object) -> bool:
    state = _sqlstate(err)
    if state.startswith(_OUTAGE_SQLSTATE_PREFIXES):
        return True
    code, words = _NOT_ACCEPTING
    return state == code and words in str(err)


def _sqlstate(err: object) -> str:
    # The asyncpg dialect copies the asyncpg error's SQLSTATE onto `orig`
    # (psycopg has `.sqlstate` too, psycopg2 only `.pgcode`).
    state = getattr(err, "sqlstate", None) or getattr(err, "pgcode", None)
    return state if isinstance(state, str) else ""


def describe_outage(err: BaseException) -> str:
    """The kind of outage for a log line: the error's class and SQLSTATE, never its text
    (SQLAlchemy's includes the statement; a server's may quote names)."""
    inner = err.orig if isinstance(err, sqlalchemy.exc.DBAPIError) else err
    state = _sqlstate(inner)
    name = type(inner).__name__ if inner is not None else type(err).__name__
    return f"{name} {state}".rstrip()
