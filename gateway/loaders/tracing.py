"""A span around every dataloader batch, when tracing is on (:mod:`gateway.web.tracing`).

The loaders know nothing of OpenTelemetry: :func:`traced_batch` wraps a ``batch_load_fn`` so
that it runs inside whatever :func:`install_batch_span` installed, and straight through while
nothing is (tracing off: one ``is None`` test per batch, no import).

Example:
    >>> class ThingsLoader(DataLoader[str, Thing]):  # doctest: +SKIP
    ...     @traced_batch
    ...     async def batch_load_fn(self, keys: list[str]) -> list[Thing]: ...
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any, TypeVar

BatchSpan = Callable[[str, int], AbstractContextManager[object]]
"""Opens the span of one batch, given the loader's class name and the number of keys."""

S = TypeVar("S")
K = TypeVar("K")
V = TypeVar("V")

_batch_span: BatchSpan | None = None


def install_batch_span(factory: BatchSpan | None) -> None:
    """Make every traced batch run inside ``factory(loader name, key count)``; None: no span.

    Process-wide, as the tracer provider is: :func:`gateway.app.create_app` installs it.
    """
    global _batch_span
    _batch_span = factory


def traced_batch(
    fn: Callable[[S, list[K]], Coroutine[Any, Any, list[V]]],
) -> Callable[[S, list[K]], Coroutine[Any, Any, list[V]]]:
    """Wrap a loader's ``batch_load_fn`` in the installed batch span (see the module)."""

    @functools.wraps(fn)
    async def batch_load_fn(self: S, keys: list[K]) -> list[V]:
        span = _batch_span
        if span is None:
            return await fn(self, keys)
        with span(type(self).__name__, len(keys)):
            return await fn(self, keys)

    return batch_load_fn
