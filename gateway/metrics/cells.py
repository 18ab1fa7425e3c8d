"""Rollup cells: every scope + filter combination of SPEC §4 is one cell.

An event of user ``u`` in target app ``a`` (of workspace ``w``) and mini program ``m`` (of type
``t`` and category ``c``), with data type ``dt``, is counted in exactly ten cells
(:func:`event_cells`):

- ``ws:<w>`` x ``dt`` x type in {``t``, ``*``} x category in {``c``, ``*``}  (4 cells)
- ``app:<a>`` x ``dt`` x type in {``t``, ``*``} x category in {``c``, ``*``}  (4 cells)
- ``mp:<m>`` x ``dt`` x ``*`` x ``*`` (the mini program across all apps)
- ``app:<a>|mp:<m>`` x ``dt`` x ``*`` x ``*`` (the mini program inside one app)

Scopes are injective: ids are 1 to 128 of ``[A-Za-z0-9_.:@/-]``
(:data:`~gateway.domain.ID_PATTERN`), so the fixed prefixes and the ``|`` between an app and a
mini program, outside that grammar, never let two scopes spell alike.

A query reads exactly one cell. A type or category filter on a single mini program is answered
from the mini program's own attributes: when it matches, the filter changes nothing; when it does
not, the answer is zero without reading anything (:func:`admits` says so).

An entity's cell is derived from its reference (:class:`~gateway.domain.EntityRef`) by
:func:`cell_of`; a mini program answers type and category filters from its own attributes
(:func:`admits`), so its cell is always the unfiltered one.

Example:
    >>> from gateway.domain import DataType, TypeFilter
    >>> f = Filters(type=TypeFilter.MINI_GAME, category="games", data_type=DataType.PRODUCTION)
    >>> cell_of(EntityRef.workspace("w1"), f)
    CellKey(scope='ws:w1', data_type='PRODUCTION', mp_type='MINI_GAME', category='games')
    >>> admits(f, MiniProgramType.MINI_PROGRAM, "games")
    False
    >>> cell_of(EntityRef.mini_program("m1", "w1", merchant_id=None, via="a1"), f)
    CellKey(scope='app:a1|mp:m1', data_type='PRODUCTION', mp_type='*', category='*')
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import EntityRef, Filters, Level, MiniProgramType

ANY = "*"
"""The ``mp_type`` / ``category`` of a cell that keeps every type / category."""


@dataclass(frozen=True, order=True)
class CellKey:
    """The identity of one rollup cell (a row of ``rollup_cells``).

    Attributes:
        scope: ``ws:<id>``, ``app:<id>``, ``mp:<id>`` or ``app:<id>|mp:<id>``.
        data_type: A :class:`~gateway.domain.DataType` name.
        mp_type: A :class:`~gateway.domain.MiniProgramType` name, or ``*``.
        category: A category slug, or ``*``.
    """

    scope: str
    data_type: str
    mp_type: str = ANY
    category: str = ANY


def workspace_scope(workspace_id: str) -> str:
    """Scope string of a workspace."""
    return f"ws:{workspace_id}"


def app_scope(app_id: str) -> str:
    """Scope string of a target app."""
    return f"app:{app_id}"


def mini_program_scope(mp_id: str, app_id: str | None = None) -> str:
    """Scope string of a mini program, across apps or (with ``app_id``) inside one app."""
    return f"mp:{mp_id}" if app_id is None else f"app:{app_id}{_INSIDE}mp:{mp_id}"


_INSIDE = "|"
"""Between the app and the mini program of a fine scope (outside the id grammar)."""

FINE_SCOPES = f"app:%{_INSIDE}mp:%"
"""A SQL ``LIKE`` pattern matching exactly the fine scopes, ``app:<a>|mp:<m>``: the finest cells,
one per app and mini program, which every other cell is a union of."""


def fine_pair(scope: str) -> tuple[str, str] | None:
    """``(app, mini program)`` of a fine scope (:func:`mini_program_scope` with an app), None
    for any other scope.

    >>> fine_pair("app:a/1|mp:m:2"), fine_pair("mp:m"), fine_pair("app:a")
    (('a/1', 'm:2'), None, None)
    """
    app, inside, mp = scope.partition(f"{_INSIDE}mp:")
    if not inside or not app.startswith("app:"):
        return None
    return app.removeprefix("app:"), mp


def filter_cells(scope: str, data_type: str, mp_type: str, category: str) -> tuple[CellKey, ...]:
    """The four cells of a workspace or app ``scope`` a mini program of ``mp_type`` and
    ``category`` counts in: type in {it, ``*``} x category in {it, ``*``}, the all-types,
    all-categories cell last."""
    return tuple(CellKey(scope, data_type, t, c) for t in (mp_type, ANY) for c in (category, ANY))


def scope_of(ref: EntityRef) -> str:
    """The rollup scope of an entity: ``ws:<id>``, ``app:<id>``, ``mp:<id>`` or, for a mini
    program reached through an app, ``app:<id>|mp:<id>``.

    Raises:
        ValueError: a merchant has no rollups.
    """
    if ref.level is Level.WORKSPACE:
        return workspace_scope(ref.id)
    if ref.level is Level.TARGET_APP:
        return app_scope(ref.id)
    if ref.level is Level.MINI_PROGRAM:
        return mini_program_scope(ref.id, ref.target_app_id)
    raise ValueError(f"a {ref.level.value} has no rollup scope")


def cell_of(ref: EntityRef, filters: Filters) -> CellKey:
    """The cell answering the entity's event metrics under ``filters``.

    A workspace or target app has a cell per type and category; a mini program has only the
    unfiltered one, its own type and category deciding whether it passes (:func:`admits`).
    """
    scope = scope_of(ref)
    if ref.level is Level.MINI_PROGRAM:
        return CellKey(scope, filters.data_type.name)
    only = filters.type.only
    return CellKey(
        scope=scope,
        data_type=filters.data_type.name,
        mp_type=ANY if only is None else only.name,
        category=ANY if filters.category is None else filters.category,
    )


def admits(filters: Filters, mp_type: MiniProgramType, category: str) -> bool:
    """True when a mini program of ``mp_type`` and ``category`` passes the type and category
    filters (when it does not, its metrics are 0 without reading anything)."""
    if not filters.type.admits(mp_type):
        return False
    return filters.category is None or filters.category == category


def event_cells(
    *, workspace_id: str, app_id: str, mp_id: str, mp_type: str, category: str, data_type: str
) -> tuple[CellKey, ...]:
    """The ten cells an event counts in (see the module docstring), in a fixed slot order."""
    return (
        *filter_cells(workspace_scope(workspace_id), data_type, mp_type, category),
        *filter_cells(app_scope(app_id), data_type, mp_type, category),
        CellKey(mini_program_scope(mp_id), data_type),
        CellKey(mini_program_scope(mp_id, app_id), data_type),
    )
