"""Query cost fitted to analytics, computed before execution with the variables' actual values.

A field costs ``entities × size × weight``: *entities* is how many objects it runs for (the
product of the list sizes above it: a connection's ``first``, a series' points), *size* its own
list size (1 for a single object or a scalar), *weight* its entry in
:data:`~gateway.limits.weights.COST_WEIGHTS`.
List sizes come from the arguments, variables resolved and defaults applied: a connection's
``nodes``/``edges`` hold ``first`` items (50 when omitted or null, at most 100), a metric's
``series`` one point per bucket of its range and granularity, ``monthlyActiveUsers`` one entry
per month. A metric over a range therefore costs, per entity, 1 for its totals plus 1 per
series point. Worked example, with ``LAST_7_DAYS``::

    { workspaces(first: 10) {                   # 1 (the page)
        nodes {                                 # 10 × 1 (each workspace)
          name                                  # leaf: 0
          activeUsers(timeRange: $r) {          # 10 × 1 (its totals)
            value series { value } } } } }      # 10 × 7 (one per day)  -> cost 91

Fields merge as in execution (``a a a`` is one field; ``@skip``/``@include`` are honoured),
and fragments are expanded where spread, so the cost is that of what would execute.
Introspection (``__schema``, ``__type``) costs a flat weight: it is answered from memory and
bounded by the depth limit.

The weights are one table, :data:`gateway.limits.weights.COST_WEIGHTS`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    get_argument_values,
    get_named_type,
    get_variable_values,
)
from graphql.execution.values import VariableValues

from gateway.domain import MAX_RANGE_DAYS, Granularity, TimeRangePreset
from gateway.errors import BadUserInputError
from gateway.limits.pages import DEFAULT_FIRST, MAX_FIRST
from gateway.limits.weights import COST_WEIGHTS, INTROSPECTION, weight
from gateway.metrics.retention import MAX_PERIODS
from gateway.metrics.timerange import (
    DateRange,
    TimeRangeSpec,
    month_ranges,
    parse_month,
    resolve_time_range,
)

MAX_VISITS = 100_000
"""Most selections walked for one document; past it the cost counts as over any limit."""

CONNECTION_LISTS = frozenset({"nodes", "edges"})
"""A connection's item lists: they hold ``first`` items."""


def _list_type(output: GraphQLOutputType) -> bool:
    if isinstance(output, GraphQLNonNull):
        output = output.of_type
    return isinstance(output, GraphQLList)


class CostWalker:
    """Computes the cost of one operation (see the module docstring).

    Args:
        schema: The executable graphql-core schema.
        fragments: The document's fragment definitions by name.
        variables: The operation's coerced variables.
        today: The request's UTC date (time-range presets are relative to it).
        max_days: The longest range allowed (``GATEWAY_MAX_RANGE_DAYS``).
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues | None,
        today: dt.date,
        max_days: int = MAX_RANGE_DAYS,
    ) -> None:
        self._schema = schema
        self._fragments = fragments
        self._variables = variables
        self._today = today
        self._max_days = max_days
        self.visits = 0

    def operation(self, operation: OperationDefinitionNode) -> int:
        """The cost of ``operation`` (a query; other operation types cost the same way)."""
        root = self._schema.get_root_type(operation.operation)
        if root is None:
            return 0
        return self._walk(root, [operation.selection_set], 1, None, DEFAULT_FIRST)

    def _walk(
        self,
        parent: GraphQLObjectType,
        selection_sets: Iterable[SelectionSetNode],
        entities: int,
        span: DateRange | None,
        page: int,
    ) -> int:
        total = 0
        for nodes in self._collect(selection_sets).values():
            self.visits += 1
            if self.visits > MAX_VISITS:
                raise OverflowError("too many selections")
            total += self._field(parent, nodes, entities, span, page)
        return total

    def _field(
        self,
        parent: GraphQLObjectType,
        nodes: list[FieldNode],
        entities: int,
        span: DateRange | None,
        page: int,
    ) -> int:
        name = nodes[0].name.value
        if name in ("__schema", "__type"):
            return entities * COST_WEIGHTS[INTROSPECTION]
        definition = parent.fields.get(name)
        if definition is None:  # __typename, or a field validation already refused
            return 0
        args = self._arguments(definition, nodes[0])
        named = get_named_type(definition.type)
        leaf = not isinstance(named, GraphQLObjectType)
        if "timeRange" in args:
            span = self._span(args["timeRange"])
        size = self._size(parent.name, name, definition.type, args, span, page)
        cost = entities * size * weight(parent.name, name, named.name, leaf)
        if named.name == "Retention":  # its cells, computed once; what it returns is inside
            return cost * self._retention_cells(args)
        if isinstance(named, GraphQLObjectType):
            if "first" in args:
                page = DEFAULT_FIRST if args["first"] is None else args["first"]
                page = min(max(page, 0), MAX_FIRST)
            sets = [node.selection_set for node in nodes if node.selection_set]
            cost += self._walk(named, sets, entities * size, span, page)
        return cost

    def _size(
        self,
        parent: str,
        name: str,
        output: GraphQLOutputType,
        args: dict[str, Any],
        span: DateRange | None,
        page: int,
    ) -> int:
        """How many items a field answers (1 unless it is a list of a known length)."""
        if not _list_type(output):
            return 1
        if name in CONNECTION_LISTS:
            return page
        if span is not None and parent == "Metric" and name == "series":
            granularity = args.get("granularity") or Granularity.DAY
            return len(span.buckets(Granularity(getattr(granularity, "value", granularity))))
        if span is not None and parent == "MerchantOnboarding" and name == "series":
            return span.days
        if name == "monthlyActiveUsers":
            return self._months(args)
        return 1

    def _retention_cells(self, args: dict[str, Any]) -> int:
        """Cohorts x periods of a ``retention`` table (1 when its arguments are invalid: it is
        refused when resolved)."""
        span = self._span(args.get("cohorts"))
        chosen = args.get("granularity") or Granularity.DAY
        granularity = Granularity(getattr(chosen, "value", chosen))
        periods = args.get("periods")
        periods = 7 if periods is None else periods
        if span is None or not 1 <= periods <= MAX_PERIODS[granularity]:
            return 1
        return len(span.buckets(granularity)) * periods

    def _months(self, args: dict[str, Any]) -> int:
        try:
            first = parse_month(str(args.get("from")), argument="from")
            last = parse_month(str(args.get("to")), argument="to")
            return len(month_ranges(first, last, today=self._today))
        except BadUserInputError:
            return 1  # refused when resolved: nothing computed

    def _span(self, value: Any) -> DateRange | None:
        """The resolved range of a coerced ``timeRange`` argument; None when absent or invalid
        (the field is then refused when resolved, and its series count as one point)."""
        if not isinstance(value, dict):
            return None
        preset = value.get("preset")
        spec = TimeRangeSpec(
            preset=None if preset is None else TimeRangePreset(getattr(preset, "value", preset)),
            days=value.get("days"),
            end_date=value.get("endDate"),
            from_=value.get("from"),
            to=value.get("to"),
        )
        try:
            return resolve_time_range(spec, today=self._today, max_days=self._max_days)
        except (BadUserInputError, TypeError, ValueError):
            return None

    def _arguments(self, definition: Any, node: FieldNode) -> dict[str, Any]:
        try:
            return get_argument_values(definition, node, self._variables)
        except GraphQLError:
            return {}  # execution reports it; the field does no work

    def _included(self, node: SelectionNode) -> bool:
        pairs = ((GraphQLSkipDirective, True), (GraphQLIncludeDirective, False))
        for directive, skip_when in pairs:
            found = next((d for d in node.directives or () if d.name.value == directive.name), None)
            if found is None:
                continue
            try:
                condition = get_argument_values(directive, found, self._variables).get("if")
            except GraphQLError:
                continue
            if condition is skip_when:
                return False
        return True

    def _collect(self, selection_sets: Iterable[SelectionSetNode]) -> dict[str, list[FieldNode]]:
        """The fields selected, by response key, as execution merges them."""
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()
        for node in self._selections(selection_sets, visited):
            key = node.alias.value if node.alias else node.name.value
            fields.setdefault(key, []).append(node)
        return fields

    def _selections(
        self, selection_sets: Iterable[SelectionSetNode], visited: set[str]
    ) -> Iterator[FieldNode]:
        for selection_set in selection_sets:
            for node in selection_set.selections:
                if not self._included(node):
                    continue
                if isinstance(node, FieldNode):
                    yield node
                elif isinstance(node, InlineFragmentNode):
                    yield from self._selections([node.selection_set], visited)
                elif isinstance(node, FragmentSpreadNode) and node.name.value not in visited:
                    visited.add(node.name.value)
                    fragment = self._fragments.get(node.name.value)
                    if fragment is not None:
                        yield from self._selections([fragment.selection_set], visited)


def coerce_variables(
    schema: GraphQLSchema, operation: OperationDefinitionNode, raw: dict[str, Any] | None
) -> VariableValues | None:
    """The operation's variables as execution coerces them; None when they do not coerce
    (execution then refuses the request before running anything)."""
    coerced = get_variable_values(schema, operation.variable_definitions or (), raw or {})
    return None if isinstance(coerced, list) else coerced
