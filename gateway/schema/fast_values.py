"""Completing value objects whose selected fields are all plain leaves in one loop.

graphql-core completes every field of every object with a resolve info, a resolver call and a
completion step (several microseconds a field): a 90 x 30 retention table is 8,000 fields, four
fifths of its time. For an object whose selected fields are all leaves (scalars, enums) that
strawberry reads as plain attributes (no resolver, field extension or permission), selected
without arguments, :class:`FastValuesExecutionContext` reads and serializes them directly. Any
other selection, and any value this path does not complete cleanly (a null in a non-null field,
a value its scalar refuses), goes through graphql-core as before, so answers and errors are the
same; the role matrix guards fields with field extensions, which keep a field off this path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLObjectType,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

Plan = tuple[tuple[str, str | None, Callable[[Any], Any], bool], ...]
"""Per selected field: response key, attribute (None: ``__typename``), serializer, non-null."""


def _plan(return_type: GraphQLObjectType, grouped: Any) -> Plan | None:
    steps: list[tuple[str, str | None, Callable[[Any], Any], bool]] = []
    for key, details in grouped.items():
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            steps.append((key, None, str, True))
            continue
        field = return_type.fields.get(name)
        if field is None or node.arguments or node.selection_set is not None:
            return None
        leaf = get_nullable_type(field.type)
        definition = field.extensions.get("strawberry-definition")
        if (
            not is_leaf_type(leaf)
            or definition is None
            or definition.base_resolver is not None
            or definition.extensions
            or definition.permission_classes
        ):
            return None
        steps.append((key, definition.python_name, leaf.serialize, is_non_null_type(field.type)))
    return tuple(steps)


class FastValuesExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context, with the leaf-only object path above."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[tuple[str, tuple[int, ...]], Plan | None] = {}

    def collect_and_execute_subfields(
        self,
        return_type: GraphQLObjectType,
        field_details_list: Any,
        path: Any,
        result: Any,
        position_context: Any,
    ) -> Any:
        """The object's fields in one loop when its selection allows, else graphql-core's."""
        key = (return_type.name, tuple(id(details.node) for details in field_details_list))
        if key not in self._plans:
            grouped, deferred, _ = self.collect_subfields(return_type, field_details_list)
            self._plans[key] = None if deferred else _plan(return_type, grouped)
        plan = self._plans[key]
        if plan is not None:
            out = _complete(plan, return_type.name, result)
            if out is not None:
                return out
        return super().collect_and_execute_subfields(
            return_type, field_details_list, path, result, position_context
        )


def _complete(plan: Plan, type_name: str, result: Any) -> dict[str, Any] | None:
    """The completed object, or None when a value needs graphql-core's path."""
    out: dict[str, Any] = {}
    try:
        for key, attribute, serialize, non_null in plan:
            if attribute is None:
                out[key] = type_name
                continue
            value = getattr(result, attribute)
            if value is None:
                if non_null:
                    return None
                out[key] = None
            else:
                out[key] = serialize(value)
    except Exception:
        return None
    return out
