"""A TCP gate in front of the real PostgreSQL that a test switches between open and refusing.

Why: an outage test cannot stop the PostgreSQL the whole run shares, and a dead port alone
is not what clients meet in production. A server that is starting up, shutting down or full
still accepts the TCP connection and answers the startup packet with an ErrorResponse
(57P03, 53300), which asyncpg raises as CannotConnectNowError / TooManyConnectionsError and
SQLAlchemy wraps in a bare `DBAPIError`. The gate answers exactly that, for the test's own
engine only, and can also stop listening (connection refused, as when nothing runs).

    async with PostgresGate() as gate:
        settings = local_settings(database_url=gate.url_for(database_url))
        gate.refuse(Refusal.TOO_MANY_CLIENTS)  # pooled connections are dropped too
        gate.allow()
"""

from __future__ import annotations

import asyncio
import enum
import socket
import struct
from types import TracebackType
from typing import Any, Self

from sqlalchemy.engine import make_url

__all__ = ["PostgresGate", "Refusal"]

# Requests a client may send before its StartupMessage; a server without SSL/GSS says "N".
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_MAX_STARTUP_PACKET = 10_000  # PostgreSQL's own limit on a startup packet


class Refusal(enum.Enum):
    """How the gate refuses a new connection (SQLSTATE and message as PostgreSQL sends them)."""

    STARTING_UP = ("57P03", "the database system is starting up")
    SHUTTING_DOWN = ("57P03", "the database system is shutting down")
    TOO_MANY_CLIENTS = ("53300", "sorry, too many clients already")
    # `ALTER DATABASE ... ALLOW_CONNECTIONS false`, the way maintenance closes a database.
    NOT_ACCEPTING = ("55000", 'database "quizgen" is not currently accepting connections')
    # Nothing listens on the port: the client's connect() fails with ECONNREFUSED.
    NOT_LISTENING = ("", "(connection refused)")
    # Accepted, then reset (RST) before a word is said: ECONNRESET, as from a dying proxy.
    RESET = ("", "(connection reset)")

    def __init__(self, sqlstate: str, message: str) -> None:
        self.sqlstate = sqlstate
        self.message = message


def _error_response(refusal: Refusal) -> bytes:
    """A FATAL ErrorResponse message ('E', int32 length, NUL-terminated fields, final NUL)."""
    fields = (
        (b"S", "FATAL"),
        (b"V", "FATAL"),
        (b"C", refusal.sqlstate),
        (b"M", refusal.message),
    )
    body = b"".join(tag + value.encode() + b"\0" for tag, value in fields) + b"\0"
    return b"E" + struct.pack("!i", len(body) + 4) + body


async def _read_startup_packet(reader: asyncio.StreamReader) -> int:
    """Read one untyped startup-phase message; return its code (protocol version or request)."""
    (length,) = struct.unpack("!i", await reader.readexactly(4))
    if not 8 <= length <= _MAX_STARTUP_PACKET:
        raise ConnectionError(f"not a PostgreSQL startup packet (length {length})")
    code: int = struct.unpack("!i", (await reader.readexactly(length - 4))[:4])[0]
    return code


class PostgresGate:
    """A proxy on 127.0.0.1:<free port> that pipes bytes to PostgreSQL unchanged while open."""

    def __init__(self, upstream_host: str = "127.0.0.1", upstream_port: int = 5432) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self._refusal: Refusal | None = None
        self._server: asyncio.Server | None = None
        self._relisten: asyncio.Task[asyncio.Server] | None = None
        self._port: int | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        # Both ends of every piped connection, so refuse() can drop them at once.
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._refused = 0

    async def start(self) -> None:
        assert self._port is None, "already started"
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self._port = self._server.sockets[0].getsockname()[1]

    @property
    def port(self) -> int:
        assert self._port is not None, "start() the gate first"
        return self._port

    @property
    def open_connections(self) -> int:
        """Connections currently piped to PostgreSQL (dropped ones no longer count)."""
        return sum(not client.transport.is_closing() for client, _ in self._links)

    @property
    def refused(self) -> int:
        """Connections answered with an ErrorResponse so far."""
        return self._refused

    def url_for(self, database_url: str) -> str:
        """The same SQLAlchemy URL, pointing at the gate instead of the server."""
        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def refuse(self, reason: Refusal = Refusal.STARTING_UP) -> None:
        """Refuse new connections from now on and drop the piped ones (pooled ones included)."""
        self._refusal = reason
        for client, upstream in self._links:
            client.transport.abort()
            upstream.transport.abort()
        if reason is Refusal.NOT_LISTENING and self._server is not None:
            self._server.close()
            self._server = None

    def allow(self) -> None:
        """Pipe new connections to PostgreSQL again."""
        self._refusal = None
        if self._server is None and self._relisten is None and self._port is not None:
            # Listen at once on the port the clients' URL names (connects queue in the
            # backlog); accepting starts at the loop's next turn.
            sock = socket.create_server(("127.0.0.1", self._port))
            self._relisten = asyncio.create_task(asyncio.start_server(self._serve, sock=sock))
            self._relisten.add_done_callback(self._relistened)

    def _relistened(self, task: asyncio.Task[asyncio.Server]) -> None:
        self._relisten = None
        server = task.result()
        if self._refusal is Refusal.NOT_LISTENING:  # refused again before it was up
            server.close()
        else:
            self._server = server

    async def close(self) -> None:
        if self._relisten is not None:
            await asyncio.wait([self._relisten])
        self.refuse(Refusal.NOT_LISTENING)
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        refusal = self._refusal
        try:
            if refusal is None:
                await self._pipe(reader, writer)
            elif refusal is Refusal.RESET:
                _reset(writer)
            elif refusal is not Refusal.NOT_LISTENING:
                await self._refuse(reader, writer, refusal)
            # else: accepted just before the socket closed; dropped like the backlog was.
        except (OSError, asyncio.IncompleteReadError):
            pass  # one side went away first: nothing to tell the other
        finally:
            writer.close()
            self._handlers.discard(task)

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, refusal: Refusal
    ) -> None:
        # As the postmaster does: decline SSL/GSS encryption, read the StartupMessage, refuse.
        code = await _read_startup_packet(reader)
        for _ in range(2):
            if code not in (_SSL_REQUEST, _GSSENC_REQUEST):
                break
            writer.write(b"N")
            await writer.drain()
            code = await _read_startup_packet(reader)
        writer.write(_error_response(refusal))
        await writer.drain()
        self._refused += 1
        writer.close()
        await writer.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        link = (writer, up_writer)
        self._links.add(link)
        try:
            async with asyncio.TaskGroup() as copies:
                copies.create_task(_copy(reader, up_writer))
                copies.create_task(_copy(up_reader, writer))
        finally:
            self._links.discard(link)
            up_writer.close()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST instead of FIN (SO_LINGER 0): the client reads ECONNRESET."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        # Flush, then close: the copy the other way then reads EOF, so one side closing (or
        # refuse() aborting both) ends the connection.
        writer.close()
