"""The shape of an operation's result, read from its selections and the schema's types.

An export lays out a result by what the query asked, not by guessing from values: every
response key (an alias, or the field's name) gets the GraphQL type of its field, so a
``Date`` string becomes a date and a ``String`` that looks like one stays text. Fragments
(named and inline) are merged where they are spread, and a key selected twice is merged like
graphql-core merges it at execution.

Example:
    >>> from graphql import build_schema as sdl, parse
    >>> schema = sdl("type Query { day: Date, points: [P!]! } type P { n: Int } scalar Date")
    >>> shape = shape_of(schema, parse("{ when: day points { n } }"), None)
    >>> shape.fields["when"], shape.fields["points"]
    (Leaf(type_name='Date'), ListOf(item=Obj(fields={'n': Leaf(type_name='Int')})))
"""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    get_operation_ast,
    is_leaf_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef


@dataclass(frozen=True, slots=True)
class Leaf:
    """A scalar or enum value; ``type_name`` is its GraphQL type (``Int``, ``Date``...)."""

    type_name: str


@dataclass(slots=True)
class Obj:
    """An object: its response keys in selection order."""

    fields: dict[str, Node] = field(default_factory=dict)


@dataclass(slots=True)
class ListOf:
    """A list of ``item``."""

    item: Node


Node = Leaf | Obj | ListOf
"""The shape of one value of the result."""


class ShapeError(ValueError):
    """The document names no operation to export, or an unknown field (not validated)."""


def shape_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Obj:
    """The shape of the result of ``operation_name`` in ``document`` (a validated query).

    Raises:
        ShapeError: The document selects no query operation, or a field the schema lacks.
    """
    operation = get_operation_ast(document, operation_name)
    root = schema.query_type
    if operation is None or root is None:
        raise ShapeError("the document selects no query operation")
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walker = _Walker(schema, fragments)
    shape = Obj()
    walker.collect(root, operation.selection_set, shape)
    return shape


class _Walker:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._schema = schema
        self._fragments = fragments

    def collect(
        self, parent: GraphQLNamedType, selections: SelectionSetNode | None, into: Obj
    ) -> None:
        """Add the keys ``selections`` picks from ``parent`` to ``into``."""
        for node in selections.selections if selections else ():
            if isinstance(node, FieldNode):
                key = node.alias.value if node.alias else node.name.value
                shape = self._typed(self._field(parent, node.name.value).type, node)
                into.fields[key] = _merge(into.fields.get(key), shape)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition
                target = self._type(condition.name.value) if condition else parent
                self.collect(target, node.selection_set, into)
            elif isinstance(node, FragmentSpreadNode):
                fragment = self._fragments.get(node.name.value)
                if fragment is not None:
                    target = self._type(fragment.type_condition.name.value)
                    self.collect(target, fragment.selection_set, into)

    def _typed(self, output: GraphQLOutputType, node: FieldNode) -> Node:
        nullable = get_nullable_type(output)
        if isinstance(nullable, GraphQLList):
            return ListOf(self._typed(nullable.of_type, node))
        named = get_named_type(nullable)
        if is_leaf_type(named):
            return Leaf(named.name)
        shape = Obj()
        self.collect(named, node.selection_set, shape)
        return shape

    def _field(self, parent: GraphQLNamedType, name: str) -> GraphQLField:
        if name == "__typename":
            return TypeNameMetaFieldDef
        if parent is self._schema.query_type and name in ("__schema", "__type"):
            return SchemaMetaFieldDef if name == "__schema" else TypeMetaFieldDef
        # A union has no fields of its own: only its fragments' concrete types do.
        fields: dict[str, GraphQLField] = {}
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            fields = parent.fields
        found = fields.get(name)
        if found is None:
            raise ShapeError(f"{parent.name} has no field {name!r}")
        return found

    def _type(self, name: str) -> GraphQLNamedType:
        found = self._schema.get_type(name)
        if found is None:
            raise ShapeError(f"unknown type {name!r}")
        return found


def _merge(old: Node | None, new: Node) -> Node:
    """``new`` merged into ``old``, the shape already collected under the same key."""
    if isinstance(old, Obj) and isinstance(new, Obj):
        for key, shape in new.fields.items():
            old.fields[key] = _merge(old.fields.get(key), shape)
        return old
    if isinstance(old, ListOf) and isinstance(new, ListOf):
        old.item = _merge(old.item, new.item)
        return old
    return old if old is not None else new
