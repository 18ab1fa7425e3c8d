"""``POST /export`` end to end: the app over real data, the files opened with openpyxl and
compared with what ``/graphql`` answers for the same query (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from gateway.roles import Role
from tests.cache_http.support import Gateway
from tests.cache_http.world import RANGE
from tests.export.conftest import Serve
from tests.export.support import csv_files, export, rows, summary, workbook
from tests.principals import ADMIN, principal

REPORT = """
query AppReport($range: TimeRangeInput!) {
  snapshot { takenAt }
  targetApp(id: "app-1") {
    id
    name
    activeUsers(timeRange: $range) { value previousValue changeRate series { date value } }
    estimatedAdRevenue(timeRange: $range) { value }
  }
  workspaces {
    totalCount
    nodes {
      id
      name
      targetApps {
        nodes {
          id
          name
          launches(timeRange: $range) { value series(granularity: WEEK) { date value } }
        }
      }
    }
  }
}
"""
VARIABLES = {"range": RANGE}
SERIES = "targetApp.activeUsers.series"
APPS = "workspaces.targetApps"
"""``workspaces.nodes.targetApps.nodes`` is 33 characters: the connection keys are left out."""
LAUNCHES = "…targetApps.launches.series"
"""``workspaces.nodes.targetApps.nodes.launches.series``, shortened to 31 characters."""


def utc(text: str) -> dt.datetime:
    """An ISO-8601 date-time as the naive UTC datetime Excel holds."""
    return (
        dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        .astimezone(dt.UTC)
        .replace(tzinfo=None)
    )


def day(text: str) -> dt.datetime:
    """An ISO-8601 date as openpyxl reads a date cell back."""
    return dt.datetime.fromisoformat(text)


async def test_the_workbook_holds_what_graphql_answers(gateway: Gateway) -> None:
    answer = await gateway.ask(ADMIN, REPORT, VARIABLES)
    assert answer.status == 200
    assert "errors" not in answer.body
    data = answer.data
    response = await export(gateway, ADMIN, REPORT, VARIABLES)
    book = workbook(response)

    assert book.sheetnames == ["Summary", SERIES, "workspaces.nodes", APPS, LAUNCHES]
    app = data["targetApp"]
    facts = summary(book)
    # Excel keeps times to the millisecond.
    taken = utc(data["snapshot"]["takenAt"])
    assert abs(facts["snapshot.takenAt"] - taken) <= dt.timedelta(milliseconds=1)
    assert facts["targetApp.id"] == "app-1"
    assert facts["targetApp.activeUsers.value"] == app["activeUsers"]["value"]
    assert facts["targetApp.activeUsers.changeRate"] == app["activeUsers"]["changeRate"]
    assert facts["targetApp.estimatedAdRevenue.value"] == app["estimatedAdRevenue"]["value"]
    assert facts["workspaces.totalCount"] == data["workspaces"]["totalCount"] == 2
    assert facts["Operation"] == "AppReport"
    assert facts["Variable range"] == orjson.dumps(RANGE).decode()
    assert facts["Snapshot ID"] == answer.snapshot_id

    series = rows(book, SERIES)
    assert series[0] == ("Date", "Value")
    assert series[1:] == [(day(p["date"]), p["value"]) for p in app["activeUsers"]["series"]]
    assert len(series) == 15  # 2024-03-01 .. 2024-03-14
    date_cell, value_cell = book[SERIES]["A2"], book[SERIES]["B2"]
    assert date_cell.is_date
    assert date_cell.number_format == "yyyy-mm-dd"
    assert value_cell.data_type == "n"

    apps = [
        (n, w, a)
        for n, w in enumerate(data["workspaces"]["nodes"], 1)
        for a in w["targetApps"]["nodes"]
    ]
    assert rows(book, APPS) == [
        ("Workspaces #", "Workspaces / ID", "Workspaces / Name", "ID", "Name", "Launches / Value"),
        *((n, w["id"], w["name"], a["id"], a["name"], a["launches"]["value"]) for n, w, a in apps),
    ]
    launches = rows(book, LAUNCHES)
    assert launches[0][-2:] == ("Date", "Value")
    # "Target apps #" is the row of the app in its own sheet (numbered across workspaces).
    assert launches[1:] == [
        (n, w["id"], w["name"], m, a["id"], a["name"], day(p["date"]), p["value"])
        for m, (n, w, a) in enumerate(apps, 1)
        for p in a["launches"]["series"]
    ]
    assert sum(row[-1] for row in launches[1:]) == sum(row[-1] for row in rows(book, APPS)[1:])
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert response.headers["content-disposition"] == (
        f'attachment; filename="AppReport-{today}.xlsx"'
    )


async def test_the_csv_zip_has_the_same_sheets_headers_and_values(gateway: Gateway) -> None:
    book = workbook(await export(gateway, ADMIN, REPORT, VARIABLES))
    files = csv_files(await export(gateway, ADMIN, REPORT, VARIABLES, fmt="csv"))
    assert list(files) == [f"{name}.csv" for name in book.sheetnames]
    data = (await gateway.ask(ADMIN, REPORT, VARIABLES)).data
    for name in book.sheetnames[1:]:
        assert files[f"{name}.csv"][0] == list(rows(book, name)[0])
        assert len(files[f"{name}.csv"]) == len(rows(book, name))
    series = data["targetApp"]["activeUsers"]["series"]
    assert files[f"{SERIES}.csv"][1:] == [[p["date"], repr(p["value"])] for p in series]
    facts = {row[0]: row[1] for row in files["Summary.csv"][1:] if row}
    assert facts["snapshot.takenAt"] == data["snapshot"]["takenAt"]
    assert float(facts["targetApp.activeUsers.value"]) == data["targetApp"]["activeUsers"]["value"]


async def test_a_role_without_revenue_gets_the_rest_and_the_hidden_fields(
    gateway: Gateway,
) -> None:
    developer = principal(Role.MINI_PROGRAM_DEVELOPER, merchant="m-1")
    query = """query Mine($range: TimeRangeInput!) { merchant(id: "m-1") { name miniPrograms {
      nodes {
        id
        activeUsers(timeRange: $range) { value }
        estimatedAdRevenue(timeRange: $range) { value }
      }
    } } }"""
    answer = await gateway.ask(developer, query, VARIABLES)
    nodes = answer.data["merchant"]["miniPrograms"]["nodes"]
    assert nodes
    assert {code for _, code in answer.errors} == {"FORBIDDEN"}
    assert all(node["estimatedAdRevenue"] is None for node in nodes)

    book = workbook(await export(gateway, developer, query, VARIABLES))
    table = rows(book, "merchant.miniPrograms.nodes")
    assert table[0] == ("ID", "Active users / Value", "Estimated ad revenue / Value")
    assert table[1:] == [(n["id"], n["activeUsers"]["value"], None) for n in nodes]
    hidden = [r[1] for r in rows(book, "Summary") if r[0] == "Hidden field (FORBIDDEN)"]
    assert hidden == ["merchant.miniPrograms.nodes.estimatedAdRevenue"]

    # Nothing readable at all: the same FORBIDDEN errors, as JSON, never a file.
    operator_only = (
        '{ targetApp(id: "app-1") { activeUsers(timeRange: {preset: LAST_7_DAYS}) { value } } }'
    )
    graphql = await gateway.ask(developer, operator_only)
    response = await export(gateway, developer, operator_only)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert orjson.loads(response.content)["errors"] == graphql.body["errors"]


async def test_entities_outside_the_scope_are_hidden_like_forbidden_fields(
    gateway: Gateway,
) -> None:
    developer = principal(Role.MINI_PROGRAM_DEVELOPER, merchant="m-1")
    query = '{ merchant(id: "m-1") { miniPrograms { nodes { id workspace { name } } } } }'
    answer = await gateway.ask(developer, query)
    nodes = answer.data["merchant"]["miniPrograms"]["nodes"]
    assert {code for _, code in answer.errors} == {"NOT_FOUND"}  # ws-1 is above the merchant
    book = workbook(await export(gateway, developer, query))
    assert rows(book, "merchant.miniPrograms.nodes") == [
        ("ID", "Workspace / Name"),
        *((node["id"], None) for node in nodes),
    ]
    hidden = [r[1] for r in rows(book, "Summary") if r[0] == "Hidden field (NOT_FOUND)"]
    assert hidden == ["merchant.miniPrograms.nodes.workspace"]


async def test_without_credentials_the_answer_is_the_graphql_401(gateway: Gateway) -> None:
    graphql = await gateway.ask(None, "{ snapshot { takenAt } }")
    response = await export(gateway, None, "{ snapshot { takenAt } }")
    assert graphql.status == response.status_code == 401
    assert orjson.loads(response.content) == graphql.body
    assert response.headers["www-authenticate"].startswith("Bearer")
    bad = {"Authorization": "Bearer not-a-token", "Content-Type": "application/json"}
    refused = await gateway.http.post(
        "/export", content=b'{"query": "{ snapshot { id } }"}', headers=bad
    )
    assert refused.status_code == 401
    assert orjson.loads(refused.content)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("body", "status", "code", "says"),
    [
        (
            {"query": "{ snapshot { takenAt } }", "format": "pdf"},
            400,
            "BAD_USER_INPUT",
            "`format` must be",
        ),
        (
            {"query": "{ snapshot { takenAt } }", "format": 3},
            400,
            "BAD_USER_INPUT",
            "`format` must be",
        ),
        ({"query": "mutation { refresh }"}, 400, "BAD_USER_INPUT", "runs queries only"),
        ({"query": "subscription { s }"}, 400, "BAD_USER_INPUT", "runs queries only"),
        ({"format": "xlsx"}, 400, "BAD_USER_INPUT", "`query` is required"),
        ({"query": 7}, 400, "BAD_USER_INPUT", "`query` must be a string"),
        (
            {"query": "{ snapshot { takenAt } }", "variables": [1]},
            400,
            "BAD_USER_INPUT",
            "`variables`",
        ),
        ({"query": "{ snapshot { "}, 400, None, "Syntax Error"),
        ({"query": "{ nope }"}, 400, None, "Cannot query field 'nope'"),
        ({"query": "query Q($n: Int!) { workspaces(first: $n) { totalCount } }"}, 400, None, "$n"),
        ({"query": '{ targetApp(id: "none") { name } }'}, 404, "NOT_FOUND", "not found"),
        ({"query": "{ workspaces(first: 1000) { totalCount } }"}, 400, "BAD_USER_INPUT", "first"),
    ],
)
async def test_errors_are_json_never_a_file(
    gateway: Gateway, body: dict[str, Any], status: int, code: str | None, says: str
) -> None:
    headers = {"Content-Type": "application/json", **gateway.headers(ADMIN)}
    response = await gateway.http.post("/export", content=orjson.dumps(body), headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert "content-disposition" not in response.headers
    errors = orjson.loads(response.content)["errors"]
    assert says in errors[0]["message"]
    assert (errors[0].get("extensions") or {}).get("code") == code


async def test_malformed_bodies_are_refused(gateway: Gateway) -> None:
    admin = gateway.headers(ADMIN)
    for content, status in [(b"not json", 400), (b"[1]", 400), (b"{}", 400)]:
        response = await gateway.http.post(
            "/export", content=content, headers={"Content-Type": "application/json", **admin}
        )
        assert response.status_code == status, content
    form = await gateway.http.post("/export", data={"query": "{ snapshot { id } }"}, headers=admin)
    assert form.status_code == 415
    assert (await gateway.http.get("/export", headers=admin)).status_code == 405


async def test_the_query_limits_apply(serve_with: Serve) -> None:
    deep = """{ workspaces { nodes { targetApps { nodes {
      activeUsers(timeRange: {preset: LAST_7_DAYS}) { series { date } }
    } } } } }"""
    async with serve_with(max_query_depth=5, max_query_bytes=1024) as gateway:
        response = await export(gateway, ADMIN, deep)
        assert response.status_code == 400
        (error,) = orjson.loads(response.content)["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert "7 levels deep; the limit is 5" in error["message"]
        big = await export(gateway, ADMIN, "{ snapshot { id } }" + " " * 2000)
        assert big.status_code == 413
        assert orjson.loads(big.content)["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        # /graphql answers the same refusals with the same statuses (GraphQL over HTTP).
        headers = {**gateway.headers(ADMIN), "Accept": "application/graphql-response+json"}
        for query, status in [(deep, 400), ("{ snapshot { id } }" + " " * 2000, 413)]:
            answer = await gateway.http.post("/graphql", json={"query": query}, headers=headers)
            assert answer.status_code == status
            assert answer.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_the_row_limit_refuses_a_larger_export(serve_with: Serve) -> None:
    query = """query S($range: TimeRangeInput!) {
      targetApp(id: "app-1") { launches(timeRange: $range) { series { date value } } }
    }"""
    async with serve_with(export_max_rows=20) as gateway:
        response = await export(gateway, ADMIN, query, VARIABLES)
        assert response.status_code == 400
        (error,) = orjson.loads(response.content)["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert "GATEWAY_EXPORT_MAX_ROWS" in error["message"]
    async with serve_with(export_max_rows=40) as gateway:
        book = workbook(await export(gateway, ADMIN, query, VARIABLES))
        assert len(rows(book, "targetApp.launches.series")) == 15


async def test_format_defaults_to_xlsx_and_csv_is_a_zip(gateway: Gateway) -> None:
    response = await export(gateway, ADMIN, "{ snapshot { id takenAt } }", fmt=None)
    assert int(summary(workbook(response))["snapshot.id"]) >= 1
    assert response.headers["content-disposition"].startswith('attachment; filename="export-')
    zipped = await export(gateway, ADMIN, "{ snapshot { id takenAt } }", fmt="csv")
    assert zipfile.ZipFile(io.BytesIO(zipped.content)).namelist() == ["Summary.csv"]
    assert zipped.headers["content-disposition"].endswith('.zip"')


async def test_aliases_tokens_and_trusted_documents_apply(
    serve_with: Serve, tmp_path: Path
) -> None:
    listed = "query Listed { workspaces { nodes { id name } } }"
    manifest = tmp_path / "trusted.json"
    manifest.write_bytes(orjson.dumps({hashlib.sha256(listed.encode()).hexdigest(): listed}))
    async with serve_with(trusted_documents_file=manifest) as gateway:
        book = workbook(await export(gateway, ADMIN, listed))
        assert rows(book, "workspaces.nodes")[1:] == [("ws-1", "Alpha"), ("ws-2", "Beta")]
        refused = await export(gateway, ADMIN, "{ workspaces { totalCount } }")
        assert refused.status_code == 403
        (error,) = orjson.loads(refused.content)["errors"]
        assert error["extensions"]["code"] == "PERSISTED_QUERY_NOT_ALLOWED"
    async with serve_with(max_query_aliases=2, max_query_tokens=40) as gateway:
        for query in [
            "{ a: snapshot { id } b: snapshot { id } c: snapshot { id } }",
            "{ snapshot { " + "id " * 50 + "} }",
        ]:
            response = await export(gateway, ADMIN, query)
            assert response.status_code == 400, query
            (error,) = orjson.loads(response.content)["errors"]
            assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
