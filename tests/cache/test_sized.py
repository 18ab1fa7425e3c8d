"""Per-process memos keyed by what callers send stay within their bytes (issue 14.7)."""

from __future__ import annotations

import pytest

from gateway.cache.sized import OVERHEAD, SizedLRU, size_of_parts
from gateway.settings import Settings
from tests.cache_http.support import http_settings, serve
from tests.principals import ADMIN


def test_keys_and_values_count_and_the_bound_holds() -> None:
    memo: SizedLRU[bytes, str] = SizedLRU(100_000, size_of_parts)
    for i in range(1000):
        memo[b"%d" % i + b"x" * 5000] = "v" * 100
        assert memo.currsize <= 100_000
    assert 0 < len(memo) <= 100_000 // (5000 + OVERHEAD)
    assert b"999" + b"x" * 5000 in memo  # the most recent stay
    assert b"0" + b"x" * 5000 not in memo


def test_an_entry_larger_than_the_bound_is_not_kept() -> None:
    memo: SizedLRU[str, str] = SizedLRU(1000, size_of_parts)
    memo["k"] = "small"
    memo["k"] = "x" * 5000
    assert "k" not in memo
    assert memo.currsize == 0


async def test_distinct_large_bodies_do_not_grow_the_parsed_body_memo(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gateway.web.response_cache.MEMO_MAX_BYTES", 200_000)
    async with serve(http_settings(settings, None)) as gateway:
        for i in range(60):
            padding = " " * 20_000
            response = await gateway.http.post(
                "/graphql",
                content=f'{{"query": "{{ snapshot {{ id }} }}{padding}#{i}"}}'.encode(),
                headers={**gateway.headers(ADMIN), "Content-Type": "application/json"},
            )
            assert response.status_code == 200
        memo = gateway.app.state.services.responses._operations
        assert memo.currsize <= 200_000
        assert len(memo) < 60


def test_parsed_documents_are_weighed_by_their_tokens_and_bounded() -> None:
    from gateway.cache.sized import MEMO_MAX_BYTES
    from gateway.limits.documents import _PARSED, AST_BYTES_PER_TOKEN, parse_limited

    _PARSED.clear()
    fields = " ".join(f"f{i}" for i in range(1500))
    for n in range(60):  # 60 distinct documents of ~1,500 tokens: ~46 MB of syntax trees
        parse_limited(f"query Q{n} {{ {fields} }}", max_tokens=2000)
    assert _PARSED.currsize <= MEMO_MAX_BYTES
    assert len(_PARSED) <= MEMO_MAX_BYTES // (1500 * AST_BYTES_PER_TOKEN)
