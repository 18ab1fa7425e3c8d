"""In-process single flight: concurrent callers of one key share one run of the work.

The work runs in its own task, so a caller that is cancelled (a client went away) does not
cancel it for the callers still waiting; every caller awaits it through ``asyncio.shield``.

Example:
    >>> flight: SingleFlight[int] = SingleFlight()
    >>> async def answer() -> int:
    ...     return 42
    >>> # await flight.run("k", answer) -> (42, True) for the first caller, (42, False) for others
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    """Deduplicates concurrent calls by key within one event loop."""

    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[T]] = {}

    def __len__(self) -> int:
        """Number of keys with work in flight."""
        return len(self._running)

    def is_running(self, key: str) -> bool:
        """True when a call of :meth:`run` for ``key`` would join work already in flight."""
        return key in self._running

    async def run(self, key: str, work: Callable[[], Coroutine[Any, Any, T]]) -> tuple[T, bool]:
        """Run ``work`` once for all concurrent callers of ``key``.

        Args:
            key: What identifies identical work.
            work: The coroutine function to run; only the first caller's is used.

        Returns:
            The work's result and ``True`` for the caller that started it, ``False`` for the
            callers that joined it.

        Raises:
            Exception: Whatever ``work`` raised, to every caller of the flight.
        """
        task = self._running.get(key)
        leader = task is None
        if task is None:
            task = asyncio.create_task(work())
            self._running[key] = task
            task.add_done_callback(lambda done: self._finish(key, done))
        return await asyncio.shield(task), leader

    def _finish(self, key: str, task: asyncio.Task[T]) -> None:
        if self._running.get(key) is task:
            del self._running[key]
        if not task.cancelled():
            # Mark the exception retrieved: when every caller was cancelled nobody else reads it.
            task.exception()
