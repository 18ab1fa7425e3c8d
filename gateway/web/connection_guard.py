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
        self._head_bytes = self._parsed_head = 0
        self._in_head = True
        self._too_large = False
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        if seconds > 0:
            self._deadline = self.loop.call_later(seconds, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        """The client was too slow: 408 unless an answer has started, then close."""
        self._deadline = None
        if self.transport.is_closing():
            return
        answering = self.cycle is not None and self.cycle.response_started
        if not answering:
            self.transport.write(_answer(408, "the request was not sent in time"))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout)  # a socket that never sends a request is closed too

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        """uvicorn's, answering a head cut short by :meth:`_count` with 431."""
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

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def _count(self, size: int) -> None:
        """Bound a head that arrived whole in one read (the raw count sees it only after)."""
        self._parsed_head += size
        if self._parsed_head > self.max_head_bytes:
            self._too_large = True
            raise ValueError("request head too large")  # stops the parser: answered 431

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = self._parsed_head = 0
        self._arm(self.body_timeout)  # the body (if any) must arrive in time
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        self._in_head = True  # what comes next on this connection is the next request's head
        super().on_message_complete()


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
