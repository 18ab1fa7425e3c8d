"""A GraphQL result as tables: one sheet per list of objects, a summary of the other scalars.

The layout follows the query's :mod:`shape <gateway.web.export.shape>`, not the values, so
the same query always gives the same sheets and columns (an empty list still has its sheet):

* every list of objects, at any depth (a series' points, a breakdown's items, a connection's
  ``nodes`` or ``edges``), is a sheet named after its response path;
* a row's columns are the scalars of its object, nested objects flattened as
  ``Parent / child``; a list of scalars is one cell, its values joined by ``, ``;
* a list inside a list's items is a sheet of its own whose rows start with the row number
  (``Workspaces #``) and the ``id`` / ``name`` of the item they belong to, for each level;
* every scalar outside lists is a row ``(field path, value)`` of the summary.

Cells carry their GraphQL type name, so the writers can make ``Date`` and ``DateTime``
values dates and keep numbers numbers.

Example:
    >>> from gateway.web.export.shape import Leaf, ListOf, Obj
    >>> shape = Obj({"app": Obj({"name": Leaf("String"), "series": ListOf(
    ...     Obj({"date": Leaf("Date"), "value": Leaf("Int")}))})})
    >>> laid = lay_out(shape)
    >>> laid.summary[0].path, laid.tables[0].name, laid.tables[0].headers
    (('app', 'name'), 'app.series', ['Date', 'Value'])
    >>> data = {"app": {"name": "Wallet", "series": [{"date": "2024-03-01", "value": 7}]}}
    >>> list(laid.tables[0].rows(data))
    [[('2024-03-01', 'Date'), (7, 'Int')]]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.web.export.naming import SheetNames, header, label, unique
from gateway.web.export.shape import Leaf, ListOf, Node, Obj

Cell = tuple[Any, str]
"""A value from the result (a JSON scalar, a list of them for a list of scalars, or None)
and its GraphQL type name."""

_UTC = {"DateTime": " (UTC)"}
"""Title suffixes by type: date-times are written in UTC (Excel has no time zones)."""

KEY_FIELDS = frozenset({"id", "name"})
"""Columns of a list's items repeated in its child sheets, to tell which item a row is of."""


@dataclass(frozen=True, slots=True)
class Column:
    """A scalar (or a list of scalars) at ``path`` inside a row's object."""

    path: tuple[str, ...]
    type_name: str


@dataclass(eq=False)
class Table:
    """The sheet of one list of objects.

    Attributes:
        name: The sheet's name (Excel-safe, unique).
        path: The list's response keys from the root (``targetApp.activeUsers.series``).
        steps: The keys from an item of the parent table (or from the root) to the list.
        parent: The table of the list this list is inside, or None.
        columns: The scalars of an item, in selection order.
    """

    name: str
    path: tuple[str, ...]
    steps: tuple[str, ...]
    parent: Table | None
    columns: list[Column] = field(default_factory=list)

    @property
    def keys(self) -> list[Column]:
        """The columns repeated in child sheets: ``id`` and ``name`` at the item's top."""
        return [c for c in self.columns if len(c.path) == 1 and c.path[0] in KEY_FIELDS]

    @property
    def headers(self) -> list[str]:
        """The column titles: the ancestors' references, then the item's own scalars."""
        titles: list[str] = []
        for ancestor in self._ancestors():
            name = label(ancestor.path)
            titles.append(f"{name} #")
            titles.extend(f"{name} / {header(c.path)}" for c in ancestor.keys)
        titles.extend(header(c.path) + _UTC.get(c.type_name, "") for c in self.columns)
        return unique(titles)

    def rows(self, data: Any) -> Iterator[list[Cell]]:
        """The rows of this sheet in ``data`` (the result's ``data``)."""
        for refs, item in self._items(data):
            yield refs + [(_get(item, c.path), c.type_name) for c in self.columns]

    def count(self, data: Any) -> int:
        """How many rows :meth:`rows` yields (without building them)."""
        return sum(1 for _ in self._items(data))

    def _ancestors(self) -> list[Table]:
        chain, table = [], self.parent
        while table is not None:
            chain.append(table)
            table = table.parent
        return chain[::-1]

    def _items(self, data: Any) -> Iterator[tuple[list[Cell], Mapping[str, Any]]]:
        """Each item of the list with the reference cells of the items it is inside."""
        if self.parent is None:
            owners: Iterator[tuple[list[Cell], Any]] = iter([([], data)])
        else:
            owners = (
                (refs + self.parent.reference(number, item), item)
                for number, (refs, item) in enumerate(self.parent._items(data), 1)
            )
        for refs, owner in owners:
            for item in _objects(_get(owner, self.steps)):
                yield refs, item

    def reference(self, number: int, item: Mapping[str, Any]) -> list[Cell]:
        """The cells that name ``item``, row ``number`` of this sheet, in a child sheet."""
        return [(number, "Int"), *((_get(item, c.path), c.type_name) for c in self.keys)]


@dataclass
class Layout:
    """Where each scalar of a result goes: the summary, or a column of a table."""

    summary: list[Column] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    def summary_rows(self, data: Any) -> Iterator[list[Cell]]:
        """``(field path, value)`` of every scalar outside lists."""
        for column in self.summary:
            yield [(".".join(column.path), "String"), (_get(data, column.path), column.type_name)]


def lay_out(shape: Obj) -> Layout:
    """The layout of results of ``shape`` (tables in the order their lists are selected,
    a list's table before the tables of lists inside it)."""
    layout = Layout()
    _walk(shape, (), None, (), layout, SheetNames())
    return layout


def _walk(
    obj: Obj,
    steps: tuple[str, ...],
    owner: Table | None,
    path: tuple[str, ...],
    layout: Layout,
    names: SheetNames,
) -> None:
    for key, node in obj.fields.items():
        inner = _innermost(node)
        if isinstance(inner, Leaf):
            where = layout.summary if owner is None else owner.columns
            where.append(Column((*path, key) if owner is None else (*steps, key), inner.type_name))
        elif isinstance(node, Obj):
            _walk(node, (*steps, key), owner, (*path, key), layout, names)
        else:
            table = Table(names.add((*path, key)), (*path, key), (*steps, key), owner)
            layout.tables.append(table)
            _walk(inner, (), table, (*path, key), layout, names)


def _innermost(node: Node) -> Leaf | Obj:
    while isinstance(node, ListOf):
        node = node.item
    return node


def _get(value: Any, path: Sequence[str]) -> Any:
    """The value at ``path`` below ``value``; None where an object on the way is null."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _objects(value: Any) -> Iterator[Mapping[str, Any]]:
    """The objects of a list (of lists...) of objects; nulls are skipped."""
    if isinstance(value, Mapping):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)
