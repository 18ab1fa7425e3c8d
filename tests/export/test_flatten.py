"""Laying a result out as sheets, from the query's shape in the real schema, and which answers
become files (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from graphql import GraphQLSchema, parse

from gateway.schema import build_schema
from gateway.web.export import route
from gateway.web.export.flatten import Layout, lay_out
from gateway.web.export.naming import MAX_SHEET_NAME, SUMMARY
from gateway.web.export.shape import Leaf, ListOf, Obj, ShapeError, shape_of
from gateway.web.export.sheets import Export, TooManyRowsError
from gateway.web.response_cache import Captured


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    """graphql-core's schema of the gateway."""
    return build_schema()._schema


def layout(schema: GraphQLSchema, query: str, operation: str | None = None) -> Layout:
    """The layout of ``query``'s results."""
    return lay_out(shape_of(schema, parse(query), operation))


def test_types_come_from_the_schema_not_from_the_values(schema: GraphQLSchema) -> None:
    shape = shape_of(
        schema,
        parse("""{ targetApp(id: "a") { name createdAt
          activeUsers(timeRange: {preset: LAST_7_DAYS}) { value series { date value } } } }"""),
        None,
    )
    app = shape.fields["targetApp"]
    assert isinstance(app, Obj)
    assert app.fields["name"] == Leaf("String")
    assert app.fields["createdAt"] == Leaf("DateTime")
    assert app.fields["activeUsers"] == Obj(
        {
            "value": Leaf("Float"),
            "series": ListOf(Obj({"date": Leaf("Date"), "value": Leaf("Float")})),
        }
    )
    laid = lay_out(shape)
    # A name that looks like a date is still text: only the Date field is a date.
    data = {
        "targetApp": {
            "name": "2024-03-01",
            "createdAt": "2024-03-01T08:00:00+00:00",
            "activeUsers": {"value": 3.0, "series": [{"date": "2024-03-01", "value": 3.0}]},
        }
    }
    assert list(laid.summary_rows(data))[:2] == [
        [("targetApp.name", "String"), ("2024-03-01", "String")],
        [("targetApp.createdAt", "String"), ("2024-03-01T08:00:00+00:00", "DateTime")],
    ]
    (series,) = laid.tables
    assert series.headers == ["Date", "Value"]
    assert list(series.rows(data)) == [[("2024-03-01", "Date"), (3.0, "Float")]]


def test_aliases_give_their_own_sheets_and_columns(schema: GraphQLSchema) -> None:
    laid = layout(
        schema,
        """{ first: workspaces(first: 1) { nodes { id label: name } }
             all: workspaces { nodes { id name } } }""",
    )
    assert [t.name for t in laid.tables] == ["first.nodes", "all.nodes"]
    assert laid.tables[0].headers == ["ID", "Label"]
    data = {
        "first": {"nodes": [{"id": "w1", "label": "A"}]},
        "all": {"nodes": [{"id": "w1", "name": "A"}, {"id": "w2", "name": "B"}]},
    }
    assert [[v for v, _ in row] for row in laid.tables[1].rows(data)] == [["w1", "A"], ["w2", "B"]]


def test_fragments_are_merged_where_they_are_spread(schema: GraphQLSchema) -> None:
    laid = layout(
        schema,
        """query Q { targetApp(id: "a") { id ...Names ... on TargetApp { createdAt }
               launches(timeRange: {preset: LAST_7_DAYS}) { value } ...Trend } }
           fragment Names on TargetApp { name id }
           fragment Trend on TargetApp {
             launches(timeRange: {preset: LAST_7_DAYS}) { series { date } }
           }""",
        "Q",
    )
    assert [".".join(c.path) for c in laid.summary] == [
        "targetApp.id",
        "targetApp.name",
        "targetApp.createdAt",
        "targetApp.launches.value",
    ]
    assert [t.name for t in laid.tables] == ["targetApp.launches.series"]


def test_nested_lists_name_their_parent_rows_and_nulls_stay_empty(schema: GraphQLSchema) -> None:
    laid = layout(
        schema,
        """{ workspaces { nodes { id name targetApps { nodes { name
               workspace { name } launches(timeRange: {preset: LAST_7_DAYS}) { value } } } } } }""",
    )
    nodes, apps = laid.tables
    assert nodes.name == "workspaces.nodes"
    assert apps.name == "workspaces.targetApps"  # the 33-character path without "nodes"
    assert apps.headers == [
        "Workspaces #",
        "Workspaces / ID",
        "Workspaces / Name",
        "Name",
        "Workspace / Name",
        "Launches / Value",
    ]
    data: dict[str, Any] = {
        "workspaces": {
            "nodes": [
                {
                    "id": "w1",
                    "name": "A",
                    "targetApps": {
                        "nodes": [
                            {"name": "x", "workspace": None, "launches": {"value": 1.0}},
                            {"name": "y", "workspace": {"name": "A"}, "launches": None},
                        ]
                    },
                },
                None,
                {"id": "w3", "name": None, "targetApps": None},
                {"id": "w4", "name": "D", "targetApps": {"nodes": [{"name": "z"}]}},
            ]
        }
    }
    values = [[v for v, _ in row] for row in apps.rows(data)]
    assert values == [
        [1, "w1", "A", "x", None, 1.0],
        [1, "w1", "A", "y", "A", None],
        [3, "w4", "D", "z", None, None],
    ]
    assert [[v for v, _ in row] for row in nodes.rows(data)] == [
        ["w1", "A"],
        ["w3", None],
        ["w4", "D"],
    ]
    assert apps.count(data) == 3


def test_scalars_outside_lists_and_lists_of_scalars_go_to_the_summary(
    schema: GraphQLSchema,
) -> None:
    laid = layout(schema, "{ viewer { subject readableFields grants { role readableFields } } }")
    assert [(".".join(c.path), c.type_name) for c in laid.summary] == [
        ("viewer.subject", "String"),
        ("viewer.readableFields", "String"),
    ]
    (grants,) = laid.tables
    assert grants.headers == ["Role", "Readable fields"]
    data = {
        "viewer": {
            "subject": "s",
            "readableFields": ["A.b", "C.d"],
            "grants": [{"role": "SUPER_ADMIN", "readableFields": ["A.b"]}],
        }
    }
    assert list(laid.summary_rows(data))[1] == [
        ("viewer.readableFields", "String"),
        (["A.b", "C.d"], "String"),
    ]
    # A null parent: its scalars are listed, empty.
    assert [row[1][0] for row in laid.summary_rows({"viewer": None})] == [None, None]


def test_sheet_names_are_excel_safe_unique_and_short(schema: GraphQLSchema) -> None:
    laid = layout(
        schema,
        """{ summary: workspaces { nodes { id } } Summary: workspaces { nodes { id } }
             aVeryLongAliasForTheWorkspacesListThatGoesOn: workspaces { nodes {
               targetApps { nodes { id } } } }
             aVeryLongAliasForTheWorkspacesListThatGoesOnAndOn: workspaces { nodes {
               targetApps { nodes { id } } } } }""",
    )
    names = [t.name for t in laid.tables]
    assert names[:2] == ["summary.nodes", "Summary.nodes~2"]
    assert all(len(name) <= MAX_SHEET_NAME for name in names)
    lowered = [name.lower() for name in [SUMMARY, *names]]
    assert len(set(lowered)) == len(lowered)
    assert not any(set(name) & set("[]:*?/\\") for name in names)
    assert names[2:] == [
        "aVeryLongAliasForTheWorkspaces…",  # one key too long: cut at the end
        "…targetApps",  # leading keys left out
        "aVeryLongAliasForTheWorkspace~2",
        "…targetApps~2",
    ]


def test_header_collisions_are_numbered(schema: GraphQLSchema) -> None:
    laid = layout(schema, "{ workspaces { nodes { name Name: name NAME: id } } }")
    assert laid.tables[0].headers == ["Name", "Name (2)", "Name (3)"]


def test_unknown_operation_is_refused(schema: GraphQLSchema) -> None:
    with pytest.raises(ShapeError):
        shape_of(schema, parse("query A { viewer { subject } }"), "B")


def test_the_summary_tells_what_the_export_is_of(schema: GraphQLSchema) -> None:
    laid = layout(schema, "query Q { snapshot { id } workspaces { nodes { id } } }", "Q")
    export = Export(
        laid,
        {"snapshot": {"id": "7"}, "workspaces": {"nodes": [{"id": "w1"}]}},
        operation="Q",
        variables={"range": {"preset": "LAST_7_DAYS"}, "n": 3},
        snapshot={"id": 7, "takenAt": "2024-03-02T00:00:00Z"},
        hidden=[
            (["workspaces", "nodes", 0, "id"], "FORBIDDEN"),
            (["workspaces", "nodes", 1, "id"], "FORBIDDEN"),
        ],
        generated_at=dt.datetime(2024, 3, 2, 1, tzinfo=dt.UTC),
    )
    summary, nodes = export.sheets(max_rows=100)
    assert (summary.name, nodes.name) == ("Summary", "workspaces.nodes")
    assert [[v for v, _ in row] for row in summary.rows] == [
        ["snapshot.id", "7"],
        [],
        ["Operation", "Q"],
        ["Variable range", '{"preset":"LAST_7_DAYS"}'],
        ["Variable n", 3],
        ["Snapshot ID", 7],
        ["Snapshot taken at (UTC)", "2024-03-02T00:00:00Z"],
        ["Generated at (UTC)", "2024-03-02T01:00:00+00:00"],
        ["Hidden field (FORBIDDEN)", "workspaces.nodes.id"],
        ["Sheet workspaces.nodes", "workspaces.nodes: 1 row"],
    ]
    with pytest.raises(TooManyRowsError, match="11 rows; the limit is 10"):
        export.sheets(max_rows=10)


@pytest.mark.parametrize(
    ("errors", "data", "file", "status"),
    [
        ([], {"a": 1}, True, None),
        ([("FORBIDDEN", ["a", "b"])], {"a": None}, True, None),
        ([("NOT_FOUND", ["a", "nodes", 0, "workspace"])], {"a": {}}, True, None),
        ([("NOT_FOUND", ["targetApp"])], {"targetApp": None}, False, 404),
        ([("FORBIDDEN", ["a"]), ("BAD_USER_INPUT", ["b"])], {"a": None, "b": None}, False, 400),
        ([("FORBIDDEN", ["a"])], None, False, 403),
        ([("NOT_FOUND", ["x"]), ("QUERY_TIMEOUT", ["y"])], {"x": None, "y": None}, False, 504),
        ([("INTERNAL_SERVER_ERROR", ["x"]), ("NOT_FOUND", ["y"])], {"x": 1, "y": None}, False, 500),
    ],
)
def test_which_answers_become_files_and_the_status_of_the_others(
    errors: list[tuple[str, list[str | int]]], data: Any, file: bool, status: int | None
) -> None:
    answer = {
        "data": data,
        "errors": [{"message": "m", "path": p, "extensions": {"code": c}} for c, p in errors],
    }
    assert route._refused(answer) is not file
    if status is not None:
        captured = Captured(200, [(b"retry-after", b"3")], [orjson.dumps(answer)])
        response = route._error(captured, answer)
        assert response.status_code == status
        assert response.headers["retry-after"] == "3"
        assert orjson.loads(response.body) == answer
