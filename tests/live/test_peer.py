"""A slow consumer: its unsent answers are replaced by newer ones, and nobody waits for it."""

from __future__ import annotations

import asyncio

from gateway.authz.principal import Principal
from gateway.web.live.evaluation import Topic
from gateway.web.live.peer import Peer, Subscriber
from gateway.web.live.plan import Plan
from tests.principals import ADMIN


class Socket:
    """Records what is sent; blocks every send while ``gate`` is clear."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send_text(self, text: str) -> None:
        await self.gate.wait()
        self.sent.append(text)

    async def close(self, code: int, reason: str) -> None:
        del code, reason


def _peer(socket: Socket, who: Principal = ADMIN) -> Peer:
    return Peer(who, socket.send_text, socket.close, expires=None)


def _subscriber(peer: Peer, operation_id: str) -> Subscriber:
    topic = Topic("t", Plan("live", "query { snapshot { id } }", None, "live"), None, ADMIN)
    return Subscriber(peer, operation_id, topic)


async def test_a_blocked_socket_keeps_only_the_latest_answer_and_delays_nobody() -> None:
    slow, quick = Socket(), Socket()
    slow.gate.clear()
    slow_peer, quick_peer = _peer(slow), _peer(quick)
    slow_sub, quick_sub = _subscriber(slow_peer, "1"), _subscriber(quick_peer, "1")
    for snapshot in range(1, 6):
        body = b'{"data":{"live":%d}}' % snapshot
        for subscriber in (slow_sub, quick_sub):
            assert subscriber.offer(body, snapshot, body.decode())
        await asyncio.sleep(0)  # the senders run
    await quick_peer.flush()
    assert len(quick.sent) == 5  # the quick one got every answer meanwhile
    assert slow.sent == []
    assert len(slow_peer.slots) == 1  # one slot: the latest answer only
    slow.gate.set()
    await slow_peer.flush()
    # The first answer was in flight when the socket blocked; then only the newest.
    assert [s[-4:-2] for s in slow.sent] == ["1}", "5}"]


async def test_an_unchanged_or_older_answer_is_not_sent() -> None:
    socket = Socket()
    peer = _peer(socket)
    subscriber = _subscriber(peer, "a")
    assert subscriber.offer(b"x", 2, "{}")
    await peer.flush()
    assert not subscriber.offer(b"x", 3, "{}")  # same answer, newer snapshot
    assert not subscriber.offer(b"y", 1, "{}")  # an older snapshot's answer
    assert subscriber.offer(b"y", 4, "{}")
    await peer.flush()
    assert len(socket.sent) == 2
