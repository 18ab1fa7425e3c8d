"""Catalog resolvers: GraphQL arguments -> a loader key -> the loader (nothing else).

Every function takes the request :class:`~gateway.context.Context` and plain values, and returns
loader rows; the schema wraps them into GraphQL objects.
"""

from __future__ import annotations

import dataclasses

from gateway.context import Context
from gateway.domain import ID_RULE, DeploymentStatus, Filters, TypeFilter, is_id
from gateway.errors import BadUserInputError
from gateway.limits.pages import check_first
from gateway.loaders.catalog_rows import (
    MerchantRow,
    MiniProgramRow,
    Page,
    StatusChange,
    TargetAppRow,
    WorkspaceRow,
)
from gateway.loaders.keys import FilteredKey, PageKey, PairKey
from gateway.metrics.status_groups import StatusCounts
from gateway.resolvers.category import check_category
from gateway.resolvers.pagination import decode_cursor


def check_id(value: str) -> str:
    """``value`` when it is a well-formed id (SPEC §2), else BAD_USER_INPUT (no entity could
    have it, so nothing is looked up)."""
    if not is_id(value):
        raise BadUserInputError(f"an id is {ID_RULE}")
    return value


def page_key(
    parent_id: str,
    first: int | None,
    after: str | None,
    flt: Filters | None = None,
    status: DeploymentStatus | None = None,
) -> PageKey:
    """The loader key of one page; validates ``first`` and decodes ``after``."""
    return PageKey(
        parent_id=parent_id,
        first=check_first(first),
        after=decode_cursor(after),
        filter=flt or Filters(),
        status=status,
    )


async def workspace(ctx: Context, workspace_id: str) -> WorkspaceRow | None:
    """A workspace by id, or None."""
    return await ctx.loaders.workspace.load(check_id(workspace_id))


async def target_app(ctx: Context, target_app_id: str) -> TargetAppRow | None:
    """A target app by id, or None."""
    return await ctx.loaders.target_app.load(check_id(target_app_id))


async def mini_program(ctx: Context, mini_program_id: str) -> MiniProgramRow | None:
    """A mini program by id, or None."""
    return await ctx.loaders.mini_program.load(check_id(mini_program_id))


async def merchant(ctx: Context, merchant_id: str) -> MerchantRow | None:
    """A merchant by id, or None."""
    return await ctx.loaders.merchant.load(check_id(merchant_id))


async def workspaces(ctx: Context, first: int | None, after: str | None) -> Page[WorkspaceRow]:
    """A page of the workspaces the caller may see (every one for a platform role)."""
    key = page_key("", first, after)
    if ctx.principal is not None:
        key = dataclasses.replace(key, only=ctx.principal.workspace_ids)
    else:
        key = dataclasses.replace(key, only=frozenset())
    return await ctx.loaders.workspaces.load(key)


async def target_apps_of_workspace(
    ctx: Context, workspace_id: str, first: int | None, after: str | None
) -> Page[TargetAppRow]:
    """A page of a workspace's target apps."""
    return await ctx.loaders.target_apps_by_workspace.load(page_key(workspace_id, first, after))


async def merchants_of_workspace(
    ctx: Context, workspace_id: str, first: int | None, after: str | None
) -> Page[MerchantRow]:
    """A page of a workspace's merchants."""
    return await ctx.loaders.merchants_by_workspace.load(page_key(workspace_id, first, after))


async def mini_programs_of_workspace(
    ctx: Context, workspace_id: str, first: int | None, after: str | None, flt: Filters
) -> Page[MiniProgramRow]:
    """A page of a workspace's mini programs."""
    key = page_key(workspace_id, first, after, flt)
    return await ctx.loaders.mini_programs_by_workspace.load(key)


async def mini_programs_of_merchant(
    ctx: Context, merchant_id: str, first: int | None, after: str | None
) -> Page[MiniProgramRow]:
    """A page of a merchant's mini programs."""
    return await ctx.loaders.mini_programs_by_merchant.load(page_key(merchant_id, first, after))


async def mini_programs_of_target_app(
    ctx: Context,
    target_app_id: str,
    first: int | None,
    after: str | None,
    flt: Filters,
    status: DeploymentStatus | None,
) -> Page[MiniProgramRow]:
    """A page of the mini programs associated with a target app."""
    key = page_key(target_app_id, first, after, flt, status)
    return await ctx.loaders.mini_programs_by_target_app.load(key)


async def mini_program_of_target_app(
    ctx: Context, target_app_id: str, mini_program_id: str
) -> MiniProgramRow | None:
    """A mini program by id when it is associated with the target app (a deployment record
    exists), else None."""
    row = await mini_program(ctx, mini_program_id)
    if row is None or not await deployment_history(ctx, target_app_id, row.id):
        return None
    return row


async def deployments_of_mini_program(
    ctx: Context, mini_program_id: str, first: int | None, after: str | None
) -> Page[tuple[str, tuple[StatusChange, ...]]]:
    """A page of a mini program's deployments: (target app id, status history) pairs."""
    page = await ctx.loaders.deployments_by_mini_program.load(
        page_key(mini_program_id, first, after)
    )
    histories = await ctx.loaders.deployment_history.load_many(
        [PairKey(app_id, mini_program_id) for app_id in page.items]
    )
    return Page(tuple(zip(page.items, histories, strict=True)), page.has_next, page.total)


async def deployment_history(
    ctx: Context, target_app_id: str, mini_program_id: str
) -> tuple[StatusChange, ...]:
    """The status history of a deployment, oldest first (empty when not associated)."""
    return await ctx.loaders.deployment_history.load(PairKey(target_app_id, mini_program_id))


async def status_counts(ctx: Context, target_app_id: str, flt: Filters) -> StatusCounts:
    """Current status-group counts of a target app's mini programs."""
    return await ctx.loaders.status_counts.load(FilteredKey(target_app_id, flt))


async def available_in_target_app(ctx: Context, target_app_id: str, flt: Filters) -> int:
    """Mini programs currently available (full or grayscale release) in a target app."""
    return await ctx.loaders.available_by_target_app.load(FilteredKey(target_app_id, flt))


async def available_in_workspace(ctx: Context, workspace_id: str, flt: Filters) -> int:
    """Distinct mini programs currently available in any target app of a workspace."""
    return await ctx.loaders.available_by_workspace.load(FilteredKey(workspace_id, flt))


def mini_program_filter(type_: TypeFilter | None, category: str | None) -> Filters:
    """The loader filter of the ``type`` (null = ALL) and ``category`` arguments."""
    return Filters(type=type_ or TypeFilter.ALL, category=check_category(category))
