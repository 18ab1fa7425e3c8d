"""``gateway.metrics.breakdown``: items, shares, previous-only keys, order, share bases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.metrics.breakdown import ShareBase, breakdown

KEYS = st.sampled_from(["wallet", "merchant", "alipay_plus", "unknown", "games"])
COUNTS = st.dictionaries(KEYS, st.integers(min_value=0, max_value=50), max_size=5)


def test_worked_example() -> None:
    result = breakdown({"wallet": 3, "merchant": 1}, {"wallet": 1, "alipay_plus": 1})
    assert (result.total, result.previous_total) == (4, 2)
    assert [(i.key, i.count, i.previous_count) for i in result.items] == [
        ("wallet", 3, 1),
        ("merchant", 1, 0),
        ("alipay_plus", 0, 1),  # present only in the previous period
    ]
    alipay = result.items[2]
    assert (alipay.share, alipay.previous_share, alipay.share_change) == (0.0, 0.5, -0.5)
    assert alipay.count_change == -1


def test_ties_are_ordered_by_key() -> None:
    result = breakdown({"b": 2, "a": 2, "c": 5}, {})
    assert [item.key for item in result.items] == ["c", "a", "b"]


def test_empty_breakdown_has_zero_shares() -> None:
    result = breakdown({"a": 0}, {})
    assert (result.total, result.items[0].share, result.items[0].previous_share) == (0, 0.0, 0.0)
    assert breakdown({}, {}).items == ()


def test_sum_of_counts_base_with_distinct_totals() -> None:
    # Users by category: 4 distinct users, 6 (user, category) pairs.
    result = breakdown(
        {"games": 4, "travel": 2},
        {"games": 1},
        total=4,
        previous_total=1,
        share_base=ShareBase.SUM_OF_COUNTS,
    )
    assert (result.total, result.previous_total) == (4, 1)
    assert [(i.key, i.share) for i in result.items] == [("games", 4 / 6), ("travel", 2 / 6)]
    # The same counts with shares of the total do not sum to 1.
    by_total = breakdown({"games": 4, "travel": 2}, {}, total=4)
    assert [i.share for i in by_total.items] == [1.0, 0.5]


@given(COUNTS, COUNTS, st.sampled_from(list(ShareBase)))
def test_matches_brute_force(now: dict[str, int], before: dict[str, int], base: ShareBase) -> None:
    result = breakdown(now, before, share_base=base)
    keys = set(now) | set(before)
    assert {item.key for item in result.items} == keys
    assert (result.total, result.previous_total) == (sum(now.values()), sum(before.values()))
    for item in result.items:
        count, previous = now.get(item.key, 0), before.get(item.key, 0)
        assert (item.count, item.previous_count, item.count_change) == (
            count,
            previous,
            count - previous,
        )
        assert item.share == (count / result.total if result.total else 0.0)
        assert item.previous_share == (
            previous / result.previous_total if result.previous_total else 0.0
        )
        assert item.share_change == pytest.approx(item.share - item.previous_share)
    order = [(-item.count, item.key) for item in result.items]
    assert order == sorted(order)
    if result.total:
        assert sum(item.share for item in result.items) == pytest.approx(1.0)
