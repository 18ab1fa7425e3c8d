"""``platform`` and ``region`` of events (SPEC §2): case-insensitive, stored normalized as codes,
absent = UNKNOWN; a replay that changes them is a conflicting replay."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.store import tables as t
from gateway.store.audience_codes import platform_code, platform_name, region_code, region_name
from gateway.store.ingest import ingest_lines
from tests.store.ingest_support import ad_impression, catalog, launch, lines, page_view, rows


async def test_platform_and_region_are_stored_normalized(engine: AsyncEngine) -> None:
    events = [
        {**launch("e1"), "platform": "iOS", "region": "sg"},
        {**launch("e2"), "platform": "HarmonyOS", "region": "CN"},
        launch("e3"),  # neither: UNKNOWN
        {**page_view("p1"), "platform": "web", "region": "Us"},
        {**ad_impression("a1"), "platform": "ANDROID"},
    ]
    report = await ingest_lines(engine, lines([*catalog(), *events]), source="t")
    assert report.quarantined == 0, report.problems
    found = {
        row["id"]: (platform_name(row["platform"]), region_name(row["region"]))
        for table in (t.launches, t.page_views, t.ad_impressions)
        for row in await rows(engine, table, "id")
    }
    assert found == {
        "e1": ("IOS", "SG"),
        "e2": ("HARMONYOS", "CN"),
        "e3": ("UNKNOWN", "UNKNOWN"),
        "p1": ("WEB", "US"),
        "a1": ("ANDROID", "UNKNOWN"),
    }


async def test_a_replay_that_changes_platform_or_region_conflicts(engine: AsyncEngine) -> None:
    first = {**launch("e1"), "platform": "IOS", "region": "SG"}
    await ingest_lines(engine, lines([*catalog(), first]), source="t")
    same = {**first, "platform": "ios", "region": "sg"}  # the same event, other case
    report = await ingest_lines(engine, lines([same]), source="t")
    assert (report.duplicates, report.quarantined) == (1, 0)
    for changed in ({**first, "platform": "ANDROID"}, {**first, "region": "MY"}):
        report = await ingest_lines(engine, lines([changed]), source="t")
        assert report.quarantined_by_reason == {"conflicting replay": 1}, changed
    assert [(r["platform"], r["region"]) for r in await rows(engine, t.launches, "id")] == [
        (1, 475)
    ]


@pytest.mark.parametrize(
    ("valid", "invalid"), [("ios", "UNKNOWN"), ("sg", "ZZ"), ("Android", "android2")]
)
def test_codes_remember_only_checked_spellings(valid: str, invalid: str) -> None:
    """Ingest codes each event through a table of the spellings seen: any case of a value has
    the same code, and an invalid value is refused however often it comes."""
    code = region_code if len(valid) == 2 else platform_code
    assert code(valid) == code(valid.upper()) == code(valid.lower()) == code(valid)
    for _ in range(2):
        with pytest.raises(ValueError, match="must be"):
            code(invalid)
