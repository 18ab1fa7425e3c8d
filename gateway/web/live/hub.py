"""The live hub of one server process: its connections, the topics they share, and the
rounds that push every topic's new answer after each snapshot.

* **Noticing a snapshot.** With Redis, the process listens to the snapshot announcements
  (:mod:`gateway.cache.announce`) and starts a round at once; with or without it, it also
  polls the generation every ``GATEWAY_CACHE_POLL_SECONDS`` (a missed announcement costs at
  most one poll).
* **A round** evaluates every topic once (at most ``GATEWAY_LIVE_CONCURRENCY`` at a time,
  through the cache: with Redis another process may have computed it) and offers the answer
  to each subscriber, which sends it only when it differs from the last it sent.
* **Hygiene**: at most ``GATEWAY_LIVE_CONNECTIONS_PER_PRINCIPAL`` connections per principal;
  a JWT connection is closed when its token expires, an API key's within one poll of its
  revocation; every ``GATEWAY_LIVE_KEEPALIVE_SECONDS`` each connection gets a ``ping``; on
  shutdown every connection is closed with 1001 (going away: clients reconnect elsewhere).

Example:
    >>> hub = LiveHub(evaluator, tracker, settings, engine)  # doctest: +SKIP
    >>> async with hub.running():  # doctest: +SKIP
    ...     await serve()
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter as Tally
from collections.abc import AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.authz.authenticate import API_KEY_SUBJECT
from gateway.cache.announce import Announcements
from gateway.settings import Settings
from gateway.store.generation import Generation, GenerationTracker
from gateway.store.tables import api_keys
from gateway.web.live.evaluation import Answer, Evaluator, Topic
from gateway.web.live.instruments import CLOSED, CONNECTIONS, SUBSCRIPTIONS, TOPICS
from gateway.web.live.peer import Peer, Subscriber
from gateway.web.response_cache import snapshot_extension, with_extensions

logger = logging.getLogger("gateway.live")

EXPIRED = (4403, "Forbidden: the token expired; reconnect with a new one")
REVOKED = (4403, "Forbidden: the API key was revoked")
TOO_MANY = (1013, "Try again later: too many connections for this caller")
GOING_AWAY = (1001, "the server is shutting down")
PING = '{"type":"ping"}'
LISTEN_SECONDS = 0.25
"""Longest wait for one announcement before looking again: also how long the shutdown waits
for the listener (redis-py's read does not end at once when cancelled)."""
STOP_SECONDS = 10.0
"""Longest the shutdown waits for a round in flight before cancelling it."""


class LiveHub:
    """See the module docstring."""

    def __init__(
        self,
        evaluator: Evaluator,
        tracker: GenerationTracker,
        settings: Settings,
        engine: AsyncEngine,
    ) -> None:
        self.evaluator = evaluator
        self.tracker = tracker
        self.settings = settings
        self.engine = engine
        self.peers: set[Peer] = set()
        self.topics: dict[str, Topic] = {}
        self.per_principal: Tally[tuple[str, str]] = Tally()
        self.snapshot_id: int | None = None
        self._slots = asyncio.Semaphore(settings.live_concurrency)
        self._tasks: list[asyncio.Task[None]] = []
        self._expiries: dict[Peer, asyncio.TimerHandle] = {}
        self._stopping = asyncio.Event()
        self._announced = asyncio.Event()

    # -- connections ------------------------------------------------------------------

    def connect(self, peer: Peer) -> tuple[int, str] | None:
        """Admit ``peer`` (None), or the close code and reason refusing it."""
        who = (peer.principal.via, peer.principal.subject)
        if self.per_principal[who] >= self.settings.live_connections_per_principal:
            CLOSED.labels("too_many").inc()
            return TOO_MANY
        self.per_principal[who] += 1
        self.peers.add(peer)
        CONNECTIONS.set(len(self.peers))
        if peer.expires is not None:
            delay = max(0.0, peer.expires - time.time())
            loop = asyncio.get_running_loop()
            self._expiries[peer] = loop.call_later(delay, self._expire, peer)
        return None

    def disconnect(self, peer: Peer) -> None:
        """Forget ``peer`` and its subscriptions (idempotent)."""
        if peer not in self.peers:
            return
        self.peers.discard(peer)
        who = (peer.principal.via, peer.principal.subject)
        self.per_principal[who] -= 1
        if self.per_principal[who] <= 0:
            del self.per_principal[who]
        timer = self._expiries.pop(peer, None)
        if timer is not None:
            timer.cancel()
        for operation_id in list(peer.subscribers):
            self.unsubscribe(peer, operation_id)
        peer.stop()
        CONNECTIONS.set(len(self.peers))

    def _expire(self, peer: Peer) -> None:
        self._expiries.pop(peer, None)
        CLOSED.labels("expired").inc()
        self._close_soon(peer, *EXPIRED)

    def _close_soon(self, peer: Peer, code: int, reason: str) -> None:
        task = asyncio.get_running_loop().create_task(self._close(peer, code, reason))
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def _close(self, peer: Peer, code: int, reason: str) -> None:
        self.disconnect(peer)
        with contextlib.suppress(Exception):
            await peer.close(code, reason)

    # -- subscriptions ----------------------------------------------------------------

    def subscribe(self, peer: Peer, operation_id: str, key: str, make: Topic) -> Subscriber:
        """Add ``peer``'s operation to the topic ``key`` (``make`` when it is new)."""
        topic = self.topics.setdefault(key, make)
        subscriber = Subscriber(peer, operation_id, topic)
        topic.subscribers.add(subscriber)
        peer.subscribers[operation_id] = subscriber
        SUBSCRIPTIONS.inc()
        TOPICS.set(len(self.topics))
        return subscriber

    def unsubscribe(self, peer: Peer, operation_id: str) -> None:
        """Remove ``peer``'s operation (idempotent); a topic nobody shares any more goes."""
        subscriber = peer.subscribers.pop(operation_id, None)
        peer.forget(operation_id)
        if subscriber is None:
            return
        topic = subscriber.topic
        topic.subscribers.discard(subscriber)
        if not topic.subscribers and self.topics.get(topic.key) is topic:
            del self.topics[topic.key]
        SUBSCRIPTIONS.dec()
        TOPICS.set(len(self.topics))

    async def first_answer(self, subscriber: Subscriber) -> Answer:
        """Evaluate the subscriber's topic now and offer the answer (unless fatal)."""
        generation = await self.tracker.current()
        async with self._slots:
            answer = await self.evaluator.answer(subscriber.topic, generation)
        if not answer.fatal:
            self._offer(subscriber, answer, generation)
        return answer

    def _offer(self, subscriber: Subscriber, answer: Answer, generation: Generation) -> None:
        payload, snapshot = self._payload(answer, generation)
        subscriber.offer(answer.body, snapshot, payload)

    def _payload(self, answer: Answer, generation: Generation) -> tuple[str, int]:
        """The ``next`` payload of ``answer`` (its snapshot in ``extensions``) and that
        snapshot's id. An answer that read a newer snapshot than ``generation`` (this process
        polls the generation; a refresh may have just committed) is labelled with the one it
        read, and makes the hub check at once, so that the others get it too."""
        snapshot = generation.snapshot
        if answer.snapshot is not None and answer.snapshot.id != snapshot.id:
            snapshot = answer.snapshot
            if self.snapshot_id is not None and snapshot.id > self.snapshot_id:
                self._announced.set()
        extension: dict[str, object] = {"snapshot": snapshot_extension(snapshot)}
        return with_extensions(answer.body, extension, merge=True).decode(), snapshot.id

    # -- rounds -----------------------------------------------------------------------

    async def push_round(self, generation: Generation) -> None:
        """Evaluate every topic for ``generation`` and offer the answers."""
        await asyncio.gather(*(self._push(t, generation) for t in list(self.topics.values())))

    async def _push(self, topic: Topic, generation: Generation) -> None:
        try:
            async with self._slots:
                answer = await self.evaluator.answer(topic, generation)
        except Exception:
            logger.exception("live evaluation failed; its subscribers keep their last answer")
            return
        if answer.fatal:
            return
        payload, snapshot = self._payload(answer, generation)
        for subscriber in list(topic.subscribers):
            subscriber.offer(answer.body, snapshot, payload)

    async def check(self) -> None:
        """One poll: a new snapshot starts a round; revoked API keys' connections close."""
        generation = await self.tracker.current()
        if generation.snapshot.id != self.snapshot_id:
            first = self.snapshot_id is None
            self.snapshot_id = generation.snapshot.id
            if not first or self.topics:
                await self.push_round(generation)
        await self._close_revoked()

    async def _close_revoked(self) -> None:
        """Close the connections of API keys no longer valid (one query for all of them)."""
        keyed = {peer: name for peer in self.peers if (name := _api_key_name(peer)) is not None}
        if not keyed:
            return
        query = select(api_keys.c.name).where(
            api_keys.c.name.in_(sorted(set(keyed.values()))), api_keys.c.revoked_at.is_(None)
        )
        async with self.engine.connect() as conn:
            valid = set((await conn.scalars(query)).all())
        for peer, name in keyed.items():
            if name not in valid and peer in self.peers:  # still connected after the read
                CLOSED.labels("revoked").inc()
                self._close_soon(peer, *REVOKED)

    # -- the background loops ---------------------------------------------------------

    async def _watch(self) -> None:
        """Check after every announcement, else every poll interval, until stopped.

        Stopping waits for a database read in flight to end instead of cancelling it (a
        cancelled read of aiosqlite still calls back into the loop once it is closed)."""
        poll = max(self.settings.cache_poll_seconds, 0.05)
        with contextlib.suppress(Exception):  # the snapshot of the start; else at the next poll
            await self.check()
        while not self._stopping.is_set():
            waits = [asyncio.ensure_future(e.wait()) for e in (self._stopping, self._announced)]
            await asyncio.wait(waits, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for waiting in waits:
                waiting.cancel()
            if self._stopping.is_set():
                return
            if self._announced.is_set():
                self._announced.clear()
                self.tracker.invalidate()
            try:
                await self.check()
            except Exception as exc:  # the database: the next poll tries again
                logger.warning("live watch: %s", exc)

    async def _listen(self, url: str) -> None:
        """Turn snapshot announcements into prompt checks until stopped; a lost connection is
        retried every few seconds, the polls going on meanwhile."""
        while not self._stopping.is_set():
            try:
                async with Announcements(url) as heard:
                    while not self._stopping.is_set():
                        if await heard.next(wait=LISTEN_SECONDS) is not None:
                            self._announced.set()
            except Exception as exc:
                logger.warning("live announcements: %s; listening again in 5 s", exc)
                await self._stopped_within(5.0)

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait ``seconds`` or until stopped; True when stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
        return self._stopping.is_set()

    async def _keep_alive(self) -> None:
        """Ping every connection each interval, all at once: a socket that does not take its
        ping within the interval (a slow consumer) delays nobody else's."""
        interval = self.settings.live_keepalive_seconds
        while True:
            await asyncio.sleep(interval)
            await asyncio.gather(*(self._ping(p, interval) for p in list(self.peers)))

    @staticmethod
    async def _ping(peer: Peer, within: float) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(peer.send_text(PING), within)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LiveHub]:
        """Run the watch (and keep-alive) while the block runs; on exit close every
        connection with 1001."""
        watch = asyncio.create_task(self._watch(), name="gateway-live-watch")
        listen = None  # ends by itself once stopped (within LISTEN_SECONDS)
        if self.settings.redis_url:
            listen = asyncio.create_task(self._listen(self.settings.redis_url))
        helpers = []  # cancelled on exit: they never read the database
        if self.settings.live_keepalive_seconds > 0:
            helpers.append(asyncio.create_task(self._keep_alive(), name="gateway-live-ping"))
        try:
            yield self
        finally:
            self._stopping.set()
            for helper in helpers:
                helper.cancel()
            for task in (watch, listen):
                if task is not None:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await asyncio.wait_for(task, STOP_SECONDS)
            for helper in helpers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await helper
            await self.close_all(*GOING_AWAY)

    async def close_all(self, code: int, reason: str) -> None:
        """Close every connection (shutdown)."""
        peers = list(self.peers)
        for peer in peers:
            self.disconnect(peer)
        await asyncio.gather(*(self._quiet_close(p, code, reason) for p in peers))
        for task in list(self._tasks):
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task

    @staticmethod
    async def _quiet_close(peer: Peer, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await peer.close(code, reason)


def _api_key_name(peer: Peer) -> str | None:
    """The name of the API key that authenticated ``peer`` (None: a token)."""
    principal = peer.principal
    return principal.subject.removeprefix(API_KEY_SUBJECT) if principal.via == "api_key" else None
