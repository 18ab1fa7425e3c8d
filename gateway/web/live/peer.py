"""One WebSocket connection as the live hub sees it: who it is, what it subscribed, and a
send slot per subscription that keeps only the latest answer.

A slow consumer never delays anyone: pushing to a peer only stores the message in its slot
and, when the peer has no sender running, starts one. The sender writes the slots one after
the other; while it waits on a slow socket, newer answers overwrite older ones still in
their slot (the client skips straight to the newest). An idle peer holds no task.

Example:
    >>> peer = Peer(principal, send_text, close, expires=None)  # doctest: +SKIP
    >>> peer.offer("1", '{"id":"1","type":"next",...}')         # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import orjson

from gateway.authz.principal import Principal
from gateway.web.live.evaluation import Topic
from gateway.web.live.instruments import PUSHES

logger = logging.getLogger("gateway.live")

SendText = Callable[[str], Awaitable[None]]
Close = Callable[[int, str], Awaitable[None]]


class Subscriber:
    """One subscription of a peer to a topic.

    Attributes:
        peer: The connection.
        id: The client's operation id.
        topic: What it shares.
        last: The answer last offered (an identical one is not sent again).
        snapshot: The snapshot id of the answer last offered (an older one is ignored).
    """

    __slots__ = ("id", "last", "peer", "snapshot", "topic")

    def __init__(self, peer: Peer, id: str, topic: Topic) -> None:
        self.peer = peer
        self.id = id
        self.topic = topic
        self.last: bytes | None = None
        self.snapshot = -1

    def offer(self, body: bytes, snapshot: int, payload: str) -> bool:
        """Queue ``payload`` (the ``next`` payload of answer ``body``, decoded once for every
        subscriber of the answer) unless the subscriber has
        a newer snapshot's answer or already got this one; True when queued."""
        if snapshot < self.snapshot:
            return False
        self.snapshot = snapshot
        if self.last is not None and (self.last is body or self.last == body):
            return False
        self.last = body
        self.peer.offer(self.id, next_message(self.id, payload))
        return True


def next_message(operation_id: str, payload: str) -> str:
    """The ``next`` message of ``payload`` (encoded JSON) for ``operation_id``."""
    return f'{{"id":{orjson.dumps(operation_id).decode()},"type":"next","payload":{payload}}}'


class Peer:
    """A connection's live state (see the module docstring).

    Args:
        principal: Who authenticated the connection.
        send_text: Sends one text frame.
        close: Closes the connection with a code and reason.
        expires: POSIX time its credential stops being valid (None: an API key, checked for
            revocation instead).
    """

    __slots__ = ("_sender", "close", "expires", "principal", "send_text", "slots", "subscribers")

    def __init__(
        self, principal: Principal, send_text: SendText, close: Close, expires: float | None
    ) -> None:
        self.principal = principal
        self.send_text = send_text
        self.close = close
        self.expires = expires
        self.subscribers: dict[str, Subscriber] = {}
        self.slots: dict[str, str] = {}
        self._sender: asyncio.Task[None] | None = None

    def offer(self, operation_id: str, message: str) -> None:
        """Put ``message`` in the operation's slot (replacing an unsent one) and make sure a
        sender runs."""
        self.slots[operation_id] = message
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_slots())

    def forget(self, operation_id: str) -> None:
        """Drop the operation's unsent message (it completed)."""
        self.slots.pop(operation_id, None)

    async def flush(self) -> None:
        """Wait until every queued message is sent (or the sender failed)."""
        sender = self._sender
        if sender is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(sender)

    async def _send_slots(self) -> None:
        try:
            while self.slots:
                operation_id = next(iter(self.slots))
                message = self.slots.pop(operation_id)
                await self.send_text(message)
                PUSHES.inc()
        except Exception as exc:  # the socket went away: its handler cleans up
            logger.debug("live push failed: %s", exc)
            self.slots.clear()
        finally:
            self._sender = None

    def stop(self) -> None:
        """Cancel the sender (the connection is closing)."""
        if self._sender is not None:
            self._sender.cancel()
        self.slots.clear()
