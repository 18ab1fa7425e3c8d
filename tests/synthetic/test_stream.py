"""Shape of the stream: determinism, decoding, size, window, ordering, late and replayed events."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from gateway.store.records import CATALOG_KINDS, decode_record
from gateway.synthetic import SCALES, generate_lines, resolve_scale
from tests.synthetic.conftest import END, EVENTS, Dataset

DATASETS = ("tiny", "demo")


def test_same_arguments_give_identical_bytes(tiny: Dataset) -> None:
    assert list(generate_lines("tiny", seed=7, end_date=END)) == tiny.lines


def test_another_seed_or_end_date_gives_other_data(tiny: Dataset) -> None:
    other_seed = list(generate_lines("tiny", seed=8, end_date=END))
    assert other_seed != tiny.lines
    assert len(set(other_seed) & set(tiny.lines)) < len(tiny.lines) // 2
    later = list(generate_lines("tiny", seed=7, end_date=END + timedelta(days=1)))
    assert later != tiny.lines


def test_scale_object_is_accepted(tiny: Dataset) -> None:
    assert list(generate_lines(SCALES["tiny"], seed=7, end_date=END)) == tiny.lines


def test_unknown_scale_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="tiny, demo, small, large, xlarge"):
        generate_lines("huge")
    with pytest.raises(ValueError, match="unknown scale"):
        resolve_scale("")


def test_large_is_the_benchmark_dataset_of_the_spec() -> None:
    large = SCALES["large"]
    assert (large.events, large.users, large.target_apps, large.mini_programs, large.days) == (
        10_000_000,
        1_000_000,
        20,
        2_000,
        120,
    )


def test_xlarge_is_a_year_at_ten_times_the_benchmark() -> None:
    xlarge, large = SCALES["xlarge"], SCALES["large"]
    assert (xlarge.events, xlarge.users, xlarge.days) == (100_000_000, 10_000_000, 365)
    assert (xlarge.target_apps, xlarge.mini_programs) == (large.target_apps, large.mini_programs)


def test_default_end_date_is_today_utc() -> None:
    before = datetime.now(UTC).date()
    last = max(r.at for r in map(decode_record, generate_lines("tiny")) if hasattr(r, "at"))
    assert before <= last.astimezone(UTC).date() <= datetime.now(UTC).date()


def test_every_line_is_one_compact_record(tiny: Dataset) -> None:
    # decode_record ran on every line in the fixture; here: one line each, no whitespace padding.
    assert all(b"\n" not in line and line.startswith(b'{"kind":"') for line in tiny.lines)
    assert len(tiny.records) == len(tiny.lines)


@pytest.mark.parametrize("name", DATASETS)
def test_distinct_events_match_the_nominal_size(name: str, request: pytest.FixtureRequest) -> None:
    data: Dataset = request.getfixturevalue(name)
    distinct = {r.id for r in data.events}
    assert len(distinct) == SCALES[name].events
    users = {r.user_guid for r in data.events}
    assert 0.7 * SCALES[name].users <= len(users) <= SCALES[name].users


@pytest.mark.parametrize("name", DATASETS)
def test_events_fall_in_the_window(name: str, request: pytest.FixtureRequest) -> None:
    data: Dataset = request.getfixturevalue(name)
    first = END - timedelta(days=SCALES[name].days - 1)
    days = Counter(r.at.astimezone(UTC).date() for r in data.events)
    assert min(days) == first
    assert max(days) == END
    assert len(days) == SCALES[name].days  # every day has traffic


def test_catalog_comes_before_events(tiny: Dataset) -> None:
    kinds = [isinstance(r, CATALOG_KINDS) for r in tiny.records]
    assert kinds.index(False) == len(kinds) - kinds[::-1].index(True)


def test_replays_repeat_exact_lines_later(tiny: Dataset) -> None:
    seen: dict[str, bytes] = {}
    replays = 0
    for line, record in zip(tiny.lines, tiny.records, strict=True):
        if isinstance(record, EVENTS):
            if record.id in seen:
                assert seen[record.id] == line
                replays += 1
            seen[record.id] = line
    assert 0 < replays < 0.02 * len(seen)


def test_some_events_arrive_late(tiny: Dataset) -> None:
    latest = datetime.min.replace(tzinfo=UTC)
    late, ids = 0, set()
    for record in tiny.events:
        at = record.at.astimezone(UTC)
        if record.id not in ids and at.date() < latest.date():
            late += 1
        ids.add(record.id)
        latest = max(latest, at)
    assert 0 < late < 0.02 * len(ids)


def test_events_are_mostly_chronological(demo: Dataset) -> None:
    times = [r.at for r in demo.events]
    inversions = sum(1 for a, b in pairwise(times) if b < a)
    assert inversions < 0.02 * len(times)
