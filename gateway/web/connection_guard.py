"""Bounds on what one connection may hold of the server, below the ASGI app: request head size,
and how long a client may take to send its head and its body.

uvicorn's httptools protocol reads a head of any size and waits for a slow client for ever (its
keep-alive timer only runs between requests): one request with tens of MB of headers stalls
every other client, and a few hundred sockets that never finish a request hold the server.
:class:`GuardedHttpToolsProtocol` answers a head over ``max_head_bytes`` with 431 and closes a
connection whose head (from its first byte, or from the connection's opening) or body is not
complete within its timeout, answering 408 when nothing was answered yet.

Example:
    >>> guarded_protocol(Settings(max_head_bytes=8192)).max_head_bytes
    8192
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.errors import ErrorCode
from gateway.settings import Settings


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a bounded head and head and body deadlines."""

    max_head_bytes = 65536
    head_timeout = 10.0
    body_timeout = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True
        self._too_large = False
        self._deadline = 0.0  # loop time past which the client is too slow; 0: none

    # A deadline is a float set and cleared per request; a sweep every SWEEP_SECONDS per event
    # loop closes the connections past theirs (a timer per request cost more than a hit).
    def _arm(self, seconds: float) -> None:
        self._deadline = self.loop.time() + seconds

    def _disarm(self) -> None:
        self._deadline = 0.0

    def _expired(self) -> None:
        """The client was too slow: 408 unless an answer has started, then close."""
        self._deadline = 0.0
        if self.transport.is_closing():
            return
        answering = self.cycle is not None and self.cycle.response_started
        if not answering:
            self.transport.write(_answer(408, "the request was not sent in time"))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout)  # a socket that never sends a request is closed too
        _Sweeper.of(self.loop).guarded.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        sweeper = _SWEEPERS.get(self.loop)  # never schedule a sweep only to leave it
        if sweeper is not None:
            sweeper.guarded.discard(self)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        """uvicorn's, after leaving the sweep: the connection is a WebSocket from now on, its
        end reaches the WebSocket protocol (not :meth:`connection_lost` here), and its idle
        time is bounded by pings, not by request deadlines."""
        self._disarm()
        sweeper = _SWEEPERS.get(self.loop)
        if sweeper is not None:
            sweeper.guarded.discard(self)
        super().handle_websocket_upgrade()

    def data_received(self, data: bytes) -> None:
        """uvicorn's, answering a head past ``max_head_bytes`` with 431."""
        self._unset_keepalive_if_required()
        if self._in_head:
            # httptools hands a header over only once it is whole: count the raw bytes of an
            # unfinished head here, so a head sent in many pieces is cut short too.
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
            if self._in_head and self._head_bytes > self.max_head_bytes:
                self._too_large = True
                raise httptools.HttpParserError("request head too large")
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._too_large:
                self.transport.write(_answer(431, "the request head is too large"))
                self.transport.close()
                return
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._arm(self.head_timeout)

    def on_headers_complete(self) -> None:
        if self._head_bytes > self.max_head_bytes:  # rare: weigh the head itself
            size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
            if size > self.max_head_bytes:  # it arrived whole in one read: still refused
                self._too_large = True
                raise ValueError("request head too large")  # stops the parser: answered 431
        self._in_head = False
        self._head_bytes = 0
        self._arm(self.body_timeout)  # the body (if any) must arrive in time
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True  # what comes next on this connection is the next request's head
        super().on_message_complete()


class _Sweeper:
    """Closes the connections of one event loop whose deadline passed, every
    :data:`SWEEP_SECONDS` while any is open."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.guarded: set[GuardedHttpToolsProtocol] = set()
        self.scheduled = False

    @classmethod
    def of(cls, loop: asyncio.AbstractEventLoop) -> _Sweeper:
        sweeper = _SWEEPERS.get(loop)
        if sweeper is None:
            sweeper = _SWEEPERS[loop] = cls(loop)
        if not sweeper.scheduled:
            sweeper.scheduled = True
            loop.call_later(SWEEP_SECONDS, sweeper.sweep)
        return sweeper

    def sweep(self) -> None:
        now = self.loop.time()
        for protocol in [p for p in self.guarded if 0 < p._deadline <= now]:
            protocol._expired()
        if self.guarded:
            self.loop.call_later(SWEEP_SECONDS, self.sweep)
        else:
            self.scheduled = False
            _SWEEPERS.pop(self.loop, None)


_SWEEPERS: dict[asyncio.AbstractEventLoop, _Sweeper] = {}

SWEEP_SECONDS = 0.25
"""How often deadlines are checked: a slow client is cut off at most this late."""


def _answer(status: int, message: str) -> bytes:
    """A whole HTTP answer with the gateway's JSON error body, closing the connection."""
    reason = {408: b"Request Timeout", 431: b"Request Header Fields Too Large"}[status]
    error = {"message": message, "extensions": {"code": ErrorCode.BAD_USER_INPUT.value}}
    body = orjson.dumps({"errors": [error]})
    return b"".join(
        [
            b"HTTP/1.1 %d %s\r\n" % (status, reason),
            b"content-type: application/json\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
    )


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    """The protocol class for uvicorn's ``http=`` option, bounded as ``settings`` say.

    The class itself is configured (it is named, so uvicorn's worker processes can import it);
    :func:`gateway.app.create_app` configures it again in each worker from that worker's
    settings.
    """
    GuardedHttpToolsProtocol.max_head_bytes = settings.max_head_bytes
    GuardedHttpToolsProtocol.head_timeout = settings.client_head_timeout_seconds
    GuardedHttpToolsProtocol.body_timeout = settings.client_body_timeout_seconds
    return GuardedHttpToolsProtocol
