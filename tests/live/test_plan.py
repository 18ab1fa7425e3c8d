"""The plan of a WebSocket operation: the query a subscription evaluates, every character of
the client's document where it was."""

from __future__ import annotations

import pytest
from graphql import parse

from gateway.schema import GatewaySchema
from gateway.web.live.plan import Plan, PlanError, plan_operation


def plan(schema: GatewaySchema, text: str, name: str | None = None) -> Plan:
    return plan_operation(schema._schema, text, parse(text), name)


def test_live_becomes_its_selection_as_a_query(schema: GatewaySchema) -> None:
    text = 'subscription Wall($r: Int) {\n  board: live { workspace(id: "w") { id } }\n}'
    planned = plan(schema, text)
    assert " ".join(planned.query.split()) == 'query Wall($r: Int) { workspace(id: "w") { id } }'
    # Every character where it was: errors' lines and columns are the client's.
    assert len(planned.query) == len(text)
    assert [i for i, c in enumerate(planned.query) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]
    assert planned.query.index("workspace") == text.index("workspace")
    assert (planned.kind, planned.response_key, planned.repeats) == ("live", "board", True)


def test_snapshots_becomes_query_snapshot(schema: GatewaySchema) -> None:
    planned = plan(schema, "subscription { snapshots { id } }")
    assert planned.query == "query        { snapshot  { id } }"
    assert planned.wrap({"data": {"snapshot": {"id": "3"}}}) == {"data": {"snapshots": {"id": "3"}}}
    aliased = plan(schema, "subscription { s: snapshots { id } }")
    assert aliased.wrap({"data": {"s": {"id": "3"}}}) == {"data": {"s": {"id": "3"}}}


def test_the_answer_goes_under_the_response_key(schema: GatewaySchema) -> None:
    planned = plan(schema, 'subscription { w: live { workspace(id: "x") { id } } }')
    error = {"message": "not found", "path": ["workspace"], "extensions": {"code": "NOT_FOUND"}}
    wrapped = planned.wrap({"data": {"workspace": None}, "errors": [error]})
    assert wrapped == {
        "data": {"w": {"workspace": None}},
        "errors": [{**error, "path": ["w", "workspace"]}],
    }


def test_the_named_operation_is_planned(schema: GatewaySchema) -> None:
    text = "query A { snapshot { id } }\nsubscription B { live { snapshot { id } } }"
    assert plan(schema, text, "A").kind == "query"
    planned = plan(schema, text, "B")
    assert planned.kind == "live"
    assert planned.query.startswith("query A { snapshot { id } }\nquery        B ")


def test_a_query_runs_as_it_is(schema: GatewaySchema) -> None:
    text = "{ snapshot { id } }"
    planned = plan(schema, text)
    assert (planned.kind, planned.query, planned.repeats) == ("query", text, False)
    assert planned.wrap({"data": {"snapshot": None}, "errors": []}) == {"data": {"snapshot": None}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("mutation { x }", "mutations do not run over WebSocket"),
        ("subscription { live @include(if: true) { snapshot { id } } }", "@include"),
        ("subscription { live @deprecated { snapshot { id } } }", "@deprecated"),
        ("subscription { ...F } fragment F on Subscription { live { snapshot { id } } }",
         "directly at the"),
        ("subscription { live { nope } snapshots { id } }", "must select only one top level"),
        ("subscription { nope }", "Cannot query field 'nope' on type 'Subscription'"),
    ],
)  # fmt: skip
def test_refused_operations(schema: GatewaySchema, text: str, message: str) -> None:
    with pytest.raises(PlanError) as refused:
        plan(schema, text)
    assert message in str(refused.value)
