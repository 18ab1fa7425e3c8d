"""``miniProgramStatusCounts`` and ``availableMiniPrograms`` at both levels.

Expected values are computed by brute force from the catalog literals and the status-group
table, and a few are also spelled out by hand.
"""

from __future__ import annotations

from collections import Counter

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.metrics.status_groups import AVAILABLE_STATUSES, STATUS_GROUPS, StatusGroup
from gateway.settings import Settings
from gateway.store import tables
from tests.schema.catalog_data import HISTORY, MINI_PROGRAMS, TARGET_APPS, data, t

MP = {row["id"]: row for row in MINI_PROGRAMS}
APP_WORKSPACE = {row["id"]: row["workspace_id"] for row in TARGET_APPS}
FIELD = {
    StatusGroup.FULL_RELEASE: "fullRelease",
    StatusGroup.GRAYSCALE_RELEASE: "grayscaleRelease",
    StatusGroup.REVIEWING: "reviewing",
    StatusGroup.DEVELOPING: "developing",
    StatusGroup.INACTIVE: "inactive",
}
FILTERS = [
    ("", None, None),
    ("(type: MINI_GAME)", "MINI_GAME", None),
    ("(type: MINI_PROGRAM)", "MINI_PROGRAM", None),
    ('(category: "food_beverage")', None, "food_beverage"),
    ('(type: MINI_PROGRAM, category: "travel")', "MINI_PROGRAM", "travel"),
]


def _admits(mp: str, type_: str | None, category: str | None) -> bool:
    row = MP[mp]
    return (type_ is None or row["type"] == type_) and (
        category is None or row["category"] == category
    )


def _expected_counts(app: str, type_: str | None, category: str | None) -> dict[str, int]:
    current = [
        changes[-1][0]
        for (app_id, mp), changes in HISTORY.items()
        if app_id == app and _admits(mp, type_, category)
    ]
    groups = Counter(STATUS_GROUPS[status] for status in current)
    return {"all": len(current)} | {FIELD[g]: groups[g] for g in StatusGroup}


def _expected_available(apps: set[str], type_: str | None, category: str | None) -> int:
    return len(
        {
            mp
            for (app_id, mp), changes in HISTORY.items()
            if app_id in apps
            and changes[-1][0] in AVAILABLE_STATUSES
            and _admits(mp, type_, category)
        }
    )


def test_the_field_map_covers_every_group() -> None:
    assert set(FIELD) == set(StatusGroup)


@pytest.mark.parametrize(("args", "type_", "category"), FILTERS)
async def test_status_counts_and_available_per_app(
    schema: strawberry.Schema,
    catalog: AsyncEngine,
    settings: Settings,
    args: str,
    type_: str | None,
    category: str | None,
) -> None:
    fields = "all " + " ".join(FIELD.values())
    query = f"""{{ workspaces {{ nodes {{ id availableMiniPrograms{args} targetApps {{ nodes {{
        id miniProgramStatusCounts{args} {{ {fields} }}
        availableMiniPrograms{args} }} }} }} }} }}"""
    result = await data(schema, catalog, settings, query)
    for ws in result["workspaces"]["nodes"]:
        apps = {a for a, w in APP_WORKSPACE.items() if w == ws["id"]}
        assert ws["availableMiniPrograms"] == _expected_available(apps, type_, category)
        for app in ws["targetApps"]["nodes"]:
            assert app["miniProgramStatusCounts"] == _expected_counts(app["id"], type_, category)
            assert app["availableMiniPrograms"] == _expected_available({app["id"]}, type_, category)


async def test_hand_checked_counts(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ targetApp(id: "app-1") { miniProgramStatusCounts {
        all fullRelease grayscaleRelease reviewing developing inactive } availableMiniPrograms }
        workspace(id: "ws-1") { availableMiniPrograms } }"""
    result = await data(schema, catalog, settings, query)
    # app-1: mp-1 FULL_RELEASE, mp-2 GRAYSCALE_RELEASE, mp-3 PILOT_TESTING, mp-4 OFFLINE.
    assert result["targetApp"] == {
        "miniProgramStatusCounts": {
            "all": 4,
            "fullRelease": 1,
            "grayscaleRelease": 1,
            "reviewing": 1,
            "developing": 0,
            "inactive": 1,
        },
        "availableMiniPrograms": 2,
    }
    # ws-1: mp-1 (in both apps, counted once) and mp-2.
    assert result["workspace"] == {"availableMiniPrograms": 2}


async def test_app_without_mini_programs_counts_zero(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    async with catalog.begin() as conn:
        await conn.execute(
            tables.target_apps.insert(),
            {"id": "app-9", "workspace_id": "ws-2", "name": "Empty", "created_at": t(9)},
        )
    query = """{ targetApp(id: "app-9") { miniProgramStatusCounts { all fullRelease inactive }
        availableMiniPrograms miniPrograms { totalCount } } }"""
    result = await data(schema, catalog, settings, query)
    assert result["targetApp"] == {
        "miniProgramStatusCounts": {"all": 0, "fullRelease": 0, "inactive": 0},
        "availableMiniPrograms": 0,
        "miniPrograms": {"totalCount": 0},
    }
