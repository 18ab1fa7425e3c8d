"""Every catalog field answers the values of the rows it came from (SQLite and PostgreSQL)."""

from __future__ import annotations

import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.settings import Settings
from tests.schema.catalog_data import (
    HISTORY,
    MERCHANTS,
    MINI_PROGRAMS,
    TARGET_APPS,
    WORKSPACES,
    data,
    iso,
    run,
    t,
)

MP = {row["id"]: row for row in MINI_PROGRAMS}


async def test_workspace_fields_and_lists(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ workspace(id: "ws-1") { id name
        targetApps { totalCount nodes { id name createdAt workspace { id } } }
        merchants { totalCount nodes { id } }
        miniPrograms { totalCount nodes { id status deployment { status } } } } }"""
    ws = (await data(schema, catalog, settings, query))["workspace"]
    assert (ws["id"], ws["name"]) == ("ws-1", WORKSPACES[0]["name"])
    apps = [a for a in TARGET_APPS if a["workspace_id"] == "ws-1"]
    assert ws["targetApps"]["totalCount"] == len(apps) == 2
    assert ws["targetApps"]["nodes"] == [
        {
            "id": a["id"],
            "name": a["name"],
            "createdAt": iso(a["created_at"]),
            "workspace": {"id": "ws-1"},
        }
        for a in apps
    ]
    assert [m["id"] for m in ws["merchants"]["nodes"]] == ["m-1", "m-2"]
    assert ws["merchants"]["totalCount"] == 2
    mps = ws["miniPrograms"]
    assert [m["id"] for m in mps["nodes"]] == ["mp-1", "mp-2", "mp-3", "mp-4"]
    assert mps["totalCount"] == 4
    # Not reached through a target app: no app-scoped status.
    assert all(m["status"] is None and m["deployment"] is None for m in mps["nodes"])


async def test_mini_program_fields(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ miniProgram(id: "mp-1") { id name type category source createdAt status
        merchant { id name merchantType onboardedAt workspace { name }
                   miniPrograms { nodes { id } } }
        workspace { id }
        deployments { totalCount nodes { status targetApp { id }
                                         miniProgram { id status } } } } }"""
    mp = (await data(schema, catalog, settings, query))["miniProgram"]
    row = MP["mp-1"]
    assert {k: mp[k] for k in ("id", "name", "type", "category", "source")} == {
        "id": "mp-1",
        "name": row["name"],
        "type": row["type"],
        "category": row["category"],
        "source": row["source"],
    }
    assert mp["createdAt"] == iso(row["created_at"]) == "2024-03-01T01:00:00+00:00"
    assert mp["status"] is None
    assert mp["workspace"] == {"id": "ws-1"}
    merchant = MERCHANTS[0]
    assert mp["merchant"] == {
        "id": "m-1",
        "name": merchant["name"],
        "merchantType": "TECHNICAL",
        "onboardedAt": iso(merchant["onboarded_at"]),
        "workspace": {"name": "Alpha"},
        "miniPrograms": {"nodes": [{"id": "mp-1"}, {"id": "mp-2"}]},
    }
    # mp-1 is in app-1 (now FULL_RELEASE) and app-2 (GRAYSCALE_RELEASE).
    assert mp["deployments"]["totalCount"] == 2
    assert mp["deployments"]["nodes"] == [
        {
            "status": "FULL_RELEASE",
            "targetApp": {"id": "app-1"},
            "miniProgram": {"id": "mp-1", "status": "FULL_RELEASE"},
        },
        {
            "status": "GRAYSCALE_RELEASE",
            "targetApp": {"id": "app-2"},
            "miniProgram": {"id": "mp-1", "status": "GRAYSCALE_RELEASE"},
        },
    ]


async def test_merchant_not_onboarded_and_mini_program_without_merchant(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ a: miniProgram(id: "mp-3") { merchant { merchantType onboardedAt } }
                 b: miniProgram(id: "mp-4") { merchant { id } } }"""
    result = await data(schema, catalog, settings, query)
    assert result["a"]["merchant"] == {"merchantType": "NON_TECHNICAL", "onboardedAt": None}
    assert result["b"]["merchant"] is None


async def test_target_app_mini_programs_carry_their_status_in_that_app(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ a1: targetApp(id: "app-1") { miniPrograms { totalCount nodes { id status } } }
                 a2: targetApp(id: "app-2") { miniPrograms { nodes { id status } } } }"""
    result = await data(schema, catalog, settings, query)
    for alias, app in (("a1", "app-1"), ("a2", "app-2")):
        expected = [
            {"id": mp, "status": changes[-1][0].name}
            for (app_id, mp), changes in sorted(HISTORY.items())
            if app_id == app
        ]
        assert result[alias]["miniPrograms"]["nodes"] == expected
    assert result["a1"]["miniPrograms"]["totalCount"] == 4
    # The same mini program answers differently in each app.
    assert {"id": "mp-1", "status": "FULL_RELEASE"} in result["a1"]["miniPrograms"]["nodes"]
    assert {"id": "mp-1", "status": "GRAYSCALE_RELEASE"} in result["a2"]["miniPrograms"]["nodes"]


async def test_target_app_mini_program_by_id_is_scoped_to_that_app(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{
        a1: targetApp(id: "app-1") { miniProgram(id: "mp-1") {
            id status deployment { targetApp { id } } } }
        a2: targetApp(id: "app-2") { miniProgram(id: "mp-1") { id status } }
        elsewhere: targetApp(id: "app-2") { miniProgram(id: "mp-2") { id } }
        otherWorkspace: targetApp(id: "app-1") { miniProgram(id: "mp-5") { id } }
        unknown: targetApp(id: "app-1") { miniProgram(id: "nope") { id } } }"""
    result = await run(schema, catalog, settings, query)
    assert result.data is not None
    assert result.data["a1"]["miniProgram"] == {
        "id": "mp-1",
        "status": "FULL_RELEASE",
        "deployment": {"targetApp": {"id": "app-1"}},
    }
    assert result.data["a2"]["miniProgram"] == {"id": "mp-1", "status": "GRAYSCALE_RELEASE"}
    # Not associated with the app, in another workspace, or unknown: all the same NOT_FOUND.
    missing = ("elsewhere", "otherWorkspace", "unknown")
    assert all(result.data[alias] == {"miniProgram": None} for alias in missing)
    assert sorted((e.path[0], (e.extensions or {})["code"]) for e in result.errors or []) == [
        (alias, "NOT_FOUND") for alias in sorted(missing)
    ]


async def test_target_app_mini_programs_filters(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ targetApp(id: "app-1") {
        games: miniPrograms(type: MINI_GAME) { totalCount nodes { id } }
        food: miniPrograms(category: "food_beverage") { totalCount nodes { id } }
        offline: miniPrograms(status: OFFLINE) { totalCount nodes { id status } }
        old: miniPrograms(status: REVIEWING) { totalCount }
        none: miniPrograms(type: MINI_GAME, category: "food_beverage") {
            totalCount nodes { id } } } }"""
    app = (await data(schema, catalog, settings, query))["targetApp"]
    assert app["games"] == {"totalCount": 1, "nodes": [{"id": "mp-2"}]}
    assert app["food"] == {"totalCount": 2, "nodes": [{"id": "mp-1"}, {"id": "mp-3"}]}
    assert app["offline"] == {"totalCount": 1, "nodes": [{"id": "mp-4", "status": "OFFLINE"}]}
    # mp-1 was REVIEWING once, but the filter is on the current status.
    assert app["old"] == {"totalCount": 0}
    assert app["none"] == {"totalCount": 0, "nodes": []}


async def test_deployment_history_and_times(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """{ targetApp(id: "app-1") { miniPrograms(first: 1) { nodes { deployment {
        status statusSince associatedAt history { status at }
        targetApp { name } miniProgram { id status } } } } } }"""
    app = (await data(schema, catalog, settings, query))["targetApp"]
    deployment = app["miniPrograms"]["nodes"][0]["deployment"]
    changes = HISTORY[("app-1", "mp-1")]
    assert deployment == {
        "status": "FULL_RELEASE",
        "statusSince": iso(t(10)),
        "associatedAt": iso(t(1)),
        "history": [{"status": s.name, "at": iso(at)} for s, at in changes],
        "targetApp": {"name": "Wallet"},
        "miniProgram": {"id": "mp-1", "status": "FULL_RELEASE"},
    }


async def test_status_at_several_instants(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    instants = {
        "before": "2024-02-29T23:59:59Z",  # before the first record: null
        "first": "2024-03-01T00:00:00+00:00",  # exactly at a record: that record
        "between": "2024-03-07T12:00:00Z",
        "offset": "2024-03-05T01:00:00+02:00",  # = 03-04T23:00Z, still DEVELOPING
        "naive": "2024-03-05T00:00:00",  # no offset = UTC: exactly the REVIEWING record
        "now": "2030-01-01T00:00:00Z",
    }
    fields = " ".join(f'{k}: statusAt(at: "{v}")' for k, v in instants.items())
    query = f"""{{ miniProgram(id: "mp-1") {{ deployments {{ nodes {{
        targetApp {{ id }} {fields} }} }} }} }}"""
    nodes = (await data(schema, catalog, settings, query))["miniProgram"]["deployments"]["nodes"]
    assert nodes[0] == {
        "targetApp": {"id": "app-1"},
        "before": None,
        "first": "DEVELOPING",
        "between": "REVIEWING",
        "offset": "DEVELOPING",
        "naive": "REVIEWING",
        "now": "FULL_RELEASE",
    }
    assert nodes[1]["targetApp"] == {"id": "app-2"}
    assert nodes[1]["between"] is None  # app-2 associated mp-1 only on the 15th
    assert nodes[1]["now"] == "GRAYSCALE_RELEASE"


async def test_status_at_with_a_variable(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    query = """query($at: DateTime!) { targetApp(id: "app-1") { miniPrograms(type: MINI_GAME) {
        nodes { deployment { statusAt(at: $at) } } } } }"""
    result = await data(schema, catalog, settings, query, {"at": "2024-03-12T00:00:00Z"})
    node = result["targetApp"]["miniPrograms"]["nodes"][0]
    assert node["deployment"]["statusAt"] == "GRAYSCALE_RELEASE"


async def test_unknown_ids_are_null_and_not_found(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    # The same answer as for an entity outside the caller's scope: existence is not revealed.
    query = """{ workspace(id: "nope") { id } targetApp(id: "nope") { id }
                 miniProgram(id: "nope") { id } merchant(id: "nope") { id } }"""
    result = await run(schema, catalog, settings, query)
    assert result.data == {
        "workspace": None,
        "targetApp": None,
        "miniProgram": None,
        "merchant": None,
    }
    assert sorted((e.path[0], (e.extensions or {})["code"]) for e in result.errors or []) == [
        ("merchant", "NOT_FOUND"),
        ("miniProgram", "NOT_FOUND"),
        ("targetApp", "NOT_FOUND"),
        ("workspace", "NOT_FOUND"),
    ]


async def test_empty_database_answers_empty_lists(
    schema: strawberry.Schema, engine: AsyncEngine, settings: Settings
) -> None:
    query = (
        "{ workspaces { totalCount nodes { id } pageInfo { hasNextPage startCursor endCursor } } }"
    )
    assert await data(schema, engine, settings, query) == {
        "workspaces": {
            "totalCount": 0,
            "nodes": [],
            "pageInfo": {"hasNextPage": False, "startCursor": None, "endCursor": None},
        }
    }


async def test_an_id_outside_the_grammar_is_bad_user_input(
    schema: strawberry.Schema, catalog: AsyncEngine, settings: Settings
) -> None:
    """No entity can have such an id (SPEC §2), so nothing is looked up: the caller is told."""
    for field in ("workspace", "targetApp", "miniProgram", "merchant"):
        for bad in ("", "x" * 129, "ws-1;x", "a b", "w\u00e9"):
            result = await run(
                schema,
                catalog,
                settings,
                f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}",
                {"id": bad},
            )
            assert result.errors is not None, (field, bad)
            assert result.errors[0].extensions == {"code": "BAD_USER_INPUT"}
            assert "1 to 128" in result.errors[0].message
