"""Catalog records: check their references, then upsert them (the later record for a key wins).

The whole catalog's keys (ids and owning workspaces, a few thousand rows) are read into a
:class:`CatalogView` at the start of each chunk's transaction; records are checked against it
in line order and update it as they go, so a record may refer to one earlier in the same chunk.
The surviving rows are then written per table, parents first.

A mini program belongs to its workspace (SPEC §2): a deployment into another workspace's app is
inconsistent, and so is an upsert that moves an app or a mini program with deployments, or a
merchant with mini programs, to another workspace (``workspace move``): the events already
counted for the old workspace would otherwise be read by the new one's callers.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.store.ingest.users import USER_COLUMNS, copy_new_users, upsert_users
from gateway.store.records import (
    CatalogRecord,
    DeploymentRecord,
    MerchantRecord,
    MiniProgramRecord,
    TargetAppRecord,
    UserRecord,
    WorkspaceRecord,
    to_utc_naive,
)
from gateway.store.tables import (
    deployments,
    merchants,
    mini_programs,
    target_apps,
    users,
    workspaces,
)

CATALOG_TABLES: dict[type[Any], tuple[Table, tuple[str, ...]]] = {
    WorkspaceRecord: (workspaces, ("id",)),
    MerchantRecord: (merchants, ("id",)),
    TargetAppRecord: (target_apps, ("id",)),
    MiniProgramRecord: (mini_programs, ("id",)),
    DeploymentRecord: (deployments, ("target_app_id", "mini_program_id", "at")),
    UserRecord: (users, ("guid",)),
}
"""Table and upsert key of each catalog record class, parents before children."""

Reference = tuple[str, str]
"""A failed reference check: ``(reason_class, reason)``."""


@dataclass
class CatalogView:
    """Ids of the catalog and the workspace each belongs to."""

    workspaces: set[str]
    merchants: dict[str, str]
    target_apps: dict[str, str]
    mini_programs: dict[str, str]
    deployed_apps: set[str] = field(default_factory=set)
    """Target apps with at least one deployment record (tied to their workspace)."""
    deployed_mini_programs: set[str] = field(default_factory=set)
    """Mini programs with at least one deployment record (tied to their workspace)."""
    merchant_of: dict[str, str] = field(default_factory=dict)
    """Each mini program's merchant, for those that have one."""
    merchant_mini_programs: Counter[str] = field(default_factory=Counter)
    """How many mini programs name each merchant (a merchant with any is tied)."""

    @classmethod
    async def load(cls, conn: AsyncConnection) -> CatalogView:
        """Read the current catalog keys (inside the chunk's transaction)."""

        async def owners(table: Table) -> dict[str, str]:
            rows = await conn.execute(select(table.c.id, table.c.workspace_id))
            return {row.id: row.workspace_id for row in rows}

        ids = await conn.scalars(select(workspaces.c.id))
        pairs = await conn.execute(
            select(deployments.c.target_app_id, deployments.c.mini_program_id).distinct()
        )
        apps, mps = set(), set()
        for app_id, mp_id in pairs:
            apps.add(app_id)
            mps.add(mp_id)
        owned = await conn.execute(
            select(mini_programs.c.id, mini_programs.c.merchant_id).where(
                mini_programs.c.merchant_id.is_not(None)
            )
        )
        merchant_of = {row.id: row.merchant_id for row in owned}
        return cls(
            set(ids),
            await owners(merchants),
            await owners(target_apps),
            await owners(mini_programs),
            apps,
            mps,
            merchant_of,
            Counter(merchant_of.values()),
        )

    def copy(self) -> CatalogView:
        """An independent copy (a plan's record of the catalog it was checked against)."""
        return CatalogView(
            set(self.workspaces),
            dict(self.merchants),
            dict(self.target_apps),
            dict(self.mini_programs),
            set(self.deployed_apps),
            set(self.deployed_mini_programs),
            dict(self.merchant_of),
            Counter(self.merchant_mini_programs),
        )

    def check_event(self, target_app_id: str, mini_program_id: str) -> Reference | None:
        """Why an event naming this app and mini program is inconsistent, or None."""
        app_ws = self.target_apps.get(target_app_id)
        if app_ws is None:
            return "unknown targetApp", f"unknown targetApp {target_app_id!r}"
        mp_ws = self.mini_programs.get(mini_program_id)
        if mp_ws is None:
            return "unknown miniProgram", f"unknown miniProgram {mini_program_id!r}"
        if mp_ws != app_ws:
            return "workspace mismatch", (
                f"miniProgram {mini_program_id!r} belongs to workspace {mp_ws!r}, "
                f"targetApp {target_app_id!r} to {app_ws!r}"
            )
        return None

    def apply(self, record: CatalogRecord) -> Reference | None:
        """Check ``record``'s references; when they hold, record its key and return None."""
        check = _CHECKS[type(record)]
        problem = check(self, record)
        if problem is None:
            if isinstance(record, WorkspaceRecord):
                self.workspaces.add(record.id)
            elif isinstance(record, MerchantRecord):
                self.merchants[record.id] = record.workspace_id
            elif isinstance(record, TargetAppRecord):
                self.target_apps[record.id] = record.workspace_id
            elif isinstance(record, MiniProgramRecord):
                self.mini_programs[record.id] = record.workspace_id
                self._set_merchant(record.id, record.merchant_id)
            elif isinstance(record, DeploymentRecord):
                self.deployed_apps.add(record.target_app_id)
                self.deployed_mini_programs.add(record.mini_program_id)
        return problem

    def _set_merchant(self, mini_program_id: str, merchant_id: str | None) -> None:
        old = self.merchant_of.pop(mini_program_id, None)
        if old is not None:
            self.merchant_mini_programs[old] -= 1
        if merchant_id is not None:
            self.merchant_of[mini_program_id] = merchant_id
            self.merchant_mini_programs[merchant_id] += 1

    def moved(
        self, kind: str, owners: dict[str, str], entity_id: str, workspace_id: str, ties: str | None
    ) -> Reference | None:
        """The ``workspace move`` problem of an upsert that moves a tied entity, else None."""
        old = owners.get(entity_id)
        if old is None or old == workspace_id or ties is None:
            return None
        return "workspace move", (
            f"{kind} {entity_id!r} belongs to workspace {old!r} and {ties} there: it cannot "
            f"move to {workspace_id!r}"
        )

    def _workspace(self, workspace_id: str) -> Reference | None:
        if workspace_id in self.workspaces:
            return None
        return "unknown workspace", f"unknown workspace {workspace_id!r}"


def _check_target_app(view: CatalogView, record: Any) -> Reference | None:
    assert isinstance(record, TargetAppRecord)
    ties = "has deployments" if record.id in view.deployed_apps else None
    return view._workspace(record.workspace_id) or view.moved(
        "targetApp", view.target_apps, record.id, record.workspace_id, ties
    )


def _check_merchant(view: CatalogView, record: Any) -> Reference | None:
    assert isinstance(record, MerchantRecord)
    count = view.merchant_mini_programs[record.id]
    ties = f"has {count} mini program(s)" if count > 0 else None
    return view._workspace(record.workspace_id) or view.moved(
        "merchant", view.merchants, record.id, record.workspace_id, ties
    )


def _check_mini_program(view: CatalogView, record: Any) -> Reference | None:
    assert isinstance(record, MiniProgramRecord)
    ties = "has deployments" if record.id in view.deployed_mini_programs else None
    problem = view._workspace(record.workspace_id) or view.moved(
        "miniProgram", view.mini_programs, record.id, record.workspace_id, ties
    )
    if problem is not None or record.merchant_id is None:
        return problem
    merchant_ws = view.merchants.get(record.merchant_id)
    if merchant_ws is None:
        return "unknown merchant", f"unknown merchant {record.merchant_id!r}"
    if merchant_ws != record.workspace_id:
        return "workspace mismatch", (
            f"merchant {record.merchant_id!r} belongs to workspace {merchant_ws!r}, "
            f"not {record.workspace_id!r}"
        )
    return None


def _check_deployment(view: CatalogView, record: Any) -> Reference | None:
    assert isinstance(record, DeploymentRecord)
    return view.check_event(record.target_app_id, record.mini_program_id)


def _no_check(view: CatalogView, record: Any) -> Reference | None:
    del view, record
    return None


_CHECKS: dict[type[Any], Callable[[CatalogView, Any], Reference | None]] = {
    WorkspaceRecord: _no_check,
    MerchantRecord: _check_merchant,
    TargetAppRecord: _check_target_app,
    MiniProgramRecord: _check_mini_program,
    DeploymentRecord: _check_deployment,
    UserRecord: _no_check,
}


def catalog_row(record: CatalogRecord) -> dict[str, Any]:
    """The table row of ``record``: snake_case columns, timestamps in naive UTC.

    Raises:
        OverflowError: A timestamp leaves years 1-9999 once converted to UTC.
    """
    row = msgspec.structs.asdict(record)
    for name, value in row.items():
        if isinstance(value, datetime):
            row[name] = to_utc_naive(value)
    return row


_EPOCH = datetime(2000, 1, 1)
_EPOCH_UTC = _EPOCH.replace(tzinfo=UTC)


def naive_utc(moment: datetime | None) -> datetime | None:
    """:func:`~gateway.store.records.to_utc_naive` in two C operations (None stays None).

    Raises:
        OverflowError: The moment leaves years 1-9999 once converted to UTC.
    """
    return None if moment is None else _EPOCH + (moment - _EPOCH_UTC)


class CatalogBatch:
    """The rows a chunk upserts, one per key (the later record for a key replaces the earlier).

    Users, the one numerous catalog record, skip the generic rows: :attr:`users` maps a guid
    to its ``(source, created_at)`` (naive UTC).
    """

    def __init__(self) -> None:
        self._rows: dict[type[Any], dict[tuple[Any, ...], dict[str, Any]]] = {
            cls: {} for cls in CATALOG_TABLES
        }
        self.users: dict[str, tuple[str, datetime | None]] = {}
        self.copy_new_users = False
        """PostgreSQL: try a COPY first when no user of the batch exists (see
        :func:`~gateway.store.ingest.users.copy_new_users`): for writers that hold
        :data:`~gateway.store.ingest.users.USERS_LOCK_KEY` whenever they create users."""

    def add(self, record: CatalogRecord, row: dict[str, Any]) -> None:
        """Queue ``row`` of ``record`` (replacing an earlier row of the chunk with its key)."""
        _, key = CATALOG_TABLES[type(record)]
        self._rows[type(record)][tuple(row[k] for k in key)] = row

    async def write(self, conn: AsyncConnection, batch_id: int | None = None) -> None:
        """Upsert every queued row, parents before children.

        User rows are stamped with ``batch_id`` (``users.source_batch_id``): the refresh folds
        the users whose source changed since its last snapshot by that stamp.
        """
        postgres = conn.dialect.name == "postgresql"
        for cls, (table, key) in CATALOG_TABLES.items():
            # In key order: concurrent writers (the reader of the pipeline creates users ahead
            # of the writer) then lock rows in the same order and cannot deadlock.
            queued = self._rows[cls]
            rows = [queued[k] for k in sorted(queued)]
            if table is users:
                await self._write_users(conn, batch_id, postgres)
            elif rows:
                insert = postgresql.insert(table) if postgres else sqlite.insert(table)
                updates = {c.name: insert.excluded[c.name] for c in table.c if c.name in rows[0]}
                for name in key:
                    updates.pop(name, None)
                await conn.execute(
                    insert.on_conflict_do_update(index_elements=key, set_=updates), rows
                )

    async def _write_users(
        self, conn: AsyncConnection, batch_id: int | None, postgres: bool
    ) -> None:
        if not self.users:
            return
        guids = sorted(self.users)
        sources, created = zip(*map(self.users.__getitem__, guids), strict=True)
        columns = (guids, list(sources), list(created), [batch_id] * len(guids))
        if postgres:
            if not (self.copy_new_users and await copy_new_users(conn, columns)):
                await upsert_users(conn, columns)
            return
        rows = [dict(zip(USER_COLUMNS, row, strict=True)) for row in zip(*columns, strict=True)]
        insert = sqlite.insert(users)
        updates = {name: insert.excluded[name] for name in USER_COLUMNS if name != "guid"}
        await conn.execute(
            insert.on_conflict_do_update(index_elements=["guid"], set_=updates), rows
        )
