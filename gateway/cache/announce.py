"""New snapshots announced to every gateway process over Redis pub/sub.

Whoever completes a refresh (``gateway worker``, ``gateway refresh``, an in-process refresher)
publishes the snapshot's id on :data:`CHANNEL`; each server process listens and pushes the
live subscriptions it holds at once instead of at its next poll. The announcement is only a
hint: a process that misses it (Redis down, a restart) still notices the snapshot at its next
poll of the database, so nothing depends on delivery.

Example:
    >>> await announce_snapshot(settings, 42)  # doctest: +SKIP
    >>> async with Announcements(settings.redis_url) as heard:  # doctest: +SKIP
    ...     await heard.next(wait=1.0)
    42
"""

from __future__ import annotations

import logging
from types import TracebackType

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from gateway.cache.keys import KEY_VERSION
from gateway.cache.redis import fail_fast_client
from gateway.settings import Settings

CHANNEL = f"gw:{KEY_VERSION}:snapshots"
"""The pub/sub channel of new snapshot ids."""

logger = logging.getLogger("gateway.cache.announce")


async def announce_snapshot(settings: Settings, snapshot_id: int) -> bool:
    """Publish ``snapshot_id`` when Redis is configured; True when published. Redis trouble
    is logged, never raised (the processes' polls notice the snapshot anyway)."""
    if not settings.redis_url:
        return False
    client = fail_fast_client(settings.redis_url, settings.redis_timeout_ms / 1000)
    try:
        await client.publish(CHANNEL, str(snapshot_id))
        return True
    except (RedisError, OSError) as exc:
        logger.warning("could not announce snapshot %d: %s", snapshot_id, exc)
        return False
    finally:
        await client.aclose()


class Announcements:
    """This process's subscription to :data:`CHANNEL` (an async context manager).

    Args:
        url: The Redis URL.
    """

    def __init__(self, url: str) -> None:
        self._client: Redis = Redis.from_url(url, socket_connect_timeout=2.0)
        self._pubsub: PubSub = self._client.pubsub(ignore_subscribe_messages=True)

    async def __aenter__(self) -> Announcements:
        await self._pubsub.subscribe(CHANNEL)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def next(self, wait: float) -> int | None:
        """The next announced snapshot id, or None after ``wait`` seconds without one.

        Raises:
            RedisError, OSError: the connection to Redis failed.
        """
        message = await self._pubsub.get_message(timeout=wait)
        if message is None or message.get("type") != "message":
            return None
        data = message.get("data")
        try:
            return int(data)
        except (TypeError, ValueError):
            return None

    async def close(self) -> None:
        """Unsubscribe and close the connection (errors ignored: it is going away)."""
        try:
            await self._pubsub.aclose()
            await self._client.aclose()
        except (RedisError, OSError):
            pass
