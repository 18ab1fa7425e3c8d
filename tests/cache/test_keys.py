"""Cache keys: versioned, per layer, fixed length, unambiguous."""

from __future__ import annotations

import re

from gateway.cache.keys import KEY_VERSION, cache_key


def test_key_names_version_and_layer_and_hides_the_parts() -> None:
    key = cache_key("metric", "snap-7", "principal-secret-scope")
    assert re.fullmatch(rf"gw:{KEY_VERSION}:metric:[0-9a-f]{{32}}", key)
    assert "principal-secret-scope" not in key


def test_every_part_and_its_boundaries_change_the_key() -> None:
    keys = {
        cache_key("metric", "snap-7", "ws-1"),
        cache_key("metric", "snap-8", "ws-1"),
        cache_key("metric", "snap-7", "ws-2"),
        cache_key("response", "snap-7", "ws-1"),
        cache_key("metric", "snap-7ws-1"),
        cache_key("metric", "snap-", "7ws-1"),
        cache_key("metric", "ws-1", "snap-7"),
    }
    assert len(keys) == 7
    assert cache_key("metric", "snap-7", "ws-1") == cache_key("metric", "snap-7", "ws-1")
