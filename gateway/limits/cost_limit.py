"""The cost limit: each operation's cost (:mod:`gateway.limits.cost`) checked before it runs.

The cost is computed once the variables are known (it depends on ``first`` and the ranges
they carry), just before execution; an operation costing more than ``GATEWAY_MAX_QUERY_COST``
is refused, nothing executed, with::

    {"message": "the operation costs 6100; the limit is 5000",
     "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": 6100, "limit": 5000}}

Every response of an operation whose cost was computed carries it as ``extensions.cost``
(refused ones too); the request's ASGI scope keeps it under :data:`COST_SCOPE_KEY` for the
access log.

An operation within the limit is then charged to its caller's cost budget, when the request
has a :class:`CostMeter` under :data:`METER_SCOPE_KEY` (:mod:`gateway.web.budget`): a budget
without enough points left refuses it (``RATE_LIMITED``) before anything executes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any, Protocol

from graphql import FragmentDefinitionNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from gateway.errors import ErrorCode
from gateway.limits.cost import CostWalker, coerce_variables
from gateway.metrics.timerange import DEFAULT_MAX_DAYS

METER_SCOPE_KEY = "gateway.meter"
"""ASGI scope entry holding the request's :class:`CostMeter`, if its caller has a budget."""
COST_SCOPE_KEY = "gateway.cost"
"""ASGI scope entry holding the computed cost of the request's (last) operation."""
OPERATION_SCOPE_KEY = "gateway.operation"
"""ASGI scope entry holding the name of the request's (last) operation, if it has one."""


class CostMeter(Protocol):
    """What charges an operation's cost to its caller's budget."""

    async def charge(self, cost: int) -> None:
        """Spend ``cost`` points; raise a ``RATE_LIMITED`` error when they are not left."""
        ...


def _clock(context: Any) -> tuple[dt.date, int]:
    """The request's UTC date and longest range (defaults when run without our Context)."""
    today = getattr(context, "today", None)
    settings = getattr(context, "settings", None)
    max_days = getattr(settings, "max_range_days", DEFAULT_MAX_DAYS)
    if not isinstance(today, dt.date):
        today = dt.datetime.now(dt.UTC).date()
    return today, max_days


class CostLimit(SchemaExtension):
    """Compute each operation's cost before it executes; refuse it past ``limit``.

    Args:
        limit: The most an operation may cost (``GATEWAY_MAX_QUERY_COST``).
    """

    def __init__(self, *, limit: int) -> None:
        self.limit = limit
        self.cost: int | None = None
        self.operation_name: str | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        """Compute the cost (raising ``QUERY_TOO_COMPLEX`` past the limit), charge it to the
        caller's budget (raising ``RATE_LIMITED`` when spent), then execute."""
        self.cost = self._compute()
        request = getattr(self.execution_context.context, "request", None)
        meter: CostMeter | None = None
        if request is not None:
            meter = request.scope.get(METER_SCOPE_KEY)
            request.scope[OPERATION_SCOPE_KEY] = self.operation_name
            request.scope[COST_SCOPE_KEY] = self.cost
        if self.cost is not None and self.cost > self.limit:
            raise GraphQLError(
                f"the operation costs {self.cost}; the limit is {self.limit}",
                extensions={
                    "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                    "cost": self.cost,
                    "limit": self.limit,
                },
            )
        if meter is not None and self.cost is not None:
            await meter.charge(self.cost)
        yield

    def get_results(self) -> dict[str, Any]:
        """``{"cost": n}`` for the response's ``extensions`` once computed."""
        return {} if self.cost is None else {"cost": self.cost}

    def _compute(self) -> int | None:
        """The operation's cost, or None when the operation or its variables are invalid
        (execution refuses them without running anything)."""
        context = self.execution_context
        document = context.graphql_document
        if document is None:
            return None
        operation = get_operation_ast(document, context.operation_name)
        schema = context.schema._schema
        if operation is None:
            return None
        self.operation_name = operation.name.value if operation.name else None
        variables = coerce_variables(schema, operation, context.variables)
        if variables is None:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        today, max_days = _clock(context.context)
        walker = CostWalker(schema, fragments, variables, today, max_days)
        try:
            return walker.operation(operation)
        except OverflowError:
            return self.limit + 1  # more selections than any document within limits has
