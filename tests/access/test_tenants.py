"""Scopes across tenants: lookups by id and walks along every edge of the catalog graph.

Two tenants, each a workspace with a merchant: (ws-1, m-1) and (ws-2, m-3) (see conftest). Each
role is granted on one tenant; where every entity lives is restated below from the test data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.roles import Family, Role
from gateway.schema import GatewaySchema
from gateway.settings import Settings
from tests.access.conftest import MP6_DEPLOYMENT
from tests.access.support import (
    Path,
    Where,
    assert_not_found,
    code,
    errors_by_path,
    family,
    principal_of,
    sees,
)
from tests.principals import run_as
from tests.schema.catalog_data import HISTORY

W1, W2 = Where("ws-1"), Where("ws-2")
ENTITIES: dict[str, dict[str, Where]] = {
    "workspace": {"ws-1": W1, "ws-2": W2},
    "targetApp": {"app-1": W1, "app-2": W1, "app-3": W2},
    "miniProgram": {
        "mp-1": Where("ws-1", "m-1"),
        "mp-2": Where("ws-1", "m-1"),
        "mp-3": Where("ws-1", "m-2"),
        "mp-4": W1,
        "mp-5": W2,
        "mp-6": Where("ws-2", "m-3"),
    },
    "merchant": {
        "m-1": Where("ws-1", "m-1"),
        "m-2": Where("ws-1", "m-2"),
        "m-3": Where("ws-2", "m-3"),
    },
}
WHERE = {id_: where for by_id in ENTITIES.values() for id_, where in by_id.items()}
CURRENT = {pair: changes[-1][0].name for pair, changes in HISTORY.items()}
CURRENT[(MP6_DEPLOYMENT["target_app_id"], MP6_DEPLOYMENT["mini_program_id"])] = "FULL_RELEASE"
"""(target app, mini program) -> current deployment status, for every pair of the data."""

TENANTS = {
    "ws-1/m-1": ("ws-1", "m-1", "app-1", "mp-1"),
    "ws-2/m-3": ("ws-2", "m-3", "app-3", "mp-6"),
}
ROLES = [role for role in Role if role is not Role.INGESTER]  # INGESTER: see test_cells


@pytest.mark.parametrize("tenant", TENANTS.values(), ids=list(TENANTS))
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_lookups_by_id_answer_only_the_scope(
    schema: GatewaySchema,
    catalog: AsyncEngine,
    settings: Settings,
    role: Role,
    tenant: tuple[str, str, str, str],
) -> None:
    workspace, merchant = tenant[:2]
    lookups = [(f, id_) for f, by_id in ENTITIES.items() for id_ in [*by_id, "nope"]]
    query = (
        "{ "
        + " ".join(f'{f}_{i.replace("-", "_")}: {f}(id: "{i}") {{ id }}' for f, i in lookups)
        + " }"
    )
    result = await run_as(schema, catalog, settings, principal_of(role, workspace, merchant), query)
    errors = errors_by_path(result)
    assert result.data is not None
    unknown = {f: errors[(f"{f}_nope",)] for f in ENTITIES}
    for field, id_ in lookups:
        alias = f"{field}_{id_.replace('-', '_')}"
        if id_ != "nope" and sees(role, WHERE[id_], workspace, merchant):
            assert (alias,) not in errors
            assert result.data[alias] == {"id": id_}
            continue
        assert result.data[alias] is None
        assert_not_found(errors[(alias,)], alias)
        # Out of scope and unknown are indistinguishable.
        assert errors[(alias,)].message == unknown[field].message
        assert errors[(alias,)].extensions == unknown[field].extensions


_MINI = (
    "id workspace { id } merchant { id workspace { id } } deployment { status targetApp { id } }"
)
_DEPLOYMENT = "status targetApp { id workspace { id } } miniProgram { id status workspace { id } }"
_MP = f"{_MINI} deployments {{ totalCount nodes {{ {_DEPLOYMENT} }} }}"
_APP = f"id workspace {{ id }} miniPrograms {{ totalCount nodes {{ {_MP} }} }}"
_MERCHANT = f"id workspace {{ id }} miniPrograms {{ totalCount nodes {{ {_MP} }} }}"
_WORKSPACE = (
    f"id targetApps {{ totalCount nodes {{ {_APP} }} }} "
    f"miniPrograms {{ totalCount nodes {{ {_MP} }} }} "
    f"merchants {{ totalCount nodes {{ {_MERCHANT} }} }}"
)


def _walk_query(workspace: str, merchant: str, app: str, mini: str) -> str:
    return (
        f"{{ workspaces {{ totalCount nodes {{ {_WORKSPACE} }} }} "
        f'workspace(id: "{workspace}") {{ {_WORKSPACE} }} targetApp(id: "{app}") {{ {_APP} }} '
        f'miniProgram(id: "{mini}") {{ {_MP} }} merchant(id: "{merchant}") {{ {_MERCHANT} }} }}'
    )


def _objects(value: object, path: Path = ()) -> Iterator[tuple[Path, dict[str, Any]]]:
    if isinstance(value, dict):
        yield path, value
        for key, item in value.items():
            yield from _objects(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _objects(item, (*path, index))


def _children(kind: str, parent: str, role: Role, workspace: str, merchant: str) -> list[str]:
    """The ids a ``kind`` list of ``parent`` must hold for ``role`` (all of them in scope)."""
    if kind == "targetApps":
        ids = [a for a, w in ENTITIES["targetApp"].items() if w.workspace == parent]
    elif parent.startswith("app-"):
        ids = [mp for app, mp in CURRENT if app == parent]
    elif parent.startswith("m-"):
        ids = [mp for mp, w in ENTITIES["miniProgram"].items() if w.merchant == parent]
    else:
        by_id = ENTITIES["merchant" if kind == "merchants" else "miniProgram"]
        ids = [i for i, w in by_id.items() if w.workspace == parent]
    assert all(sees(role, WHERE[i], workspace, merchant) for i in ids)
    return sorted(ids)


def _check_lists(data: dict[str, Any], role: Role, workspace: str, merchant: str) -> None:
    for path, obj in _objects(data):
        if "totalCount" in obj:  # every list fits on one page here
            assert obj["totalCount"] == len(obj["nodes"]), path
        if "id" in obj:
            assert sees(role, WHERE[obj["id"]], workspace, merchant), f"{obj['id']} at {path}"
            for kind in ("targetApps", "miniPrograms", "merchants"):
                if kind in obj:
                    ids = [node["id"] for node in obj[kind]["nodes"]]
                    assert ids == _children(kind, obj["id"], role, workspace, merchant), path


@pytest.mark.parametrize("tenant", TENANTS.values(), ids=list(TENANTS))
@pytest.mark.parametrize("role", ROLES, ids=[r.value for r in ROLES])
async def test_walks_never_leave_the_scope(
    schema: GatewaySchema,
    catalog: AsyncEngine,
    settings: Settings,
    role: Role,
    tenant: tuple[str, str, str, str],
) -> None:
    workspace, merchant, _, mini = tenant
    who = principal_of(role, workspace, merchant)
    result = await run_as(schema, catalog, settings, who, _walk_query(*tenant))
    assert result.data is not None
    errors = errors_by_path(result)
    _check_lists(result.data, role, workspace, merchant)
    listed = [node["id"] for node in result.data["workspaces"]["nodes"]]
    kind = family(role)
    assert listed == {Family.PLATFORM: ["ws-1", "ws-2"], Family.SUPERAPP: [workspace]}.get(kind, [])
    # Workspaces and target apps are the aggregates above a mini-program team: every edge to
    # one answers NOT_FOUND for it, and nothing else fails.
    hidden: set[Path] = set()
    if kind is Family.MINI_PROGRAM:
        for path, obj in _objects(result.data):
            hidden |= {(*path, k) for k in ("workspace", "targetApp") if k in obj}
        hidden |= {("workspace",), ("targetApp",)}
    assert set(errors) == hidden
    for path in hidden:
        assert_not_found(errors[path], str(path))
    # The rest of the response arrives: the mini program and its deployments' statuses.
    deployments = result.data["miniProgram"]["deployments"]["nodes"]
    expected = sorted(status for (_, m), status in CURRENT.items() if m == mini)
    assert sorted(d["status"] for d in deployments) == expected
    assert all(code(e) == "NOT_FOUND" for e in result.errors or ())
