"""The in-process backend's bound (bytes of keys and values) and eviction order."""

from __future__ import annotations

import tracemalloc

import orjson
import pytest

from gateway.cache.memory import MemoryBackend
from gateway.cache.snapshot_cache import SnapshotCache
from tests.cache.conftest import cache_settings


async def test_bound_in_bytes_evicts_least_recently_used() -> None:
    backend = MemoryBackend(max_bytes=1000)
    value = b"x" * 98  # with a 2-character key: 100 bytes an entry
    for i in range(10):
        await backend.set_many({f"{i:02}": value}, ttl_seconds=60)
    assert backend.size_bytes == 1000
    await backend.get_many(["00"])  # used: "01" is now the least recently used
    await backend.set_many({"10": value}, ttl_seconds=60)
    assert backend.size_bytes <= 1000
    found = await backend.get_many([f"{i:02}" for i in range(11)])
    assert set(found) == {f"{i:02}" for i in range(11)} - {"01"}


async def test_expired_entries_go_before_live_ones() -> None:
    now = [0.0]
    backend = MemoryBackend(max_bytes=300, clock=lambda: now[0])
    await backend.set_many({"a0": b"x" * 98}, ttl_seconds=10)
    await backend.set_many({"b0": b"x" * 98, "c0": b"x" * 98}, ttl_seconds=100)
    now[0] = 20.0
    await backend.get_many(["b0", "c0"])
    await backend.set_many({"d0": b"x" * 98}, ttl_seconds=100)
    assert set(await backend.get_many(["a0", "b0", "c0", "d0"])) == {"b0", "c0", "d0"}


async def test_value_larger_than_the_bound_is_not_stored() -> None:
    backend = MemoryBackend(max_bytes=100)
    await backend.set_many({"k": b"small"}, ttl_seconds=60)
    await backend.set_many({"k": b"x" * 200}, ttl_seconds=60)
    assert await backend.get_many(["k"]) == {}  # and the stale small value is gone too
    assert backend.size_bytes == 0


@pytest.mark.parametrize("max_bytes", [10_000])
async def test_settings_bound_the_embedded_cache(max_bytes: int) -> None:
    cache = SnapshotCache.create(cache_settings(None, cache_max_bytes=max_bytes))
    assert isinstance(cache.backend, MemoryBackend)
    await cache.set_many("t", {f"k{i}": b"x" * 1000 for i in range(50)}, ttl_seconds=60)
    assert cache.backend.size_bytes <= max_bytes
    assert len(await cache.get_many("t", [f"k{i}" for i in range(50)])) == 9


def test_a_stored_value_costs_its_length_not_the_buffer_it_was_written_in() -> None:
    # orjson keeps its 4 KiB write buffer behind every small output; the bound counts lengths,
    # so the backend must keep exact copies for the bound to hold in memory too.
    backend = MemoryBackend(max_bytes=10**8)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        backend.put(
            {f"k{i}": orjson.dumps([float(i), 2.0, 3.0, None]) for i in range(500)},
            ttl_seconds=60,
        )
        per_entry = (tracemalloc.get_traced_memory()[0] - before) / 500
    finally:
        tracemalloc.stop()
    assert per_entry < 1024, per_entry
    assert backend.get("k7") == orjson.dumps([7.0, 2.0, 3.0, None])
