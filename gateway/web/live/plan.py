"""What a WebSocket operation evaluates: a subscription document turned into the query whose
answer it pushes, offsets kept.

``Subscription.live`` re-evaluates its selection (on ``Query``) after every snapshot, and
``Subscription.snapshots`` answers ``Query.snapshot``'s selection once per snapshot. Both are
therefore *queries*: the plan rewrites the subscription document into the query it
evaluates, by blanking characters rather than re-printing it, so every character keeps its
line and column and the query's errors point at the client's own text::

    subscription Wall($r: TimeRangeInput!) { board: live { workspace(id: "w") { id } } }
    query        Wall($r: TimeRangeInput!)               { workspace(id: "w") { id } }

    subscription { s: snapshots { id } }
    query        { s: snapshot  { id } }

The query then runs exactly as the same query sent to ``/graphql`` would: the same parser,
limits, cost, matrix and masking. A ``query`` operation sent over the socket runs once as it
is. The answer of the query is put back under the subscription field's response key
(:meth:`Plan.wrap`).

Example:
    >>> text = "subscription { s: snapshots { id } }"
    >>> plan_operation(schema, text, parse(text), None).query  # doctest: +SKIP
    'query        { s: snapshot  { id } }'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    validate,
)
from graphql.language import Location
from graphql.utilities import get_operation_ast

from gateway.errors import ErrorCode

LIVE = "live"
SNAPSHOTS = "snapshots"
Kind = Literal["query", "live", "snapshots"]

ROOT_SHAPE = (
    "select `live` or `snapshots` directly at the subscription's root, without directives or "
    "fragments: subscription { live { ... } }"
)
MUTATION = "mutations do not run over WebSocket; send them to POST /graphql"


class PlanError(Exception):
    """The operation cannot run; :attr:`formatted` is what the client's ``error`` message
    lists."""

    def __init__(self, errors: list[GraphQLError]) -> None:
        self.formatted: list[dict[str, Any]] = [dict(error.formatted) for error in errors]
        super().__init__("; ".join(error.message for error in errors))

    @classmethod
    def of(cls, formatted: list[dict[str, Any]]) -> PlanError:
        """A refusal listing errors already formatted (an execution's)."""
        refused = cls([])
        refused.formatted = formatted
        refused.args = ("; ".join(str(e.get("message")) for e in formatted),)
        return refused


def bad_input(message: str) -> PlanError:
    """A :class:`PlanError` with one ``BAD_USER_INPUT`` error."""
    return PlanError([GraphQLError(message, extensions={"code": ErrorCode.BAD_USER_INPUT.value})])


@dataclass(frozen=True, slots=True)
class Plan:
    """The query an operation evaluates, and where its answer goes.

    Attributes:
        kind: ``query`` (once), ``live`` or ``snapshots`` (after every snapshot).
        query: The query document (offsets those of the client's document).
        operation_name: The operation to run in ``query``.
        response_key: The subscription field's alias or name ("" for a query).
    """

    kind: Kind
    query: str
    operation_name: str | None
    response_key: str = ""

    @property
    def repeats(self) -> bool:
        """True for a subscription (evaluated after every snapshot)."""
        return self.kind != "query"

    def wrap(self, result: dict[str, Any]) -> dict[str, Any]:
        """The subscription's answer from the query's ``{"data", "errors"}``: the data under
        the response key, each error's path starting with it."""
        if self.kind == "query":
            return {k: v for k, v in result.items() if k != "errors" or v}
        data = result.get("data")
        if self.kind == SNAPSHOTS and isinstance(data, dict):
            data = data.get(self.response_key, data.get("snapshot"))
        wrapped: dict[str, Any] = {"data": None if data is None else {self.response_key: data}}
        errors = result.get("errors")
        if errors:
            wrapped["errors"] = [self._moved(error) for error in errors]
        return wrapped

    def _moved(self, error: dict[str, Any]) -> dict[str, Any]:
        path = error.get("path")
        if not path:
            return error
        # `live`'s selection sits one level below the subscription field; `snapshots` is the
        # field itself (the query's `snapshot`).
        rest = path if self.kind == LIVE else path[1:]
        return {**error, "path": [self.response_key, *rest]}


def _blank(text: list[str], start: int, end: int) -> None:
    """Spaces over ``text[start:end]``, newlines kept (lines and columns do not move)."""
    for i in range(start, end):
        if text[i] not in "\r\n":
            text[i] = " "


def _loc(node: Any) -> Location:
    location: Location | None = node.loc
    assert location is not None  # parsed with locations
    return location


def _root_field(operation: OperationDefinitionNode) -> FieldNode | None:
    """The subscription's one root field when it is selected plainly, else None."""
    selections = operation.selection_set.selections
    if len(selections) != 1 or not isinstance(selections[0], FieldNode):
        return None
    field = selections[0]
    if field.directives or field.arguments or field.name.value not in (LIVE, SNAPSHOTS):
        return None
    return field if field.selection_set is not None else None


def _as_query(source: str, operation: OperationDefinitionNode, field: FieldNode) -> str:
    """The query ``field`` evaluates, with every other character where it was."""
    text = list(source)
    keyword = _loc(operation).start  # a subscription always opens with its keyword
    text[keyword : keyword + len("subscription")] = "query".ljust(len("subscription"))
    outer, inner = _loc(operation.selection_set), _loc(field.selection_set)
    if field.name.value == LIVE:
        # The field's own selection set becomes the operation's.
        _blank(text, outer.start, inner.start)
        _blank(text, inner.end, outer.end)
    else:
        name = _loc(field.name)
        text[name.start : name.end] = "snapshot".ljust(len(SNAPSHOTS))
    return "".join(text)


def plan_operation(
    schema: GraphQLSchema, source: str, document: DocumentNode, operation_name: str | None
) -> Plan:
    """The plan of the operation ``operation_name`` of ``document`` (parsed from ``source``
    with locations).

    Raises:
        PlanError: a mutation; a subscription not of the form ``subscription { live { ... } }``
            or ``{ snapshots { ... } }`` (the document's validation errors when it has any).
    """
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is OperationType.QUERY:
        # Nothing selected (GraphQL's own execution says why) or a query: runs as it is.
        return Plan("query", source, operation_name)
    if operation.operation is OperationType.MUTATION:
        raise bad_input(MUTATION)
    field = _root_field(operation)
    if field is None:
        errors = validate(schema, document)
        raise PlanError(errors) if errors else bad_input(ROOT_SHAPE)
    key = field.alias.value if field.alias is not None else field.name.value
    kind: Kind = "live" if field.name.value == LIVE else "snapshots"
    return Plan(kind, _as_query(source, operation, field), operation_name, key)
