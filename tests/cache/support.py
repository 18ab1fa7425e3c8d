"""Helpers of the cache tests: a compute function that counts its calls, metric samples."""

from __future__ import annotations

import asyncio

from prometheus_client import REGISTRY


class Counting:
    """A ``compute()`` that counts its calls, waits ``delay`` seconds, then returns or raises."""

    def __init__(
        self, value: bytes | None = b'{"n": 1}', delay: float = 0.0, error: Exception | None = None
    ) -> None:
        self.value = value
        self.delay = delay
        self.error = error
        self.calls = 0

    async def __call__(self) -> bytes | None:
        self.calls += 1
        await asyncio.sleep(self.delay)
        if self.error is not None:
            raise self.error
        return self.value


def lookups(layer: str, result: str) -> float:
    """``gateway_cache_requests_total{layer, result}`` now."""
    value = REGISTRY.get_sample_value(
        "gateway_cache_requests_total", {"layer": layer, "result": result}
    )
    return value or 0.0


def computations(layer: str) -> float:
    """``gateway_cache_computations_total{layer}`` now."""
    value = REGISTRY.get_sample_value("gateway_cache_computations_total", {"layer": layer})
    return value or 0.0


def breakers_open() -> float:
    """``gateway_cache_breaker_open`` now."""
    return REGISTRY.get_sample_value("gateway_cache_breaker_open") or 0.0
