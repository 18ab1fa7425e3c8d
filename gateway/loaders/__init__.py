"""Per-request dataloaders: each batch answers its keys, in order, with one query.

:class:`Loaders` holds one instance of every loader; :class:`gateway.context.Context` creates a
fresh one per request, so nothing cached here outlives the request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, get_type_hints

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.cache.snapshot_cache import SnapshotCache
from gateway.domain import REFRESH_INTERVAL_SECONDS
from gateway.loaders.catalog import (
    MerchantByIdLoader,
    MiniProgramByIdLoader,
    TargetAppByIdLoader,
    WorkspaceByIdLoader,
)
from gateway.loaders.catalog_metrics import (
    AssociationsByTargetAppLoader,
    AssociationsByWorkspaceLoader,
    CreatedMiniProgramsByWorkspaceLoader,
    OnboardedMerchantsByWorkspaceLoader,
)
from gateway.loaders.cell_history import CellHistoryLoader
from gateway.loaders.connections import (
    DeploymentsByMiniProgramLoader,
    MerchantsByWorkspaceLoader,
    MiniProgramsByMerchantLoader,
    MiniProgramsByTargetAppLoader,
    MiniProgramsByWorkspaceLoader,
    TargetAppsByWorkspaceLoader,
    WorkspacePageLoader,
)
from gateway.loaders.deployments import (
    AvailableByTargetAppLoader,
    AvailableByWorkspaceLoader,
    DeploymentHistoryByPairLoader,
    StatusCountsByTargetAppLoader,
)
from gateway.loaders.metric_cache import MetricCache
from gateway.loaders.metric_results import (
    MetricSeriesLoader,
    MetricValueLoader,
    MonthlyActiveUsersLoader,
)
from gateway.loaders.pages import PagesLoader
from gateway.loaders.portrait import PortraitLoader
from gateway.loaders.ranking import AllTargetAppsByWorkspaceLoader
from gateway.loaders.retention import DaySetsLoader
from gateway.loaders.snapshot import SnapshotReader
from gateway.loaders.user_breakdowns import UserBreakdownLoader
from gateway.store.replicas import ReadRouter


@dataclass(frozen=True, slots=True)
class Loaders:
    """Every loader of one request (create with :meth:`create`)."""

    workspace: WorkspaceByIdLoader
    target_app: TargetAppByIdLoader
    merchant: MerchantByIdLoader
    mini_program: MiniProgramByIdLoader
    workspaces: WorkspacePageLoader
    target_apps_by_workspace: TargetAppsByWorkspaceLoader
    merchants_by_workspace: MerchantsByWorkspaceLoader
    mini_programs_by_workspace: MiniProgramsByWorkspaceLoader
    mini_programs_by_merchant: MiniProgramsByMerchantLoader
    mini_programs_by_target_app: MiniProgramsByTargetAppLoader
    deployments_by_mini_program: DeploymentsByMiniProgramLoader
    deployment_history: DeploymentHistoryByPairLoader
    status_counts: StatusCountsByTargetAppLoader
    available_by_target_app: AvailableByTargetAppLoader
    available_by_workspace: AvailableByWorkspaceLoader
    associations_by_target_app: AssociationsByTargetAppLoader
    associations_by_workspace: AssociationsByWorkspaceLoader
    created_mini_programs_by_workspace: CreatedMiniProgramsByWorkspaceLoader
    onboarded_merchants_by_workspace: OnboardedMerchantsByWorkspaceLoader
    snapshot: SnapshotReader
    cell_history: CellHistoryLoader
    all_target_apps_by_workspace: AllTargetAppsByWorkspaceLoader
    user_breakdowns: UserBreakdownLoader
    day_sets: DaySetsLoader
    pages: PagesLoader
    portraits: PortraitLoader
    metric_cache: MetricCache
    metric_values: MetricValueLoader
    metric_series: MetricSeriesLoader
    monthly_active_users: MonthlyActiveUsersLoader

    @classmethod
    def create(
        cls,
        engine: AsyncEngine,
        cache: SnapshotCache | None = None,
        *,
        refresh_interval: float = REFRESH_INTERVAL_SECONDS,
        grace_seconds: float = 60.0,
        router: ReadRouter | None = None,
    ) -> Loaders:
        """Fresh loaders (empty caches) whose batches run on ``engine``.

        Metric loaders share one :class:`SnapshotReader` (one read transaction per request);
        ``cache`` (None: none) backs the metric results layer (:class:`MetricCache`), whose
        entries live until the next snapshot is due (``refresh_interval`` seconds after the
        request's) plus ``grace_seconds``. ``router`` chooses the database of the snapshot's
        read transaction (a read replica, :mod:`gateway.store.replicas`); other loaders read
        ``engine``.
        """
        snapshot = SnapshotReader(engine, router)
        histories = CellHistoryLoader(snapshot)
        results = MetricCache(cache, snapshot, refresh_interval, grace_seconds)
        on_snapshot: dict[str, Any] = {
            "snapshot": snapshot,
            "cell_history": histories,
            "user_breakdowns": UserBreakdownLoader(snapshot),
            "day_sets": DaySetsLoader(snapshot),
            "pages": PagesLoader(snapshot),
            "portraits": PortraitLoader(snapshot),
            "metric_cache": results,
            "metric_values": MetricValueLoader(results, histories),
            "metric_series": MetricSeriesLoader(results, histories),
            "monthly_active_users": MonthlyActiveUsersLoader(results, histories),
        }
        return cls(
            **{
                name: on_snapshot[name] if name in on_snapshot else loader(engine)
                for name, loader in _loader_types().items()
            }
        )


@cache
def _loader_types() -> dict[str, Callable[[AsyncEngine], Any]]:
    """Each field of :class:`Loaders` and its class: the fields are the one list of loaders
    (those reading the snapshot are built by :meth:`Loaders.create` itself)."""
    hints = get_type_hints(Loaders, globalns=globals())
    return {f.name: hints[f.name] for f in fields(Loaders)}
