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
not, the answer is zero without reading anything (:func:`mini_program_cell` returns None).

Example:
    >>> f = Filters(type=TypeFilter.MINI_GAME, category="games", data_type=DataType.PRODUCTION)
    >>> workspace_cell("w1", f)
    CellKey(scope='ws:w1', data_type='PRODUCTION', mp_type='MINI_GAME', category='games')
    >>> mini_program_cell("m1", mp_type=MiniProgramType.MINI_PROGRAM, category="games", filters=f)
    >>> mini_program_cell("m1", app_id="a1", mp_type=MiniProgramType.MINI_GAME,
    ...                   category="games", filters=f)
    CellKey(scope='app:a1|mp:m1', data_type='PRODUCTION', mp_type='*', category='*')
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.domain import DataType, MiniProgramType, TypeFilter

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


@dataclass(frozen=True)
class Filters:
    """The filter arguments every metric field takes (SPEC §4)."""

    type: TypeFilter = TypeFilter.ALL
    category: str | None = None
    data_type: DataType = DataType.PRODUCTION


def workspace_scope(workspace_id: str) -> str:
    """Scope string of a workspace."""
    return f"ws:{workspace_id}"


def app_scope(app_id: str) -> str:
    """Scope string of a target app."""
    return f"app:{app_id}"


def mini_program_scope(mp_id: str, app_id: str | None = None) -> str:
    """Scope string of a mini program, across apps or (with ``app_id``) inside one app."""
    return f"mp:{mp_id}" if app_id is None else f"app:{app_id}|mp:{mp_id}"


def _filtered(scope: str, filters: Filters) -> CellKey:
    only = filters.type.only
    return CellKey(
        scope=scope,
        data_type=filters.data_type.name,
        mp_type=ANY if only is None else only.name,
        category=ANY if filters.category is None else filters.category,
    )


def workspace_cell(workspace_id: str, filters: Filters) -> CellKey:
    """The cell answering a workspace metric under ``filters``."""
    return _filtered(workspace_scope(workspace_id), filters)


def target_app_cell(app_id: str, filters: Filters) -> CellKey:
    """The cell answering a target-app metric under ``filters``."""
    return _filtered(app_scope(app_id), filters)


def mini_program_cell(
    mp_id: str,
    *,
    mp_type: MiniProgramType,
    category: str,
    filters: Filters,
    app_id: str | None = None,
) -> CellKey | None:
    """The cell answering a mini-program metric, or None when the filters exclude it.

    Args:
        mp_id: The mini program.
        mp_type: Its current type (filters are checked against it).
        category: Its current category.
        filters: The metric's filters.
        app_id: The parent app when reached through ``TargetApp`` (only its events count).
    """
    if not filters.type.admits(mp_type):
        return None
    if filters.category is not None and filters.category != category:
        return None
    return CellKey(mini_program_scope(mp_id, app_id), filters.data_type.name)


def event_cells(
    *, workspace_id: str, app_id: str, mp_id: str, mp_type: str, category: str, data_type: str
) -> tuple[CellKey, ...]:
    """The ten cells an event counts in (see the module docstring), in a fixed slot order."""
    out: list[CellKey] = []
    for scope in (workspace_scope(workspace_id), app_scope(app_id)):
        for type_ in (mp_type, ANY):
            for cat in (category, ANY):
                out.append(CellKey(scope, data_type, type_, cat))
    out.append(CellKey(mini_program_scope(mp_id), data_type))
    out.append(CellKey(mini_program_scope(mp_id, app_id), data_type))
    return tuple(out)
