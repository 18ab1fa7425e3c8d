"""The cost limit: each operation's cost (:mod:`gateway.limits.cost`) checked before it runs.

The cost is computed once the variables are known (it depends on ``first`` and the ranges
they carry), just before execution; an operation costing more than ``GATEWAY_MAX_QUERY_COST``
is refused, nothing executed, with::

    {"message": "the operation costs 6100; the limit is 5000",
     "extensions": {"code": "QUERY_TOO_COMPLEX", "cost": 6100, "limit": 5000}}

Every response of an operation whose cost was computed carries it as ``extensions.cost``
(refused ones too); the request's :class:`CostAccount` records it for the access log.

An operation within the limit is then charged to its caller's cost budget, when the account
has a :class:`CostMeter` (:mod:`gateway.web.budget`): a budget without enough points left
refuses it (``RATE_LIMITED``) before anything executes.

The extension reads the execution context as a :class:`Costed` (``gateway.context.Context``
is one): the request's date, its longest range and its cost account.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from graphql import FragmentDefinitionNode, GraphQLError, get_operation_ast
from strawberry.extensions import SchemaExtension

from gateway.domain import MAX_RANGE_DAYS
from gateway.errors import ErrorCode
from gateway.limits.cost import CostWalker, coerce_variables


class CostMeter(Protocol):
    """What charges an operation's cost to its caller's budget."""

    async def charge(self, cost: int) -> None:
        """Spend ``cost`` points; raise a ``RATE_LIMITED`` error when they are not left."""
        ...


@dataclass(slots=True)
class CostAccount:
    """One request's cost: the meter charging its caller's budget (None: no budget), and the
    name and cost of its (last) operation once computed."""

    meter: CostMeter | None = None
    operation: str | None = None
    cost: int | None = None


class Costed(Protocol):
    """The execution context the cost limit reads."""

    @property
    def today(self) -> dt.date:
        """The request's UTC date (relative ranges end on it)."""
        ...

    @property
    def max_range_days(self) -> int:
        """The longest range a time range may span."""
        ...

    @property
    def cost(self) -> CostAccount:
        """The request's cost account."""
        ...


@dataclass(slots=True)
class _Uncontexted:
    """The :class:`Costed` of an execution run without a context."""

    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())
    max_range_days: int = MAX_RANGE_DAYS
    cost: CostAccount = field(default_factory=CostAccount)


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
        account = self._context.cost
        account.operation, account.cost = self.operation_name, self.cost
        if self.cost is not None and self.cost > self.limit:
            raise GraphQLError(
                f"the operation costs {self.cost}; the limit is {self.limit}",
                extensions={
                    "code": ErrorCode.QUERY_TOO_COMPLEX.value,
                    "cost": self.cost,
                    "limit": self.limit,
                },
            )
        if account.meter is not None and self.cost is not None:
            await account.meter.charge(self.cost)
        yield

    @property
    def _context(self) -> Costed:
        """The execution's context; an execution without one (a tool introspecting the schema)
        gets today's date, the default longest range and an account of its own."""
        context: Costed | None = self.execution_context.context
        return context if context is not None else _Uncontexted()

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
        costed = self._context
        walker = CostWalker(schema, fragments, variables, costed.today, costed.max_range_days)
        try:
            return walker.operation(operation)
        except OverflowError:
            return self.limit + 1  # more selections than any document within limits has
